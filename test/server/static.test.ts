// Static file serving over HTTP/3: content types, index.html, HEAD, 404/405, byte ranges, ETag,
// no path traversal (raw '..' paths, encoded dots, NUL, backslashes, a symlink out of the root),
// virtual files.
import test from 'ava';
import { mkdtempSync, mkdirSync, renameSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Http3Server } from '../../src/server/http3-server.js';
import { Http3Client } from '../../src/server/client.js';
import type { Http3IncomingMessage } from '../../src/server/incoming-message.js';
import { parseRange, safePath, staticHandler } from '../../src/server/static.js';
import { liveCertificate, pattern, sha256 } from '../io/helpers.js';

const cert = liveCertificate();
const outside = mkdtempSync(join(tmpdir(), 'quiver-outside-'));
writeFileSync(join(outside, 'secret.txt'), 'top secret');
const root = mkdtempSync(join(tmpdir(), 'quiver-static-'));
writeFileSync(join(root, 'index.html'), '<h1>home</h1>');
writeFileSync(join(root, 'style.css'), 'body{}');
writeFileSync(join(root, 'app.js'), 'let x;');
writeFileSync(join(root, 'pic.svg'), '<svg/>');
writeFileSync(join(root, 'data.bin'), pattern(100_000, 4));
mkdirSync(join(root, 'sub'));
writeFileSync(join(root, 'sub', 'index.html'), 'sub home');
writeFileSync(join(root, 'sub', 'a b.txt'), 'spaced');
symlinkSync(outside, join(root, 'escape'));

let server: Http3Server;
let base: string;
let client: Http3Client;

test.before(async () => {
  const serve = staticHandler({ root, files: new Map([['/virtual.txt', { size: 7, body: Buffer.from('virtual') }]]) });
  server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => void serve(req, res));
  await server.listen(0, '127.0.0.1');
  base = `https://localhost:${server.address().port}`;
  client = new Http3Client({ ca: cert.certPem });
});

test.after.always(async () => {
  await client?.close();
  await server?.close();
});

/** A request with a raw :path (no URL normalisation). */
function raw(path: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = client.request(base + '/', { method, path, headers });
    req.on('error', reject);
    req.on('response', (msg: Http3IncomingMessage) => {
      const chunks: Buffer[] = [];
      msg.on('data', (c: Buffer) => chunks.push(c));
      msg.on('end', () => resolve({ status: msg.statusCode!, headers: msg.headers, body: Buffer.concat(chunks) }));
      msg.on('error', reject);
    });
    req.end();
  });
}

test.serial('content types and index.html', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['/', 'text/html; charset=utf-8', '<h1>home</h1>'],
    ['/index.html', 'text/html; charset=utf-8', '<h1>home</h1>'],
    ['/style.css', 'text/css; charset=utf-8', 'body{}'],
    ['/app.js', 'text/javascript; charset=utf-8', 'let x;'],
    ['/pic.svg', 'image/svg+xml', '<svg/>'],
    ['/sub/', 'text/html; charset=utf-8', 'sub home'],
    ['/sub/a%20b.txt', 'text/plain; charset=utf-8', 'spaced'],
    ['/virtual.txt', 'text/plain; charset=utf-8', 'virtual'],
  ];
  for (const [path, type, body] of cases) {
    const r = await raw(path);
    t.is(r.status, 200, path);
    t.is(r.headers['content-type'], type, path);
    t.is(r.body.toString(), body, path);
  }
  const bin = await raw('/data.bin');
  t.is(bin.headers['content-type'], 'application/octet-stream');
  t.is(sha256(bin.body), sha256(pattern(100_000, 4)));
  const dir = await raw('/sub');
  t.is(dir.status, 301);
  t.is(dir.headers['location'], '/sub/');
});

test.serial('HEAD, 404, 405', async (t) => {
  const head = await raw('/style.css', 'HEAD');
  t.is(head.status, 200);
  t.is(head.headers['content-length'], '6');
  t.is(head.body.length, 0);
  t.is((await raw('/missing.html')).status, 404);
  const post = await raw('/index.html', 'POST');
  t.is(post.status, 405);
  t.is(post.headers['allow'], 'GET, HEAD');
  t.is((await raw('/index.html', 'DELETE')).status, 405);
});

test.serial('no path traversal', async (t) => {
  const attempts = [
    '/../../../../etc/passwd',
    '/..',
    '/sub/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    '/..%2f..%2fetc%2fpasswd',
    '/sub/..%5c..%5cetc%5cpasswd',
    '/index.html%00.txt',
    '/escape/secret.txt',
    '/%',
    '//etc/passwd',
  ];
  for (const path of attempts) {
    const r = await raw(path);
    t.true(r.status >= 400, `${path} → ${r.status}`);
    t.false(r.body.toString().includes('root:'), path);
    t.false(r.body.toString().includes('top secret'), path);
  }
});

test.serial('byte ranges (206/416) and ETag (304)', async (t) => {
  const data = pattern(100_000, 4);
  const r = await raw('/data.bin', 'GET', { range: 'bytes=10-19' });
  t.is(r.status, 206);
  t.is(r.headers['content-range'], 'bytes 10-19/100000');
  t.deepEqual(r.body, data.subarray(10, 20));
  const suffix = await raw('/data.bin', 'GET', { range: 'bytes=-5' });
  t.deepEqual(suffix.body, data.subarray(99_995));
  const bad = await raw('/data.bin', 'GET', { range: 'bytes=200000-' });
  t.is(bad.status, 416);
  const v = await raw('/virtual.txt', 'GET', { range: 'bytes=1-3' });
  t.is(v.body.toString(), 'irt');
  const first = await raw('/style.css');
  const again = await raw('/style.css', 'GET', { 'if-none-match': String(first.headers['etag']) });
  t.is(again.status, 304);
  t.is(again.body.length, 0);
});

test.serial('small files served from memory follow every change on disk', async (t) => {
  const f = join(root, 'small.txt');
  writeFileSync(f, 'version one');
  utimesSync(f, 1_700_000_000, 1_700_000_000);
  const a = await raw('/small.txt');
  t.is(a.body.toString(), 'version one');
  t.is(a.headers['content-length'], '11');
  t.is(a.headers['last-modified'], new Date(1_700_000_000_000).toUTCString());
  const a2 = await raw('/small.txt'); // from the cache: same bytes and validators
  t.is(a2.body.toString(), 'version one');
  t.is(a2.headers['etag'], a.headers['etag']);
  t.is(a2.headers['last-modified'], a.headers['last-modified']);
  const part = await raw('/small.txt', 'GET', { range: 'bytes=2-4' });
  t.is(part.status, 206);
  t.is(part.headers['content-range'], 'bytes 2-4/11');
  t.is(part.body.toString(), 'rsi');
  t.is((await raw('/small.txt', 'GET', { 'if-none-match': String(a.headers['etag']) })).status, 304);
  // Same size, same mtime restored: the change time still tells the cache the bytes changed.
  writeFileSync(f, 'version two');
  utimesSync(f, 1_700_000_000, 1_700_000_000);
  const b = await raw('/small.txt');
  t.is(b.body.toString(), 'version two');
  // A new mtime: a new ETag, the old one no longer gives 304.
  writeFileSync(f, 'version 3!!');
  utimesSync(f, 1_700_000_100, 1_700_000_100);
  const c = await raw('/small.txt');
  t.is(c.body.toString(), 'version 3!!');
  t.not(c.headers['etag'], a.headers['etag']);
  t.is((await raw('/small.txt', 'GET', { 'if-none-match': String(a.headers['etag']) })).status, 200);
  // Replaced by another file (rename over it), then by a symlink out of the root, then gone.
  const g = join(root, 'small.tmp');
  writeFileSync(g, 'renamed in');
  renameSync(g, f);
  t.is((await raw('/small.txt')).body.toString(), 'renamed in');
  unlinkSync(f);
  symlinkSync(join(outside, 'secret.txt'), f);
  const esc = await raw('/small.txt');
  t.true(esc.status >= 400);
  t.false(esc.body.toString().includes('top secret'));
  unlinkSync(f);
  t.is((await raw('/small.txt')).status, 404);
});

test('safePath and parseRange units', (t) => {
  t.is(safePath('/a/b.txt?x=1'), '/a/b.txt');
  t.is(safePath('/a%20b'), '/a b');
  t.is(safePath('/../x'), null);
  t.is(safePath('/%2e%2e/x'), null);
  t.is(safePath('/a%00'), null);
  t.is(safePath('/a\\..\\b'), null);
  t.is(safePath('/%zz'), null);
  t.is(safePath('relative'), null);
  t.deepEqual(parseRange('bytes=0-0', 10), { start: 0, end: 0 });
  t.deepEqual(parseRange('bytes=5-', 10), { start: 5, end: 9 });
  t.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
  t.deepEqual(parseRange('bytes=2-100', 10), { start: 2, end: 9 });
  t.is(parseRange('bytes=10-', 10), 'bad');
  t.is(parseRange('bytes=5-2', 10), 'bad');
  t.is(parseRange('bytes=0-1,3-4', 10), null);
  t.is(parseRange('items=0-1', 10), null);
  t.is(parseRange(undefined, 10), null);
});
