// `quiver serve --workers 2` end to end as a spawned process (src/cli/serve.ts → listenMulticore):
// ngtcp2's gtlsclient downloads 1 MB from it (three at once, so connections spread over both
// workers), each judged by sha256; `quiver get` POSTs to /echo (sha256); the HTTP/1.1 /metrics of
// the main thread shows both workers' counters and the router's; /metrics over HTTP/3 answers the
// same families; SIGTERM shuts it down with status 0. 0-RTT with workers (one anti-replay store
// shared by the workers): gtlsclient --session-file/--tp-file and `quiver get --session-file` resume
// with 0-RTT that the server accepts, whichever worker each run lands on. Headless Chromium (the
// interop helpers, test/interop/chromium.ts) loads a page, fetches 10 MB and POSTs 1 MB to /echo,
// all over h3, judged by sha256 and the protocol Chromium reports.
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MB, Scope, clientFacts, exited, judgeDownload, makeCert, makeWww, runGtlsClient } from '../interop/peers.js';
import { QUIVER_CLI, startQuiverServe } from '../interop/quiver-cli.js';
import { isFavicon, postBodySha256, runChromium } from '../interop/chromium.js';
import { pattern, sha256 } from '../io/helpers.js';
import { httpGet } from '../support/http-get.js';
const httpGetText = async (url: string): Promise<string> => (await httpGet(url)).body;

const scope = new Scope();
test.after.always(() => scope.close());


function quiverGet(args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [QUIVER_CLI, 'get', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.once('exit', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('serve --workers 2: gtlsclient downloads by sha256, /echo, /metrics with both workers and the router, clean SIGTERM', async (t) => {
  const dir = scope.tempDir('quiver-serve-workers-');
  const www = makeWww(join(dir, 'www'), { '1mb.bin': MB });
  const cert = makeCert(dir);
  const server = await startQuiverServe(scope, { www: www.dir, cert, extraArgs: ['--workers', '2'] });
  let metricsUrl: string | undefined;
  for (let i = 0; i < 100 && metricsUrl === undefined; i++) {
    metricsUrl = /metrics:\s+(http:\/\/\S+)/.exec(server.log())?.[1];
    if (metricsUrl === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  t.truthy(metricsUrl, server.log());
  t.regex(server.log(), /workers:\s+2 threads/);

  const file = www.files.get('1mb.bin')!;
  const runs = await Promise.all([0, 1, 2].map(() => runGtlsClient(scope, { port: server.port, paths: ['/1mb.bin'], timeoutMs: 20_000 })));
  for (const r of runs) {
    const j = await judgeDownload(r, file);
    t.true(j.ok, j.reason);
  }

  const upload = pattern(300 * 1024, 31);
  writeFileSync(join(dir, 'upload.bin'), upload);
  const echoed = await quiverGet(['-k', '-d', `@${join(dir, 'upload.bin')}`, `https://127.0.0.1:${server.port}/echo`]);
  t.is(echoed.code, 0, echoed.stderr);
  t.is(sha256(echoed.stdout), sha256(upload));

  const tcp = await httpGetText(metricsUrl!);
  for (const w of ['0', '1']) {
    t.true(sample(tcp, 'quiver_connections_accepted_total', `worker="${w}"`) >= 1, `worker ${w} took connections:\n${tcp}`);
    t.true(sample(tcp, 'quiver_http_requests_total', `status_class="2xx",worker="${w}"`) >= 1, `worker ${w} answered requests`);
    t.is(sample(tcp, 'quiver_worker_up', `worker="${w}"`), 1);
  }
  t.true(sample(tcp, 'quiver_router_routed_total', 'kind="new"') >= 4);
  t.true(sample(tcp, 'quiver_router_routed_total', 'kind="short"') > 100);
  const h3 = await quiverGet(['-k', `https://127.0.0.1:${server.port}/metrics`]);
  t.is(h3.code, 0, h3.stderr);
  t.regex(h3.stdout.toString(), /quiver_router_dropped_total/);
  t.regex(h3.stdout.toString(), /quiver_bytes_sent_total\{worker="1"\} [1-9]/);

  server.child.kill('SIGTERM');
  const end = await exited(server.child);
  t.is(end.code, 0, readFileSync(server.logPath, 'utf8'));
});

test('serve --workers 2: gtlsclient and quiver get resume with 0-RTT (sent and accepted), on both workers', async (t) => {
  const dir = scope.tempDir('quiver-serve-workers-0rtt-');
  const www = makeWww(join(dir, 'www'), { '256k.bin': 256 * 1024 });
  const cert = makeCert(dir);
  const server = await startQuiverServe(scope, { www: www.dir, cert, extraArgs: ['--workers', '2'] });
  const file = www.files.get('256k.bin')!;
  const extraArgs = [`--session-file=${join(dir, 'session.pem')}`, `--tp-file=${join(dir, 'tp.txt')}`];
  const first = await runGtlsClient(scope, { port: server.port, paths: ['/256k.bin'], verbose: true, extraArgs, timeoutMs: 20_000 });
  t.true((await judgeDownload(first, file)).ok, 'first run');
  t.is(clientFacts(first.log).zeroRttPacketsSent, 0);
  // Several resumptions: each uses the ticket the previous run saved; runs alternate between workers.
  for (let i = 0; i < 3; i++) {
    const again = await runGtlsClient(scope, { port: server.port, paths: ['/256k.bin'], verbose: true, extraArgs, timeoutMs: 20_000 });
    t.true((await judgeDownload(again, file)).ok, `resumption ${i}`);
    const f = clientFacts(again.log);
    t.true(f.zeroRttPacketsSent > 0, `resumption ${i}: no 0-RTT packet sent (no ticket from the workers?)`);
    t.false(f.earlyDataRejected, `resumption ${i}: a worker rejected early data`);
  }

  const session = join(dir, 'quiver-session.json');
  const url = `https://127.0.0.1:${server.port}/256k.bin`;
  const g1 = await quiverGet(['-k', '-v', '--session-file', session, url]);
  t.is(g1.code, 0, g1.stderr);
  t.notRegex(g1.stderr, /0-RTT/);
  for (let i = 0; i < 2; i++) {
    const g = await quiverGet(['-k', '-v', '--session-file', session, url]);
    t.is(g.code, 0, g.stderr);
    t.is(sha256(g.stdout), file.sha256);
    t.regex(g.stderr, /\* sending the request as 0-RTT early data/);
    t.regex(g.stderr, /resumed, 0-RTT accepted/);
  }

  // The resumptions were served by both workers: 7 connections, 2 of them fresh, at least 3 on each.
  let metricsUrl: string | undefined;
  for (let i = 0; i < 100 && metricsUrl === undefined; i++) {
    metricsUrl = /metrics:\s+(http:\/\/\S+)/.exec(server.log())?.[1];
    if (metricsUrl === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  const tcp = await httpGetText(metricsUrl!);
  for (const w of ['0', '1']) t.true(sample(tcp, 'quiver_connections_accepted_total', `worker="${w}"`) >= 3, `worker ${w} took resumed connections too:\n${tcp}`);
  server.child.kill('SIGTERM');
  t.is((await exited(server.child)).code, 0, readFileSync(server.logPath, 'utf8'));
});

test('serve --workers 2: Chromium loads a page, fetches 10 MB and POSTs 1 MB to /echo over h3', async (t) => {
  const dir = scope.tempDir('quiver-serve-workers-chromium-');
  const www = makeWww(join(dir, 'www'), { '10mb.bin': 10 * MB });
  const cert = makeCert(dir);
  const server = await startQuiverServe(scope, { www: www.dir, cert, extraArgs: ['--workers', '2'] });
  const res = await runChromium({
    url: `https://localhost:${server.port}/index.html`,
    spki: [cert.spki],
    fetch: ['/10mb.bin'],
    post: { path: '/echo', bytes: MB },
    timeoutMs: 60_000,
  });
  for (const r of res.records) t.log(`${r.phase} ${r.method} ${r.status ?? '-'} ${r.protocol ?? '-'} hop=${r.nextHop ?? '-'} ${r.url}${r.error ? ` ERROR ${r.error}` : ''}`);
  t.deepEqual(res.problems, []);
  t.is(res.navigationNextHop, 'h3');
  const pageRecords = res.records.filter((r) => !isFavicon(r.url));
  t.true(pageRecords.length >= 4, 'page, style.css, app.js, pixel.svg and the fetches');
  t.true(pageRecords.every((r) => r.protocol === 'h3'));
  const [getRes, postRes] = res.pageResults;
  t.is(getRes?.status, 200);
  t.is(getRes?.bytes, 10 * MB);
  t.is(getRes?.sha256, www.files.get('10mb.bin')!.sha256);
  t.is(postRes?.status, 200);
  t.is(postRes?.bytes, MB);
  t.is(postRes?.sha256, postBodySha256(MB));
  server.child.kill('SIGTERM');
  t.is((await exited(server.child)).code, 0, readFileSync(server.logPath, 'utf8'));
});
