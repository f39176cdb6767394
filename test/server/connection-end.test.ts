// Every way an HTTP/3 connection can end settles what is in flight on it (DESIGN §5): stateless
// reset (RFC 9000 §10.3), idle timeout (§10.1), the peer's CONNECTION_CLOSE (transport and
// application/H3 codes, RFC 9114 §8.1), our own close(), a failed handshake and a UDP socket
// error. Client side: fetch() and request() reject, response bodies fail, with a typed error
// (stable `code`, the close kind/errorCode/reason), and the next fetch dials a new connection.
// Server side: req/res emit 'aborted'/'close' and a fetch handler's request.signal aborts.
import test from 'ava';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Http3Server } from '../../src/server/http3-server.js';
import { Http3Client } from '../../src/server/client.js';
import type { Http3IncomingMessage } from '../../src/server/incoming-message.js';
import type { Http3ServerResponse } from '../../src/server/server-response.js';
import { H3ErrorCode } from '../../src/h3/wire/index.js';
import { liveCertificate, withTimeout } from '../io/helpers.js';

const cert = liveCertificate();

interface ErrLike {
  code?: string;
  kind?: string;
  errorCode?: number;
  remote?: boolean;
  reason?: string;
  message?: string;
}

async function rejection(p: Promise<unknown>, what: string, ms = 5000): Promise<ErrLike> {
  return withTimeout(
    p.then(
      () => {
        throw new Error(`${what}: resolved, expected a rejection`);
      },
      (e: unknown) => e as ErrLike,
    ),
    ms,
    what,
  );
}

/** A loopback UDP forwarder that can turn into a black hole (the server stops answering). */
class Blackhole {
  blackhole = false;
  readonly front = dgram.createSocket('udp4');
  private readonly back = dgram.createSocket('udp4');
  private client: { address: string; port: number } | undefined;
  port = 0;
  static async start(target: number): Promise<Blackhole> {
    const b = new Blackhole();
    b.front.on('message', (m, r) => {
      b.client = { address: r.address, port: r.port };
      if (!b.blackhole) b.back.send(m, target, '127.0.0.1');
    });
    b.back.on('message', (m) => {
      if (!b.blackhole && b.client !== undefined) b.front.send(m, b.client.port, b.client.address);
    });
    b.front.bind(0, '127.0.0.1');
    b.back.bind(0, '127.0.0.1');
    await Promise.all([once(b.front, 'listening'), once(b.back, 'listening')]);
    b.port = b.front.address().port;
    return b;
  }
  close(): void {
    this.front.close();
    this.back.close();
  }
}

/** An event, ignoring 'error' (events.once would reject on it). */
function event(e: NodeJS.EventEmitter, name: string): Promise<void> {
  return new Promise((resolve) => e.once(name, () => resolve()));
}

type Listener = (req: Http3IncomingMessage, res: Http3ServerResponse) => void;

async function serve(listener: Listener, extra: Record<string, unknown> = {}): Promise<{ server: Http3Server; base: string; port: number }> {
  const server = createServer({ cert: cert.certPem, key: cert.keyPem, ...extra }, listener);
  await server.listen(0, '127.0.0.1');
  const port = server.address().port;
  return { server, base: `https://127.0.0.1:${port}`, port };
}

/** Requests to /hang get headers only when asked; the body never ends. */
function hanging(onReq?: (req: Http3IncomingMessage, res: Http3ServerResponse) => void): Listener {
  return (req, res) => {
    if (req.url === '/hang') {
      onReq?.(req, res);
      return;
    }
    if (req.url === '/partial') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk');
      onReq?.(req, res);
      return;
    }
    res.end('ok');
  };
}

test('stateless reset: a pending fetch rejects with ERR_QUIC_STATELESS_RESET (kind reset) at once; the next fetch dials anew', async (t) => {
  const { server, base } = await serve(hanging());
  const client = new Http3Client({ rejectUnauthorized: false, idleTimeout: 30_000 });
  try {
    t.is(await (await client.fetch(`${base}/`)).text(), 'ok');
    const first = await client.session(new URL(base));
    // The server loses the connection's state (a crash/restart with the same reset key).
    server.quic!.endpoint.forget([...server.quic!.endpoint.connections()][0]!);
    const started = performance.now();
    const e = await rejection(client.fetch(`${base}/after`), 'fetch after the reset');
    t.is(e.code, 'ERR_QUIC_STATELESS_RESET', e.message);
    t.is(e.kind, 'reset');
    t.is(typeof e.reason, 'string');
    // Settled when the reset arrived, not after the draining period.
    t.true(performance.now() - started < 2000);
    const again = await client.fetch(`${base}/again`);
    t.is(await again.text(), 'ok');
    t.not((await client.session(new URL(base))).quic, first.quic, 'a new connection');
  } finally {
    await client.close();
    await server.close({ timeout: 100 });
  }
});

test('stateless reset while a response body streams: the body fails, request() reports it too', async (t) => {
  const { server, base } = await serve(hanging());
  const client = new Http3Client({ rejectUnauthorized: false, idleTimeout: 30_000 });
  try {
    const res = await client.fetch(`${base}/partial`);
    const reader = res.body!.getReader();
    t.is(Buffer.from((await reader.read()).value!).toString(), 'first chunk');
    // request() on the same connection, awaiting its response.
    const req = client.request(`${base}/hang`);
    const reqErr = new Promise<ErrLike>((resolve) => req.once('error', resolve));
    req.end();
    await new Promise((r) => setTimeout(r, 50));
    server.quic!.endpoint.forget([...server.quic!.endpoint.connections()][0]!);
    // A new request makes the client send: the server answers with a stateless reset.
    const third = rejection(client.fetch(`${base}/x`), 'third fetch');
    const bodyErr = await rejection(reader.read(), 'body read');
    t.is(bodyErr.code, 'ERR_QUIC_STATELESS_RESET');
    t.is((await withTimeout(reqErr, 5000, 'request() error')).code, 'ERR_QUIC_STATELESS_RESET');
    t.is((await third).code, 'ERR_QUIC_STATELESS_RESET');
    t.true(req.destroyed);
  } finally {
    await client.close();
    await server.close({ timeout: 100 });
  }
});

test('idle timeout: the server stops answering; a pending fetch and a streaming body reject with ERR_QUIC_IDLE_TIMEOUT; the server side aborts too', async (t) => {
  let serverReq: Http3IncomingMessage | undefined;
  let serverRes: Http3ServerResponse | undefined;
  const { server, port } = await serve(
    hanging((req, res) => {
      serverReq ??= req;
      serverRes ??= res;
    }),
    { idleTimeout: 600 },
  );
  const relay = await Blackhole.start(port);
  const base = `https://127.0.0.1:${relay.port}`;
  const client = new Http3Client({ rejectUnauthorized: false, idleTimeout: 600 });
  try {
    const res = await client.fetch(`${base}/partial`);
    const reader = res.body!.getReader();
    await reader.read();
    const pending = rejection(client.fetch(`${base}/hang`), 'pending fetch');
    while (serverReq === undefined) await new Promise((r) => setTimeout(r, 10));
    const sReq = serverReq;
    const sRes = serverRes!;
    const reqClosed = event(sReq, 'close');
    const resClosed = event(sRes, 'close');
    relay.blackhole = true;
    const e = await pending;
    t.is(e.code, 'ERR_QUIC_IDLE_TIMEOUT', e.message);
    t.is(e.kind, 'idle');
    t.is((await rejection(reader.read(), 'body read')).code, 'ERR_QUIC_IDLE_TIMEOUT');
    // The server's own idle timer ends its side: req and res close, the response unfinished.
    await withTimeout(Promise.all([reqClosed, resClosed]), 5000, 'server req/res close');
    t.false(sRes.writableFinished);
    t.is((sRes.errored as ErrLike | null)?.code, 'ERR_QUIC_IDLE_TIMEOUT');
  } finally {
    relay.close();
    await client.close();
    await server.close({ timeout: 100 });
  }
});

test("the peer's CONNECTION_CLOSE with an H3 error code: fetch rejects with ERR_QUIC_HTTP3_ERROR, errorCode and reason", async (t) => {
  const { server, base } = await serve(
    hanging(() => {
      for (const hs of server.h3Sessions) {
        hs.h3.close(H3ErrorCode.H3_EXCESSIVE_LOAD, 'too much');
        hs.kick();
      }
    }),
  );
  const client = new Http3Client({ rejectUnauthorized: false });
  try {
    const e = await rejection(client.fetch(`${base}/hang`), 'fetch');
    t.is(e.code, 'ERR_QUIC_HTTP3_ERROR', e.message);
    t.is(e.kind, 'application');
    t.is(e.errorCode, H3ErrorCode.H3_EXCESSIVE_LOAD);
    t.true(e.remote);
    t.is(e.reason, 'too much');
    t.is(await (await client.fetch(`${base}/`)).text(), 'ok', 'a new connection serves');
  } finally {
    await client.close();
    await server.close({ timeout: 100 });
  }
});

test("the peer's CONNECTION_CLOSE with a transport error code, or H3_NO_ERROR, rejects a pending response body", async (t) => {
  let mode: 'transport' | 'clean' = 'transport';
  const { server, base } = await serve(
    hanging(() => {
      setTimeout(() => {
        for (const hs of server.h3Sessions) {
          if (mode === 'transport') hs.quic.conn.close(0x0a, 'protocol says no', false, performance.now());
          else hs.h3.close(H3ErrorCode.H3_NO_ERROR, 'maintenance');
          hs.kick();
        }
      }, 30);
    }),
  );
  const client = new Http3Client({ rejectUnauthorized: false });
  try {
    const res = await client.fetch(`${base}/partial`);
    const e = await rejection(res.text(), 'body');
    // undici wraps body errors in a TypeError with the cause attached
    const cause = ((e as { cause?: ErrLike }).cause ?? e) as ErrLike;
    t.is(cause.code, 'ERR_QUIC_TRANSPORT_ERROR', cause.message);
    t.is(cause.kind, 'transport');
    t.is(cause.errorCode, 0x0a);
    t.is(cause.reason, 'protocol says no');
    mode = 'clean';
    const res2 = await client.fetch(`${base}/partial`);
    const e2 = await rejection(res2.text(), 'body 2');
    const cause2 = ((e2 as { cause?: ErrLike }).cause ?? e2) as ErrLike;
    t.is(cause2.code, 'ERR_QUIC_SESSION_CLOSED', cause2.message);
    t.true(cause2.remote);
    t.is(cause2.errorCode, H3ErrorCode.H3_NO_ERROR);
  } finally {
    await client.close();
    await server.close({ timeout: 100 });
  }
});

test("our own close(): pending fetches reject with ERR_QUIC_SESSION_CLOSED; the server's req/res see 'aborted'/'close' and a fetch handler's signal aborts", async (t) => {
  let nodeReq: Http3IncomingMessage | undefined;
  let nodeRes: Http3ServerResponse | undefined;
  let signal: AbortSignal | undefined;
  const { server, base } = await serve(
    hanging((req, res) => {
      nodeReq = req;
      nodeRes = res;
    }),
  );
  const fetchServer = createServer({
    cert: cert.certPem,
    key: cert.keyPem,
    fetch: (request) => {
      signal = request.signal;
      return new Promise<Response>(() => {});
    },
  });
  await fetchServer.listen(0, '127.0.0.1');
  const fbase = `https://127.0.0.1:${fetchServer.address().port}`;
  const client = new Http3Client({ rejectUnauthorized: false });
  try {
    const a = rejection(client.fetch(`${base}/hang`, { method: 'POST', body: 'x' }), 'node-style fetch');
    const b = rejection(client.fetch(`${fbase}/hang`), 'fetch-handler fetch');
    while (nodeReq === undefined || signal === undefined) await new Promise((r) => setTimeout(r, 10));
    const aborted = event(nodeReq, 'aborted');
    const closes = Promise.all([event(nodeReq, 'close'), event(nodeRes!, 'close')]);
    const sigAborted = new Promise<void>((resolve) => signal!.addEventListener('abort', () => resolve(), { once: true }));
    await client.close();
    const ea = await a;
    t.is(ea.code, 'ERR_QUIC_SESSION_CLOSED', ea.message);
    t.false(ea.remote);
    t.is((await b).code, 'ERR_QUIC_SESSION_CLOSED');
    // The server side: the peer closed (H3_NO_ERROR).
    await withTimeout(Promise.all([closes, sigAborted]), 5000, 'server-side close');
    t.true(nodeReq.aborted);
    await aborted;
    t.true(signal.aborted);
    t.is((signal.reason as ErrLike).code, 'ERR_QUIC_SESSION_CLOSED');
    t.true((signal.reason as ErrLike).remote);
    await t.throwsAsync(client.fetch(`${base}/`), { code: 'ERR_QUIC_SESSION_CLOSED' });
  } finally {
    await server.close({ timeout: 100 });
    await fetchServer.close({ timeout: 100 });
  }
});

test('a failed handshake rejects every concurrent fetch with ERR_QUIC_TLS_ERROR and is not pooled', async (t) => {
  const { server, base } = await serve(hanging());
  const client = new Http3Client({}); // verifies the self-signed certificate: fails
  try {
    const errs = await Promise.all([rejection(client.fetch(`${base}/a`), 'a'), rejection(client.fetch(`${base}/b`), 'b')]);
    for (const e of errs) t.is(e.code, 'ERR_QUIC_TLS_ERROR', e.message);
    const again = await rejection(client.fetch(`${base}/c`), 'c');
    t.is(again.code, 'ERR_QUIC_TLS_ERROR');
  } finally {
    await client.close();
    await server.close({ timeout: 100 });
  }
});

test('a UDP socket error (ICMP port unreachable) rejects fetch and request() with ERR_QUIC_SOCKET_ERROR', async (t) => {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const port = s.address().port;
  s.close();
  const client = new Http3Client({ rejectUnauthorized: false, idleTimeout: 30_000 });
  try {
    const e = await rejection(client.fetch(`https://127.0.0.1:${port}/`), 'fetch');
    t.is(e.code, 'ERR_QUIC_SOCKET_ERROR', e.message);
    const req = client.request(`https://127.0.0.1:${port}/`);
    const err = new Promise<ErrLike>((resolve) => req.once('error', resolve));
    req.end();
    t.is((await withTimeout(err, 5000, 'request() error')).code, 'ERR_QUIC_SOCKET_ERROR');
  } finally {
    await client.close();
  }
});

test("a request waiting for stream credit (the server's limit reached) rejects when the connection ends", async (t) => {
  const { server, base } = await serve(hanging(), { maxStreamsBidi: 1 });
  const client = new Http3Client({ rejectUnauthorized: false, idleTimeout: 30_000 });
  try {
    const first = rejection(client.fetch(`${base}/hang`), 'first');
    // Queued: the only stream the server allows is taken.
    const queued = rejection(client.fetch(`${base}/hang`), 'queued');
    while (server.stats.requests === 0) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    t.is(server.stats.requests, 1, 'the second request waits for credit');
    server.quic!.endpoint.forget([...server.quic!.endpoint.connections()][0]!);
    // Make the client send (a key update): the server answers with a stateless reset.
    const pooled = await client.session(new URL(base));
    pooled.quic.updateKeys();
    pooled.hs.kick();
    const [a, b] = await Promise.all([first, queued]);
    t.is(a.code, 'ERR_QUIC_STATELESS_RESET', a.message);
    t.is(b.code, 'ERR_QUIC_STATELESS_RESET', b.message);
  } finally {
    await client.close();
    await server.close({ timeout: 100 });
  }
});

test('byte counters: request(), the response message and the server request see the same HEADERS/DATA bytes', async (t) => {
  let serverStats: Http3IncomingMessage['stats'];
  const { server, base } = await serve((req, res) => {
    serverStats = req.stats;
    req.resume();
    req.on('end', () => res.end('x'.repeat(1000)));
  });
  const client = new Http3Client({ rejectUnauthorized: false });
  try {
    const req = client.request(`${base}/count`, { method: 'POST' });
    req.end('y'.repeat(500));
    const msg = await new Promise<Http3IncomingMessage>((resolve) => req.once('response', resolve));
    let n = 0;
    for await (const c of msg) n += (c as Buffer).length;
    t.is(n, 1000);
    const cs = req.stats!;
    t.is(msg.stats, cs);
    t.is(cs.dataBytesSent, 500);
    t.is(cs.dataBytesReceived, 1000);
    t.is(serverStats!.dataBytesReceived, 500);
    t.is(serverStats!.dataBytesSent, 1000);
    t.is(cs.headerBytesSent, serverStats!.headerBytesReceived);
    t.is(cs.headerBytesReceived, serverStats!.headerBytesSent);
    t.is(cs.fieldBytesSent, serverStats!.fieldBytesReceived);
    const conn = client.connectionStats(base)!;
    t.true(conn.streamBytesReceived > cs.streamBytesReceived && cs.streamBytesReceived > 1000);
    t.is(conn.requestsSent, 1);
  } finally {
    await client.close();
    await server.close({ timeout: 100 });
  }
});
