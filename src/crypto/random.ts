// L2a: randomness sources with one interface (DESIGN §2, §7.8).
// - SecureRandom: a pool refilled by ONE node:crypto randomFillSync call per `poolSize` bytes, for
//   connection IDs, tokens, stateless reset secrets, unused header bits and TLS randoms. Bytes
//   handed out are zeroed in the pool, so the pool never holds values already given away.
// - SeededRandom: deterministic xoshiro128** (Blackman & Vigna), seeded through a golden-ratio
//   counter and the murmur3 finalizer, for sans-IO tests and simulations. NOT cryptographically
//   secure.
// The connection and endpoint layers never read global randomness: they take a RandomSource.
import { randomFillSync } from 'node:crypto';

export interface RandomSource {
  /** Fill `out` with random bytes; returns `out`. */
  fillRandom(out: Uint8Array): Uint8Array;
  /** `n` fresh random bytes (allocates; prefer fillRandom on hot paths). */
  randomBytes(n: number): Uint8Array;
  /** A uniformly random 32-bit unsigned integer. */
  uint32(): number;
  /** A uniformly random integer in [0, bound), bound in 1..2^32. */
  below(bound: number): number;
}

function checkLength(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n: must be a non-negative integer, got ${n}`);
}

function uniformBelow(src: RandomSource, bound: number): number {
  if (!Number.isInteger(bound) || bound < 1 || bound > 0x1_0000_0000) {
    throw new RangeError(`bound: must be an integer in 1..2^32, got ${bound}`);
  }
  // Rejection sampling: discard the top partial range so every residue is equally likely.
  const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
  for (;;) {
    const x = src.uint32();
    if (x < limit) return x % bound;
  }
}

export class SecureRandom implements RandomSource {
  private readonly pool: Uint8Array;
  private pos: number;

  constructor(poolSize = 4096) {
    if (!Number.isInteger(poolSize) || poolSize < 16) throw new RangeError(`poolSize: must be an integer ≥ 16, got ${poolSize}`);
    this.pool = new Uint8Array(poolSize);
    this.pos = poolSize; // empty: first use refills
  }

  fillRandom(out: Uint8Array): Uint8Array {
    const n = out.length;
    const pool = this.pool;
    if (n > pool.length >>> 1) {
      randomFillSync(out);
      return out;
    }
    if (pool.length - this.pos < n) {
      randomFillSync(pool);
      this.pos = 0;
    }
    const p = this.pos;
    for (let i = 0; i < n; i++) out[i] = pool[p + i]!;
    pool.fill(0, p, p + n);
    this.pos = p + n;
    return out;
  }

  randomBytes(n: number): Uint8Array {
    checkLength(n);
    return this.fillRandom(new Uint8Array(n));
  }

  uint32(): number {
    const pool = this.pool;
    if (pool.length - this.pos < 4) {
      randomFillSync(pool);
      this.pos = 0;
    }
    const p = this.pos;
    const v = ((pool[p]! << 24) | (pool[p + 1]! << 16) | (pool[p + 2]! << 8) | pool[p + 3]!) >>> 0;
    pool[p] = pool[p + 1] = pool[p + 2] = pool[p + 3] = 0;
    this.pos = p + 4;
    return v;
  }

  below(bound: number): number {
    return uniformBelow(this, bound);
  }
}

/** Seeding step: a golden-ratio counter through the murmur3 32-bit finalizer (fmix32). */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class SeededRandom implements RandomSource {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Seed with a 32-bit integer or bytes (any length). Equal seeds give equal sequences. */
  constructor(seed: number | Uint8Array) {
    let h = 0x811c9dc5;
    if (typeof seed === 'number') {
      if (!Number.isFinite(seed)) throw new RangeError('seed: must be a finite number');
      h = (Math.floor(Math.abs(seed)) % 0x1_0000_0000) ^ (seed < 0 ? 0x5bd1e995 : 0);
    } else {
      for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed[i]!, 0x01000193);
      h ^= seed.length;
    }
    let c = h | 0;
    this.s0 = splitmix32(c);
    c = (c + 0x9e3779b9) | 0;
    this.s1 = splitmix32(c);
    c = (c + 0x9e3779b9) | 0;
    this.s2 = splitmix32(c);
    c = (c + 0x9e3779b9) | 0;
    this.s3 = splitmix32(c);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** xoshiro128**: result = rotl(s1 * 5, 7) * 9, then the xorshift state update. */
  uint32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  fillRandom(out: Uint8Array): Uint8Array {
    let i = 0;
    const n = out.length;
    for (; i + 4 <= n; i += 4) {
      const v = this.uint32();
      out[i] = v >>> 24;
      out[i + 1] = (v >>> 16) & 0xff;
      out[i + 2] = (v >>> 8) & 0xff;
      out[i + 3] = v & 0xff;
    }
    if (i < n) {
      const v = this.uint32();
      for (let s = 24; i < n; i++, s -= 8) out[i] = (v >>> s) & 0xff;
    }
    return out;
  }

  randomBytes(n: number): Uint8Array {
    checkLength(n);
    return this.fillRandom(new Uint8Array(n));
  }

  below(bound: number): number {
    return uniformBelow(this, bound);
  }
}

/** A process-wide pooled secure source (L7 passes it down; lower layers take a RandomSource). */
export const secureRandom: RandomSource = new SecureRandom();
