// HTTP/3 features over the fake QUIC pair: GOAWAY mid-flight and graceful shutdown (RFC 9114
// §5.2), cancellation (§4.1.1), QPACK blocked streams resuming (RFC 9204 §2.2.1), priorities and the
// send order they produce (RFC 9218), HTTP Datagrams (RFC 9297), Extended CONNECT (RFC 9220), a
// Chromium-shaped session (INTEROP.md), body backpressure and discard, and the API's guards.
import test from 'ava';
import { fromUtf8, utf8 } from '../../src/util/bytes.js';
import { H3Error, H3ErrorCode as E, reservedValue, isReserved } from '../../src/h3/wire/index.js';
import { H3ClosedError } from '../../src/h3/errors.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { H3Pair, bytes, drain, get, ofType, post } from './support/h3-pair.js';
import { RawPair, frame } from './support/raw-peer.js';

function okServer(p: H3Pair, body = (path: string | undefined) => utf8(`ok ${path}`)): void {
  p.onServer = (ev, h3) => {
    if (ev.type === 'request') {
      const b = body(ev.path);
      h3.respond(ev.streamId, [[':status', '200'], ['content-length', String(b.length)]]);
      h3.write(ev.streamId, b, true);
    }
  };
}

function bodies(p: H3Pair): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const prev = p.onClient;
  p.onClient = (ev, h3) => {
    prev?.(ev, h3);
    if (ev.type === 'response') out.set(ev.streamId, []);
    if (ev.type === 'data') drain(h3, ev.streamId, out.get(ev.streamId)!);
  };
  return out;
}

// ---- GOAWAY (RFC 9114 §5.2) ---------------------------------------------------------------------

test('GOAWAY mid-flight: requests below the ID complete, those at or above are rejected (retryable), then a clean close', (t) => {
  const p = new H3Pair({ fake: { seed: 13 } });
  okServer(p);
  const got = bodies(p);
  const ids: number[] = [];
  for (let i = 0; i < 10; i++) ids.push(p.client.request(get(`/${i}`), { end: true })!);
  // Requests 4..9 (streams 16..36) are still in transit when the server decides to shut down.
  for (const id of ids.slice(4)) p.fake.hold('client', id);
  p.run();
  t.is(ofType(p.serverEvents, 'request').length, 4);
  p.server.shutdown();
  t.is(p.server.goawaySentId, 16);
  p.run();
  for (const id of ids.slice(4)) p.fake.release('client', id);
  p.run();
  // Below the ID: complete responses.
  for (const id of ids.slice(0, 4)) t.is(fromUtf8(new Uint8Array(got.get(id)!)), `ok /${id / 4}`);
  // At or above: reported as rejected by the client itself, never processed by the server.
  const resets = ofType(p.clientEvents, 'reset');
  t.deepEqual(resets.map((r) => r.streamId).sort((a, b) => a - b), ids.slice(4));
  for (const r of resets) {
    t.is(r.code, E.H3_REQUEST_REJECTED);
    t.false(r.remote);
  }
  t.is(ofType(p.serverEvents, 'request').length, 4);
  t.deepEqual(ofType(p.clientEvents, 'goaway').map((g) => g.id), [16]);
  t.is(ofType(p.serverEvents, 'drained').length, 1);
  // The client closes once idle after GOAWAY: H3_NO_ERROR on both sides.
  t.true(p.client.closed);
  t.true(p.server.closed);
  t.is(p.client.closeError!.code, E.H3_NO_ERROR);
  t.is(p.server.closeError!.code, E.H3_NO_ERROR);
});

test('after GOAWAY the client refuses new requests with H3_REQUEST_REJECTED, finishes the others, then closes', (t) => {
  const p = new H3Pair();
  let sid = -1;
  p.onServer = (ev) => {
    if (ev.type === 'request') sid = ev.streamId;
  };
  const got = bodies(p);
  const id = p.client.request(get('/slow'), { end: true })!;
  p.run();
  p.server.goaway();
  p.run();
  t.is(p.client.goawayId, 4);
  const e = t.throws(() => p.client.request(get('/new'), { end: true }), { instanceOf: H3Error }) as H3Error;
  t.is(e.errorCode, E.H3_REQUEST_REJECTED);
  t.is(e.code, 'ERR_H3_REQUEST_REJECTED');
  t.false(p.client.closed, 'a request is still in progress');
  p.server.respond(sid, [[':status', '200']]);
  p.server.write(sid, utf8('late but fine'), true);
  p.run();
  t.is(fromUtf8(new Uint8Array(got.get(id)!)), 'late but fine');
  t.true(p.client.closed, 'the client closes once its last request is done');
  t.is(p.server.closeError!.code, E.H3_NO_ERROR);
  t.true(p.server.closeError!.remote);
});

test('a server refuses requests at or above its GOAWAY with H3_REQUEST_REJECTED; GOAWAY IDs only go down', (t) => {
  const p = new RawPair({ h3Role: 'server' });
  p.control();
  const a = p.request([p.headers(0, get('/a'))]);
  p.run();
  p.h3.goaway(); // next ID: 4
  t.is(p.h3.goawaySentId, 4);
  t.throws(() => p.h3.goaway(8), { instanceOf: RangeError, message: /previous GOAWAY/ });
  t.throws(() => p.h3.goaway(2), { instanceOf: RangeError, message: /multiple of 4/ });
  const b = p.request([p.headers(4, get('/b'))]);
  p.run();
  t.is(a, 0);
  t.deepEqual(p.h3Side.calls.reset, [[b, E.H3_REQUEST_REJECTED]]);
  t.is(p.h3.stats.requestsRejected, 1);
  t.deepEqual(ofType(p.h3Events, 'request').map((r) => r.streamId), [0]);
  const control = p.readRaw(3);
  t.true(control.length > 0);
});

test('client GOAWAY carries a push ID (0: no pushes) and does not stop the server answering', (t) => {
  const p = new H3Pair();
  okServer(p);
  const got = bodies(p);
  const id = p.client.request(get('/x'), { end: true })!;
  p.client.goaway();
  p.run();
  t.deepEqual(ofType(p.serverEvents, 'goaway').map((g) => g.id), [0]);
  t.is(fromUtf8(new Uint8Array(got.get(id)!)), 'ok /x');
});

// ---- cancellation (RFC 9114 §4.1.1) ----------------------------------------------------------

test('client cancels a request: the server sees reset + stop-sending with H3_REQUEST_CANCELLED', (t) => {
  const p = new H3Pair();
  let sid = -1;
  p.onServer = (ev, h3) => {
    if (ev.type === 'request') {
      sid = ev.streamId;
      h3.respond(sid, [[':status', '200']]);
      h3.write(sid, bytes(1000));
    }
  };
  const id = p.client.request(post('/upload'))!;
  p.client.write(id, bytes(100));
  p.run();
  p.client.cancel(id);
  p.run();
  const reset = ofType(p.serverEvents, 'reset');
  t.deepEqual(reset.map((r) => [r.streamId, r.code, r.remote]), [[sid, E.H3_REQUEST_CANCELLED, true]]);
  t.deepEqual(ofType(p.serverEvents, 'stop-sending').map((r) => [r.streamId, r.code]), [[sid, E.H3_REQUEST_CANCELLED]]);
  // The server's late writes are no-ops, not exceptions.
  t.is(p.server.write(sid, bytes(10)), 0);
  t.notThrows(() => p.server.end(sid));
  t.is(p.server.activeStreams, 0);
  t.is(p.client.activeStreams, 0);
  t.false(p.server.closed);
});

test('server abandons a response after partial processing: the client sees H3_REQUEST_CANCELLED', (t) => {
  const p = new H3Pair();
  p.onServer = (ev, h3) => {
    if (ev.type === 'request') {
      h3.respond(ev.streamId, [[':status', '200']]);
      h3.write(ev.streamId, utf8('partial'));
      h3.cancel(ev.streamId, E.H3_REQUEST_CANCELLED);
    }
  };
  const id = p.client.request(get('/'), { end: true })!;
  p.run();
  t.true(ofType(p.clientEvents, 'reset').some((r) => r.streamId === id && r.code === E.H3_REQUEST_CANCELLED && r.remote));
  t.is(p.client.activeStreams, 0);
});

test('a request stream reset before its headers arrived is answered with H3_REQUEST_INCOMPLETE', (t) => {
  const p = new RawPair({ h3Role: 'server' });
  p.control();
  const id = p.raw.openStream(true)!;
  const h = p.headers(id, get('/'));
  p.write(id, h.subarray(0, 3));
  p.run();
  p.raw.streamReset(id, E.H3_REQUEST_CANCELLED);
  p.run();
  t.deepEqual(p.h3Side.calls.reset, [[id, E.H3_REQUEST_INCOMPLETE]]);
  t.is(ofType(p.h3Events, 'request').length, 0);
  t.is(p.h3.activeStreams, 0);
});

// ---- QPACK blocked streams (RFC 9204 §2.2.1) ---------------------------------------------------

test('a request whose field section waits for encoder-stream inserts resumes when they arrive', (t) => {
  const p = new H3Pair({ fake: { seed: 2 } });
  okServer(p);
  const got = bodies(p);
  // First request: lets the client learn the server's SETTINGS (dynamic table allowed).
  p.client.request(get('/warmup'), { end: true });
  p.run();
  t.true(p.client.peerSettings!.qpackMaxTableCapacity > 0);
  // Hold the client's QPACK encoder stream (6): the next request references fresh inserts.
  p.fake.hold('client', 6);
  const id = p.client.request(get('/blocked', [['x-custom', 'value-that-gets-inserted']]), { end: true })!;
  p.run();
  t.is(ofType(p.serverEvents, 'request').length, 1, 'the second request is blocked');
  t.is(p.server.qpack.decoderBlockedStreams, 1);
  p.fake.release('client', 6);
  p.run();
  t.is(ofType(p.serverEvents, 'request').length, 2);
  t.is(p.server.stats.qpackBlocked, 1);
  t.is(p.server.qpack.decoderBlockedStreams, 0);
  t.is(fromUtf8(new Uint8Array(got.get(id)!)), 'ok /blocked');
  // Section Acknowledgments and Insert Count Increments went back on the decoder stream.
  t.is(p.client.qpack.encoderKnownReceived, p.client.qpack.encoderInsertCount);
});

test('cancelling a QPACK-blocked request sends a Stream Cancellation; the encoder forgets the section', (t) => {
  const p = new H3Pair({ fake: { seed: 2 } });
  okServer(p);
  p.client.request(get('/warmup'), { end: true });
  p.run();
  p.fake.hold('client', 6);
  const id = p.client.request(get('/blocked', [['x-custom', 'another-fresh-value']]))!;
  p.run();
  t.is(p.server.qpack.decoderBlockedStreams, 1);
  p.client.cancel(id);
  p.run();
  t.is(p.server.qpack.decoderBlockedStreams, 0);
  p.fake.release('client', 6);
  p.run();
  t.false(p.server.closed);
  t.false(p.client.closed);
  t.is(ofType(p.serverEvents, 'request').length, 1);
});

// ---- priorities (RFC 9218) ------------------------------------------------------------------------

test('the server applies the priority header and the scheduler sends by urgency, then incremental round-robin', (t) => {
  const p = new H3Pair({ fake: { seed: 1, prioritize: true, budget: 4000, maxChunk: 1000, minChunk: 1000 } });
  const size = 20000;
  const pending: number[] = [];
  p.onServer = (ev) => {
    if (ev.type === 'request') pending.push(ev.streamId);
  };
  const lo = p.client.request(get('/lo'), { end: true, priority: { urgency: 6, incremental: false } })!;
  const inc1 = p.client.request(get('/inc1'), { end: true, priority: { urgency: 3, incremental: true } })!;
  const inc2 = p.client.request(get('/inc2'), { end: true, priority: { urgency: 3, incremental: true } })!;
  const hi = p.client.request(get('/hi', [['priority', 'u=0']]), { end: true })!;
  p.run();
  t.is(pending.length, 4);
  // Respond to all at once so the transport decides the order.
  for (const id of pending) {
    p.server.respond(id, [[':status', '200']]);
    p.server.write(id, bytes(size), true);
  }
  p.fake.log.length = 0;
  p.run();
  const order = p.fake.log.filter((r) => r.from === 'server' && r.id % 4 === 0 && r.bytes > 0).map((r) => r.id);
  const last = (id: number): number => order.lastIndexOf(id);
  const first = (id: number): number => order.indexOf(id);
  t.true(last(hi) < first(inc1) && last(hi) < first(inc2), 'u=0 completes before u=3 starts');
  t.true(last(inc1) < first(lo) && last(inc2) < first(lo), 'u=3 completes before u=6 starts');
  // Incremental streams interleave.
  const mid = order.filter((id) => id === inc1 || id === inc2);
  let switches = 0;
  for (let i = 1; i < mid.length; i++) if (mid[i] !== mid[i - 1]) switches++;
  t.true(switches > 5, `incremental responses interleave (${switches} switches)`);
  // Critical unidirectional streams go first (urgency 0); request streams as the client asked.
  t.deepEqual(
    p.fake.server.calls.priority.filter((c) => c[0] % 4 === 3).map((c) => [c[1], c[2]]),
    [
      [0, false],
      [0, false],
      [0, false],
    ],
  );
  t.deepEqual(
    p.fake.server.calls.priority.filter((c) => c[0] % 4 === 0).sort((a, b) => a[0] - b[0]),
    [
      [lo, 6, false],
      [inc1, 3, true],
      [inc2, 3, true],
      [hi, 0, false],
    ],
  );
});

test('PRIORITY_UPDATE for a stream not opened yet is remembered and overrides the header; later updates reprioritise', (t) => {
  const p = new RawPair({ h3Role: 'server' });
  p.control({}, frame({ type: 'priority_update', push: false, elementId: 8, priority: 'u=1, i' }));
  p.run();
  p.request([p.headers(0, get('/a'))]);
  p.request([p.headers(4, get('/b', [['priority', 'u=5']]))]);
  p.request([p.headers(8, get('/c', [['priority', 'u=6']]))], false);
  p.run();
  const reqs = ofType(p.h3Events, 'request');
  t.deepEqual(reqs.find((r) => r.streamId === 8)!.priority, { urgency: 1, incremental: true });
  t.deepEqual(reqs.find((r) => r.streamId === 4)!.priority, { urgency: 5, incremental: false });
  t.deepEqual(reqs.find((r) => r.streamId === 0)!.priority, { urgency: 3, incremental: false });
  // Reprioritise an open request.
  p.write(2, frame({ type: 'priority_update', push: false, elementId: 8, priority: 'u=7' }));
  p.run();
  t.deepEqual(ofType(p.h3Events, 'priority').map((e) => [e.streamId, e.priority.urgency]), [[8, 7]]);
  // The transport was told, in order of events: the header (u=5), the remembered frame (u=1, i),
  // the reprioritisation (u=7). Stream 0 keeps the default and is never touched.
  const calls = p.h3Side.calls.priority;
  t.deepEqual(calls.filter((c) => c[0] === 8), [
    [8, 1, true],
    [8, 7, false],
  ]);
  t.deepEqual(calls.filter((c) => c[0] === 4), [[4, 5, false]]);
  t.false(calls.some((c) => c[0] === 0));
});

test('client setPriority sends PRIORITY_UPDATE; the server reports and applies it', (t) => {
  const p = new H3Pair();
  const id = p.client.request(post('/long'))!;
  p.run();
  p.client.setPriority(id, { urgency: 1, incremental: true });
  p.run();
  t.deepEqual(ofType(p.serverEvents, 'priority').map((e) => [e.streamId, e.priority]), [[id, { urgency: 1, incremental: true }]]);
  t.true(p.fake.server.calls.priority.some((c) => c[0] === id && c[1] === 1 && c[2]));
});

// ---- HTTP Datagrams (RFC 9297) -----------------------------------------------------------------

test('HTTP datagrams flow both ways on a request stream once both sides sent H3_DATAGRAM=1', (t) => {
  const p = new H3Pair({ client: { settings: { h3Datagram: true } }, server: { settings: { h3Datagram: true, enableConnectProtocol: true } } });
  p.onServer = (ev, h3) => {
    if (ev.type === 'request') h3.respond(ev.streamId, [[':status', '200'], ['capsule-protocol', '?1']]);
    if (ev.type === 'datagram') h3.sendDatagram(ev.streamId, new Uint8Array([...ev.data].reverse()));
  };
  p.run();
  t.true(p.client.datagramsEnabled);
  const id = p.client.request([[':method', 'CONNECT'], [':protocol', 'connect-udp'], [':scheme', 'https'], [':authority', 'proxy.example'], [':path', '/.well-known/masque/udp/192.0.2.6/443/'], ['capsule-protocol', '?1']])!;
  p.run();
  t.is(ofType(p.clientEvents, 'response')[0]!.status, 200);
  t.is(typeof p.client.sendDatagram(id, new Uint8Array([1, 2, 3])), 'number');
  p.run();
  const dg = ofType(p.clientEvents, 'datagram');
  t.deepEqual(dg.map((d) => [d.streamId, [...d.data]]), [[id, [3, 2, 1]]]);
  t.is(p.server.stats.datagramsReceived, 1);
  t.is(p.client.maxDatagramPayload(id), 1200 - 1);
  t.is(p.client.sendDatagram(id, new Uint8Array(1200)), null, 'too big');
});

test('no HTTP datagrams unless both sides enabled them', (t) => {
  const p = new H3Pair({ client: { settings: { h3Datagram: true } } });
  p.run();
  t.false(p.client.datagramsEnabled);
  const id = p.client.request(get('/'))!;
  t.is(p.client.sendDatagram(id, new Uint8Array([1])), null);
  t.is(p.client.maxDatagramPayload(id), 0);
});

// ---- Extended CONNECT (RFC 9220) ------------------------------------------------------------------

test('Extended CONNECT: allowed after the server enables it; a bidirectional tunnel of DATA', (t) => {
  const p = new H3Pair({ server: { settings: { enableConnectProtocol: true } } });
  const hdrs: Array<[string, string]> = [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/chat'], ['sec-websocket-version', '13']];
  t.throws(() => p.client.request(hdrs), { instanceOf: TypeError, message: /SETTINGS_ENABLE_CONNECT_PROTOCOL/ });
  const serverGot: number[] = [];
  p.onServer = (ev, h3) => {
    if (ev.type === 'request') {
      t.is(ev.protocol, 'websocket');
      t.is(ev.path, '/chat');
      h3.respond(ev.streamId, [[':status', '200']]);
      h3.write(ev.streamId, utf8('hello from server'));
    }
    if (ev.type === 'data' && drain(h3, ev.streamId, serverGot)) h3.end(ev.streamId);
  };
  p.run();
  t.true(p.client.peerSettings!.enableConnectProtocol);
  const id = p.client.request(hdrs)!;
  p.client.write(id, utf8('hello from client'));
  const got = bodies(p);
  p.run();
  t.is(fromUtf8(new Uint8Array(got.get(id)!)), 'hello from server');
  t.is(fromUtf8(new Uint8Array(serverGot)), 'hello from client');
  t.throws(() => p.client.end(id, [['x', '1']]), { instanceOf: RangeError, message: /CONNECT/ });
  p.client.end(id);
  p.run();
  t.is(p.client.activeStreams, 0);
  t.is(p.server.activeStreams, 0);
});

// ---- a Chromium-shaped session (INTEROP.md) ---------------------------------------------------------

test('Chromium-shaped session: GREASE, PRIORITY_UPDATE before each request, sec-ch-ua headers, QPACK 65536/100 both ways', (t) => {
  const settings = { qpackMaxTableCapacity: 65536, qpackBlockedStreams: 100, maxFieldSectionSize: 262144, h3Datagram: true };
  const p = new H3Pair({
    fake: { seed: 77, maxChunk: 300 },
    client: { settings, qpack: { maxTableCapacity: 65536 }, rng: new SeededRandom(5), grease: 'always' },
    server: { settings: { qpackMaxTableCapacity: 65536, qpackBlockedStreams: 100 }, qpack: { maxTableCapacity: 65536 }, rng: new SeededRandom(6), grease: 'always' },
  });
  const chromeHeaders = (path: string, dest: string): Array<[string, string]> => [
    [':method', 'GET'],
    [':authority', 'localhost:4433'],
    [':scheme', 'https'],
    [':path', path],
    ['sec-ch-ua', '"Chromium";v="156", "Not)A;Brand";v="8"'],
    ['sec-ch-ua-mobile', '?0'],
    ['sec-ch-ua-platform', '"Linux"'],
    ['upgrade-insecure-requests', '1'],
    ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36'],
    ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8'],
    ['sec-fetch-site', 'none'],
    ['sec-fetch-mode', 'navigate'],
    ['sec-fetch-dest', dest],
    ['accept-encoding', 'gzip, deflate, br, zstd'],
    ['accept-language', 'en-US,en;q=0.9'],
    ['priority', dest === 'document' ? 'u=0, i' : 'u=2'],
  ];
  p.onServer = (ev, h3) => {
    if (ev.type === 'request') {
      t.true(ev.headers.some((h) => h[0] === 'sec-ch-ua'));
      const b = utf8(`<p>${ev.path}</p>`);
      h3.respond(ev.streamId, [[':status', '200'], ['content-type', 'text/html; charset=utf-8'], ['content-length', String(b.length)], ['server', 'quiver'], ['alt-svc', 'h3=":4433"; ma=86400'], ['cache-control', 'no-store']]);
      h3.write(ev.streamId, b, true);
    }
  };
  const got = bodies(p);
  p.run(); // SETTINGS both ways first, as a browser that has processed the server's SETTINGS
  const ids: number[] = [];
  ids.push(p.client.request(chromeHeaders('/', 'document'), { end: true, priorityUpdate: true })!);
  p.run();
  for (let i = 0; i < 20; i++) ids.push(p.client.request(chromeHeaders(`/asset/${i}.js`, 'script'), { end: true, priorityUpdate: true })!);
  p.run();
  t.is(ofType(p.serverEvents, 'request').length, 21);
  for (const id of ids) t.true(fromUtf8(new Uint8Array(got.get(id)!)).startsWith('<p>/'));
  const reqs = ofType(p.serverEvents, 'request');
  t.deepEqual(reqs[0]!.priority, { urgency: 0, incremental: true });
  t.true(reqs.slice(1).every((r) => r.priority.urgency === 2 && !r.priority.incremental));
  // GREASE both ways: a reserved setting, and a reserved stream (a fourth unidirectional stream,
  // ignored: reading aborted with H3_STREAM_CREATION_ERROR unless its FIN came with its type).
  t.true(p.server.peerSettings!.unknown.some(([id]) => isReserved(id)));
  t.true(p.client.peerSettings!.unknown.some(([id]) => isReserved(id)));
  t.is(p.fake.client.openedUni, 4);
  t.is(p.fake.server.openedUni, 4);
  for (const [id, code] of [...p.fake.server.calls.stopSending, ...p.fake.client.calls.stopSending]) {
    if (id % 4 >= 2) t.is(code, E.H3_STREAM_CREATION_ERROR);
  }
  // The dynamic table in use in both directions.
  t.true(p.client.qpack.encoderInsertCount >= 10, `client inserted ${p.client.qpack.encoderInsertCount}`);
  t.true(p.server.qpack.encoderInsertCount >= 2, `server inserted ${p.server.qpack.encoderInsertCount}`);
  t.is(p.server.qpack.decoderInsertCount, p.client.qpack.encoderInsertCount);
  t.is(p.client.qpack.decoderInsertCount, p.server.qpack.encoderInsertCount);
  t.is(p.client.peerSettings!.qpackMaxTableCapacity, 65536);
  t.is(p.server.peerSettings!.maxFieldSectionSize, 262144);
  t.false(p.client.closed || p.server.closed);
  void reservedValue;
});

// ---- bodies: backpressure and discard --------------------------------------------------------------

test('a server that ends its response without reading the upload discards it with STOP_SENDING(H3_NO_ERROR)', (t) => {
  const p = new H3Pair({ fake: { streamWindow: 10000 } });
  p.onServer = (ev, h3) => {
    if (ev.type === 'request') {
      h3.respond(ev.streamId, [[':status', '413']]);
      h3.end(ev.streamId);
    }
  };
  const id = p.client.request(post('/big'))!;
  let sent = 0;
  for (let i = 0; i < 5; i++) sent += p.client.write(id, bytes(4000));
  t.true(sent < 20000, 'flow control held the upload back');
  p.run();
  t.is(ofType(p.clientEvents, 'response')[0]!.status, 413);
  t.deepEqual(ofType(p.clientEvents, 'stop-sending').map((e) => [e.streamId, e.code]), [[id, E.H3_NO_ERROR]]);
  t.is(p.client.write(id, bytes(10)), 0, 'writes after STOP_SENDING are dropped');
  t.is(p.client.activeStreams, 0);
  t.is(p.server.activeStreams, 0);
});

test('an unread request body stays in the QUIC stream (backpressure), read() pulls it', (t) => {
  const p = new H3Pair({ fake: { streamWindow: 8000 } });
  let sid = -1;
  p.onServer = (ev) => {
    if (ev.type === 'request') sid = ev.streamId;
  };
  const id = p.client.request(post('/up'))!;
  const body = bytes(50000, 3);
  let off = 0;
  const push = (): void => {
    while (off < body.length) {
      const n = p.client.write(id, body.subarray(off));
      off += n;
      if (n === 0) return;
    }
    p.client.end(id);
  };
  p.onClient = (ev) => {
    if (ev.type === 'writable') push();
  };
  push();
  p.run();
  // The window (8000) plus at most one committed DATA frame (16 KiB) buffered in H3.
  t.true(off < 8000 + 16384 + 100, `the client is held back (${off} bytes written)`);
  const got: number[] = [];
  for (let rounds = 0; rounds < 1000; rounds++) {
    const fin = drain(p.server, sid, got, 3000);
    p.run();
    if (fin) break;
  }
  t.deepEqual(new Uint8Array(got), body);
});

// ---- API guards ---------------------------------------------------------------------------------

test('API: role checks, bad arguments, closed connection', (t) => {
  const p = new H3Pair();
  t.throws(() => p.server.request(get('/')), { instanceOf: TypeError, message: /client role/ });
  t.throws(() => p.client.respond(0, [[':status', '200']]), { instanceOf: TypeError, message: /server role/ });
  t.throws(() => p.client.read(3, new Uint8Array(1)), { instanceOf: RangeError, message: /streamId/ });
  t.throws(() => p.client.write(8, new Uint8Array(1)), { instanceOf: RangeError, message: /streamId/ });
  const id = p.client.request(get('/'))!;
  t.throws(() => p.client.write(id, 'x' as unknown as Uint8Array), { instanceOf: TypeError, message: /data/ });
  t.throws(() => p.client.cancel(id, -1), { instanceOf: RangeError, message: /code/ });
  t.throws(() => p.client.request(get('/'), { priority: { urgency: 1, incremental: 'yes' as unknown as boolean } }), { instanceOf: TypeError });
  t.throws(() => p.client.write(id, new Uint8Array(5), false) && p.client.end(id, [[':path', '/']]), { instanceOf: TypeError, message: /trailers/ });
  p.client.close(E.H3_NO_ERROR, 'bye');
  p.run();
  t.true(p.server.closed);
  t.deepEqual(
    ofType(p.serverEvents, 'closed').map((e) => [e.error.code, e.error.remote, e.error.reason]),
    [[E.H3_NO_ERROR, true, 'bye']],
  );
  t.throws(() => p.client.request(get('/')), { instanceOf: H3ClosedError });
  t.is(p.client.write(id, new Uint8Array(1)), 0, 'calls about streams of a closed connection are no-ops');
  t.deepEqual(p.client.read(id, new Uint8Array(1)), { bytes: 0, fin: false });
  t.throws(() => p.client.read(404, new Uint8Array(1)), { instanceOf: RangeError });
  t.notThrows(() => p.client.close());
  t.notThrows(() => p.client.handleTransportEvent({ type: 'stream-readable', id: 0 } as { type: string }));
});

test('content-length is enforced on what we send', (t) => {
  const p = new H3Pair();
  const id = p.client.request(post('/', [['content-length', '3']]))!;
  t.throws(() => p.client.write(id, utf8('toolong')), { instanceOf: RangeError, message: /content-length/ });
  p.client.write(id, utf8('ab'));
  t.throws(() => p.client.end(id), { instanceOf: RangeError, message: /content-length/ });
  p.client.write(id, utf8('c'), true);
  p.run();
  t.false(p.client.closed);
});

test('fewer unidirectional streams than critical + GREASE: GREASE waits, nothing breaks', (t) => {
  const p = new H3Pair({ fake: { maxUniStreams: 3 }, greaseSeed: 1, client: { grease: 'always' }, server: { grease: 'always' } });
  okServer(p);
  const got = bodies(p);
  const id = p.client.request(get('/'), { end: true })!;
  p.run();
  t.is(fromUtf8(new Uint8Array(got.get(id)!)), 'ok /');
});
