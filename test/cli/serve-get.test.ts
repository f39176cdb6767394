// The CLI end to end with spawned processes: `quiver serve DIR` and `quiver get` (sha256 of a 10 MB
// file), uploads to /echo, the demo site's generated 10 MB file, /metrics over TCP and over HTTP/3,
// exit statuses (untrusted certificate, --fail, --cacert), usage errors.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoBigSha256 } from '../../src/cli/demo-site.js';
import { decodeRememberedSettings } from '../../src/h3/index.js';
import { clientSessionAppData } from '../../src/tls/index.js';
import { generateSelfSigned } from '../../src/pki/self-signed.js';
import { pattern } from '../io/helpers.js';
import { httpGet } from '../support/http-get.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/quiver.js');
const dir = mkdtempSync(join(tmpdir(), 'quiver-cli-'));
const big = pattern(10 * 1024 * 1024, 11);
writeFileSync(join(dir, 'big.bin'), big);
writeFileSync(join(dir, 'index.html'), '<p>cli</p>');
const upload = pattern(1024 * 1024, 12);
writeFileSync(join(dir, 'upload.bin'), upload);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Served {
  proc: ChildProcess;
  url: string;
  metrics: string | undefined;
  pin: string;
  output: string;
}

function serve(args: string[]): Promise<Served> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, 'serve', ...args, '--port', '0', '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 15_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /url:\s+(\S+)/.exec(out)?.[1];
      const pin = /spki pin:\s+(\S+)/.exec(out)?.[1];
      const metrics = /metrics:\s+(http:\/\/\S+)/.exec(out)?.[1];
      if (url && pin && metrics) {
        clearTimeout(timer);
        resolve({ proc, url, pin, metrics, output: out });
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

function get(args: string[], stdin?: Buffer): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, 'get', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    proc.stdout!.on('data', (d: Buffer) => out.push(d));
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    if (stdin) proc.stdin!.end(stdin);
    else proc.stdin!.end();
    proc.once('exit', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }));
  });
}

function stop(s: Served): Promise<number | null> {
  return new Promise((resolve) => {
    s.proc.once('exit', (code) => resolve(code));
    s.proc.kill('SIGTERM');
  });
}


test.serial('serve DIR + get: a 10 MB file arrives intact (sha256), uploads echo, /metrics on TCP and h3', async (t) => {
  const s = await serve([dir]);
  try {
    t.regex(s.url, /^https:\/\/localhost:\d+\/$/);
    t.regex(s.pin, /^[A-Za-z0-9+/]{43}=$/);
    const out = join(dir, 'got.bin');
    const r = await get(['-k', '-o', out, `${s.url}big.bin`]);
    t.is(r.code, 0, r.stderr);
    t.is(sha(readFileSync(out)), sha(big));

    const up = await get(['-k', '-d', `@${join(dir, 'upload.bin')}`, `${s.url}echo`]);
    t.is(up.code, 0, up.stderr);
    t.is(sha(up.stdout), sha(upload));
    const stdinUp = await get(['-k', '-X', 'PUT', '-d', '@-', `${s.url}echo`], Buffer.from('from stdin'));
    t.is(stdinUp.stdout.toString(), 'from stdin');

    const page = await get(['-k', '-i', s.url]);
    t.regex(page.stdout.toString(), /^HTTP\/3 200\r\n/);
    t.regex(page.stdout.toString(), /content-type: text\/html/);
    t.regex(page.stdout.toString(), /<p>cli<\/p>$/);

    const head = await get(['-k', '-I', `${s.url}big.bin`]);
    t.regex(head.stdout.toString(), /content-length: 10485760/);

    const tcp = await httpGet(s.metrics!);
    t.is(tcp.status, 200);
    t.regex(tcp.type ?? '', /text\/plain/);
    t.regex(tcp.body, /quiver_http_requests_total\{status_class="2xx"\} [1-9]/);
    t.regex(tcp.body, /quiver_connections_accepted_total [1-9]/);
    t.regex(tcp.body, /quiver_bytes_sent_total [1-9]/);
    const h3 = await get(['-k', `${s.url}metrics`]);
    t.is(h3.code, 0);
    t.regex(h3.stdout.toString(), /# TYPE quiver_connections_active gauge/);
    t.is((await httpGet(s.metrics!.replace('/metrics', '/other'))).status, 404);

    const verbose = await get(['-k', '-v', s.url]);
    t.regex(verbose.stderr, /ALPN h3/);
    t.regex(verbose.stderr, /< HTTP\/3 200/);
  } finally {
    t.is(await stop(s), 0, 'SIGTERM shuts down cleanly');
  }
});

test.serial('exit statuses: untrusted certificate, --fail, --cacert, connection timeout', async (t) => {
  const cert = generateSelfSigned({ now: Date.now(), hosts: ['localhost', '127.0.0.1', '::1'] });
  writeFileSync(join(dir, 'cert.pem'), cert.certPem);
  writeFileSync(join(dir, 'key.pem'), cert.keyPem);
  const s = await serve([dir, '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem')]);
  try {
    t.is(s.pin, cert.spkiSha256Base64, 'the printed pin is the certificate SPKI sha256');
    const untrusted = await get([`${s.url}index.html`]);
    t.is(untrusted.code, 60, untrusted.stderr);
    t.regex(untrusted.stderr, /TLS/);
    const trusted = await get(['--cacert', join(dir, 'cert.pem'), `${s.url}index.html`]);
    t.is(trusted.code, 0, trusted.stderr);
    t.is(trusted.stdout.toString(), '<p>cli</p>');
    const missing = await get(['-k', `${s.url}missing`]);
    t.is(missing.code, 0, 'HTTP errors do not fail without --fail');
    const failing = await get(['-k', '--fail', `${s.url}missing`]);
    t.is(failing.code, 22);
  } finally {
    await stop(s);
  }
  const nobody = await get(['-k', '--connect-timeout', '3', 'https://127.0.0.1:9/']);
  t.is(nobody.code, 7, nobody.stderr);
  const usage = await get(['http://x/']);
  t.is(usage.code, 2);
  t.regex(usage.stderr, /Usage:/);
});

test.serial('get --session-file resumes with 0-RTT on the second run; --key-update; --version v2draft', async (t) => {
  const s = await serve([dir]);
  try {
    const file = join(dir, 'session.json');
    const first = await get(['-k', '-v', '--session-file', file, '--key-update', '1', `${s.url}index.html`]);
    t.is(first.code, 0, first.stderr);
    t.regex(first.stderr, /key update initiated/);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { ticket: string };
    t.truthy(saved.ticket);
    // The server's HTTP/3 SETTINGS travel with the ticket (RFC 9114 §7.2.4.2).
    const remembered = clientSessionAppData(Buffer.from(saved.ticket, 'base64'));
    t.truthy(remembered !== undefined && decodeRememberedSettings(remembered) !== null, 'the saved session carries the server SETTINGS');
    const second = await get(['-k', '-v', '--session-file', file, `${s.url}index.html`]);
    t.is(second.code, 0, second.stderr);
    t.is(second.stdout.toString(), '<p>cli</p>');
    t.regex(second.stderr, /resumed, 0-RTT accepted/);
    const v2 = await get(['-k', '-v', '--version', 'v2draft', `${s.url}index.html`]);
    t.is(v2.code, 0, v2.stderr);
  } finally {
    await stop(s);
  }
});

test.serial('serve with no DIR: the demo site and its generated 10 MB file', async (t) => {
  const s = await serve([]);
  try {
    t.regex(s.output, /built-in demo/);
    const page = await get(['-k', s.url]);
    t.regex(page.stdout.toString(), /<link rel="stylesheet" href="\/style.css">/);
    for (const sub of ['style.css', 'app.js', 'quiver.svg']) {
      const r = await get(['-k', '--fail', `${s.url}${sub}`]);
      t.is(r.code, 0, sub);
      t.true(r.stdout.length > 50, sub);
    }
    const out = join(dir, 'demo.bin');
    const r = await get(['-k', '-o', out, `${s.url}10mb.bin`]);
    t.is(r.code, 0, r.stderr);
    t.is(sha(readFileSync(out)), demoBigSha256());
  } finally {
    await stop(s);
  }
});
