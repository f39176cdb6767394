// L2b: pacing (RFC 9002 §7.7) as a token bucket: tokens (bytes) refill at
// rate = N · cwnd / smoothed_rtt with N = 1.25, up to a burst of ~10 datagrams. The pacer owns no
// timer: it answers "when may a packet of this size leave" and the connection hands that time on
// as the datagram's release time (or arms its pacing timer with it). ACK-only packets should not
// be paced (§7.7); the connection simply does not consult the pacer for them.

export interface PacerOptions {
  /** N in rate = N · cwnd / srtt (RFC 9002 §7.7), default 1.25. */
  n?: number;
  /** Bucket capacity in datagrams, default 10 (the initial window, §7.7 "limit bursts"). */
  burstPackets?: number;
}

export class Pacer {
  readonly n: number;
  readonly burstPackets: number;
  /** Bytes that may leave now (may go negative when packets were scheduled into the future). */
  private tokens: number;
  /** Time up to which tokens were credited. */
  private last = -Infinity;
  private capacity: number;

  constructor(maxDatagramSize = 1200, opts: PacerOptions = {}) {
    const n = opts.n ?? 1.25;
    const burst = opts.burstPackets ?? 10;
    if (!(n >= 1) || !Number.isFinite(n)) throw new RangeError(`n must be a finite number ≥ 1, got ${n}`);
    if (!(burst >= 1) || !Number.isFinite(burst)) {
      throw new RangeError(`burstPackets must be a finite number ≥ 1, got ${burst}`);
    }
    this.n = n;
    this.burstPackets = burst;
    this.capacity = burst * maxDatagramSize;
    this.tokens = this.capacity;
  }

  /** Bucket capacity in bytes. */
  get burstBytes(): number {
    return this.capacity;
  }

  /** Pacing rate in bytes per ms for a window and smoothed RTT (RFC 9002 §7.7). */
  rate(cwnd: number, smoothedRtt: number): number {
    const rtt = smoothedRtt > 0 ? smoothedRtt : 1e-3;
    return (this.n * cwnd) / rtt;
  }

  /** Called when max_datagram_size changes (PMTUD): the burst is kept at burstPackets datagrams. */
  setMaxDatagramSize(size: number): void {
    this.capacity = this.burstPackets * size;
    if (this.tokens > this.capacity) this.tokens = this.capacity;
  }

  private credited(now: number, rate: number): number {
    if (this.last === -Infinity || now <= this.last) return this.tokens;
    const t = this.tokens + (now - this.last) * rate;
    return t > this.capacity ? this.capacity : t;
  }

  /**
   * Earliest time ≥ now at which a packet of `bytes` may be released, given the current window
   * and smoothed RTT. Returns `now` when it may leave at once.
   */
  releaseTime(now: number, bytes: number, cwnd: number, smoothedRtt: number): number {
    const rate = this.rate(cwnd, smoothedRtt);
    const from = now > this.last ? now : this.last;
    const avail = this.credited(from, rate);
    if (avail >= bytes) return from > now ? from : now;
    return from + (bytes - avail) / rate;
  }

  /**
   * Records a paced packet leaving at `sendTime` (normally the value releaseTime returned; a
   * time in the future schedules it and puts the bucket in debt until then).
   */
  onPacketSent(sendTime: number, bytes: number, cwnd: number, smoothedRtt: number): void {
    const rate = this.rate(cwnd, smoothedRtt);
    if (sendTime > this.last || this.last === -Infinity) {
      this.tokens = this.credited(sendTime, rate);
      this.last = sendTime;
    }
    this.tokens -= bytes;
  }

  /** Refills the bucket (e.g. after an idle period or on a new path). */
  reset(): void {
    this.tokens = this.capacity;
    this.last = -Infinity;
  }
}
