// L2b: CUBIC (RFC 9438) in bytes for QUIC: window increase W_cubic(t) = C·(t−K)³ + W_max (§4.2,
// t in seconds, C in segments/s³ scaled by max_datagram_size), target clamped to [cwnd, 1.5·cwnd],
// Reno-friendly region with W_est (§4.3), concave/convex growth (target−cwnd)/cwnd per acked
// segment (§4.4, §4.5), multiplicative decrease β = 0.7 (§4.6), fast convergence (§4.7), timeout /
// persistent congestion restarting with K = 0 (§4.8), HyStart++ for the initial slow start (§4.10,
// RFC 9406). The curve's time excludes application-limited periods (§5.8).
//
// The epoch (t_epoch, cwnd_epoch, K, W_est) starts lazily at the first ACK that grows the window in
// congestion avoidance, i.e. after the recovery period ends, as Linux and quiche do.

import type { RttEstimator } from '../rtt.js';
import { CongestionControllerBase, type CongestionOptions } from './controller.js';

/** RFC 9438 §4.1 constants. */
export const CUBIC_C = 0.4;
export const CUBIC_BETA = 0.7;
/** α_cubic = 3(1−β)/(1+β) (RFC 9438 §4.3). */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

export class Cubic extends CongestionControllerBase {
  readonly algorithm = 'cubic' as const;
  readonly fastConvergence: boolean;
  /** W_max in bytes; 0 = undefined (no congestion event yet / after a collapse). */
  wMax = 0;
  /** cwnd_prior in bytes: cwnd when ssthresh was last set. */
  cwndPrior = 0;
  /** K in seconds for the current epoch. */
  k = 0;
  /** t_epoch in ms, -Infinity when no congestion-avoidance epoch is running. */
  epochStart = -Infinity;
  /** cwnd_epoch in bytes. */
  cwndEpoch = 0;
  /** W_est in bytes (Reno-friendly estimate). */
  wEst = 0;
  /** Last time the epoch clock was advanced; application-limited time is skipped from here. */
  private lastCaUpdate = -Infinity;

  constructor(opts: CongestionOptions = {}) {
    super(opts, true);
    this.fastConvergence = opts.fastConvergence ?? true;
  }

  /** W_cubic(t) in bytes for t seconds into the current epoch (RFC 9438 eq. 1). */
  wCubic(tSeconds: number): number {
    const d = tSeconds - this.k;
    return CUBIC_C * d * d * d * this.mds + this.wMax;
  }

  private startEpoch(now: number): void {
    this.epochStart = now;
    this.lastCaUpdate = now;
    this.cwndEpoch = this.cwnd;
    if (this.wMax > this.cwnd) {
      // K = cbrt((W_max − cwnd_epoch) / C), in segments (RFC 9438 eq. 2).
      this.k = Math.cbrt((this.wMax - this.cwnd) / this.mds / CUBIC_C);
    } else {
      // No larger saturation point known (first epoch after HyStart++, after a timeout, or cwnd
      // already past W_max): K = 0 and W_max = cwnd_epoch (RFC 9438 §4.8, §4.10).
      this.k = 0;
      this.wMax = this.cwnd;
    }
    this.wEst = this.cwnd;
  }

  protected congestionAvoidance(acked: number, limited: boolean, rtt: RttEstimator, now: number): void {
    if (!limited) {
      // Freeze the curve while application limited (RFC 9438 §5.8).
      if (this.epochStart !== -Infinity && now > this.lastCaUpdate) {
        this.epochStart += now - this.lastCaUpdate;
        this.lastCaUpdate = now;
      }
      return;
    }
    if (this.epochStart === -Infinity) this.startEpoch(now);
    this.lastCaUpdate = now;
    const cwnd = this.cwnd;
    const t = (now - this.epochStart) / 1000;
    // target = W_cubic(t + RTT), clamped to [cwnd, 1.5·cwnd] (RFC 9438 §4.2).
    let target = this.wCubic(t + rtt.smoothedRtt / 1000);
    if (target < cwnd) target = cwnd;
    else if (target > 1.5 * cwnd) target = 1.5 * cwnd;
    // W_est grows by α·segments_acked/cwnd; α becomes 1 once W_est ≥ cwnd_prior (RFC 9438 §4.3).
    const alpha = this.wEst >= this.cwndPrior ? 1 : CUBIC_ALPHA;
    this.wEst += (alpha * this.mds * acked) / cwnd;
    if (this.wCubic(t) < this.wEst) {
      // Reno-friendly region: cwnd = W_est.
      if (this.wEst > cwnd) this.cwnd = this.wEst;
    } else {
      // Concave / convex region: (target − cwnd)/cwnd per acked segment (RFC 9438 §4.4, §4.5).
      this.cwnd = cwnd + ((target - cwnd) * acked) / cwnd;
    }
  }

  protected reduce(_now: number): void {
    // Fast convergence (RFC 9438 §4.7), then multiplicative decrease (§4.6). QUIC uses cwnd,
    // not flight size, and relies on the application-limited rule to keep cwnd honest.
    if (this.fastConvergence && this.cwnd < this.wMax) {
      this.wMax = (this.cwnd * (1 + CUBIC_BETA)) / 2;
    } else {
      this.wMax = this.cwnd;
    }
    this.cwndPrior = this.cwnd;
    this.ssthreshBytes = Math.max(this.cwnd * CUBIC_BETA, this.minimumWindow);
    this.cwnd = this.ssthreshBytes;
    this.epochStart = -Infinity;
  }

  protected override onSlowStartExit(_now: number): void {
    // RFC 9438 §4.10: leaving slow start without loss, cwnd_prior = cwnd, K = 0, W_max = cwnd.
    this.cwndPrior = this.cwnd;
    this.wMax = this.cwnd;
    this.epochStart = -Infinity;
  }

  protected override onCollapse(_now: number): void {
    // RFC 9438 §4.8: after a timeout the next epoch starts with K = 0 and W_max = its cwnd.
    this.wMax = 0;
    this.epochStart = -Infinity;
  }

  protected override onRestartAfterIdle(now: number): void {
    // Idle time is application-limited time: shift the epoch by it (RFC 9438 §5.8).
    if (this.epochStart !== -Infinity && now > this.lastCaUpdate) {
      this.epochStart += now - this.lastCaUpdate;
      this.lastCaUpdate = now;
    }
  }

  protected override onReset(): void {
    this.wMax = 0;
    this.cwndPrior = 0;
    this.k = 0;
    this.epochStart = -Infinity;
    this.cwndEpoch = 0;
    this.wEst = 0;
    this.lastCaUpdate = -Infinity;
  }
}
