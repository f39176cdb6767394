// String literals with N-bit prefixes (RFC 7541 §5.2, RFC 9204 §4.1.2).
import test from 'ava';
import fc from 'fast-check';
import { Reader, fromHex, toHex } from '../../src/util/bytes.js';
import { ByteSink } from '../../src/qpack/byte-sink.js';
import { isLatin1, readString, stringSize, writeString } from '../../src/qpack/string-literal.js';
import { QpackError } from '../../src/qpack/errors.js';

function enc(first: number, n: number, s: string, huffman: boolean): Uint8Array {
  const sink = new ByteSink(8);
  writeString(sink, first, n, s, huffman);
  return sink.take();
}

test('8-bit prefix raw and Huffman forms (RFC 7541 C.3.1 / C.4.1 values)', (t) => {
  t.is(toHex(enc(0, 8, 'www.example.com', false)), '0f7777772e6578616d706c652e636f6d');
  t.is(toHex(enc(0, 8, 'www.example.com', true)), '8cf1e3c2e5f23a6ba0ab90f4ff');
});

test('Huffman is used only when strictly shorter', (t) => {
  // "&&&&" Huffman codes are 8 bits each: same length, so raw.
  t.is(toHex(enc(0, 8, '&&&&', true)), '0426262626');
});

test('N-bit prefixes keep the pattern bits and round-trip, with every truncation incomplete (null)', (t) => {
  for (let n = 2; n <= 8; n++) {
    const first = n === 8 ? 0 : (0xff << n) & 0xff;
    for (const s of ['', 'a', 'custom-key', 'x'.repeat(200), 'é\u00ff\u0000']) {
      for (const huffman of [false, true]) {
        const b = enc(first, n, s, huffman);
        t.is(b.length, stringSize(n, s, huffman));
        t.is(b[0]! & ~((1 << n) - 1) & 0xff, first);
        const r = new Reader(b);
        t.is(readString(r, n, 1 << 20, 0x200), s);
        t.is(r.pos, b.length);
        for (let cut = 0; cut < b.length; cut++) {
          const rc = new Reader(b.subarray(0, cut));
          t.is(readString(rc, n, 1 << 20, 0x200), null);
          t.is(rc.pos, 0, 'cursor unchanged');
        }
      }
    }
  }
});

test('declared length above the limit fails before the octets arrive', (t) => {
  const e = t.throws(() => readString(new Reader(fromHex('7f e107')), 8, 100, 0x201), { instanceOf: QpackError });
  t.is(e.errorCode, 0x201);
});

test('invalid Huffman data is the caller’s QPACK error', (t) => {
  const e = t.throws(() => readString(new Reader(fromHex('81 ff')), 8, 100, 0x200), { instanceOf: QpackError });
  t.is(e.errorCode, 0x200);
});

test('property: Latin-1 strings round-trip through both forms', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 300 }), fc.boolean(), (s, h) => {
      const b = enc(0, 8, s, h);
      return readString(new Reader(b), 8, 1 << 20, 0x200) === s;
    }),
    { numRuns: 3000 },
  );
  t.true(isLatin1('abc\u00ff'));
  t.false(isLatin1('€'));
});
