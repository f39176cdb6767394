// L0 cursors: RFC 9000 §16 varints (App. A.1 samples), truncation behaviour, the number policy.
import test from 'ava';
import fc from 'fast-check';
import {
  Reader,
  Writer,
  BufferUnderflow,
  BufferOverflow,
  VarintRangeError,
  MAX_SAFE_VARINT,
  varintSize,
  fromHex,
  toHex,
  constantTimeEqual,
} from '../../src/util/bytes.js';

// RFC 9000 App. A.1: sample varint encodings.
const SAMPLES: Array<[string, number]> = [
  ['c2197c5eff14e88c', 151288809941952652],
  ['9d7f3e7d', 494878333],
  ['7bbd', 15293],
  ['25', 37],
  ['4025', 37], // non-minimal two-byte encoding of 37
];

test('RFC 9000 App. A.1 varint samples decode', (t) => {
  for (const [hex, value] of SAMPLES) {
    const r = new Reader(fromHex(hex));
    // 151288809941952652 exceeds 2^53: the saturating read caps it, the exact read refuses it.
    if (value > MAX_SAFE_VARINT) {
      t.is(r.varint(), MAX_SAFE_VARINT);
      t.throws(() => new Reader(fromHex(hex)).varintExact(), { instanceOf: VarintRangeError });
    } else {
      t.is(r.varint(), value, hex);
    }
    t.is(r.remaining, 0);
  }
});

test('RFC 9000 App. A.1 varint samples encode (shortest form)', (t) => {
  for (const [hex, value] of SAMPLES.slice(1, 4)) {
    const w = Writer.alloc(8);
    w.varint(value);
    t.is(toHex(w.written()), hex);
    t.is(varintSize(value) as number, hex.length / 2);
  }
  const w = Writer.alloc(2);
  w.varintN(37, 2);
  t.is(toHex(w.written()), '4025');
});

test('varint boundaries round-trip exactly up to 2^53-1', (t) => {
  for (const v of [0, 63, 64, 16383, 16384, 2 ** 30 - 1, 2 ** 30, 2 ** 32, MAX_SAFE_VARINT]) {
    const w = Writer.alloc(8);
    w.varint(v);
    t.is(w.pos, varintSize(v));
    const r = new Reader(w.written());
    t.is(r.varintExact(), v);
  }
});

test('varint property: encode/decode identity', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (v) => {
      const w = Writer.alloc(8);
      w.varint(v);
      return new Reader(w.written()).varint() === v && w.pos === varintSize(v);
    }),
    { numRuns: 10000 },
  );
  t.pass();
});

test('every truncated prefix throws BufferUnderflow only', (t) => {
  for (const [hex] of SAMPLES) {
    const full = fromHex(hex);
    for (let n = 0; n < full.length; n++) {
      t.throws(() => new Reader(full.subarray(0, n)).varint(), { instanceOf: BufferUnderflow });
    }
  }
  t.throws(() => new Reader(new Uint8Array(3)).u32(), { instanceOf: BufferUnderflow });
  t.throws(() => new Reader(fromHex('05aabb')).varintBytes(), { instanceOf: BufferUnderflow });
});

test('random bytes into the cursor reads throw only BufferUnderflow', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 32 }), (bytes) => {
      const r = new Reader(bytes);
      try {
        while (!r.done) {
          r.varint();
          r.u8Bytes();
          r.u16();
        }
      } catch (e) {
        if (!(e instanceof BufferUnderflow)) throw e;
      }
    }),
    { numRuns: 10000 },
  );
  t.pass();
});

test('writer refuses to write past its end and bad varints', (t) => {
  const w = Writer.alloc(1);
  t.throws(() => w.u16(1), { instanceOf: BufferOverflow });
  t.throws(() => Writer.alloc(8).varint(-1), { instanceOf: RangeError });
  t.throws(() => Writer.alloc(8).varint(1.5), { instanceOf: RangeError });
  t.throws(() => Writer.alloc(8).varintN(64, 1), { instanceOf: RangeError });
});

test('uint/u24 and helpers', (t) => {
  const w = Writer.alloc(16);
  w.u24(0x123456);
  w.uint(0x0102030405, 5);
  const r = new Reader(w.written());
  t.is(r.u24(), 0x123456);
  t.is(r.uint(5), 0x0102030405);
  t.true(constantTimeEqual(fromHex('0102'), fromHex('0102')));
  t.false(constantTimeEqual(fromHex('0102'), fromHex('0103')));
  t.throws(() => fromHex('abc'), { instanceOf: TypeError });
});
