// L2b: data flow control, RFC 9000 §4.1 (limits), §4.2 (increasing limits), §4.5 (final size
// counts toward connection credit). Used at both levels: one SendCredit/RecvWindow pair per stream
// (MAX_STREAM_DATA / STREAM_DATA_BLOCKED) and one pair per connection (MAX_DATA / DATA_BLOCKED).
//
// Credit is counted in offsets, not bytes: a stream consumes the highest offset received (or its
// final size), a connection the sum of those over all streams (RFC 9000 §4.1, §19.10).
//
// Receive-window auto-tuning (after quinn/quic-go/quiche): each time we are about to advertise more
// credit we look at how fast the application consumed data since the last adjustment; when it
// would drain a whole window in less than two round trips, the window doubles up to `maxWindow`.
// `now` (ms) and the RTT are inputs — this module reads no clock.

/** The peer's limit on what we send (one stream, or the connection). */
export class SendCredit {
  /** Largest limit received (initial_max_* transport parameter, MAX_DATA / MAX_STREAM_DATA). */
  limit: number;
  /** Credit consumed: highest offset sent (stream) or the sum of those (connection). */
  used = 0;
  /** A *_BLOCKED frame should be sent (for `blockedAt`). */
  blockedPending = false;
  /** The limit for which the last *_BLOCKED was queued; -1 when none. */
  blockedAt = -1;

  constructor(limit = 0) {
    this.limit = limit;
  }

  get available(): number {
    const a = this.limit - this.used;
    return a > 0 ? a : 0;
  }

  /** Apply a new limit from the peer; limits that do not increase are ignored (RFC 9000 §4.1). */
  update(max: number): boolean {
    if (max <= this.limit) return false;
    this.limit = max;
    this.blockedPending = false;
    return true;
  }

  consume(n: number): void {
    this.used += n;
  }

  /**
   * The sender has data it cannot send because of this limit. Returns true (and sets
   * blockedPending) the first time for the current limit: one *_BLOCKED frame per limit value.
   */
  markBlocked(): boolean {
    if (this.used < this.limit || this.blockedAt === this.limit) return false;
    this.blockedAt = this.limit;
    this.blockedPending = true;
    return true;
  }

  /** Value for the *_BLOCKED frame being sent; clears the pending flag. */
  takeBlocked(): number {
    this.blockedPending = false;
    return this.blockedAt;
  }

  /** A *_BLOCKED frame for `limit` was lost: resend while still blocked at that limit. */
  onBlockedLost(limit: number): boolean {
    if (limit !== this.limit || this.used < this.limit) return false;
    this.blockedPending = true;
    return true;
  }
}

export interface RecvWindowOptions {
  /** Initial window (our initial_max_data / initial_max_stream_data_*). */
  window: number;
  /** Auto-tuning cap; equal to `window` disables growth. */
  maxWindow?: number;
  /**
   * Fraction of the window the application must consume before more credit is advertised
   * (default 0.25: the peer keeps ≥ 3/4 of a window of credit, like quic-go).
   */
  updateFraction?: number;
}

/** Our limit on what the peer sends (one stream, or the connection). */
export class RecvWindow {
  /** Limit advertised to the peer (the last MAX_* value sent, or the transport parameter). */
  maxData: number;
  /** Current window size: the next advertisement is `consumed + window`. */
  window: number;
  readonly maxWindow: number;
  /** Credit used by the peer: highest offset received (stream) or the sum (connection). */
  received = 0;
  /** Credit returned: bytes read by the application or discarded (reset, STOP_SENDING). */
  consumed = 0;
  private readonly threshold: number;
  private epochTime = -1;
  private epochConsumed = 0;

  constructor(opts: RecvWindowOptions) {
    if (!(opts.window >= 0)) throw new RangeError('window must be ≥ 0');
    this.window = opts.window;
    this.maxData = opts.window;
    this.maxWindow = Math.max(opts.window, opts.maxWindow ?? opts.window);
    const f = opts.updateFraction ?? 0.25;
    if (!(f > 0 && f <= 1)) throw new RangeError('updateFraction must be in (0, 1]');
    this.threshold = f;
  }

  /**
   * The peer used `delta` more credit. Returns false when that exceeds the advertised limit
   * (the caller throws FLOW_CONTROL_ERROR with its frame type).
   */
  addReceived(delta: number): boolean {
    this.received += delta;
    return this.received <= this.maxData;
  }

  /** `n` bytes were delivered to the application or discarded. */
  onConsumed(n: number): void {
    this.consumed += n;
  }

  /** Enough of the window has been consumed to justify a MAX_* frame. */
  shouldUpdate(): boolean {
    return this.maxData - this.consumed <= this.window * (1 - this.threshold) && this.consumed + this.window > this.maxData;
  }

  /**
   * Auto-tune the window, then raise the advertised limit to `consumed + window`. Returns the new
   * limit to put in MAX_DATA / MAX_STREAM_DATA (never smaller than the previous one).
   * `rtt` is the smoothed RTT in ms (0 when unknown: no tuning).
   */
  update(now: number, rtt: number): number {
    const w = this.tunedWindow(now, rtt);
    if (this.epochTime < 0 || !(rtt > 0) || w !== this.window || this.consumed - this.epochConsumed >= this.window / 2) {
      // Start a new measurement epoch (first update, no RTT, or a judgement was made).
      this.epochTime = now;
      this.epochConsumed = this.consumed;
    }
    this.window = w;
    const next = this.consumed + w;
    if (next > this.maxData) this.maxData = next;
    return this.maxData;
  }

  /** The value update(now, rtt) would return, without changing anything (for frame sizing). */
  peekUpdate(now: number, rtt: number): number {
    const next = this.consumed + this.tunedWindow(now, rtt);
    return next > this.maxData ? next : this.maxData;
  }

  /** Grow the window to at least `min` (capped at maxWindow), e.g. connection ≥ 1.5 × stream. */
  ensureWindow(min: number): boolean {
    const w = Math.min(min, this.maxWindow);
    if (w <= this.window) return false;
    this.window = w;
    return true;
  }

  /** Window after auto-tuning: doubled when a window would drain in under 2 RTT. */
  private tunedWindow(now: number, rtt: number): number {
    if (this.window >= this.maxWindow || this.epochTime < 0 || !(rtt > 0)) return this.window;
    const inEpoch = this.consumed - this.epochConsumed;
    if (inEpoch < this.window / 2) return this.window; // not enough data to judge yet
    const elapsed = now - this.epochTime;
    // Rate inEpoch/elapsed drains a window in window·elapsed/inEpoch ms: grow if that is < 2 RTT.
    if (elapsed * this.window < 2 * rtt * inEpoch) return Math.min(this.window * 2, this.maxWindow);
    return this.window;
  }
}
