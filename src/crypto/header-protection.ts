// L2a: header protection masks (RFC 9001 §5.4.1 application, §5.4.3 AES-ECB, §5.4.4 ChaCha20).
// Five implementations behind the HeaderProtection interface:
// - NodeAesHeaderProtection: ONE persistent node:crypto 'aes-128-ecb'/'aes-256-ecb' context per key,
//   setAutoPadding(false), update(sample) per packet and never final (DESIGN §4).
// - NobleAesHeaderProtection: @noble/ciphers' AES round function over a key expanded once
//   (`unsafe.expandKeyLE` + `unsafe.encrypt`, pinned @noble/ciphers 2.4.0): no call into OpenSSL,
//   no Buffer per packet; measured several times faster than the ECB context in a micro-benchmark,
//   but its 512 KiB of tables miss the cache on the real I/O path.
// - JsAesHeaderProtection (the default): our own FIPS 197 round function with 4 KiB of T-tables.
// - NodeChaChaHeaderProtection: a node:crypto 'chacha20' context per packet with IV = the sample
//   (OpenSSL's ChaCha20 IV is counter(4, little-endian) || nonce(12), exactly the sample layout).
// - JsChaChaHeaderProtection: one ChaCha20 block (RFC 8439 §2.3) computed here. @noble's chacha20
//   refuses the block counter 2^32-1, which a sample can carry, and costs a key copy per call; the
//   mask only needs the first 5 keystream bytes, so the first two output words are all we keep.
import { createCipheriv, type Cipher } from 'node:crypto';
import { unsafe as nobleAes } from '@noble/ciphers/aes.js';
import { HP_SAMPLE_LENGTH, type AeadAlgorithm, type HeaderProtection } from './aead.js';

function checkHpKey(algorithm: AeadAlgorithm, key: Uint8Array): void {
  const want = algorithm === 'aes-128-gcm' ? 16 : 32;
  if (!(key instanceof Uint8Array) || key.length !== want) {
    throw new RangeError(`hpKey: ${algorithm} header protection needs a ${want}-byte key, got ${key?.length}`);
  }
}

function checkSample(sample: Uint8Array, offset: number): void {
  if (offset < 0 || offset + HP_SAMPLE_LENGTH > sample.length) {
    throw new RangeError(`sample: 16 bytes needed at offset ${offset}, have ${sample.length - offset}`);
  }
}

/** Apply the mask to a packet whose header starts at `headerOffset` (RFC 9001 §5.4.1). */
export function applyHeaderMask(packet: Uint8Array, headerOffset: number, pnOffset: number, pnLength: number, mask: Uint8Array): void {
  packet[headerOffset] ^= mask[0]! & ((packet[headerOffset]! & 0x80) !== 0 ? 0x0f : 0x1f);
  for (let i = 0; i < pnLength; i++) packet[pnOffset + i] ^= mask[1 + i]!;
}

export class NodeAesHeaderProtection implements HeaderProtection {
  readonly algorithm: AeadAlgorithm;
  private ecb: Cipher | null;

  constructor(algorithm: AeadAlgorithm, hpKey: Uint8Array) {
    if (algorithm === 'chacha20-poly1305') throw new RangeError('algorithm: AES header protection needs an AES suite');
    checkHpKey(algorithm, hpKey);
    this.algorithm = algorithm;
    this.ecb = createCipheriv(algorithm === 'aes-128-gcm' ? 'aes-128-ecb' : 'aes-256-ecb', hpKey, null);
    this.ecb.setAutoPadding(false);
  }

  mask(sample: Uint8Array, offset: number, mask: Uint8Array): void {
    const ecb = this.ecb;
    if (ecb === null) throw new TypeError('header protection: key was disposed');
    checkSample(sample, offset);
    const block = ecb.update(sample.subarray(offset, offset + HP_SAMPLE_LENGTH));
    mask[0] = block[0]!;
    mask[1] = block[1]!;
    mask[2] = block[2]!;
    mask[3] = block[3]!;
    mask[4] = block[4]!;
  }

  dispose(): void {
    // Never final(): the context is simply released (OpenSSL frees and cleanses it).
    this.ecb = null;
  }
}

function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

export class NobleAesHeaderProtection implements HeaderProtection {
  readonly algorithm: AeadAlgorithm;
  private xk: Uint32Array;

  constructor(algorithm: AeadAlgorithm, hpKey: Uint8Array) {
    if (algorithm === 'chacha20-poly1305') throw new RangeError('algorithm: AES header protection needs an AES suite');
    checkHpKey(algorithm, hpKey);
    this.algorithm = algorithm;
    // expandKeyLE copies a misaligned key; pass a copy anyway so the caller may wipe its own.
    this.xk = nobleAes.expandKeyLE(new Uint8Array(hpKey)) as Uint32Array;
  }

  mask(sample: Uint8Array, offset: number, mask: Uint8Array): void {
    if (this.xk.length === 0) throw new TypeError('header protection: key was disposed');
    checkSample(sample, offset);
    // The AES state as four little-endian words of the block (noble's LE word convention).
    const r = nobleAes.encrypt(this.xk, le32(sample, offset), le32(sample, offset + 4), le32(sample, offset + 8), le32(sample, offset + 12));
    const s0 = r.s0;
    mask[0] = s0 & 0xff;
    mask[1] = (s0 >>> 8) & 0xff;
    mask[2] = (s0 >>> 16) & 0xff;
    mask[3] = s0 >>> 24;
    mask[4] = r.s1 & 0xff;
  }

  dispose(): void {
    this.xk.fill(0);
    this.xk = new Uint32Array(0);
  }
}

// ---------------------------------------------------------------------------------------------
// AES-128/256 one-block encryption (FIPS 197) with 4 KiB of T-tables, for the AES header protection
// mask. @noble's round function reads two 256 KiB merged tables: fast in a micro-benchmark, but on
// the real send/receive path those tables fall out of the cache between packets and one mask costs
// ~1 µs (3.7–4.6 % of all CPU samples of a 100 MB transfer). Four 1 KiB tables (FIPS 197 §5.1
// SubBytes + ShiftRows + MixColumns folded per byte lane, big-endian words) stay resident.

/** FIPS 197 §4.2: multiplication by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1. */
function xtime(b: number): number {
  return ((b << 1) ^ (b & 0x80 ? 0x1b : 0)) & 0xff;
}

/** S-box (FIPS 197 §5.1.1): multiplicative inverse, then the affine transformation. */
const SBOX = /* @__PURE__ */ (() => {
  const s = new Uint8Array(256);
  // Walk the multiplicative group with generator 3 (p) and its inverse (q) together.
  let p = 1;
  let q = 1;
  do {
    p = p ^ xtime(p); // p · 3
    q ^= q << 1; // q / 3, i.e. q · 0xf6
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    const rot = (x: number, n: number) => ((x << n) | (x >>> (8 - n))) & 0xff;
    s[p] = q ^ rot(q, 1) ^ rot(q, 2) ^ rot(q, 3) ^ rot(q, 4) ^ 0x63;
  } while (p !== 1);
  s[0] = 0x63;
  return s;
})();

/** TE0[x] = [2·S(x), S(x), S(x), 3·S(x)] as a big-endian word; TE1..3 are its byte rotations. */
const TE0 = new Uint32Array(256);
const TE1 = new Uint32Array(256);
const TE2 = new Uint32Array(256);
const TE3 = new Uint32Array(256);
for (let x = 0; x < 256; x++) {
  const s = SBOX[x]!;
  const s2 = xtime(s);
  const w = ((s2 << 24) | (s << 16) | (s << 8) | (s2 ^ s)) >>> 0;
  TE0[x] = w;
  TE1[x] = ((w >>> 8) | (w << 24)) >>> 0;
  TE2[x] = ((w >>> 16) | (w << 16)) >>> 0;
  TE3[x] = ((w >>> 24) | (w << 8)) >>> 0;
}

function be32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** FIPS 197 §5.2 key expansion into 4·(Nr+1) big-endian round-key words (Nr = 10 or 14). */
export function aesExpandKey(key: Uint8Array): Uint32Array {
  const nk = key.length >>> 2;
  if (key.length !== 16 && key.length !== 32) throw new RangeError(`key: AES-128 or AES-256 needs 16 or 32 bytes, got ${key.length}`);
  const total = 4 * (nk + 7);
  const w = new Uint32Array(total);
  for (let i = 0; i < nk; i++) w[i] = be32(key, 4 * i);
  let rcon = 1;
  for (let i = nk; i < total; i++) {
    let t = w[i - 1]!;
    if (i % nk === 0) {
      // SubWord(RotWord(t)) ^ Rcon
      t = ((SBOX[(t >>> 16) & 0xff]! << 24) | (SBOX[(t >>> 8) & 0xff]! << 16) | (SBOX[t & 0xff]! << 8) | SBOX[t >>> 24]!) ^ (rcon << 24);
      rcon = xtime(rcon);
    } else if (nk > 6 && i % nk === 4) {
      t = (SBOX[t >>> 24]! << 24) | (SBOX[(t >>> 16) & 0xff]! << 16) | (SBOX[(t >>> 8) & 0xff]! << 8) | SBOX[t & 0xff]!;
    }
    w[i] = (w[i - nk]! ^ t) >>> 0;
  }
  return w;
}

/**
 * Encrypt the 16-byte block at `input[offset]` with the expanded key `rk` and write the first `n`
 * (1..16) output bytes into `out` (the header protection mask needs 5).
 */
export function aesEncryptBlock(rk: Uint32Array, input: Uint8Array, offset: number, out: Uint8Array, n: number): void {
  let s0 = be32(input, offset) ^ rk[0]!;
  let s1 = be32(input, offset + 4) ^ rk[1]!;
  let s2 = be32(input, offset + 8) ^ rk[2]!;
  let s3 = be32(input, offset + 12) ^ rk[3]!;
  const rounds = (rk.length >>> 2) - 1;
  let k = 4;
  for (let r = 1; r < rounds; r++) {
    const t0 = TE0[s0 >>> 24]! ^ TE1[(s1 >>> 16) & 0xff]! ^ TE2[(s2 >>> 8) & 0xff]! ^ TE3[s3 & 0xff]! ^ rk[k]!;
    const t1 = TE0[s1 >>> 24]! ^ TE1[(s2 >>> 16) & 0xff]! ^ TE2[(s3 >>> 8) & 0xff]! ^ TE3[s0 & 0xff]! ^ rk[k + 1]!;
    const t2 = TE0[s2 >>> 24]! ^ TE1[(s3 >>> 16) & 0xff]! ^ TE2[(s0 >>> 8) & 0xff]! ^ TE3[s1 & 0xff]! ^ rk[k + 2]!;
    const t3 = TE0[s3 >>> 24]! ^ TE1[(s0 >>> 16) & 0xff]! ^ TE2[(s1 >>> 8) & 0xff]! ^ TE3[s2 & 0xff]! ^ rk[k + 3]!;
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
    k += 4;
  }
  // Final round: SubBytes + ShiftRows + AddRoundKey (no MixColumns); words 2 and 3 only if asked.
  const v0 = ((SBOX[s0 >>> 24]! << 24) | (SBOX[(s1 >>> 16) & 0xff]! << 16) | (SBOX[(s2 >>> 8) & 0xff]! << 8) | SBOX[s3 & 0xff]!) ^ rk[k]!;
  const v1 = ((SBOX[s1 >>> 24]! << 24) | (SBOX[(s2 >>> 16) & 0xff]! << 16) | (SBOX[(s3 >>> 8) & 0xff]! << 8) | SBOX[s0 & 0xff]!) ^ rk[k + 1]!;
  putWord(out, 0, v0, n);
  putWord(out, 4, v1, n);
  if (n > 8) {
    const v2 = ((SBOX[s2 >>> 24]! << 24) | (SBOX[(s3 >>> 16) & 0xff]! << 16) | (SBOX[(s0 >>> 8) & 0xff]! << 8) | SBOX[s1 & 0xff]!) ^ rk[k + 2]!;
    const v3 = ((SBOX[s3 >>> 24]! << 24) | (SBOX[(s0 >>> 16) & 0xff]! << 16) | (SBOX[(s1 >>> 8) & 0xff]! << 8) | SBOX[s2 & 0xff]!) ^ rk[k + 3]!;
    putWord(out, 8, v2, n);
    putWord(out, 12, v3, n);
  }
}

/** Big-endian bytes of `v` into out[at..], none at or past index n. */
function putWord(out: Uint8Array, at: number, v: number, n: number): void {
  if (at < n) out[at] = v >>> 24;
  if (at + 1 < n) out[at + 1] = (v >>> 16) & 0xff;
  if (at + 2 < n) out[at + 2] = (v >>> 8) & 0xff;
  if (at + 3 < n) out[at + 3] = v & 0xff;
}

export class JsAesHeaderProtection implements HeaderProtection {
  readonly algorithm: AeadAlgorithm;
  private rk: Uint32Array;

  constructor(algorithm: AeadAlgorithm, hpKey: Uint8Array) {
    if (algorithm === 'chacha20-poly1305') throw new RangeError('algorithm: AES header protection needs an AES suite');
    checkHpKey(algorithm, hpKey);
    this.algorithm = algorithm;
    this.rk = aesExpandKey(hpKey);
  }

  mask(sample: Uint8Array, offset: number, mask: Uint8Array): void {
    const rk = this.rk;
    if (rk.length === 0) throw new TypeError('header protection: key was disposed');
    checkSample(sample, offset);
    aesEncryptBlock(rk, sample, offset, mask, 5);
  }

  dispose(): void {
    this.rk.fill(0);
    this.rk = new Uint32Array(0);
  }
}

const ZERO5 = new Uint8Array(5);

export class NodeChaChaHeaderProtection implements HeaderProtection {
  readonly algorithm: AeadAlgorithm = 'chacha20-poly1305';
  private key: Uint8Array;

  constructor(algorithm: AeadAlgorithm, hpKey: Uint8Array) {
    if (algorithm !== 'chacha20-poly1305') throw new RangeError('algorithm: ChaCha20 header protection needs the ChaCha20 suite');
    checkHpKey(algorithm, hpKey);
    this.key = new Uint8Array(hpKey);
  }

  mask(sample: Uint8Array, offset: number, mask: Uint8Array): void {
    if (this.key.length === 0) throw new TypeError('header protection: key was disposed');
    checkSample(sample, offset);
    const c = createCipheriv('chacha20', this.key, sample.subarray(offset, offset + HP_SAMPLE_LENGTH));
    const ks = c.update(ZERO5);
    for (let i = 0; i < 5; i++) mask[i] = ks[i]!;
  }

  dispose(): void {
    this.key.fill(0);
    this.key = new Uint8Array(0);
  }
}

// "expand 32-byte k" (RFC 8439 §2.3)
const C0 = 0x61707865;
const C1 = 0x3320646e;
const C2 = 0x79622d32;
const C3 = 0x6b206574;

/**
 * First 5 keystream bytes of the ChaCha20 block for (key words, counter, nonce words) into `mask`.
 * RFC 8439 §2.1–§2.3: 20 rounds (10 column + diagonal double rounds), then add the input state.
 */
export function chacha20Mask5(k: Uint32Array, counter: number, n0: number, n1: number, n2: number, mask: Uint8Array): void {
  let x0 = C0, x1 = C1, x2 = C2, x3 = C3;
  let x4 = k[0]!, x5 = k[1]!, x6 = k[2]!, x7 = k[3]!;
  let x8 = k[4]!, x9 = k[5]!, x10 = k[6]!, x11 = k[7]!;
  let x12 = counter | 0, x13 = n0 | 0, x14 = n1 | 0, x15 = n2 | 0;
  let t: number;
  for (let i = 0; i < 10; i++) {
    // Column round: QR(0,4,8,12) QR(1,5,9,13) QR(2,6,10,14) QR(3,7,11,15)
    x0 = (x0 + x4) | 0; t = x12 ^ x0; x12 = (t << 16) | (t >>> 16);
    x8 = (x8 + x12) | 0; t = x4 ^ x8; x4 = (t << 12) | (t >>> 20);
    x0 = (x0 + x4) | 0; t = x12 ^ x0; x12 = (t << 8) | (t >>> 24);
    x8 = (x8 + x12) | 0; t = x4 ^ x8; x4 = (t << 7) | (t >>> 25);

    x1 = (x1 + x5) | 0; t = x13 ^ x1; x13 = (t << 16) | (t >>> 16);
    x9 = (x9 + x13) | 0; t = x5 ^ x9; x5 = (t << 12) | (t >>> 20);
    x1 = (x1 + x5) | 0; t = x13 ^ x1; x13 = (t << 8) | (t >>> 24);
    x9 = (x9 + x13) | 0; t = x5 ^ x9; x5 = (t << 7) | (t >>> 25);

    x2 = (x2 + x6) | 0; t = x14 ^ x2; x14 = (t << 16) | (t >>> 16);
    x10 = (x10 + x14) | 0; t = x6 ^ x10; x6 = (t << 12) | (t >>> 20);
    x2 = (x2 + x6) | 0; t = x14 ^ x2; x14 = (t << 8) | (t >>> 24);
    x10 = (x10 + x14) | 0; t = x6 ^ x10; x6 = (t << 7) | (t >>> 25);

    x3 = (x3 + x7) | 0; t = x15 ^ x3; x15 = (t << 16) | (t >>> 16);
    x11 = (x11 + x15) | 0; t = x7 ^ x11; x7 = (t << 12) | (t >>> 20);
    x3 = (x3 + x7) | 0; t = x15 ^ x3; x15 = (t << 8) | (t >>> 24);
    x11 = (x11 + x15) | 0; t = x7 ^ x11; x7 = (t << 7) | (t >>> 25);

    // Diagonal round: QR(0,5,10,15) QR(1,6,11,12) QR(2,7,8,13) QR(3,4,9,14)
    x0 = (x0 + x5) | 0; t = x15 ^ x0; x15 = (t << 16) | (t >>> 16);
    x10 = (x10 + x15) | 0; t = x5 ^ x10; x5 = (t << 12) | (t >>> 20);
    x0 = (x0 + x5) | 0; t = x15 ^ x0; x15 = (t << 8) | (t >>> 24);
    x10 = (x10 + x15) | 0; t = x5 ^ x10; x5 = (t << 7) | (t >>> 25);

    x1 = (x1 + x6) | 0; t = x12 ^ x1; x12 = (t << 16) | (t >>> 16);
    x11 = (x11 + x12) | 0; t = x6 ^ x11; x6 = (t << 12) | (t >>> 20);
    x1 = (x1 + x6) | 0; t = x12 ^ x1; x12 = (t << 8) | (t >>> 24);
    x11 = (x11 + x12) | 0; t = x6 ^ x11; x6 = (t << 7) | (t >>> 25);

    x2 = (x2 + x7) | 0; t = x13 ^ x2; x13 = (t << 16) | (t >>> 16);
    x8 = (x8 + x13) | 0; t = x7 ^ x8; x7 = (t << 12) | (t >>> 20);
    x2 = (x2 + x7) | 0; t = x13 ^ x2; x13 = (t << 8) | (t >>> 24);
    x8 = (x8 + x13) | 0; t = x7 ^ x8; x7 = (t << 7) | (t >>> 25);

    x3 = (x3 + x4) | 0; t = x14 ^ x3; x14 = (t << 16) | (t >>> 16);
    x9 = (x9 + x14) | 0; t = x4 ^ x9; x4 = (t << 12) | (t >>> 20);
    x3 = (x3 + x4) | 0; t = x14 ^ x3; x14 = (t << 8) | (t >>> 24);
    x9 = (x9 + x14) | 0; t = x4 ^ x9; x4 = (t << 7) | (t >>> 25);
  }
  const w0 = (x0 + C0) | 0;
  const w1 = (x1 + C1) | 0;
  mask[0] = w0 & 0xff;
  mask[1] = (w0 >>> 8) & 0xff;
  mask[2] = (w0 >>> 16) & 0xff;
  mask[3] = (w0 >>> 24) & 0xff;
  mask[4] = w1 & 0xff;
}

export class JsChaChaHeaderProtection implements HeaderProtection {
  readonly algorithm: AeadAlgorithm = 'chacha20-poly1305';
  private k: Uint32Array;

  constructor(algorithm: AeadAlgorithm, hpKey: Uint8Array) {
    if (algorithm !== 'chacha20-poly1305') throw new RangeError('algorithm: ChaCha20 header protection needs the ChaCha20 suite');
    checkHpKey(algorithm, hpKey);
    this.k = new Uint32Array(8);
    for (let i = 0; i < 8; i++) this.k[i] = le32(hpKey, i * 4);
  }

  mask(sample: Uint8Array, offset: number, mask: Uint8Array): void {
    if (this.k.length === 0) throw new TypeError('header protection: key was disposed');
    checkSample(sample, offset);
    // counter = sample[0..4) little-endian, nonce = sample[4..16) (RFC 9001 §5.4.4)
    chacha20Mask5(this.k, le32(sample, offset), le32(sample, offset + 4), le32(sample, offset + 8), le32(sample, offset + 12), mask);
  }

  dispose(): void {
    this.k.fill(0);
    this.k = new Uint32Array(0);
  }
}
