// `quiver serve --workers 2` end to end as a spawned process (src/cli/serve.ts → listenMulticore):
// ngtcp2's gtlsclient downloads 1 MB from it (three at once, so connections spread over both
// workers), each judged by sha256; `quiver get` POSTs to /echo (sha256); the HTTP/1.1 /metrics of
// the main thread shows both workers' counters and the router's; /metrics over HTTP/3 answers the
// same families; SIGTERM shuts it down with status 0.
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { MB, Scope, exited, judgeDownload, makeCert, makeWww, runGtlsClient } from '../interop/peers.js';
import { QUIVER_CLI, startQuiverServe } from '../interop/quiver-cli.js';
import { pattern, sha256 } from '../io/helpers.js';

const scope = new Scope();
test.after.always(() => scope.close());

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

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

  const tcp = await httpGet(metricsUrl!);
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
