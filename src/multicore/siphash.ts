// L7: SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012) in 32-bit
// halves — the keyed PRF behind the worker-index connection IDs (src/multicore/cid.ts) and the
// router's keyed hash of client-chosen DCIDs. Short inputs (5–15 bytes) cost one or two
// compression blocks and the finalization: a few hundred 32-bit operations, no allocation, no
// node:crypto call (a persistent AES-ECB cipher would be ~1.5 µs per call here, DESIGN §4).
//
// The 64-bit words are (hi, lo) pairs of unsigned 32-bit numbers; the result is v0^v1^v2^v3,
// returned as its low 32 bits with the high 32 bits in `hi` (the byte encoding of the paper's
// test vectors is little-endian: lo first).

const C0_HI = 0x736f6d65;
const C0_LO = 0x70736575;
const C1_HI = 0x646f7261;
const C1_LO = 0x6e646f6d;
const C2_HI = 0x6c796765;
const C2_LO = 0x6e657261;
const C3_HI = 0x74656462;
const C3_LO = 0x79746573;

function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

export class SipHash24 {
  /** High 32 bits of the last hash() result. */
  hi = 0;
  private readonly k0hi: number;
  private readonly k0lo: number;
  private readonly k1hi: number;
  private readonly k1lo: number;

  /** `key`: 16 bytes (k0 = bytes 0..7, k1 = bytes 8..15, little-endian). */
  constructor(key: Uint8Array) {
    if (!(key instanceof Uint8Array) || key.length !== 16) throw new RangeError('key: expected 16 bytes');
    this.k0lo = le32(key, 0);
    this.k0hi = le32(key, 4);
    this.k1lo = le32(key, 8);
    this.k1hi = le32(key, 12);
  }

  /** SipHash-2-4 of bytes[off, off + len): returns the low 32 bits; `this.hi` the high 32. */
  hash(bytes: Uint8Array, off: number, len: number): number {
    let v0h = this.k0hi ^ C0_HI;
    let v0l = this.k0lo ^ C0_LO;
    let v1h = this.k1hi ^ C1_HI;
    let v1l = this.k1lo ^ C1_LO;
    let v2h = this.k0hi ^ C2_HI;
    let v2l = this.k0lo ^ C2_LO;
    let v3h = this.k1hi ^ C3_HI;
    let v3l = this.k1lo ^ C3_LO;
    let t = 0;
    const end = off + len;
    const whole = off + (len & ~7);
    // Blocks: 8 bytes each, then the last partial block with the length in its top byte.
    let p = off;
    for (;;) {
      let mh: number;
      let ml: number;
      let rounds = 2;
      let last = false;
      if (p < whole) {
        ml = le32(bytes, p);
        mh = le32(bytes, p + 4);
        p += 8;
      } else {
        // Final block: remaining bytes little-endian, (len mod 256) in the top byte.
        ml = 0;
        mh = (len & 0xff) << 24;
        const r = end - p;
        for (let i = 0; i < r; i++) {
          const b = bytes[p + i]!;
          if (i < 4) ml |= b << (8 * i);
          else mh |= b << (8 * (i - 4));
        }
        ml >>>= 0;
        mh >>>= 0;
        last = true;
      }
      v3h ^= mh;
      v3l ^= ml;
      for (let pass = 0; pass < 2; pass++) {
        // c compression rounds, then (after the last block) d = 4 finalization rounds.
        for (let r = 0; r < rounds; r++) {
          // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
          t = (v0l >>> 0) + (v1l >>> 0);
          v0h = (v0h + v1h + (t > 0xffffffff ? 1 : 0)) >>> 0;
          v0l = t >>> 0;
          t = (v1h << 13) | (v1l >>> 19);
          v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
          v1h = t ^ v0h;
          t = v0h;
          v0h = v0l;
          v0l = t;
          // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
          t = (v2l >>> 0) + (v3l >>> 0);
          v2h = (v2h + v3h + (t > 0xffffffff ? 1 : 0)) >>> 0;
          v2l = t >>> 0;
          t = (v3h << 16) | (v3l >>> 16);
          v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
          v3h = t ^ v2h;
          // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
          t = (v0l >>> 0) + (v3l >>> 0);
          v0h = (v0h + v3h + (t > 0xffffffff ? 1 : 0)) >>> 0;
          v0l = t >>> 0;
          t = (v3h << 21) | (v3l >>> 11);
          v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
          v3h = t ^ v0h;
          // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
          t = (v2l >>> 0) + (v1l >>> 0);
          v2h = (v2h + v1h + (t > 0xffffffff ? 1 : 0)) >>> 0;
          v2l = t >>> 0;
          t = (v1h << 17) | (v1l >>> 15);
          v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
          v1h = t ^ v2h;
          t = v2h;
          v2h = v2l;
          v2l = t;
        }
        if (pass === 0) {
          v0h ^= mh;
          v0l ^= ml;
          if (!last) break;
          v2l ^= 0xff;
          rounds = 4;
        }
      }
      if (last) break;
    }
    this.hi = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
    return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  }
}
