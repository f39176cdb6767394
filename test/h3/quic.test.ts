// HTTP/3 client ↔ server over the real sans-IO QUIC stack (src/connection + src/endpoint) on the
// virtual network of test/support: GET, POST with a body (also under loss), trailers, 1xx, 200
// concurrent requests, GOAWAY mid-flight, a Chromium-shaped session, HTTP datagrams, Extended
// CONNECT (RFC 9114, RFC 9204, RFC 9218, RFC 9220, RFC 9297).
import test from 'ava';
import { fromUtf8, utf8 } from '../../src/util/bytes.js';
import { H3ErrorCode as E } from '../../src/h3/wire/index.js';
import type { H3Connection } from '../../src/h3/connection.js';
import { QuicH3 } from './support/quic-h3.js';
import { bytes, drain, get, ofType, post } from './support/h3-pair.js';

/** Client-side body collector. */
function collect(q: QuicH3): Map<number, { status: number; body: number[]; done: boolean; trailers: Array<[string, string]> }> {
  const out = new Map<number, { status: number; body: number[]; done: boolean; trailers: Array<[string, string]> }>();
  const prev = q.onClient;
  q.onClient = (ev, h3) => {
    prev?.(ev, h3);
    if (ev.type === 'response') out.set(ev.streamId, { status: ev.status, body: [], done: ev.endStream, trailers: [] });
    if (ev.type === 'data') {
      const r = out.get(ev.streamId)!;
      r.done = drain(h3, ev.streamId, r.body, 16384) || r.done;
    }
    if (ev.type === 'trailers') out.get(ev.streamId)!.trailers = ev.trailers.map(([n, v]) => [n, v]);
  };
  return out;
}

/** A server answering each request with `body(path)` once the request is complete (echoing POST bodies). */
function server(q: QuicH3, opts: { trailers?: boolean; interim?: boolean } = {}): void {
  const uploads = new Map<number, number[]>();
  const pending = new Map<number, () => void>();
  const answer = (h3: H3Connection, id: number, path: string): void => {
    const up = uploads.get(id)!;
    const b = up.length > 0 ? new Uint8Array(up) : utf8(`hello ${path}`);
    if (opts.interim) h3.respond(id, [[':status', '103'], ['link', '</a.css>; rel=preload']]);
    h3.respond(id, [[':status', '200'], ['content-length', String(b.length)]]);
    let off = 0;
    const push = (): void => {
      while (off < b.length) {
        const n = h3.write(id, b.subarray(off));
        off += n;
        if (n === 0) return;
      }
      if (opts.trailers) h3.end(id, [['x-sum', String(b.length)]]);
      else h3.end(id);
    };
    pending.set(id, push);
    push();
  };
  const paths = new Map<number, string>();
  q.onServer = (ev, h3) => {
    if (ev.type === 'request') {
      uploads.set(ev.streamId, []);
      paths.set(ev.streamId, ev.path ?? '');
      if (ev.endStream) answer(h3, ev.streamId, ev.path ?? '');
    }
    if (ev.type === 'data' && drain(h3, ev.streamId, uploads.get(ev.streamId)!, 16384)) answer(h3, ev.streamId, paths.get(ev.streamId)!);
    if (ev.type === 'writable') pending.get(ev.streamId)?.();
  };
}

test('QUIC: GET with trailers and an interim response', (t) => {
  const q = new QuicH3({ seed: 1 });
  server(q, { trailers: true, interim: true });
  const got = collect(q);
  t.true(q.ready(), 'SETTINGS exchanged over QUIC');
  const id = q.client.request(get('/index.html'), { end: true })!;
  t.is(id, 0);
  t.true(q.runUntil(() => got.get(id)?.done === true));
  const r = got.get(id)!;
  t.is(r.status, 200);
  t.is(fromUtf8(new Uint8Array(r.body)), 'hello /index.html');
  t.deepEqual(r.trailers, [['x-sum', '17']]);
  t.deepEqual(ofType(q.clientEvents, 'informational').map((e) => e.status), [103]);
  t.false(q.client.closed);
  // Our unidirectional streams are numbered as Chromium's: control 2, QPACK encoder 6, decoder 10.
  t.true(q.conn.hasStream(2) && q.conn.hasStream(6) && q.conn.hasStream(10));
});

test('QUIC: POST 200 KB echoed, 1% loss both ways', (t) => {
  const q = new QuicH3({ seed: 7, up: { loss: 0.01, delay: 10 }, down: { loss: 0.01, delay: 10 } });
  server(q);
  const got = collect(q);
  t.true(q.ready());
  const body = bytes(200_000, 4);
  const id = q.client.request(post('/echo', [['content-length', String(body.length)]]))!;
  let off = 0;
  const push = (): void => {
    while (off < body.length) {
      const n = q.client.write(id, body.subarray(off));
      off += n;
      if (n === 0) return;
    }
    q.client.end(id);
  };
  const prev = q.onClient!;
  q.onClient = (ev, h3) => {
    prev(ev, h3);
    if (ev.type === 'writable' && ev.streamId === id) push();
  };
  push();
  t.true(q.runUntil(() => got.get(id)?.done === true, 60_000), 'echo completes');
  t.deepEqual(new Uint8Array(got.get(id)!.body), body);
  t.true(q.conn.stats.packetsLost > 0, 'loss happened');
});

test('QUIC: 200 concurrent requests through a 100-stream limit, QPACK dynamic table both ways', (t) => {
  const q = new QuicH3({ seed: 3 });
  server(q);
  const got = collect(q);
  t.true(q.ready());
  let next = 0;
  const ids: number[] = [];
  const issue = (): void => {
    while (next < 200) {
      const id = q.client.request(get(`/r${next}`, [['user-agent', 'quiver-test'], ['accept', 'text/html'], ['cookie', 'session=abcdefghijklmnopqrstuvwxyz']]), { end: true });
      if (id === null) return;
      ids.push(id);
      next++;
    }
  };
  const prev = q.onClient!;
  q.onClient = (ev, h3) => {
    prev(ev, h3);
    if (ev.type === 'streams-available') issue();
  };
  issue();
  t.true(next < 200, 'the stream limit blocked some');
  t.true(q.runUntil(() => ids.length === 200 && ids.every((id) => got.get(id)?.done === true), 60_000));
  for (let i = 0; i < 200; i++) t.is(fromUtf8(new Uint8Array(got.get(ids[i]!)!.body)), `hello /r${i}`);
  t.true(q.client.qpack.encoderInsertCount > 0);
  t.is(q.server!.qpack.decoderInsertCount, q.client.qpack.encoderInsertCount);
  t.is(q.client.activeStreams, 0);
  t.is(q.server!.activeStreams, 0);
});

test('QUIC: GOAWAY mid-flight — below the ID complete, above are rejected, clean close', (t) => {
  const q = new QuicH3({ seed: 5, up: { delay: 20 }, down: { delay: 20 } });
  let seen = 0;
  q.onServer = (ev, h3) => {
    if (ev.type === 'request') {
      seen++;
      h3.respond(ev.streamId, [[':status', '200']]);
      h3.write(ev.streamId, utf8('ok'), true);
      if (seen === 3) h3.shutdown();
    }
  };
  const got = collect(q);
  t.true(q.ready());
  const first = [0, 1, 2].map((i) => q.client.request(get(`/${i}`), { end: true })!);
  // Let the first three reach the server, then send more while its GOAWAY is in flight.
  t.true(q.runUntil(() => seen === 3));
  const later = [3, 4, 5].map((i) => q.client.request(get(`/${i}`), { end: true })!);
  t.true(q.runUntil(() => q.client.closed && q.server!.closed, 30_000));
  for (const id of first) t.is(fromUtf8(new Uint8Array(got.get(id)!.body)), 'ok');
  const rejected = ofType(q.clientEvents, 'reset').filter((r) => r.code === E.H3_REQUEST_REJECTED);
  t.deepEqual(rejected.map((r) => r.streamId).sort((a, b) => a - b), later);
  t.is(q.client.goawayId, 12);
  t.is(q.client.closeError!.code, E.H3_NO_ERROR);
  t.is(q.server!.closeError!.code, E.H3_NO_ERROR);
});

test('QUIC: Chromium-shaped session (GREASE, PRIORITY_UPDATE, sec-ch-ua, QPACK 65536/100, H3_DATAGRAM)', (t) => {
  const settings = { qpackMaxTableCapacity: 65536, qpackBlockedStreams: 100, maxFieldSectionSize: 262144, h3Datagram: true };
  const q = new QuicH3({
    seed: 11,
    transport: { maxDatagramFrameSize: 65536, initialMaxStreamsUni: 103 },
    client: { settings, grease: 'always', qpack: { maxTableCapacity: 65536 } },
    server: { settings: { qpackMaxTableCapacity: 65536, qpackBlockedStreams: 100, h3Datagram: true }, grease: 'always', qpack: { maxTableCapacity: 65536 } },
  });
  server(q);
  const got = collect(q);
  t.true(q.ready());
  const h = (path: string): Array<[string, string]> => [
    [':method', 'GET'],
    [':authority', 'localhost:4433'],
    [':scheme', 'https'],
    [':path', path],
    ['sec-ch-ua', '"Chromium";v="156", "Not)A;Brand";v="8"'],
    ['sec-ch-ua-mobile', '?0'],
    ['sec-ch-ua-platform', '"Linux"'],
    ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36'],
    ['accept', '*/*'],
    ['accept-encoding', 'gzip, deflate, br, zstd'],
    ['accept-language', 'en-US,en;q=0.9'],
    ['priority', 'u=1, i'],
  ];
  const ids: number[] = [];
  for (let i = 0; i < 30; i++) ids.push(q.client.request(h(`/p/${i}`), { end: true, priorityUpdate: true })!);
  t.true(q.runUntil(() => ids.every((id) => got.get(id)?.done === true)));
  t.true(ofType(q.serverEvents, 'request').every((r) => r.priority.urgency === 1 && r.priority.incremental));
  t.true(q.client.datagramsEnabled && q.server!.datagramsEnabled);
  t.true(q.client.qpack.encoderInsertCount >= 8);
  t.is(q.server!.qpack.decoderInsertCount, q.client.qpack.encoderInsertCount);
  t.false(q.client.closed || q.server!.closed);
});

test('QUIC: HTTP datagrams and Extended CONNECT (connect-udp)', (t) => {
  const q = new QuicH3({
    seed: 9,
    transport: { maxDatagramFrameSize: 1500 },
    client: { settings: { h3Datagram: true } },
    server: { settings: { h3Datagram: true, enableConnectProtocol: true } },
  });
  collect(q);
  q.onServer = (ev, h3) => {
    if (ev.type === 'request') {
      t.is(ev.protocol, 'connect-udp');
      h3.respond(ev.streamId, [[':status', '200'], ['capsule-protocol', '?1']]);
    }
    if (ev.type === 'datagram') h3.sendDatagram(ev.streamId, new Uint8Array([0xee, ...ev.data]));
    if (ev.type === 'data') {
      const buf: number[] = [];
      if (drain(h3, ev.streamId, buf)) h3.end(ev.streamId);
    }
  };
  t.true(q.ready());
  t.true(q.client.peerSettings!.enableConnectProtocol);
  const id = q.client.request([[':method', 'CONNECT'], [':protocol', 'connect-udp'], [':scheme', 'https'], [':authority', 'quiver.test'], [':path', '/.well-known/masque/udp/192.0.2.1/53/'], ['capsule-protocol', '?1']])!;
  t.true(q.runUntil(() => ofType(q.clientEvents, 'response').length === 1));
  for (let i = 0; i < 5; i++) q.client.sendDatagram(id, new Uint8Array([i, i, i]));
  t.true(q.runUntil(() => ofType(q.clientEvents, 'datagram').length === 5));
  t.deepEqual(ofType(q.clientEvents, 'datagram').map((d) => [d.streamId, [...d.data]]).sort(), [0, 1, 2, 3, 4].map((i) => [id, [0xee, i, i, i]]).sort());
  q.client.end(id);
  t.true(q.runUntil(() => q.client.activeStreams === 0 && q.server!.activeStreams === 0));
});

test('QUIC: a malformed request is a stream error; the connection carries on', (t) => {
  const q = new QuicH3({ seed: 2 });
  server(q);
  const got = collect(q);
  t.true(q.ready());
  // Bypass the API's checks: HEADERS with an uppercase field name written straight on a QUIC stream.
  const id = q.conn.openStream(true)!;
  // HEADERS: RIC 0, Base 0, :method GET (static 17), :scheme https (static 23), literal name "AB" = "".
  q.conn.streamWrite(id, new Uint8Array([0x01, 0x08, 0x00, 0x00, 0xd1, 0xd7, 0x22, 0x41, 0x42, 0x00]), true);
  t.true(q.runUntil(() => q.server!.stats.streamErrors === 1));
  const ok = q.client.request(get('/after'), { end: true })!;
  t.true(q.runUntil(() => got.get(ok)?.done === true));
  t.false(q.client.closed);
});
