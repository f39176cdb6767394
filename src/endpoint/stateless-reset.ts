// L5: stateless reset (RFC 9000 §10.3): tokens derived from one static key and the connection ID
// (§10.3.2, HMAC-SHA256 truncated to 16 bytes), the reset packet itself (§10.3: short-header form,
// ≥ 38 unpredictable bits, token last; smaller than the packet that triggered it, §10.3.3; one byte
// shorter than a trigger of ≤ 43 bytes, §10.3), and a token-bucket rate limit (§10.3.3).
import { hmac } from '../crypto/hkdf.js';
import { fillRandom, randomBelow, type EndpointRandom } from './cid.js';

export const STATELESS_RESET_TOKEN_LENGTH = 16;
/** Smallest Stateless Reset: 1 byte of fixed bits + 38 unpredictable bits rounded up, + the token (§10.3). */
export const MIN_STATELESS_RESET_LENGTH = 21;
/** §10.3: a trigger of ≤ 43 bytes gets a reset one byte shorter; larger triggers get ≥ 43-byte resets. */
export const RESET_SIZE_MATCH_THRESHOLD = 43;
/** Upper bound of a reset's size (only ever smaller than its trigger). */
export const MAX_STATELESS_RESET_LENGTH = 96;
export const STATELESS_RESET_KEY_LENGTH = 32;

/** HMAC(static key, cid) truncated to 16 bytes (RFC 9000 §10.3.2). */
export function statelessResetToken(key: Uint8Array, cid: Uint8Array): Uint8Array {
  return hmac('sha256', key, cid).subarray(0, STATELESS_RESET_TOKEN_LENGTH);
}

/**
 * The size of a reset answering a datagram of `triggerLength` bytes, or 0 when none may be sent
 * (a reset must be smaller than its trigger and at least 21 bytes).
 */
export function statelessResetSize(triggerLength: number, rng: EndpointRandom, scratch: Uint8Array): number {
  if (triggerLength <= MIN_STATELESS_RESET_LENGTH) return 0;
  if (triggerLength <= RESET_SIZE_MATCH_THRESHOLD) return triggerLength - 1;
  const max = Math.min(triggerLength - 1, MAX_STATELESS_RESET_LENGTH);
  return RESET_SIZE_MATCH_THRESHOLD + randomBelow(rng, max - RESET_SIZE_MATCH_THRESHOLD + 1, scratch);
}

/**
 * Write a Stateless Reset of `size` bytes ending in `token` into `out`: byte 0 is 0b01 + 6 random
 * bits (it looks like a short header), then random bytes, then the token. Returns `size`.
 */
export function writeStatelessReset(out: Uint8Array, size: number, token: Uint8Array, rng: EndpointRandom): number {
  if (token.length !== STATELESS_RESET_TOKEN_LENGTH) throw new RangeError('token: expected 16 bytes');
  if (!Number.isInteger(size) || size < MIN_STATELESS_RESET_LENGTH || size > out.length) {
    throw new RangeError(`size: expected ${MIN_STATELESS_RESET_LENGTH}..${out.length}, got ${size}`);
  }
  const body = size - STATELESS_RESET_TOKEN_LENGTH;
  fillRandom(rng, out.subarray(0, body));
  out[0] = 0x40 | (out[0]! & 0x3f);
  out.set(token, body);
  return size;
}

/**
 * Token bucket (sans-IO: time passed in). `rate` tokens per second, at most `burst` saved up.
 * Used to bound stateless resets (§10.3.3) so an attacker cannot turn the endpoint into a reflector.
 */
export class RateLimiter {
  readonly rate: number;
  readonly burst: number;
  private tokens: number;
  private last = -Infinity;

  constructor(rate: number, burst: number) {
    if (!(rate >= 0) || !Number.isFinite(rate)) throw new RangeError(`rate: expected a non-negative number, got ${rate}`);
    if (!(burst >= 1) || !Number.isFinite(burst)) throw new RangeError(`burst: expected a number ≥ 1, got ${burst}`);
    this.rate = rate;
    this.burst = burst;
    this.tokens = burst;
  }

  /** Take one token at `now` (ms); false when the bucket is empty. */
  take(now: number): boolean {
    if (this.last !== -Infinity && now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    }
    if (now > this.last || this.last === -Infinity) this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
