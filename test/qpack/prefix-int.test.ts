// Prefixed integers (RFC 7541 §5.1, RFC 9204 §4.1.1): RFC 7541 C.1 vectors, round trips, every
// truncated prefix, and the overflow limits.
import test from 'ava';
import fc from 'fast-check';
import { Reader, toHex } from '../../src/util/bytes.js';
import { ByteSink } from '../../src/qpack/byte-sink.js';
import { INCOMPLETE, prefixIntSize, readPrefixInt, writePrefixInt } from '../../src/qpack/prefix-int.js';
import { QpackError } from '../../src/qpack/errors.js';

function enc(first: number, n: number, v: number): Uint8Array {
  const s = new ByteSink(4);
  writePrefixInt(s, first, n, v);
  return s.take();
}

test('RFC 7541 C.1.1: 10 with a 5-bit prefix', (t) => {
  t.is(toHex(enc(0, 5, 10)), '0a');
  t.is(readPrefixInt(new Reader(Uint8Array.of(0xea)), 5, 0x200), 10, 'pattern bits above the prefix are ignored');
});

test('RFC 7541 C.1.2: 1337 with a 5-bit prefix', (t) => {
  t.is(toHex(enc(0, 5, 1337)), '1f9a0a');
  const r = new Reader(Uint8Array.of(0x1f, 0x9a, 0x0a));
  t.is(readPrefixInt(r, 5, 0x200), 1337);
  t.is(r.pos, 3);
});

test('RFC 7541 C.1.3: 42 on an 8-bit prefix', (t) => {
  t.is(toHex(enc(0, 8, 42)), '2a');
});

test('boundary values for every prefix size 1..8 round-trip with the size function', (t) => {
  for (let n = 1; n <= 8; n++) {
    const max = (1 << n) - 1;
    for (const v of [0, 1, max - 1, max, max + 1, max + 127, max + 128, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1]) {
      if (v < 0) continue;
      const first = n === 8 ? 0 : (0xff << n) & 0xff;
      const b = enc(first, n, v);
      t.is(b.length, prefixIntSize(n, v), `n=${n} v=${v}`);
      t.is(b[0]! & ~((1 << n) - 1) & 0xff, first, 'pattern bits preserved');
      const r = new Reader(b);
      t.is(readPrefixInt(r, n, 0x200), v);
      t.is(r.pos, b.length);
      for (let cut = 0; cut < b.length; cut++) {
        // Running out inside the integer is a return value (DESIGN §7.6), cursor left where it was.
        const rc = new Reader(b.subarray(0, cut));
        t.is(readPrefixInt(rc, n, 0x200), INCOMPLETE);
        t.is(rc.pos, 0);
      }
    }
  }
});

test('property: random values and prefixes round-trip', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.maxSafeNat(), (n, v) => {
      const b = enc(0, n, v);
      const r = new Reader(b);
      return readPrefixInt(r, n, 0x200) === v && r.pos === b.length && b.length === prefixIntSize(n, v);
    }),
    { numRuns: 5000 },
  );
  t.pass();
});

test('overflow: more than 8 continuation bytes or a value ≥ 2^53 is the caller’s QPACK error', (t) => {
  const long = Uint8Array.of(0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
  const e1 = t.throws(() => readPrefixInt(new Reader(long), 5, 0x201), { instanceOf: QpackError });
  t.is(e1.errorCode, 0x201);
  t.is(e1.code, 'ERR_QPACK_ENCODER_STREAM_ERROR');
  // 2^56 - 1 + 31 in 8 continuation bytes: too large.
  const big = Uint8Array.of(0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f);
  const e2 = t.throws(() => readPrefixInt(new Reader(big), 5, 0x200), { instanceOf: QpackError });
  t.is(e2.errorCode, 0x200);
  // 62-bit values decode up to 2^53-1 exactly.
  const b = enc(0, 6, 2 ** 53 - 1);
  t.is(readPrefixInt(new Reader(b), 6, 0x200), 2 ** 53 - 1);
});
