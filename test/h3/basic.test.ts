// HTTP/3 client ↔ server over the in-memory fake QUIC pair (test/h3/support): GET, POST with a
// body, trailers, 1xx, many concurrent requests, backpressure (RFC 9114 §4.1).
import test from 'ava';
import { H3Pair, drain, get, ofType } from './support/h3-pair.js';
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
