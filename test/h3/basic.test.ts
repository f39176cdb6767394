// HTTP/3 client ↔ server over the in-memory fake QUIC pair (test/h3/support): GET, POST with a
// body, trailers, 1xx, many concurrent requests, backpressure (RFC 9114 §4.1).
import test from 'ava';
import { H3Pair, bytes, drain, get, ofType, post } from './support/h3-pair.js';
import { utf8, fromUtf8 } from '../../src/util/bytes.js';

test('GET: request event, 200 response with a body, end', (t) => {
  const p = new H3Pair({ fake: { seed: 7 } });
  p.onServer = (ev, h3) => {
    if (ev.type === 'request') {
      t.is(ev.method, 'GET');
      t.is(ev.path, '/index.html');
      t.is(ev.authority, 'example.com');
      t.true(ev.endStream);
      h3.respond(ev.streamId, [[':status', '200'], ['content-type', 'text/plain'], ['content-length', '5']]);
      t.is(h3.write(ev.streamId, utf8('hello'), true), 5);
    }
  };
  const body: number[] = [];
  let fin = false;
  p.onClient = (ev, h3) => {
    if (ev.type === 'data') fin = drain(h3, ev.streamId, body) || fin;
  };
  const id = p.client.request(get('/index.html'), { end: true });
  t.is(id, 0);
  p.run();
  const res = ofType(p.clientEvents, 'response');
  t.is(res.length, 1);
  t.is(res[0]!.status, 200);
  t.deepEqual(res[0]!.headers, [['content-type', 'text/plain'], ['content-length', '5']]);
  t.true(fin);
  t.is(fromUtf8(new Uint8Array(body)), 'hello');
  t.is(ofType(p.clientEvents, 'end').length, 1);
  t.is(p.client.activeStreams, 0);
  t.is(p.server.activeStreams, 0);
  t.false(p.client.closed);
  t.false(p.server.closed);
});

/** A server that echoes request bodies back (reads on 'data', answers at the end). */
function echoServer(p: H3Pair, opts: { trailers?: boolean } = {}): Map<number, number[]> {
  const bodies = new Map<number, number[]>();
  const answer = (h3: typeof p.server, id: number): void => {
    const b = new Uint8Array(bodies.get(id)!);
    h3.respond(id, [[':status', '200'], ['content-length', String(b.length)]]);
    let off = 0;
    const pushMore = (): void => {
      while (off < b.length) {
        const n = h3.write(id, b.subarray(off));
        off += n;
        if (n === 0) return;
      }
      if (opts.trailers) h3.end(id, [['x-checksum', String(b.reduce((a, x) => a + x, 0))]]);
      else h3.end(id);
    };
    pending.set(id, pushMore);
    pushMore();
  };
  const pending = new Map<number, () => void>();
  p.onServer = (ev, h3) => {
    switch (ev.type) {
      case 'request':
        bodies.set(ev.streamId, []);
        if (ev.endStream) answer(h3, ev.streamId);
        break;
      case 'data':
        if (drain(h3, ev.streamId, bodies.get(ev.streamId)!)) answer(h3, ev.streamId);
        break;
      case 'writable':
        pending.get(ev.streamId)?.();
        break;
    }
  };
  return bodies;
}

function collectClient(p: H3Pair): Map<number, { body: number[]; fin: boolean }> {
  const out = new Map<number, { body: number[]; fin: boolean }>();
  p.onClient = (ev, h3) => {
    if (ev.type === 'response') out.set(ev.streamId, { body: [], fin: ev.endStream });
    if (ev.type === 'data') {
      const r = out.get(ev.streamId)!;
      r.fin = drain(h3, ev.streamId, r.body) || r.fin;
    }
  };
  return out;
}

test('POST with a 300 KB body, 1..50 byte chunks, echoed back through flow-control backpressure', (t) => {
  const p = new H3Pair({ fake: { seed: 3, minChunk: 1, maxChunk: 50000, streamWindow: 20000 } });
  const bodies = echoServer(p);
  const got = collectClient(p);
  const body = bytes(300_000, 9);
  const id = p.client.request(post('/upload', [['content-length', String(body.length)], ['content-type', 'application/octet-stream']]))!;
  let off = 0;
  let writes = 0;
  const pushBody = (): void => {
    while (off < body.length) {
      const n = p.client.write(id, body.subarray(off));
      writes++;
      off += n;
      if (n === 0) return;
    }
    p.client.end(id);
  };
  const prev = p.onClient!;
  p.onClient = (ev, h3) => {
    prev(ev, h3);
    if (ev.type === 'writable' && ev.streamId === id) pushBody();
  };
  pushBody();
  t.true(off < body.length, 'the first writes hit the window');
  p.run();
  t.deepEqual(new Uint8Array(bodies.get(id)!), body);
  const r = got.get(id)!;
  t.true(r.fin);
  t.deepEqual(new Uint8Array(r.body), body);
  t.true(writes > 2);
  t.is(p.client.activeStreams, 0);
  t.is(p.server.activeStreams, 0);
});

test('trailers after a body, both directions', (t) => {
  const p = new H3Pair({ fake: { seed: 5, maxChunk: 7 } });
  echoServer(p, { trailers: true });
  const got = collectClient(p);
  const id = p.client.request(post('/t', [['te', 'trailers']]))!;
  p.client.write(id, utf8('abc'));
  p.client.end(id, [['x-request-trailer', 'yes']]);
  p.run();
  const serverTrailers = ofType(p.serverEvents, 'trailers');
  t.deepEqual(serverTrailers.map((e) => e.trailers), [[['x-request-trailer', 'yes']]]);
  const tr = ofType(p.clientEvents, 'trailers');
  t.is(tr.length, 1);
  t.deepEqual(tr[0]!.trailers, [['x-checksum', String(97 + 98 + 99)]]);
  t.is(fromUtf8(new Uint8Array(got.get(id)!.body)), 'abc');
  // Order on the client: response, data…, trailers, end.
  const order = p.clientEvents.filter((e) => 'streamId' in e && e.streamId === id).map((e) => e.type);
  t.is(order[0], 'response');
  t.true(order.indexOf('trailers') < order.indexOf('end'));
});

test('1xx informational responses before the final response (103 Early Hints, 100 Continue)', (t) => {
  const p = new H3Pair({ fake: { seed: 11 } });
  p.onServer = (ev, h3) => {
    if (ev.type === 'request') {
      h3.respond(ev.streamId, [[':status', '100']]);
      h3.respond(ev.streamId, [[':status', '103'], ['link', '</style.css>; rel=preload']]);
      h3.respond(ev.streamId, [[':status', '204']], { end: true });
    }
  };
  p.client.request(get('/'), { end: true });
  p.run();
  const info = ofType(p.clientEvents, 'informational');
  t.deepEqual(info.map((e) => e.status), [100, 103]);
  t.deepEqual(info[1]!.headers, [['link', '</style.css>; rel=preload']]);
  const res = ofType(p.clientEvents, 'response');
  t.is(res[0]!.status, 204);
  t.true(res[0]!.endStream);
  t.notThrows(() => p.server.respond(0, [[':status', '200']]), 'a finished stream: no-op');
  t.throws(() => p.server.respond(400, [[':status', '200']]), { instanceOf: RangeError, message: /streamId/ });
});

test('1xx API rules: no end on interim, no 101', (t) => {
  const p = new H3Pair();
  let sid = -1;
  p.onServer = (ev) => {
    if (ev.type === 'request') sid = ev.streamId;
  };
  p.client.request(get('/'), { end: true });
  p.run();
  t.throws(() => p.server.respond(sid, [[':status', '100']], { end: true }), { instanceOf: TypeError, message: /options\.end/ });
  t.throws(() => p.server.respond(sid, [[':status', '101']]), { instanceOf: TypeError, message: /101/ });
  t.throws(() => p.server.write(sid, utf8('x')), { instanceOf: RangeError, message: /final response/ });
});

test('200 concurrent requests with reordering across streams and tiny chunks', (t) => {
  const p = new H3Pair({ fake: { seed: 21, minChunk: 1, maxChunk: 40, maxBidiStreams: 64 } });
  p.onServer = (ev, h3) => {
    if (ev.type === 'request') {
      const body = utf8(`response for ${ev.path}`);
      h3.respond(ev.streamId, [[':status', '200'], ['content-length', String(body.length)], ['server', 'quiver']]);
      h3.write(ev.streamId, body, true);
    }
  };
  const got = collectClient(p);
  const ids = new Map<number, number>();
  let next = 0;
  const issue = (): void => {
    while (next < 200) {
      const id = p.client.request(get(`/r/${next}`, [['user-agent', 'quiver-test/1.0'], ['accept', '*/*']]), { end: true });
      if (id === null) return;
      ids.set(id, next++);
    }
  };
  const prev = p.onClient!;
  p.onClient = (ev, h3) => {
    prev(ev, h3);
    if (ev.type === 'streams-available') issue();
  };
  issue();
  t.is(next, 64, 'the stream limit blocks the 65th request');
  p.run();
  t.is(next, 200);
  t.is(got.size, 200);
  for (const [id, n] of ids) {
    const r = got.get(id)!;
    t.true(r.fin);
    t.is(fromUtf8(new Uint8Array(r.body)), `response for /r/${n}`);
  }
  t.is(p.client.activeStreams, 0);
  t.is(p.server.activeStreams, 0);
  t.is(p.server.stats.requestsReceived, 200);
  // The dynamic table carried the repeated fields both ways.
  t.true(p.client.qpack.encoderInsertCount > 0);
  t.true(p.server.qpack.encoderInsertCount > 0);
});
