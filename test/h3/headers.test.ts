// Header section rules as pure functions (RFC 9114 §4.2, §4.3, §4.4; RFC 9110 §5.5, §8.6;
// RFC 9220 §3): what parses, what is malformed (H3Error H3_MESSAGE_ERROR, a stream error) and
// the same rules as TypeError for what the application sends.
import test from 'ava';
import fc from 'fast-check';
import { H3Error, H3ErrorCode } from '../../src/h3/wire/index.js';
import {
  checkRequestToSend,
  checkResponseToSend,
  checkTrailersToSend,
  headerListSize,
  parseRequestHead,
  parseResponseHead,
  parseTrailers,
  splitCookies,
} from '../../src/h3/headers.js';
import type { HeaderField } from '../../src/qpack/index.js';

const REQ: HeaderField[] = [
  [':method', 'POST'],
  [':scheme', 'https'],
  [':authority', 'example.com:8443'],
  [':path', '/a/b?c=d'],
  ['content-type', 'text/plain'],
  ['content-length', '12'],
];

test('a request parses into its parts', (t) => {
  const h = parseRequestHead(REQ, false);
  t.is(h.method, 'POST');
  t.is(h.scheme, 'https');
  t.is(h.authority, 'example.com:8443');
  t.is(h.path, '/a/b?c=d');
  t.is(h.protocol, undefined);
  t.is(h.contentLength, 12);
  t.deepEqual(h.headers, [['content-type', 'text/plain'], ['content-length', '12']]);
});

test('Extended CONNECT parses only when enabled', (t) => {
  const f: HeaderField[] = [[':method', 'CONNECT'], [':protocol', 'webtransport'], [':scheme', 'https'], [':authority', 'a'], [':path', '/wt']];
  t.is(parseRequestHead(f, true).protocol, 'webtransport');
  const e = t.throws(() => parseRequestHead(f, false), { instanceOf: H3Error }) as H3Error;
  t.is(e.errorCode, H3ErrorCode.H3_MESSAGE_ERROR);
  t.true(e.streamError);
  t.is(e.code, 'ERR_H3_MESSAGE_ERROR');
});

test('responses: status range, 1xx, content-length', (t) => {
  t.is(parseResponseHead([[':status', '404'], ['content-length', '0']]).status, 404);
  t.is(parseResponseHead([[':status', '103']]).status, 103);
  t.is(parseResponseHead([[':status', '200'], ['content-length', '7, 7']]).contentLength, 7);
  for (const s of ['099', '600', '20', '2000', ' 200', 'abc', '101']) t.throws(() => parseResponseHead([[':status', s]]), { instanceOf: H3Error }, s);
});

test('trailers: regular fields only', (t) => {
  t.deepEqual(parseTrailers([['grpc-status', '0']]), [['grpc-status', '0']]);
  t.throws(() => parseTrailers([[':status', '200']]), { instanceOf: H3Error });
  t.throws(() => checkTrailersToSend([[':path', '/']]), { instanceOf: TypeError, message: /^trailers: / });
});

test('content-length: digits only, identical repeats accepted', (t) => {
  const cl = (v: string[]) => parseRequestHead([...REQ.slice(0, 4), ...v.map((x): HeaderField => ['content-length', x])], false).contentLength;
  t.is(cl(['0']), 0);
  t.is(cl(['5', '5']), 5);
  t.is(cl(['5,5']), 5);
  for (const bad of [['-1'], ['1.0'], [''], ['5', '6'], ['5,'], ['0x10'], ['9999999999999999']]) t.throws(() => cl(bad), { instanceOf: H3Error }, bad.join('|'));
});

test('field values: obs-text allowed, controls and edge whitespace refused', (t) => {
  t.notThrows(() => parseRequestHead([...REQ.slice(0, 4), ['x', 'caf\u00e9 ok\tfine']], false));
  for (const v of ['\u0000', 'a\u007f', '\ta', 'a ', 'a\rb', 'a\u0001']) t.throws(() => parseRequestHead([...REQ.slice(0, 4), ['x', v]], false), { instanceOf: H3Error }, JSON.stringify(v));
});

test('send-side checks throw TypeError with the rule', (t) => {
  t.throws(() => checkRequestToSend([[':path', '/']], false), { instanceOf: TypeError, message: /missing :method/ });
  t.throws(() => checkResponseToSend([['server', 'x']]), { instanceOf: TypeError, message: /missing :status/ });
  t.throws(() => checkRequestToSend('nope' as unknown as [], false), { instanceOf: TypeError, message: /headers must be an array/ });
  t.throws(() => checkRequestToSend([[':method', 1 as unknown as string]], false), { instanceOf: TypeError, message: /\[name, value\] strings/ });
  t.notThrows(() => checkRequestToSend(REQ, false));
});

test('cookies: split into crumbs to send, joined on receipt', (t) => {
  t.deepEqual(splitCookies([['cookie', 'a=1; b=2; c=3'], ['x', 'y']]), [['cookie', 'a=1'], ['cookie', 'b=2'], ['cookie', 'c=3'], ['x', 'y']]);
  const same: HeaderField[] = [['cookie', 'a=1']];
  t.is(splitCookies(same), same);
  t.deepEqual(parseRequestHead([...REQ.slice(0, 4), ['cookie', 'a=1'], ['cookie', 'b=2']], false).headers, [['cookie', 'a=1; b=2']]);
  t.is(headerListSize([['ab', 'cde']]), 37);
});

test('property: whatever the fields, parsing throws only H3Error stream errors', (t) => {
  const str = fc.string({ unit: fc.constantFrom(...'aZ:-_ \t\r\n\u0000\u00ff/?*@.0123456789'.split('')), maxLength: 12 });
  const name = fc.oneof(fc.constantFrom(':method', ':scheme', ':authority', ':path', ':protocol', ':status', 'host', 'content-length', 'te', 'cookie', 'connection'), str);
  fc.assert(
    fc.property(fc.array(fc.tuple(name, str), { maxLength: 10 }), fc.boolean(), (fields, connect) => {
      for (const parse of [() => parseRequestHead(fields, connect), () => parseResponseHead(fields), () => parseTrailers(fields)]) {
        try {
          parse();
        } catch (e) {
          if (!(e instanceof H3Error) || !e.streamError || e.errorCode !== H3ErrorCode.H3_MESSAGE_ERROR) throw e;
        }
      }
      return true;
    }),
    { numRuns: 3000 },
  );
  t.pass();
});
