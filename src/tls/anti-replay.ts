// L3: 0-RTT anti-replay for self-contained tickets (RFC 8446 §8; RFC 9001 §9.2).
// Two modes, both bounded in memory and both combined with the §8.3 freshness check that the
// server applies before asking here:
//  - 'single-use' (default): each ticket id may carry 0-RTT once while the ticket lives (§8.1,
//    done with a used-ticket set since the tickets themselves are stateless).
//  - 'window': each ClientHello (keyed by its PSK binder) is accepted once within a time window
//    (§8.2 ClientHello recording). The window is stretched to cover every moment at which a replay
//    of that ClientHello would still pass the freshness check (`freshUntil`), so the two together
//    leave no gap whatever the tolerance and the client's clock skew.
// When the set is full the answer is "reject 0-RTT" (fail closed): the handshake still completes
// in 1-RTT. The set is per process: a multi-process server must route a client's 0-RTT to the
// same process or share a store, otherwise a replay to another process is accepted: the TLS
// server takes any AntiReplayStore (a multi-core server shares one across its worker threads,
// src/multicore/anti-replay.ts); antiReplayEntry() is the key/expiry rule every store applies.
import { toHex } from '../util/bytes.js';

export type AntiReplayMode = 'single-use' | 'window';

export interface AntiReplayOptions {
  mode?: AntiReplayMode;
  /** Most entries remembered (default 100 000). */
  capacity?: number;
  /** 'window' mode: how long a ClientHello is remembered at least (ms, default 10 000). */
  windowMs?: number;
}

/**
 * What the TLS server asks before accepting 0-RTT (see AntiReplay.check for the arguments). True =
 * first sighting, 0-RTT may be accepted; false = seen before, or the store cannot tell (full):
 * reject 0-RTT.
 */
export interface AntiReplayStore {
  check(ticketId: Uint8Array, ticketExpiresAt: number, binder: Uint8Array, now: number, freshUntil?: number): boolean;
}

/**
 * The entry a store records for one 0-RTT attempt: the key (ticket id in 'single-use' mode, the
 * PSK binder in 'window' mode) and the time (ms) until which it must block a repeat.
 */
export function antiReplayEntry(
  mode: AntiReplayMode,
  windowMs: number,
  ticketId: Uint8Array,
  ticketExpiresAt: number,
  binder: Uint8Array,
  now: number,
  freshUntil = now,
): { key: Uint8Array; expiry: number } {
  // An entry blocks while expiry > now: keep it until just past freshUntil.
  return mode === 'single-use' ? { key: ticketId, expiry: ticketExpiresAt } : { key: binder, expiry: Math.max(now + windowMs, freshUntil + 1) };
}

export class AntiReplay implements AntiReplayStore {
  readonly mode: AntiReplayMode;
  readonly capacity: number;
  readonly windowMs: number;
  /** key → expiry (ms). */
  private readonly seen = new Map<string, number>();

  constructor(opts: AntiReplayOptions = {}) {
    this.mode = opts.mode ?? 'single-use';
    if (this.mode !== 'single-use' && this.mode !== 'window') throw new TypeError(`opts.mode: 'single-use' or 'window', got ${String(opts.mode)}`);
    this.capacity = opts.capacity ?? 100_000;
    this.windowMs = opts.windowMs ?? 10_000;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError('opts.capacity: positive integer expected');
    if (!(this.windowMs > 0)) throw new RangeError('opts.windowMs: must be positive');
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * Record a 0-RTT attempt. `ticketId` and `ticketExpiresAt` identify the ticket (single-use mode),
   * `binder` the ClientHello (window mode). `freshUntil` is the last time at which the same
   * ClientHello would still pass the server's ticket-age check (RFC 8446 §8.3); window mode
   * remembers it at least that long. True = first sighting, 0-RTT may be accepted.
   */
  check(ticketId: Uint8Array, ticketExpiresAt: number, binder: Uint8Array, now: number, freshUntil = now): boolean {
    const e = antiReplayEntry(this.mode, this.windowMs, ticketId, ticketExpiresAt, binder, now, freshUntil);
    const key = toHex(e.key);
    const expiry = e.expiry;
    const prev = this.seen.get(key);
    if (prev !== undefined && prev > now) return false;
    if (this.seen.size >= this.capacity) {
      this.prune(now);
      if (this.seen.size >= this.capacity) return false;
    }
    this.seen.delete(key);
    this.seen.set(key, expiry);
    return true;
  }

  /** Drop expired entries. */
  prune(now: number): void {
    for (const [k, exp] of this.seen) if (exp <= now) this.seen.delete(k);
  }
}
