// HTTP Datagram framing (RFC 9297 §2.1): Quarter Stream ID prefix, limits, truncation.
import test from 'ava';
import fc from 'fast-check';
import { toHex } from '../../src/util/bytes.js';
import { H3Error, H3ErrorCode } from '../../src/h3/wire/index.js';
import { QUARTER_STREAM_ID_LIMIT, decodeHttpDatagram, encodeHttpDatagram, httpDatagramOverhead } from '../../src/h3/datagram.js';
import { IdSet } from '../../src/h3/id-set.js';

test('Quarter Stream ID = stream ID / 4 as a varint', (t) => {
  t.is(toHex(encodeHttpDatagram(0, new Uint8Array([0xaa]))), '00aa');
  t.is(toHex(encodeHttpDatagram(4 * 63, new Uint8Array(0))), '3f');
  t.is(toHex(encodeHttpDatagram(4 * 64, new Uint8Array([1]))), '404001');
  t.is(toHex(encodeHttpDatagram(4 * 16384, new Uint8Array(0))), '80004000');
  t.is(httpDatagramOverhead(4 * 2 ** 30), 8);
  const d = decodeHttpDatagram(encodeHttpDatagram(4 * 1000, new Uint8Array([1, 2])));
  t.is(d.streamId, 4000);
  t.deepEqual([...d.payload], [1, 2]);
});

test('a Quarter Stream ID at 2^60 or truncated is H3_DATAGRAM_ERROR', (t) => {
  t.is(QUARTER_STREAM_ID_LIMIT, 2 ** 60);
  for (const bad of [[], [0x40], [0x80, 0, 0], [0xd0, 0, 0, 0, 0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]]) {
    const e = t.throws(() => decodeHttpDatagram(new Uint8Array(bad)), { instanceOf: H3Error }) as H3Error;
    t.is(e.errorCode, H3ErrorCode.H3_DATAGRAM_ERROR);
  }
  // 2^60 - 1 itself is not a double; IDs are exact only below 2^53, far beyond any real stream.
  t.is(decodeHttpDatagram(new Uint8Array([0xc0, 0x10, 0, 0, 0, 0, 0, 0])).streamId, 4 * 2 ** 52);
});

test('property: round trip for every request stream ID up to 2^50', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 48 }), fc.uint8Array({ maxLength: 20 }), (q, payload) => {
      const d = decodeHttpDatagram(encodeHttpDatagram(q * 4, payload));
      return d.streamId === q * 4 && toHex(d.payload) === toHex(payload);
    }),
  );
  t.pass();
});

test('IdSet: watermark over the in-order prefix, out-of-order members', (t) => {
  const s = new IdSet();
  s.add(2);
  s.add(0);
  t.is(s.watermark, 1);
  t.true(s.has(2));
  t.false(s.has(1));
  s.add(1);
  t.is(s.watermark, 3);
  s.add(1);
  t.is(s.watermark, 3);
});
