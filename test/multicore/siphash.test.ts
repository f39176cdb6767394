// SipHash-2-4 (src/multicore/siphash.ts): the reference vectors (Aumasson & Bernstein, SipHash
// paper Appendix A and the reference implementation's vectors_sip64: key 00..0f, message
// 00..n-1), and agreement with a straightforward BigInt implementation of the paper's algorithm
// for random keys, lengths 0..40 and offsets.
import test from 'ava';
import fc from 'fast-check';
import { SipHash24 } from '../../src/multicore/siphash.js';

const VECTORS = [
  '726fdb47dd0e0e31', '74f839c593dc67fd', '0d6c8009d9a94f5a', '85676696d7fb7e2d',
  'cf2794e0277187b7', '18765564cd99a68d', 'cbc9466e58fee3ce', 'ab0200f58b01d137',
  '93f5f5799a932462', '9e0082df0ba9e4b0', '7a5dbbc594ddb9f3', 'f4b32f46226bada7',
  '751e8fbc860ee5fb', '14ea5627c0843d90', 'f723ca908e7af2ee', 'a129ca6149be45e5',
  '3f2acc7f57c29bdb',
];

function run(h: SipHash24, m: Uint8Array, off: number, len: number): bigint {
  const lo = h.hash(m, off, len);
  return (BigInt(h.hi) << 32n) | BigInt(lo);
}

const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M64;

/** The paper's algorithm on 64-bit BigInts (slow, obviously correct). */
function reference(key: Uint8Array, m: Uint8Array): bigint {
  const le = (b: Uint8Array, o: number, n: number): bigint => {
    let x = 0n;
    for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[o + i]!);
    return x;
  };
  const k0 = le(key, 0, 8);
  const k1 = le(key, 8, 8);
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = (): void => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const blocks = Math.floor(m.length / 8);
  for (let i = 0; i < blocks; i++) {
    const mi = le(m, i * 8, 8);
    v3 ^= mi;
    round();
    round();
    v0 ^= mi;
  }
  const rest = m.length % 8;
  const b = (BigInt(m.length & 0xff) << 56n) | le(m, blocks * 8, rest);
  v3 ^= b;
  round();
  round();
  v0 ^= b;
  v2 ^= 0xffn;
  for (let i = 0; i < 4; i++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

test('SipHash-2-4 reference vectors (key 00..0f, message 00..n-1, n = 0..16)', (t) => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i);
  const m = Uint8Array.from({ length: 64 }, (_, i) => i);
  const h = new SipHash24(key);
  VECTORS.forEach((want, n) => {
    t.is(run(h, m, 0, n).toString(16).padStart(16, '0'), want, `n=${n}`);
    t.is(reference(key, m.subarray(0, n)).toString(16).padStart(16, '0'), want, `reference n=${n}`);
  });
});

test('fast-check: agrees with the BigInt reference for random keys, messages and offsets', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 40 }), fc.nat(7), (key, msg, off) => {
      const buf = new Uint8Array(off + msg.length);
      buf.set(msg, off);
      return run(new SipHash24(key), buf, off, msg.length) === reference(key, msg);
    }),
    { numRuns: 1000 },
  );
  t.pass();
});

test('the key must be 16 bytes', (t) => {
  t.throws(() => new SipHash24(new Uint8Array(15)), { instanceOf: RangeError });
  t.throws(() => new SipHash24('0123456789abcdef' as unknown as Uint8Array), { instanceOf: RangeError });
});
