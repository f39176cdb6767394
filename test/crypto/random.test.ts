// Randomness sources (DESIGN §2, §7.8): the pooled secure source and the seeded xoshiro128** used by
// sans-IO tests share one interface.
import test from 'ava';
import { toHex } from '../../src/util/bytes.js';
import { SecureRandom, SeededRandom, secureRandom, type RandomSource } from '../../src/crypto/random.js';

/** xoshiro128** from a raw state, to compare with the reference sequence. */
function fromState(s: [number, number, number, number]): SeededRandom {
  const r = new SeededRandom(0);
  const inner = r as unknown as { s0: number; s1: number; s2: number; s3: number };
  [inner.s0, inner.s1, inner.s2, inner.s3] = s;
  return r;
}

test('xoshiro128** matches the reference outputs for state (1, 2, 3, 4)', (t) => {
  // Reference sequence of the xoshiro128** algorithm (Blackman & Vigna) from state {1, 2, 3, 4}.
  const r = fromState([1, 2, 3, 4]);
  const got = Array.from({ length: 10 }, () => r.uint32());
  t.deepEqual(got, [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804]);
});

test('SeededRandom: same seed, same bytes; different seeds differ; byte and number seeds', (t) => {
  const a = new SeededRandom(42).randomBytes(64);
  const b = new SeededRandom(42).randomBytes(64);
  const c = new SeededRandom(43).randomBytes(64);
  t.is(toHex(a), toHex(b));
  t.not(toHex(a), toHex(c));
  const d = new SeededRandom(new Uint8Array([1, 2, 3])).randomBytes(16);
  const e = new SeededRandom(new Uint8Array([1, 2, 3])).randomBytes(16);
  const f = new SeededRandom(new Uint8Array([1, 2, 4])).randomBytes(16);
  t.is(toHex(d), toHex(e));
  t.not(toHex(d), toHex(f));
  // Odd lengths use the remaining bytes of one word.
  const g = new SeededRandom(7);
  t.is(g.fillRandom(new Uint8Array(7)).length, 7);
  t.throws(() => new SeededRandom(Number.NaN), { instanceOf: RangeError });
});

function checkSource(t: import('ava').ExecutionContext, r: RandomSource): void {
  const a = r.randomBytes(32);
  const b = r.randomBytes(32);
  t.is(a.length, 32);
  t.not(toHex(a), toHex(b));
  const big = r.fillRandom(new Uint8Array(10_000));
  t.true(big.some((x) => x !== 0));
  // Byte histogram of 64 KiB: every value appears (probability of a miss is ~e^-256 per value).
  const counts = new Uint32Array(256);
  const many = r.randomBytes(65536);
  for (const x of many) counts[x]!++;
  t.true(counts.every((c) => c > 100 && c < 420));
  for (let i = 0; i < 1000; i++) {
    const v = r.below(10);
    t.true(Number.isInteger(v) && v >= 0 && v < 10);
  }
  t.is(r.below(1), 0);
  const u = r.uint32();
  t.true(Number.isInteger(u) && u >= 0 && u <= 0xffffffff);
  t.throws(() => r.below(0), { instanceOf: RangeError });
  t.throws(() => r.randomBytes(-1), { instanceOf: RangeError });
}

test('SecureRandom: interface behaviour', (t) => checkSource(t, new SecureRandom(64)));
test('SeededRandom: interface behaviour', (t) => checkSource(t, new SeededRandom(1)));
test('secureRandom singleton', (t) => checkSource(t, secureRandom));

test('SecureRandom zeroes handed-out bytes in its pool and refills across the boundary', (t) => {
  const r = new SecureRandom(32);
  const pool = (r as unknown as { pool: Uint8Array }).pool;
  r.randomBytes(10);
  t.true(pool.subarray(0, 10).every((x) => x === 0));
  r.randomBytes(10);
  r.randomBytes(10); // refill: 20 used + 10 > 32? no — 30 ≤ 32
  r.randomBytes(10); // now refills
  t.true(pool.subarray(0, 10).every((x) => x === 0));
  t.true(pool.subarray(10).some((x) => x !== 0));
  t.throws(() => new SecureRandom(4), { instanceOf: RangeError });
});
