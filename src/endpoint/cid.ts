// L5: connection IDs an endpoint issues (RFC 9000 §5.1) and the key they are routed by.
// The generator is pluggable so a multi-core server can encode a worker index in every CID it issues
// (DESIGN §3); the stateless reset token of each CID is derived by the endpoint from its static key
// (RFC 9000 §10.3.2), so a generator only decides the CID bytes.
import { MAX_CID_LENGTH } from '../codec/version.js';

/** Randomness the endpoint draws from: src/crypto/random.ts's RandomSource or any `fill(out)` object. */
export type EndpointRandom = { fillRandom(out: Uint8Array): Uint8Array } | { fill(out: Uint8Array): void };

/** Fill `out` from either RandomSource shape. */
export function fillRandom(rng: EndpointRandom, out: Uint8Array): Uint8Array {
  if ('fillRandom' in rng) rng.fillRandom(out);
  else rng.fill(out);
  return out;
}

/** A uniformly random integer in [0, bound) for bound ≤ 2^16 (cold paths: sizes, unused bits). */
export function randomBelow(rng: EndpointRandom, bound: number, scratch: Uint8Array): number {
  fillRandom(rng, scratch.subarray(0, 4));
  const x = ((scratch[0]! << 24) | (scratch[1]! << 16) | (scratch[2]! << 8) | scratch[3]!) >>> 0;
  return x % bound; // bias ≤ 2^-16 for bound ≤ 2^16: irrelevant for these uses
}

/**
 * Decides the bytes of every connection ID the endpoint issues. All CIDs of one endpoint have the
 * same length (RFC 9000 §10.3.2: needed to find a short header's DCID without state, and so stateless
 * resets work). Length 1..20 (a zero-length CID cannot be routed or reset).
 */
export interface ConnectionIdGenerator {
  readonly length: number;
  /** A fresh connection ID of `length` bytes (a new array; the endpoint keeps it). */
  generate(): Uint8Array;
}

/** Default generator: `length` random bytes (RFC 9000 §5.1: no information an observer could link). */
export class RandomCidGenerator implements ConnectionIdGenerator {
  readonly length: number;
  private readonly rng: EndpointRandom;

  constructor(rng: EndpointRandom, length = 8) {
    if (!Number.isInteger(length) || length < 1 || length > MAX_CID_LENGTH) {
      throw new RangeError(`length: connection IDs must be 1..${MAX_CID_LENGTH} bytes, got ${length}`);
    }
    if (rng === null || typeof rng !== 'object') throw new TypeError('rng: expected a RandomSource');
    this.length = length;
    this.rng = rng;
  }

  generate(): Uint8Array {
    return fillRandom(this.rng, new Uint8Array(this.length));
  }
}

/**
 * Map key of a connection ID: one UTF-16 code unit per byte (a short flat string that V8 hashes
 * quickly; no hex formatting). Connection IDs are at most 20 bytes (255 for other versions' VN).
 */
export function cidKey(cid: Uint8Array): string {
  switch (cid.length) {
    case 0:
      return '';
    case 4:
      return String.fromCharCode(cid[0]!, cid[1]!, cid[2]!, cid[3]!);
    case 8:
      return String.fromCharCode(cid[0]!, cid[1]!, cid[2]!, cid[3]!, cid[4]!, cid[5]!, cid[6]!, cid[7]!);
    default: {
      let s = '';
      for (let i = 0; i < cid.length; i++) s += String.fromCharCode(cid[i]!);
      return s;
    }
  }
}
