// The HTTP/3 server and client over UDP loopback: both handler styles under 100 concurrent
// requests, streaming bodies both ways with fetch(), node:http response semantics (headers,
// trailers, 1xx, HEAD, content-length), request(), aborts, connection reuse.
import test from 'ava';
import { createServer, type Http3Server } from '../../src/server/http3-server.js';
import { Http3Client } from '../../src/server/client.js';
import type { Http3IncomingMessage } from '../../src/server/incoming-message.js';
import { liveCertificate, pattern, sha256, withTimeout } from '../io/helpers.js';

const cert = liveCertificate();

async function start(server: Http3Server): Promise<string> {
  await server.listen(0, '127.0.0.1');
  return `https://localhost:${server.address().port}`;
}

function nodeStyle(): Http3Server {
  return createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const url = new URL(req.url!, 'https://x');
    if (url.pathname === '/echo') {
      res.setHeader('content-type', req.headers['content-type'] ?? 'application/octet-stream');
      req.pipe(res);
      return;
    }
    if (url.pathname === '/trailers') {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write('body');
      res.addTrailers({ 'x-checksum': 'abc' });
      res.end();
      return;
    }
    if (url.pathname === '/hints') {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.end('after hints');
      return;
    }
    if (url.pathname === '/big') {
      const n = Number(url.searchParams.get('n'));
      const data = pattern(n, 9);
      res.setHeader('content-length', n);
      let off = 0;
      const pump = (): void => {
        while (off < n) {
          const c = data.subarray(off, off + 65536);
          off += c.length;
          if (!res.write(c)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    if (url.pathname === '/status') {
      res.statusCode = Number(url.searchParams.get('code'));
      res.end();
      return;
    }
    if (url.pathname === '/headers') {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('Connection', 'keep-alive'); // dropped: connection-specific (RFC 9114 §4.2)
      res.setHeader('X-Multi', ['1', '2']);
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, version: req.httpVersion }));
      return;
    }
    res.setHeader('content-type', 'text/plain');
    res.end(`hello ${req.method} ${req.url}`);
  });
}

test.serial('100 concurrent requests, (req, res) handler, one reused connection', async (t) => {
  const server = nodeStyle();
  const base = await start(server);
  const client = new Http3Client({ ca: cert.certPem });
  const results = await withTimeout(
    Promise.all(Array.from({ length: 100 }, (_, i) => client.fetch(`${base}/item/${i}`).then(async (r) => [r.status, await r.text()] as const))),
    60_000,
    '100 requests',
  );
  for (let i = 0; i < 100; i++) t.deepEqual(results[i], [200, `hello GET /item/${i}`]);
  t.is(server.quic!.stats.endpoint.connectionsAccepted, 1, 'one QUIC connection for the origin');
  t.is(server.stats.requests, 100);
  t.is(server.stats.responses['2xx'], 100);
  await client.close();
  await server.close();
});

test.serial('100 concurrent requests, fetch-style handler (Request → Response)', async (t) => {
  const server = createServer({
    cert: cert.certPem,
    key: cert.keyPem,
    fetch: async (request) => {
      const url = new URL(request.url);
      if (request.method === 'POST') {
        const text = await request.text();
        return new Response(text.toUpperCase(), { status: 201, headers: { 'x-len': String(text.length) } });
      }
      return Response.json({ path: url.pathname, method: request.method, ua: request.headers.get('user-agent') });
    },
  });
  const base = await start(server);
  const client = new Http3Client({ ca: cert.certPem });
  const gets = Array.from({ length: 50 }, (_, i) => client.fetch(`${base}/j/${i}`, { headers: { 'user-agent': `t${i}` } }).then((r) => r.json() as Promise<{ path: string; ua: string }>));
  const posts = Array.from({ length: 50 }, (_, i) => client.fetch(`${base}/p`, { method: 'POST', body: `body-${i}` }).then(async (r) => [r.status, r.headers.get('x-len'), await r.text()]));
  const [g, p] = await withTimeout(Promise.all([Promise.all(gets), Promise.all(posts)]), 60_000, '100 fetch-style');
  for (let i = 0; i < 50; i++) {
    t.is(g[i]!.path, `/j/${i}`);
    t.is(g[i]!.ua, `t${i}`);
    t.deepEqual(p[i], [201, String(`body-${i}`.length), `BODY-${i}`]);
  }
  await client.close();
  await server.close();
});

test.serial('fetch() streams bodies both ways: 8 MB upload echoed, sha256 intact, read incrementally', async (t) => {
  const server = nodeStyle();
  const base = await start(server);
  const client = new Http3Client({ ca: cert.certPem });
  const data = pattern(8 * 1024 * 1024, 5);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= data.length) return controller.close();
      const c = data.subarray(sent, sent + 100_000);
      sent += c.length;
      controller.enqueue(c);
    },
  });
  const res = await withTimeout(client.fetch(`${base}/echo`, { method: 'POST', body, duplex: 'half' } as RequestInit), 30_000, 'echo response');
  t.is(res.status, 200);
  t.truthy(res.body);
  const reader = res.body!.getReader();
  const chunks: Uint8Array[] = [];
  let reads = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    reads++;
    chunks.push(value);
  }
  const all = Buffer.concat(chunks);
  t.is(all.length, data.length);
  t.is(sha256(all), sha256(data));
  t.true(reads > 10, 'the body arrives in many chunks (streamed, not buffered whole)');
  await client.close();
  await server.close();
});

test.serial('fetch() download of 20 MB and a Node Readable upload', async (t) => {
  const server = nodeStyle();
  const base = await start(server);
  const client = new Http3Client({ ca: cert.certPem });
  const n = 20 * 1024 * 1024;
  const res = await client.fetch(`${base}/big?n=${n}`);
  t.is(res.headers.get('content-length'), String(n));
  const buf = Buffer.from(await withTimeout(res.arrayBuffer(), 60_000, 'download'));
  t.is(sha256(buf), sha256(pattern(n, 9)));
  const { Readable } = await import('node:stream');
  const up = await client.fetch(`${base}/echo`, { method: 'PUT', body: Readable.from([Buffer.from('a'), Buffer.from('bc')]) as never });
  t.is(await up.text(), 'abc');
  await client.close();
  await server.close();
});

test.serial('response semantics: headers, set-cookie, connection-specific fields, status codes, HEAD, trailers, 103', async (t) => {
  const server = nodeStyle();
  const base = await start(server);
  const client = new Http3Client({ ca: cert.certPem });
  const r = await client.fetch(`${base}/headers?q=1`, { headers: { 'x-test': 'yes', cookie: 'c=1' } });
  const j = (await r.json()) as { method: string; url: string; headers: Record<string, string>; version: string };
  t.is(j.method, 'GET');
  t.is(j.url, '/headers?q=1');
  t.is(j.version, '3');
  t.is(j.headers['x-test'], 'yes');
  t.is(j.headers['host'], new URL(base).host);
  t.deepEqual(r.headers.getSetCookie(), ['a=1', 'b=2']);
  t.is(r.headers.get('x-multi'), '1, 2');
  t.is(r.headers.get('connection'), null);
  t.truthy(r.headers.get('date'));

  const head = await client.fetch(`${base}/`, { method: 'HEAD' });
  t.is(head.status, 200);
  t.is(head.body, null);
  t.is(head.headers.get('content-type'), 'text/plain');

  for (const code of [204, 304, 404, 500]) {
    const s = await client.fetch(`${base}/status?code=${code}`);
    t.is(s.status, code);
    await s.arrayBuffer();
  }

  // Trailers and 103 through the lower-level request().
  const req = client.request(`${base}/trailers`);
  const msg = await new Promise<Http3IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
  let text = '';
  msg.setEncoding('utf8');
  for await (const c of msg) text += c;
  t.is(text, 'body');
  t.is(msg.trailers['x-checksum'], 'abc');

  const req2 = client.request(`${base}/hints`);
  const infos: number[] = [];
  req2.on('information', (i: { statusCode: number }) => infos.push(i.statusCode));
  const msg2 = await new Promise<Http3IncomingMessage>((resolve) => {
    req2.on('response', resolve);
    req2.end();
  });
  msg2.resume();
  await new Promise((r) => msg2.on('end', r));
  t.deepEqual(infos, [103]);
  t.is(msg2.statusCode, 200);
  await client.close();
  await server.close();
});

test.serial('expect: 100-continue gets a 100 before the final response', async (t) => {
  const server = nodeStyle();
  const base = await start(server);
  const client = new Http3Client({ ca: cert.certPem });
  const req = client.request(`${base}/echo`, { method: 'POST', headers: { expect: '100-continue' } });
  const infos: number[] = [];
  req.on('information', (i: { statusCode: number }) => infos.push(i.statusCode));
  const msg = await new Promise<Http3IncomingMessage>((resolve) => {
    req.on('response', resolve);
    req.flushHeaders();
    req.end('continued');
  });
  let body = '';
  for await (const c of msg) body += String(c);
  t.deepEqual(infos, [100]);
  t.is(body, 'continued');
  await client.close();
  await server.close();
});

test.serial('AbortSignal cancels a request in flight; the server sees the reset', async (t) => {
  let aborted: Promise<void> | undefined;
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    aborted = new Promise((resolve) => res.on('close', () => resolve()));
    res.write('partial'); // never ends
  });
  const base = await start(server);
  const client = new Http3Client({ ca: cert.certPem });
  const ac = new AbortController();
  const res = await client.fetch(`${base}/slow`, { signal: ac.signal });
  const reader = res.body!.getReader();
  const first = await reader.read();
  t.is(Buffer.from(first.value!).toString(), 'partial');
  ac.abort();
  const readErr = await reader.read().then(
    () => null,
    (err: unknown) => err,
  );
  t.is((readErr as { name?: string } | null)?.name, 'AbortError');
  await withTimeout(aborted!, 5000, 'server saw the cancel');
  // An already-aborted signal rejects at once.
  const e = await client.fetch(`${base}/x`, { signal: AbortSignal.abort() }).then(
    () => null,
    (err: unknown) => err,
  );
  t.is((e as { name?: string } | null)?.name, 'AbortError');
  await client.close();
  await server.close();
});

test.serial('a handler that throws yields 500; requestError reports it', async (t) => {
  const server = createServer({
    cert: cert.certPem,
    key: cert.keyPem,
    fetch: () => {
      throw new Error('boom');
    },
  });
  const errors: string[] = [];
  server.on('requestError', (e: Error) => errors.push(e.message));
  const base = await start(server);
  const client = new Http3Client({ ca: cert.certPem });
  const r = await client.fetch(`${base}/`);
  t.is(r.status, 500);
  await r.text();
  t.deepEqual(errors, ['boom']);
  await client.close();
  await server.close();
});

test('createServer and request() validate their arguments', (t) => {
  t.throws(() => createServer({ fetch: 3 as never }), { instanceOf: TypeError, message: /options\.fetch/ });
  t.throws(() => createServer({}, 'x' as never), { instanceOf: TypeError, message: /listener/ });
  const client = new Http3Client({});
  t.throws(() => client.request('http://localhost/'), { instanceOf: TypeError, message: /https/ });
  t.throws(() => client.request('not a url'), { instanceOf: TypeError, message: /url/ });
  t.throws(() => client.request('https://localhost/', { method: 'GE T' }), { instanceOf: TypeError, message: /options\.method/ });
});
