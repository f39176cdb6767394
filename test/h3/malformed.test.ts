// Malformed requests and responses (RFC 9114 §4.1.2 content-length, §4.2 field names/values and
// connection-specific fields, §4.3 pseudo-header fields, §4.4 CONNECT, RFC 9220 :protocol, RFC 9110
// §5.5 field-content): each rule, one test, answered with a stream error H3_MESSAGE_ERROR (reset +
// STOP_SENDING) while the connection stays open. A hand-driven raw peer sends the bad messages.
import test, { type ExecutionContext } from 'ava';
import { H3ErrorCode } from '../../src/h3/wire/index.js';
import type { HeaderFieldInput } from '../../src/qpack/index.js';
import { utf8 } from '../../src/util/bytes.js';
import { RawPair } from './support/raw-peer.js';
import { drain, ofType } from './support/h3-pair.js';

const MSG = H3ErrorCode.H3_MESSAGE_ERROR;

const REQ: Array<[string, string]> = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'example.com'],
  [':path', '/'],
];

interface BadRequest {
  fields: HeaderFieldInput[];
  /** Frames after the HEADERS (DATA, trailers). */
  after?: (p: RawPair, id: number) => Uint8Array[];
  settings?: { enableConnectProtocol?: boolean };
  code?: number;
}

/** The server answers the request with a stream error, never a 'request' event, and keeps the connection. */
function serverRejects(t: ExecutionContext, bad: BadRequest): void {
  const p = new RawPair({ h3Role: 'server', h3: bad.settings ? { settings: bad.settings } : {} });
  p.onH3 = (ev, h3) => {
    if (ev.type === 'data') drain(h3, ev.streamId, []);
  };
  p.control();
  const id = p.raw.openStream(true)!;
  const frames = [p.headers(id, bad.fields), ...(bad.after ? bad.after(p, id) : [])];
  for (const f of frames) p.write(id, f);
  p.run();
  // Rules checkable before the FIN abort reading too; the others are found at the FIN.
  const early = p.h3Side.calls.reset.length > 0;
  if (!early) {
    p.raw.streamFinish(id);
    p.run();
  }
  const code = bad.code ?? MSG;
  t.is(p.closeCode, null, 'no connection error');
  t.false(p.h3.closed);
  t.deepEqual(p.h3Side.calls.reset, [[id, code]], 'response side reset');
  t.deepEqual(p.h3Side.calls.stopSending, early ? [[id, code]] : [], 'reading aborted unless the FIN was read');
  t.true(p.rawEvents.some((e) => e.type === 'stream-reset' && e.id === id && e.code === code));
  t.is(ofType(p.h3Events, 'request').length, bad.after ? 1 : 0);
  t.is(p.h3.stats.streamErrors, 1);
  // A good request on the same connection still works.
  const ok = p.raw.openStream(true)!;
  p.write(ok, p.headers(ok, REQ), true);
  p.run();
  t.true(ofType(p.h3Events, 'request').some((e) => e.streamId === ok));
}

const replace = (name: string, value: string): HeaderFieldInput[] => REQ.map(([n, v]) => [n, n === name ? value : v] as [string, string]);
const without = (name: string): HeaderFieldInput[] => REQ.filter(([n]) => n !== name);
const plus = (...extra: Array<[string, string]>): HeaderFieldInput[] => [...REQ, ...extra];

// ---- §4.2 field names and values ------------------------------------------------------------

test('request: uppercase field name (§4.2)', (t) => serverRejects(t, { fields: plus(['User-Agent', 'x']) }));
test('request: space in a field name (§10.3)', (t) => serverRejects(t, { fields: plus(['x y', '1']) }));
test('request: colon inside a field name (§10.3)', (t) => serverRejects(t, { fields: plus(['x:y', '1']) }));
test('request: empty field name (§10.3)', (t) => serverRejects(t, { fields: plus(['', '1']) }));
test('request: NUL in a field value (§10.3)', (t) => serverRejects(t, { fields: plus(['x', 'a\0b']) }));
test('request: CR LF in a field value (§10.3)', (t) => serverRejects(t, { fields: plus(['x', 'a\r\nevil: 1']) }));
test('request: leading whitespace in a field value (RFC 9110 §5.5)', (t) => serverRejects(t, { fields: plus(['x', ' a']) }));
test('request: trailing tab in a field value (RFC 9110 §5.5)', (t) => serverRejects(t, { fields: plus(['x', 'a\t']) }));
test('request: connection header (§4.2)', (t) => serverRejects(t, { fields: plus(['connection', 'close']) }));
test('request: keep-alive header (§4.2)', (t) => serverRejects(t, { fields: plus(['keep-alive', 'timeout=5']) }));
test('request: proxy-connection header (§4.2)', (t) => serverRejects(t, { fields: plus(['proxy-connection', 'keep-alive']) }));
test('request: transfer-encoding header (§4.1, §4.2)', (t) => serverRejects(t, { fields: plus(['transfer-encoding', 'chunked']) }));
test('request: upgrade header (§4.2)', (t) => serverRejects(t, { fields: plus(['upgrade', 'h2c']) }));
test('request: TE other than "trailers" (§4.2)', (t) => serverRejects(t, { fields: plus(['te', 'gzip']) }));

// ---- §4.3 pseudo-header fields ------------------------------------------------------------------

test('request: pseudo-header after a regular field (§4.3)', (t) =>
  serverRejects(t, { fields: [[':method', 'GET'], [':scheme', 'https'], ['accept', '*/*'], [':authority', 'a'], [':path', '/']] }));
test('request: unknown pseudo-header (§4.3)', (t) => serverRejects(t, { fields: [...REQ.slice(0, 4), [':foo', 'bar']] }));
test('request: response pseudo-header :status (§4.3)', (t) => serverRejects(t, { fields: [[':status', '200'], ...REQ] }));
test('request: duplicate :path (§4.3.1)', (t) => serverRejects(t, { fields: [...REQ, [':path', '/other'] as [string, string]] }));
test('request: duplicate :method (§4.3.1)', (t) => serverRejects(t, { fields: [[':method', 'GET'], ...REQ] }));
test('request: missing :method (§4.3.1)', (t) => serverRejects(t, { fields: without(':method') }));
test('request: missing :scheme (§4.3.1)', (t) => serverRejects(t, { fields: without(':scheme') }));
test('request: missing :path (§4.3.1)', (t) => serverRejects(t, { fields: without(':path') }));
test('request: empty :path (§4.3.1)', (t) => serverRejects(t, { fields: replace(':path', '') }));
test('request: :path neither absolute nor * (§4.3.1)', (t) => serverRejects(t, { fields: replace(':path', 'index.html') }));
test('request: * :path for a method other than OPTIONS (§4.3.1)', (t) => serverRejects(t, { fields: replace(':path', '*') }));
test('request: invalid :method token (§4.3.1)', (t) => serverRejects(t, { fields: replace(':method', 'GE T') }));
test('request: https without :authority or host (§4.3.1)', (t) => serverRejects(t, { fields: without(':authority') }));
test('request: empty :authority (§4.3.1)', (t) => serverRejects(t, { fields: replace(':authority', '') }));
test('request: :authority and host differ (§4.3.1)', (t) => serverRejects(t, { fields: plus(['host', 'other.example']) }));
test('request: empty host without :authority (§4.3.1)', (t) => serverRejects(t, { fields: [...without(':authority'), ['host', '']] }));
test('request: userinfo in :authority (§4.3.1)', (t) => serverRejects(t, { fields: replace(':authority', 'user:pw@example.com') }));

// ---- §4.4 CONNECT, RFC 9220 Extended CONNECT ----------------------------------------------------

test('request: CONNECT with :path (§4.4)', (t) => serverRejects(t, { fields: [[':method', 'CONNECT'], [':authority', 'example.com:443'], [':path', '/']] }));
test('request: CONNECT with :scheme (§4.4)', (t) => serverRejects(t, { fields: [[':method', 'CONNECT'], [':scheme', 'https'], [':authority', 'example.com:443']] }));
test('request: CONNECT without :authority (§4.4)', (t) => serverRejects(t, { fields: [[':method', 'CONNECT']] }));
test('request: :protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220 §3)', (t) =>
  serverRejects(t, { fields: [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':authority', 'a'], [':path', '/chat']] }));
test('request: :protocol with a method other than CONNECT (RFC 8441 §4)', (t) =>
  serverRejects(t, { fields: [...REQ, [':protocol', 'websocket'] as [string, string]], settings: { enableConnectProtocol: true } }));
test('request: Extended CONNECT without :path (RFC 8441 §4)', (t) =>
  serverRejects(t, { fields: [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':authority', 'a']], settings: { enableConnectProtocol: true } }));

// ---- §4.1.2 content-length and the message sequence ------------------------------------------

test('request: content-length larger than the DATA received (§4.1.2)', (t) =>
  serverRejects(t, { fields: plus(['content-length', '10']), after: (p) => [p.data(utf8('12345'))] }));
test('request: content-length smaller than the DATA received (§4.1.2)', (t) =>
  serverRejects(t, { fields: plus(['content-length', '3']), after: (p) => [p.data(utf8('12')), p.data(utf8('345'))] }));
test('request: non-numeric content-length (RFC 9110 §8.6)', (t) => serverRejects(t, { fields: plus(['content-length', '12a']) }));
test('request: conflicting content-length values (RFC 9110 §8.6)', (t) =>
  serverRejects(t, { fields: plus(['content-length', '5'], ['content-length', '6']) }));
test('request: pseudo-header in the trailer section (§4.3)', (t) =>
  serverRejects(t, { fields: REQ, after: (p, id) => [p.data(utf8('x')), p.headers(id, [[':path', '/x']])] }));
test('request: connection-specific field in the trailer section (§4.2)', (t) =>
  serverRejects(t, { fields: REQ, after: (p, id) => [p.headers(id, [['connection', 'close']])] }));
test('request: stream ends before the request headers → H3_REQUEST_INCOMPLETE (§4.1)', (t) => {
  const p = new RawPair({ h3Role: 'server' });
  p.control();
  const id = p.request([p.data(new Uint8Array(0)).subarray(0, 0)], true);
  p.run();
  t.is(p.closeCode, null);
  t.deepEqual(p.h3Side.calls.reset, [[id, H3ErrorCode.H3_REQUEST_INCOMPLETE]]);
});

test('accepted edge cases: repeated identical content-length, host only, OPTIONS *, CONNECT, cookies joined', (t) => {
  const p = new RawPair({ h3Role: 'server' });
  p.control();
  const cases: HeaderFieldInput[][] = [
    [...REQ, ['content-length', '0, 0'], ['content-length', '0']],
    [[':method', 'GET'], [':scheme', 'https'], [':path', '/'], ['host', 'example.com']],
    [[':method', 'OPTIONS'], [':scheme', 'https'], [':authority', 'a'], [':path', '*']],
    [[':method', 'CONNECT'], [':authority', 'proxy.example:443']],
    [...REQ, ['cookie', 'a=1'], ['x', 'y'], ['cookie', 'b=2']],
  ];
  for (const fields of cases) {
    const id = p.raw.openStream(true)!;
    p.write(id, p.headers(id, fields), fields[0]![1] !== 'CONNECT');
  }
  p.run();
  const reqs = ofType(p.h3Events, 'request');
  t.is(reqs.length, cases.length);
  t.is(p.h3.stats.streamErrors, 0);
  const connect = reqs.find((r) => r.method === 'CONNECT')!;
  t.is(connect.path, undefined);
  t.is(connect.authority, 'proxy.example:443');
  // Short cookies travel as never-indexed literals (RFC 9204 §7.1.3); the joined line keeps the flag.
  t.true(reqs.some((r) => JSON.stringify(r.headers) === JSON.stringify([['cookie', 'a=1; b=2', true], ['x', 'y']])));
});

// ---- responses (the client side) ------------------------------------------------------------

interface BadResponse {
  frames: (p: RawPair, id: number) => Uint8Array[];
  method?: string;
  code?: number;
}

function clientRejects(t: ExecutionContext, bad: BadResponse): void {
  const p = new RawPair({ h3Role: 'client' });
  p.onH3 = (ev, h3) => {
    if (ev.type === 'data') drain(h3, ev.streamId, []);
  };
  p.control();
  const headers: HeaderFieldInput[] = REQ.map(([n, v]) => [n, n === ':method' ? (bad.method ?? 'GET') : v]);
  const id = p.h3.request(headers, { end: true })!;
  p.run();
  for (const f of bad.frames(p, id)) p.write(id, f);
  p.run();
  const early = ofType(p.h3Events, 'stream-error').length > 0;
  if (!early) {
    p.raw.streamFinish(id);
    p.run();
  }
  const code = bad.code ?? MSG;
  t.is(p.closeCode, null, 'no connection error');
  const errs = ofType(p.h3Events, 'stream-error');
  t.is(errs.length, 1);
  t.is(errs[0]!.streamId, id);
  t.is(errs[0]!.error.errorCode, code);
  t.is(errs[0]!.error.code, code === MSG ? 'ERR_H3_MESSAGE_ERROR' : errs[0]!.error.code);
  t.deepEqual(p.h3Side.calls.stopSending, early ? [[id, code]] : []);
  t.is(p.h3.activeStreams, 0);
}

test('response: missing :status (§4.3.2)', (t) => clientRejects(t, { frames: (p, id) => [p.headers(id, [['server', 'x']])] }));
test('response: invalid :status (§4.3.2)', (t) => clientRejects(t, { frames: (p, id) => [p.headers(id, [[':status', '2000']])] }));
test('response: non-numeric :status (§4.3.2)', (t) => clientRejects(t, { frames: (p, id) => [p.headers(id, [[':status', 'OK!']])] }));
test('response: 101 Switching Protocols (§4.5)', (t) => clientRejects(t, { frames: (p, id) => [p.headers(id, [[':status', '101']])] }));
test('response: request pseudo-header (§4.3)', (t) => clientRejects(t, { frames: (p, id) => [p.headers(id, [[':status', '200'], [':path', '/']])] }));
test('response: duplicate :status (§4.3)', (t) => clientRejects(t, { frames: (p, id) => [p.headers(id, [[':status', '200'], [':status', '204']])] }));
test('response: uppercase field name (§4.2)', (t) => clientRejects(t, { frames: (p, id) => [p.headers(id, [[':status', '200'], ['Server', 'x']])] }));
test('response: transfer-encoding (§4.1)', (t) => clientRejects(t, { frames: (p, id) => [p.headers(id, [[':status', '200'], ['transfer-encoding', 'chunked']])] }));
test('response: TE (§4.2: only requests may carry TE)', (t) => clientRejects(t, { frames: (p, id) => [p.headers(id, [[':status', '200'], ['te', 'trailers']])] }));
test('response: content-length mismatch (§4.1.2)', (t) =>
  clientRejects(t, { frames: (p, id) => [p.headers(id, [[':status', '200'], ['content-length', '4']]), p.data(utf8('abc'))] }));
test('response: DATA after an interim response (§4.1)', (t) => clientRejects(t, { frames: (p, id) => [p.headers(id, [[':status', '103']]), p.data(utf8('abc'))] }));
test('response: content in a response to HEAD (RFC 9110 §9.3.2)', (t) =>
  clientRejects(t, { method: 'HEAD', frames: (p, id) => [p.headers(id, [[':status', '200'], ['content-length', '3']]), p.data(utf8('abc'))] }));
test('response: content in a 204 (RFC 9110 §15.3.5)', (t) => clientRejects(t, { frames: (p, id) => [p.headers(id, [[':status', '204']]), p.data(utf8('abc'))] }));
test('response: a second final response is a trailer section with :status (§4.1)', (t) =>
  clientRejects(t, { frames: (p, id) => [p.headers(id, [[':status', '200']]), p.headers(id, [[':status', '200']])] }));
test('response: stream ends before the final response → H3_REQUEST_INCOMPLETE', (t) =>
  clientRejects(t, { frames: (p, id) => [p.headers(id, [[':status', '100']])], code: H3ErrorCode.H3_REQUEST_INCOMPLETE }));

test('response to HEAD may declare a content-length without content', (t) => {
  const p = new RawPair({ h3Role: 'client' });
  p.control();
  const id = p.h3.request(REQ.map(([n, v]) => [n, n === ':method' ? 'HEAD' : v]), { end: true })!;
  p.run();
  p.write(id, p.headers(id, [[':status', '200'], ['content-length', '1234']]), true);
  p.run();
  const res = ofType(p.h3Events, 'response');
  t.is(res.length, 1);
  t.true(res[0]!.endStream);
  t.is(ofType(p.h3Events, 'stream-error').length, 0);
});

// ---- API: what the application sends is held to the same rules (TypeError) ------------------

test('API: invalid requests are refused with TypeError naming headers', (t) => {
  const p = new RawPair({ h3Role: 'client' });
  const bad: HeaderFieldInput[][] = [
    plus(['Upper', 'x']),
    plus(['connection', 'close']),
    without(':path'),
    [[':method', 'GET'], ['x', '1'], [':path', '/']],
    plus(['x', 'line\nbreak']),
    [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']],
  ];
  for (const h of bad) t.throws(() => p.h3.request(h), { instanceOf: TypeError, message: /^headers: / });
  t.throws(() => p.h3.request(REQ, { priority: { urgency: 9, incremental: false } }), { instanceOf: RangeError, message: /options\.priority\.urgency/ });
  t.is(p.h3.activeStreams, 0);
});
