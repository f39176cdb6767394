// L2b: NewReno congestion control as specified for QUIC (RFC 9002 §7.3, App. B.5/B.6): slow start
// adds the acknowledged bytes, congestion avoidance adds one max_datagram_size per window
// acknowledged, a congestion event halves the window (kLossReductionFactor 0.5) once per recovery
// period. HyStart++ (RFC 9406) is optional here (off by default).

import type { RttEstimator } from '../rtt.js';
import { CongestionControllerBase, type CongestionOptions } from './controller.js';

/** kLossReductionFactor (RFC 9002 App. B.1). */
export const LOSS_REDUCTION_FACTOR = 0.5;

export class NewReno extends CongestionControllerBase {
  readonly algorithm = 'newreno' as const;

  constructor(opts: CongestionOptions = {}) {
    super(opts, false);
  }

  protected congestionAvoidance(acked: number, limited: boolean, _rtt: RttEstimator, _now: number): void {
    if (!limited) return;
    this.cwnd += (this.mds * acked) / this.cwnd;
  }

  protected reduce(_now: number): void {
    this.ssthreshBytes = this.cwnd * LOSS_REDUCTION_FACTOR;
    this.cwnd = Math.max(this.ssthreshBytes, this.minimumWindow);
  }
}
