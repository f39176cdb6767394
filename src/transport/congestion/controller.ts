// L2b: the congestion controller interface the loss detector drives (RFC 9002 §7, App. B), and the
// bookkeeping NewReno and CUBIC share: bytes in flight (App. B.2/B.4), initial and minimum window
// (§7.2), recovery period (§7.3.2, App. B.5 InCongestionRecovery), persistent congestion (§7.6.2),
// not growing cwnd while application limited (§7.8), HyStart++ for the initial slow start (RFC 9406).
//
// Call order per ACK frame (RFC 9002 App. A.7): onPacketAcked for every newly acknowledged in-flight
// packet, then onAckProcessed once. Losses are reported before (onPacketLost + onCongestionEvent),
// so packets sent before the recovery period began never grow the window.

import type { RttEstimator } from '../rtt.js';
import { HyStart, HyStartSignal } from './hystart.js';

export type CongestionAlgorithm = 'newreno' | 'cubic';

/** Application Data packet-number space index. */
const APP_SPACE = 2;

export interface CongestionOptions {
  /** max_datagram_size in bytes (RFC 9002 App. B.2), default 1200. */
  maxDatagramSize?: number;
  /** Initial window in packets (RFC 9002 §7.2: 10), limited to max(14720, 2·mds) bytes. */
  initialWindowPackets?: number;
  /** HyStart++ for the initial slow start (RFC 9406). Default: on for CUBIC, off for NewReno. */
  hystart?: boolean;
  /** The sender paces (RFC 9406 L = infinity); false uses L = 8. Default true. */
  paced?: boolean;
  /** CUBIC fast convergence (RFC 9438 §4.7), default true. */
  fastConvergence?: boolean;
}

export interface CongestionController {
  readonly algorithm: CongestionAlgorithm;
  /** Congestion window in bytes (floored). */
  readonly congestionWindow: number;
  /** Slow-start threshold in bytes, Infinity until the first congestion event. */
  readonly ssthresh: number;
  readonly bytesInFlight: number;
  readonly maxDatagramSize: number;
  /** kMinimumWindow = 2 · max_datagram_size (RFC 9002 §7.2). */
  readonly minimumWindow: number;
  /** Start of the current recovery period, -Infinity if none (App. B.1 congestion_recovery_start_time). */
  readonly recoveryStartTime: number;
  /** Set by the connection when it had nothing to send with window left (RFC 9002 §7.8). */
  appLimited: boolean;

  inSlowStart(): boolean;
  /** True if a packet sent at `sentTime` belongs to the current recovery period (App. B.5). */
  inRecovery(sentTime: number): boolean;
  /** bytes_in_flight + bytes ≤ cwnd. Probes (PTO) bypass this check (RFC 9002 §7.5). */
  canSend(bytes: number): boolean;
  /** cwnd − bytes_in_flight, never negative. */
  availableWindow(): number;

  /** An in-flight packet was sent (App. B.3). `pn` feeds HyStart++ rounds for space 2. */
  onPacketSent(space: number, pn: number, bytes: number, now: number): void;
  /** A newly acknowledged in-flight packet (App. B.4 OnPacketAcked, minus the growth). */
  onPacketAcked(bytes: number, timeSent: number, now: number): void;
  /** End of one ACK frame: applies window growth for the bytes acked by it. */
  onAckProcessed(space: number, largestAcked: number, rtt: RttEstimator, rttSampled: boolean, now: number): void;
  /** An in-flight packet was declared lost: removes it from flight, no reaction by itself. */
  onPacketLost(bytes: number): void;
  /** Loss or ECN-CE: enters recovery unless `sentTime` is inside the current one (App. B.6). */
  onCongestionEvent(sentTime: number, now: number): void;
  /** Collapses cwnd to the minimum window (RFC 9002 §7.6.2, App. B.8). */
  onPersistentCongestion(now: number): void;
  /** An in-flight packet discarded with its keys (App. B.9 RemoveFromBytesInFlight). */
  onPacketDiscarded(bytes: number): void;
  /** New max_datagram_size (PMTUD, RFC 9002 §7.2). */
  setMaxDatagramSize(size: number): void;
  /** Back to the initial state (Retry, RFC 9002 §6.3); bytes in flight are zeroed. */
  reset(): void;
}

/** RFC 9002 §7.2: min(packets · mds, max(14720, 2 · mds)). */
export function initialWindow(maxDatagramSize: number, packets = 10): number {
  return Math.min(packets * maxDatagramSize, Math.max(14720, 2 * maxDatagramSize));
}

function checkMds(size: number): void {
  if (!(size >= 1200) || !Number.isInteger(size) || size > 65527) {
    throw new RangeError(`maxDatagramSize must be an integer in [1200, 65527], got ${size}`);
  }
}

export abstract class CongestionControllerBase implements CongestionController {
  abstract readonly algorithm: CongestionAlgorithm;
  /** Window in bytes; fractional internally (App. B.5 congestion avoidance divides). */
  protected cwnd: number;
  protected ssthreshBytes = Infinity;
  protected inFlight = 0;
  protected mds: number;
  protected recoveryStart = -Infinity;
  protected readonly iwPackets: number;
  protected readonly hystart: HyStart | null;
  /** Bytes of in-flight packets acked by the current ACK that were sent after recovery started. */
  private ackedBytes = 0;
  /** Largest bytes in flight since the previous ACK (for the application-limited test). */
  private peakInFlight = 0;
  appLimited = false;

  constructor(opts: CongestionOptions, hystartDefault: boolean) {
    const mds = opts.maxDatagramSize ?? 1200;
    checkMds(mds);
    const iw = opts.initialWindowPackets ?? 10;
    if (!(iw >= 2) || !Number.isFinite(iw)) {
      throw new RangeError(`initialWindowPackets must be a finite number ≥ 2, got ${iw}`);
    }
    this.mds = mds;
    this.iwPackets = iw;
    this.cwnd = initialWindow(mds, iw);
    this.hystart = (opts.hystart ?? hystartDefault) ? new HyStart(opts.paced ?? true) : null;
  }

  get congestionWindow(): number {
    return Math.floor(this.cwnd);
  }
  get ssthresh(): number {
    return this.ssthreshBytes;
  }
  get bytesInFlight(): number {
    return this.inFlight;
  }
  get maxDatagramSize(): number {
    return this.mds;
  }
  get minimumWindow(): number {
    return 2 * this.mds;
  }
  get recoveryStartTime(): number {
    return this.recoveryStart;
  }
  /** The HyStart++ state, null when disabled (diagnostics and tests). */
  get hystartState(): HyStart | null {
    return this.hystart;
  }

  inSlowStart(): boolean {
    return this.cwnd < this.ssthreshBytes;
  }

  inRecovery(sentTime: number): boolean {
    return sentTime <= this.recoveryStart;
  }

  canSend(bytes: number): boolean {
    return this.inFlight + bytes <= this.cwnd;
  }

  availableWindow(): number {
    const w = Math.floor(this.cwnd) - this.inFlight;
    return w > 0 ? w : 0;
  }

  onPacketSent(space: number, pn: number, bytes: number, now: number): void {
    if (this.inFlight === 0) this.onRestartAfterIdle(now);
    this.inFlight += bytes;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    if (space === APP_SPACE && this.hystart !== null) this.hystart.onPacketSent(pn);
  }

  onPacketAcked(bytes: number, timeSent: number, _now: number): void {
    this.removeFromFlight(bytes);
    if (timeSent > this.recoveryStart) this.ackedBytes += bytes;
  }

  onAckProcessed(space: number, largestAcked: number, rtt: RttEstimator, rttSampled: boolean, now: number): void {
    const acked = this.ackedBytes;
    this.ackedBytes = 0;
    const limited = this.isCwndLimited();
    this.peakInFlight = this.inFlight;
    if (acked === 0) return;
    if (this.cwnd < this.ssthreshBytes) {
      if (!limited) return;
      this.slowStart(acked, space, largestAcked, rttSampled ? rtt.latestRtt : -1, now);
    } else {
      this.congestionAvoidance(acked, limited, rtt, now);
    }
  }

  onPacketLost(bytes: number): void {
    this.removeFromFlight(bytes);
  }

  onPacketDiscarded(bytes: number): void {
    this.removeFromFlight(bytes);
  }

  onCongestionEvent(sentTime: number, now: number): void {
    if (sentTime <= this.recoveryStart) return;
    this.recoveryStart = now;
    this.reduce(now);
  }

  onPersistentCongestion(now: number): void {
    this.cwnd = this.minimumWindow;
    this.recoveryStart = -Infinity;
    this.onCollapse(now);
  }

  setMaxDatagramSize(size: number): void {
    checkMds(size);
    const wasInitial = this.cwnd === initialWindow(this.mds, this.iwPackets);
    this.mds = size;
    if (wasInitial) this.cwnd = initialWindow(size, this.iwPackets);
    if (this.cwnd < this.minimumWindow) this.cwnd = this.minimumWindow;
  }

  reset(): void {
    this.cwnd = initialWindow(this.mds, this.iwPackets);
    this.ssthreshBytes = Infinity;
    this.inFlight = 0;
    this.recoveryStart = -Infinity;
    this.ackedBytes = 0;
    this.peakInFlight = 0;
    this.appLimited = false;
    this.hystart?.reset();
    this.onReset();
  }

  private removeFromFlight(bytes: number): void {
    this.inFlight -= bytes;
    if (this.inFlight < 0) this.inFlight = 0;
  }

  /**
   * RFC 9002 §7.8 / RFC 9438 §5.8: the window only grows while it was the limit. When the
   * connection reports it ran out of data, growth still happens if the window was (nearly) full
   * since the last ACK — within 3 datagrams, or half of it in slow start, where the window doubles.
   */
  protected isCwndLimited(): boolean {
    if (!this.appLimited) return true;
    const peak = this.peakInFlight;
    if (this.cwnd - peak <= 3 * this.mds) return true;
    return this.cwnd < this.ssthreshBytes && peak * 2 > this.cwnd;
  }

  /** Slow start (RFC 9002 §7.3.1), through HyStart++ while ssthresh is still infinite (RFC 9406 §4.3). */
  protected slowStart(acked: number, space: number, largestAcked: number, rttSample: number, now: number): void {
    const hs = this.hystart;
    if (hs === null || this.ssthreshBytes !== Infinity) {
      this.cwnd += acked;
      return;
    }
    this.cwnd += hs.cwndIncrease(acked, this.mds);
    if (space === APP_SPACE && hs.onAck(largestAcked, rttSample) === HyStartSignal.EXIT) {
      this.ssthreshBytes = this.cwnd;
      this.onSlowStartExit(now);
    }
  }

  /** Congestion avoidance growth for `acked` bytes; `limited` false = application limited. */
  protected abstract congestionAvoidance(acked: number, limited: boolean, rtt: RttEstimator, now: number): void;
  /** Multiplicative decrease on entering recovery: sets ssthresh and cwnd. */
  protected abstract reduce(now: number): void;
  /** HyStart++ left slow start without loss (ssthresh = cwnd already set). */
  protected onSlowStartExit(_now: number): void {}
  /** Persistent congestion collapsed the window (cwnd already at the minimum). */
  protected onCollapse(_now: number): void {}
  /** The first packet after bytes in flight reached zero. */
  protected onRestartAfterIdle(_now: number): void {}
  protected onReset(): void {}
}
