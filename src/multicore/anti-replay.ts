// L7: 0-RTT anti-replay shared by every worker thread of a multi-core server (RFC 8446 §8, RFC 9001
// §4.6.1 and §9.2). A ClientHello with early data may reach any worker (the router picks one per
// client-chosen DCID, and a replayed ClientHello can carry any DCID), so a per-worker store would
// accept the same 0-RTT flight once per worker. This store is a hash set in ONE SharedArrayBuffer
// that every worker's TLS server consults through the AntiReplayStore interface
// (src/tls/anti-replay.ts), with the same key/expiry rule as the single-process AntiReplay
// (antiReplayEntry: 'single-use' = the ticket id until the ticket expires, §8.1; 'window' = the
// PSK binder for the ClientHello's freshness window, §8.2).
//
// Layout: a header, then buckets of WAYS 64-bit words. A word is (fingerprint:36 ‖ expiry:28):
// a keyed SipHash fingerprint of the key and the expiry in whole seconds after the buffer's base
// time (rounded up: an entry blocks at least as long as asked). 0 = empty. Every change to a word
// is one Atomics.compareExchange of the whole word, so there is no lock a dying thread could leave
// held and no half-written entry.
//
// check(): scan the key's bucket; a live word with the same fingerprint → replay (false). Else CAS
// the first empty-or-expired word (retry the scan if another thread changed it first), then scan
// the bucket again: if another live word with the same fingerprint appeared meanwhile (two threads
// placed the same key in different words: only possible when a word expired between their scans),
// answer false. Atomics are sequentially consistent, so of two threads racing on one key at most
// one can miss the other's word; two threads can never both answer true. Everything else fails
// closed — 0-RTT is rejected and the handshake continues in 1-RTT (RFC 8446 §4.2.10) — never a
// possible replay accepted:
//  - bucket full of live entries (bounded memory: capacity words in all);
//  - fingerprint collision with a live entry (36 bits: ~WAYS × 2^-36 per check);
//  - an expiry beyond the 28-bit range (~8.5 years after the buffer was made);
//  - CAS contention beyond a few retries.
// Values compared are the `now` and ticket times the TLS server passes; its freshness check uses the
// same ones, so the store and the check agree whichever worker's clock produced them.
import { antiReplayEntry, type AntiReplayMode, type AntiReplayStore } from '../tls/anti-replay.js';
import { SipHash24 } from './siphash.js';

/** Words per bucket (one 64-byte cache line). */
const WAYS = 8;
const HEADER = 64;
const EXPIRY_BITS = 28n;
const EXPIRY_MASK = (1n << EXPIRY_BITS) - 1n;
const MAX_EXPIRY = 2 ** 28 - 1;
const RETRIES = 8;
// Header: f64 base time (ms) @0, 16-byte SipHash key @8, u32 buckets @24, u32 mode @28, f64 windowMs @32,
// i32 counters @40.. (Atomics.add).
const C_ACCEPTED = 10;
const C_REPLAYED = 11;
const C_FULL = 12;
const C_RACE = 13;
const C_OUT_OF_RANGE = 14;

export interface SharedAntiReplayOptions {
  /** 'single-use' (default, as listen()): each ticket carries 0-RTT once; 'window': each ClientHello once. */
  mode?: AntiReplayMode;
  /** Entries (rounded up to a power of two; default 131 072 = 1 MiB). When a bucket is full, 0-RTT is rejected. */
  capacity?: number;
  /** 'window' mode: least time a ClientHello is remembered (ms, default 10 000). */
  windowMs?: number;
}

export interface SharedAntiReplayStats {
  /** 0-RTT attempts this store let through (first sighting). */
  accepted: number;
  /** Repeats refused (same ticket / ClientHello seen and not expired). */
  replayed: number;
  /** Refused because the key's bucket held only live entries (memory bound reached). */
  full: number;
  /** Refused because another thread placed the same key concurrently, or CAS contention. */
  raced: number;
  /** Refused because the expiry was out of the representable range. */
  outOfRange: number;
}

/** Make the shared buffer (main thread); `key` = 16 random bytes for the fingerprints, `now` = base time (ms). */
export function createAntiReplayBuffer(opts: SharedAntiReplayOptions, key: Uint8Array, now: number): SharedArrayBuffer {
  const mode = opts.mode ?? 'single-use';
  if (mode !== 'single-use' && mode !== 'window') throw new TypeError(`antiReplay.mode: 'single-use' or 'window', got ${String(mode)}`);
  const capacity = opts.capacity ?? 131_072;
  if (!Number.isInteger(capacity) || capacity < WAYS || capacity > 2 ** 26) throw new RangeError(`antiReplay.capacity: integer in ${WAYS}..${2 ** 26} expected`);
  const windowMs = opts.windowMs ?? 10_000;
  if (!(typeof windowMs === 'number' && windowMs > 0 && windowMs < 2 ** 31)) throw new RangeError('antiReplay.windowMs: positive number of ms expected');
  if (!(key instanceof Uint8Array) || key.length !== 16) throw new RangeError('key: expected 16 bytes');
  let buckets = 1;
  while (buckets * WAYS < capacity) buckets *= 2;
  const sab = new SharedArrayBuffer(HEADER + buckets * WAYS * 8);
  const dv = new DataView(sab);
  dv.setFloat64(0, Math.floor(now / 1000) * 1000, true);
  new Uint8Array(sab, 8, 16).set(key);
  dv.setUint32(24, buckets, true);
  dv.setUint32(28, mode === 'single-use' ? 0 : 1, true);
  dv.setFloat64(32, windowMs, true);
  return sab;
}

/** A view of the shared store (one per thread; cheap). Satisfies the TLS server's AntiReplayStore. */
export class SharedAntiReplay implements AntiReplayStore {
  readonly buffer: SharedArrayBuffer;
  readonly mode: AntiReplayMode;
  readonly windowMs: number;
  /** Entries in all (buckets × WAYS). */
  readonly capacity: number;
  private readonly base: number;
  private readonly mask: number;
  private readonly words: BigUint64Array;
  private readonly counters: Int32Array;
  private readonly sip: SipHash24;

  constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < HEADER + WAYS * 8) throw new TypeError('buffer: expected a SharedArrayBuffer from createAntiReplayBuffer()');
    const dv = new DataView(buffer);
    const buckets = dv.getUint32(24, true);
    if (buckets === 0 || (buckets & (buckets - 1)) !== 0 || buffer.byteLength !== HEADER + buckets * WAYS * 8) throw new TypeError('buffer: not an anti-replay buffer');
    this.buffer = buffer;
    this.base = dv.getFloat64(0, true);
    this.mode = dv.getUint32(28, true) === 0 ? 'single-use' : 'window';
    this.windowMs = dv.getFloat64(32, true);
    this.mask = buckets - 1;
    this.capacity = buckets * WAYS;
    this.words = new BigUint64Array(buffer, HEADER, buckets * WAYS);
    this.counters = new Int32Array(buffer, 0, HEADER / 4);
    this.sip = new SipHash24(new Uint8Array(buffer, 8, 16).slice());
  }

  check(ticketId: Uint8Array, ticketExpiresAt: number, binder: Uint8Array, now: number, freshUntil = now): boolean {
    const e = antiReplayEntry(this.mode, this.windowMs, ticketId, ticketExpiresAt, binder, now, freshUntil);
    return this.insert(e.key, e.expiry, now);
  }

  /** Record `key` until `expiry` (ms): true = first sighting (or the earlier one expired). */
  insert(key: Uint8Array, expiry: number, now: number): boolean {
    const lo = this.sip.hash(key, 0, key.length);
    const hi = this.sip.hi;
    // Bucket from the low bits, fingerprint from the high word and the top nibble of the low one.
    let fp = hi * 16 + (lo >>> 28);
    if (fp === 0) fp = 1;
    const expS = Math.max(1, Math.ceil((expiry - this.base) / 1000));
    if (!(expS <= MAX_EXPIRY)) {
      Atomics.add(this.counters, C_OUT_OF_RANGE, 1);
      return false;
    }
    const nowS = Math.floor((now - this.base) / 1000);
    const mine = (BigInt(fp) << EXPIRY_BITS) | BigInt(expS);
    const words = this.words;
    const start = (lo & this.mask) * WAYS;
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      let free = -1;
      let freeWord = 0n;
      for (let i = start; i < start + WAYS; i++) {
        const w = Atomics.load(words, i);
        const live = w !== 0n && Number(w & EXPIRY_MASK) > nowS;
        if (live) {
          if (Number(w >> EXPIRY_BITS) === fp) {
            Atomics.add(this.counters, C_REPLAYED, 1);
            return false;
          }
        } else if (free < 0) {
          free = i;
          freeWord = w;
        }
      }
      if (free < 0) {
        Atomics.add(this.counters, C_FULL, 1);
        return false;
      }
      if (Atomics.compareExchange(words, free, freeWord, mine) !== freeWord) continue;
      for (let i = start; i < start + WAYS; i++) {
        if (i === free) continue;
        const w = Atomics.load(words, i);
        if (w !== 0n && Number(w >> EXPIRY_BITS) === fp && Number(w & EXPIRY_MASK) > nowS) {
          Atomics.add(this.counters, C_RACE, 1);
          return false;
        }
      }
      Atomics.add(this.counters, C_ACCEPTED, 1);
      return true;
    }
    Atomics.add(this.counters, C_RACE, 1);
    return false;
  }

  /** Live entries now (a scan of the whole table: for tests and stats, not per packet). */
  liveEntries(now: number): number {
    const nowS = Math.floor((now - this.base) / 1000);
    let n = 0;
    for (let i = 0; i < this.words.length; i++) {
      const w = Atomics.load(this.words, i);
      if (w !== 0n && Number(w & EXPIRY_MASK) > nowS) n++;
    }
    return n;
  }

  stats(): SharedAntiReplayStats {
    const c = this.counters;
    return {
      accepted: Atomics.load(c, C_ACCEPTED),
      replayed: Atomics.load(c, C_REPLAYED),
      full: Atomics.load(c, C_FULL),
      raced: Atomics.load(c, C_RACE),
      outOfRange: Atomics.load(c, C_OUT_OF_RANGE),
    };
  }
}
