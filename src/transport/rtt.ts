// L2b: RTT estimation (RFC 9002 §5: latest_rtt §5.1, min_rtt §5.2, smoothed_rtt/rttvar §5.3,
// App. A.7 UpdateRtt) and the derived PTO / persistent-congestion durations (§6.2.1, §7.6.1).
// All times are milliseconds as `number` (fractions allowed); no clock is read here.

/** kInitialRtt (RFC 9002 §6.2.2): 333 ms when no previous RTT is known. */
export const INITIAL_RTT = 333;
/** kGranularity (RFC 9002 §6.1.2): 1 ms timer granularity. */
export const GRANULARITY = 1;

export class RttEstimator {
  /** Most recent RTT sample, 0 before the first one (RFC 9002 §5.1). */
  latestRtt = 0;
  /** Exponentially weighted moving average (RFC 9002 §5.3). */
  smoothedRtt: number;
  /** Mean deviation (RFC 9002 §5.3). */
  rttvar: number;
  /** Minimum RTT observed, ignoring ack delay; 0 before the first sample (RFC 9002 §5.2). */
  minRtt = 0;
  /** Time the first RTT sample was taken, -Infinity before it (App. A.3 first_rtt_sample). */
  firstSampleTime = -Infinity;
  /** Number of samples taken since the last reset. */
  samples = 0;
  private initialRtt: number;

  constructor(initialRtt = INITIAL_RTT) {
    if (!(initialRtt > 0) || !Number.isFinite(initialRtt)) {
      throw new RangeError(`initialRtt must be a positive finite number of ms, got ${initialRtt}`);
    }
    this.initialRtt = initialRtt;
    this.smoothedRtt = initialRtt;
    this.rttvar = initialRtt / 2;
  }

  /** True once an RTT sample was taken since construction or the last reset. */
  get hasSample(): boolean {
    return this.samples > 0;
  }

  /**
   * Re-initialises the estimator (RFC 9002 §5.3, RFC 9000 §9.4 new path): smoothed_rtt = initialRtt,
   * rttvar = initialRtt/2 and no sample history. `initialRtt` may be e.g. a PATH_CHALLENGE round trip.
   */
  reset(initialRtt = this.initialRtt): void {
    if (!(initialRtt > 0) || !Number.isFinite(initialRtt)) {
      throw new RangeError(`initialRtt must be a positive finite number of ms, got ${initialRtt}`);
    }
    this.initialRtt = initialRtt;
    this.latestRtt = 0;
    this.smoothedRtt = initialRtt;
    this.rttvar = initialRtt / 2;
    this.minRtt = 0;
    this.firstSampleTime = -Infinity;
    this.samples = 0;
  }

  /**
   * Feeds one RTT sample (RFC 9002 App. A.7 UpdateRtt).
   * @param latestRtt ack_time − send time of the largest newly acknowledged packet.
   * @param ackDelay decoded ACK Delay in ms (pass 0 for Initial-space ACKs, RFC 9002 §5.3).
   * @param handshakeConfirmed when true the ack delay is capped at maxAckDelay (RFC 9002 §5.3).
   * @param maxAckDelay the peer's max_ack_delay transport parameter in ms.
   * @param now the time of the sample, recorded as first_rtt_sample for the first one.
   */
  update(latestRtt: number, ackDelay: number, handshakeConfirmed: boolean, maxAckDelay: number, now: number): void {
    // A sample can be ≤ 0 only with a misbehaving clock; clamp so the estimator stays positive.
    const sample = latestRtt > 0 ? latestRtt : 0;
    this.latestRtt = sample;
    this.samples++;
    if (this.samples === 1) {
      this.minRtt = sample;
      this.smoothedRtt = sample;
      this.rttvar = sample / 2;
      this.firstSampleTime = now;
      return;
    }
    // min_rtt ignores acknowledgment delay (§5.2).
    if (sample < this.minRtt) this.minRtt = sample;
    let delay = ackDelay > 0 ? ackDelay : 0;
    if (handshakeConfirmed && delay > maxAckDelay) delay = maxAckDelay;
    // Subtract the ack delay only if the result stays ≥ min_rtt (§5.3).
    const adjusted = sample >= this.minRtt + delay ? sample - delay : sample;
    this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.smoothedRtt - adjusted);
    this.smoothedRtt = 0.875 * this.smoothedRtt + 0.125 * adjusted;
  }

  /**
   * After persistent congestion, min_rtt SHOULD be set to the newest sample (RFC 9002 §5.2).
   */
  onPersistentCongestion(): void {
    if (this.samples > 0) this.minRtt = this.latestRtt;
  }

  /** smoothed_rtt + max(4·rttvar, kGranularity): the PTO period without max_ack_delay (RFC 9002 §6.2.1). */
  ptoBase(): number {
    return this.smoothedRtt + Math.max(4 * this.rttvar, GRANULARITY);
  }

  /** The PTO period for a space; pass maxAckDelay = 0 for Initial and Handshake (RFC 9002 §6.2.1). */
  pto(maxAckDelay: number): number {
    return this.ptoBase() + maxAckDelay;
  }

  /**
   * Persistent congestion duration (RFC 9002 §7.6.1): (PTO incl. max_ack_delay) × threshold,
   * max_ack_delay included irrespective of the space.
   */
  persistentCongestionDuration(maxAckDelay: number, threshold = 3): number {
    return (this.ptoBase() + maxAckDelay) * threshold;
  }
}
