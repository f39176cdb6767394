// L2b: QUIC loss detection (RFC 9002 §6 and App. A): per-space sent packets, ACK processing
// (App. A.7 OnAckReceived) with RTT samples (§5), ECN (RFC 9000 §13.4.2, App. B.7), packet- and
// time-threshold loss (§6.1, App. A.10), the probe timeout with backoff and per-space selection
// (§6.2.1, App. A.8), the handshake rules (§6.2.2: no App-space PTO before confirmation, the client's
// anti-deadlock PTO without ack-eliciting packets in flight, the amplification-blocked server),
// key discard (§6.4, App. A.11), Retry (§6.3), persistent congestion (§7.6, App. B.8), and drives
// the congestion controller (App. B). Sans-IO: `now` (ms) is always passed in.
//
// The connection calls:
//   onPacketSent(space, info, now)             every packet sent (ACK-only ones too)
//   onAckReceived(space, ranges, ackDelay, now, ecn?) → AckResult   every ACK frame
//   getLossDetectionTimer()                     absolute ms, Infinity = none
//   onLossDetectionTimeout(now) → TimeoutResult when that time has come
//   discardSpace(space, now)                    Initial / Handshake keys discarded
//   onHandshakeKeysAvailable / onHandshakeConfirmed / onPeerAddressValidated / setAmplificationLimited
// Results are reused objects: read them before the next call.

import { TransportError, TransportErrorCode } from '../codec/errors.js';
import type { CongestionAlgorithm, CongestionController, CongestionOptions } from './congestion/controller.js';
import { Cubic } from './congestion/cubic.js';
import { NewReno } from './congestion/new-reno.js';
import { EcnSignal, EcnValidator, type EcnCounts } from './ecn.js';
import { GRANULARITY, RttEstimator } from './rtt.js';
import { PacketList, SentFlags, SentPackets, sentFlagsOf, type SentPacketInfo } from './sent-packets.js';

/** Packet-number spaces (RFC 9000 §12.3) as indices. */
export const PacketNumberSpace = {
  INITIAL: 0,
  HANDSHAKE: 1,
  APPLICATION_DATA: 2,
} as const;

/** RFC 9002 App. A.2 / B.1 constants. */
export const PACKET_THRESHOLD = 3;
export const TIME_THRESHOLD = 9 / 8;
export const PERSISTENT_CONGESTION_THRESHOLD = 3;
/** Default max_ack_delay transport parameter (RFC 9000 §18.2): 25 ms. */
export const DEFAULT_MAX_ACK_DELAY = 25;

const ACK_FRAME = 0x02;

export interface LossDetectionOptions {
  isServer: boolean;
  /** 'cubic' (default), 'newreno', or a controller instance. */
  congestionControl?: CongestionAlgorithm | CongestionController;
  /** Options for the controller built from a name. */
  congestion?: CongestionOptions;
  /** kInitialRtt in ms (RFC 9002 §6.2.2), default 333. */
  initialRtt?: number;
  /** The peer's max_ack_delay in ms until setMaxAckDelay is called, default 25. */
  maxAckDelay?: number;
  /** kPacketThreshold, default 3 (RFC 9002 §6.1.1; values below 3 SHOULD NOT be used). */
  packetThreshold?: number;
  /** kTimeThreshold, default 9/8 (RFC 9002 §6.1.2). */
  timeThreshold?: number;
  /** kPersistentCongestionThreshold, default 3 (RFC 9002 §7.6.1). */
  persistentCongestionThreshold?: number;
  /** The I/O layer can mark ECT(0) (Node's dgram cannot): default false. */
  ecnMarking?: boolean;
}

/** Builds a controller by name (RFC 9002 NewReno or RFC 9438 CUBIC). */
export function createCongestionController(
  algorithm: CongestionAlgorithm = 'cubic',
  opts: CongestionOptions = {},
): CongestionController {
  switch (algorithm) {
    case 'cubic':
      return new Cubic(opts);
    case 'newreno':
      return new NewReno(opts);
    default:
      throw new TypeError(`congestionControl must be 'cubic' or 'newreno', got ${String(algorithm)}`);
  }
}

/** What one ACK frame did. Reused: valid until the next onAckReceived. */
export class AckResult {
  /** Newly acknowledged packets, with the tokens the connection attached. */
  readonly acked = new PacketList();
  /** Packets declared lost while processing this ACK (their tokens: data to re-queue). */
  readonly lost = new PacketList();
  /** An RTT sample was taken (RFC 9002 §5.1). */
  rttUpdated = false;
  /** The ACK newly acknowledged at least one ack-eliciting packet. */
  ackElicitingAcked = false;
  /** A new recovery period started (loss or ECN-CE). */
  congestionEvent = false;
  /** The validated ECN-CE count increased. */
  ecnCe = false;
  /** Persistent congestion was declared (RFC 9002 §7.6). */
  persistentCongestion = false;
  /** Packets acknowledged after having been declared lost (spurious retransmissions). */
  spuriousLosses = 0;
  /** The space was already discarded: the ACK was ignored. */
  ignored = false;

  reset(): void {
    this.acked.clear();
    this.lost.clear();
    this.rttUpdated = false;
    this.ackElicitingAcked = false;
    this.congestionEvent = false;
    this.ecnCe = false;
    this.persistentCongestion = false;
    this.spuriousLosses = 0;
    this.ignored = false;
  }
}

/** What a loss-detection timeout asks for (App. A.9 OnLossDetectionTimeout). */
export const TimeoutKind = {
  /** The timer had not expired or was not set: nothing to do. */
  NONE: 0,
  /** Time-threshold loss: `lost` holds the packets to re-queue. */
  LOSS: 1,
  /** PTO: send `probes` ack-eliciting packets in `space`, bypassing the congestion window. */
  PTO: 2,
} as const;

export class TimeoutResult {
  kind: number = TimeoutKind.NONE;
  space = 0;
  /** Ack-eliciting datagrams to send (RFC 9002 §6.2.4: one or two). */
  probes = 0;
  /**
   * Client anti-deadlock probe (RFC 9002 §6.2.2.1): no ack-eliciting packet in flight; send a
   * Handshake packet if `space` is Handshake, else an Initial in a datagram padded to ≥ 1200 bytes.
   */
  antiDeadlock = false;
  readonly lost = new PacketList();
  congestionEvent = false;
  persistentCongestion = false;

  reset(): void {
    this.kind = TimeoutKind.NONE;
    this.space = 0;
    this.probes = 0;
    this.antiDeadlock = false;
    this.lost.clear();
    this.congestionEvent = false;
    this.persistentCongestion = false;
  }
}

export interface RecoveryStats {
  packetsSent: number;
  bytesSent: number;
  packetsLost: number;
  bytesLost: number;
  spuriousLosses: number;
  ptoCount: number;
  congestionEvents: number;
  persistentCongestions: number;
  ecnCeEvents: number;
}

function checkSpace(space: number): void {
  if (space !== 0 && space !== 1 && space !== 2) {
    throw new RangeError(`space must be 0 (Initial), 1 (Handshake) or 2 (Application Data), got ${space}`);
  }
}

function checkTime(now: number): void {
  if (typeof now !== 'number' || Number.isNaN(now)) throw new TypeError(`now must be a number, got ${now}`);
}

export class LossDetection {
  readonly isServer: boolean;
  readonly rtt: RttEstimator;
  readonly cc: CongestionController;
  readonly ecn: EcnValidator;
  readonly stats: RecoveryStats = {
    packetsSent: 0,
    bytesSent: 0,
    packetsLost: 0,
    bytesLost: 0,
    spuriousLosses: 0,
    ptoCount: 0,
    congestionEvents: 0,
    persistentCongestions: 0,
    ecnCeEvents: 0,
  };
  readonly packetThreshold: number;
  readonly timeThreshold: number;
  readonly persistentCongestionThreshold: number;

  private readonly spaces: [SentPackets, SentPackets, SentPackets];
  private readonly discarded = [false, false, false];
  private readonly largestAcked = [-1, -1, -1];
  private readonly lossTime = [Infinity, Infinity, Infinity];
  private readonly lastAckElicitingTime = [-Infinity, -Infinity, -Infinity];
  /** Recently skipped packet numbers per space (optimistic-ACK defence, RFC 9000 §21.4). */
  private readonly skipped: [number[], number[], number[]] = [[], [], []];
  private maxAckDelayMs: number;
  private ptoCountValue = 0;
  private timer = Infinity;
  private handshakeConfirmed = false;
  private handshakeKeys = false;
  private handshakeAckReceived = false;
  private addressValidatedByPeer = false;
  private amplificationLimited = false;
  private readonly ackResult = new AckResult();
  private readonly timeoutResult = new TimeoutResult();

  constructor(opts: LossDetectionOptions) {
    if (typeof opts !== 'object' || opts === null || typeof opts.isServer !== 'boolean') {
      throw new TypeError('opts.isServer must be a boolean');
    }
    this.isServer = opts.isServer;
    this.rtt = new RttEstimator(opts.initialRtt);
    const cc = opts.congestionControl ?? 'cubic';
    this.cc = typeof cc === 'string' ? createCongestionController(cc, opts.congestion) : cc;
    this.ecn = new EcnValidator(opts.ecnMarking ?? false);
    this.maxAckDelayMs = opts.maxAckDelay ?? DEFAULT_MAX_ACK_DELAY;
    this.packetThreshold = opts.packetThreshold ?? PACKET_THRESHOLD;
    this.timeThreshold = opts.timeThreshold ?? TIME_THRESHOLD;
    this.persistentCongestionThreshold = opts.persistentCongestionThreshold ?? PERSISTENT_CONGESTION_THRESHOLD;
    if (!(this.maxAckDelayMs >= 0)) throw new RangeError(`maxAckDelay must be ≥ 0, got ${this.maxAckDelayMs}`);
    if (!(this.packetThreshold >= 1)) throw new RangeError(`packetThreshold must be ≥ 1, got ${this.packetThreshold}`);
    if (!(this.timeThreshold >= 1)) throw new RangeError(`timeThreshold must be ≥ 1, got ${this.timeThreshold}`);
    if (!(this.persistentCongestionThreshold > 0)) {
      throw new RangeError(`persistentCongestionThreshold must be > 0, got ${this.persistentCongestionThreshold}`);
    }
    this.spaces = [new SentPackets(16), new SentPackets(16), new SentPackets(256)];
  }

  // ---- state the connection reports ----

  /** The peer's max_ack_delay transport parameter in ms (RFC 9000 §18.2). */
  setMaxAckDelay(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`maxAckDelay must be a finite number ≥ 0, got ${ms}`);
    this.maxAckDelayMs = ms;
  }

  get maxAckDelay(): number {
    return this.maxAckDelayMs;
  }

  /** Handshake keys installed (the client's anti-deadlock PTO then probes with Handshake packets). */
  onHandshakeKeysAvailable(now: number): void {
    this.handshakeKeys = true;
    this.setLossDetectionTimer(now);
  }

  /** Handshake confirmed (RFC 9001 §4.1.2): App-space PTO allowed, ack delay capped. */
  onHandshakeConfirmed(now: number): void {
    this.handshakeConfirmed = true;
    this.setLossDetectionTimer(now);
  }

  get isHandshakeConfirmed(): boolean {
    return this.handshakeConfirmed;
  }

  /**
   * Client: the server has validated our address (RFC 9002 App. A.9 PeerCompletedAddressValidation).
   * Also inferred from any acknowledged Handshake packet or handshake confirmation.
   */
  onPeerAddressValidated(now: number): void {
    this.addressValidatedByPeer = true;
    this.setLossDetectionTimer(now);
  }

  /**
   * Server: whether the anti-amplification limit currently blocks sending (RFC 9000 §8.1). While
   * blocked no PTO is armed (RFC 9002 §6.2.2.1). After unblocking, if getLossDetectionTimer() ≤ now
   * the connection runs onLossDetectionTimeout at once (App. A.6 OnDatagramReceived).
   */
  setAmplificationLimited(limited: boolean, now: number): void {
    if (this.amplificationLimited === limited) return;
    this.amplificationLimited = limited;
    this.setLossDetectionTimer(now);
  }

  /** RFC 9002 App. A.9 PeerCompletedAddressValidation. */
  peerCompletedAddressValidation(): boolean {
    return this.isServer || this.handshakeAckReceived || this.handshakeConfirmed || this.addressValidatedByPeer;
  }

  // ---- queries ----

  get ptoCount(): number {
    return this.ptoCountValue;
  }
  get bytesInFlight(): number {
    return this.cc.bytesInFlight;
  }
  get congestionWindow(): number {
    return this.cc.congestionWindow;
  }
  /** Absolute time the loss detection timer fires, Infinity when unset. */
  getLossDetectionTimer(): number {
    return this.timer;
  }
  largestAckedIn(space: number): number {
    return this.largestAcked[space]!;
  }
  largestSentIn(space: number): number {
    return this.spaces[space]!.largestSent;
  }
  hasAckElicitingInFlight(space: number): boolean {
    return this.spaces[space]!.ackElicitingInFlight > 0;
  }
  /**
   * The tokens of up to `max` outstanding ack-eliciting packets of `space`, oldest first, into
   * `out` (cleared first); returns how many. For PTO probes that re-send the oldest unacknowledged
   * data (RFC 9002 §6.2.4) without the connection keeping its own in-flight set.
   */
  outstandingTokens(space: number, out: unknown[], max = Infinity): number {
    const sp = this.spaces[space]!;
    out.length = 0;
    for (let i = sp.firstOutstanding(); i < sp.length && out.length < max; i++) {
      if ((sp.flagsAt(i) & (SentFlags.ACK_ELICITING | SentFlags.ACKED | SentFlags.LOST)) === SentFlags.ACK_ELICITING) out.push(sp.tokenAt(i));
    }
    return out.length;
  }
  /** Packets of the space neither acknowledged nor lost. */
  outstandingIn(space: number): number {
    return this.spaces[space]!.outstanding;
  }
  isDiscarded(space: number): boolean {
    return this.discarded[space]!;
  }
  /**
   * The current PTO period without backoff, max_ack_delay included (RFC 9000 §10.2 closing and
   * draining periods, §10.1 idle timeout floor use 3 × this).
   */
  ptoPeriod(): number {
    return this.rtt.pto(this.maxAckDelayMs);
  }

  // ---- sending ----

  /**
   * Records a sent packet (RFC 9002 App. A.5). Call for every packet, ACK-only included
   * (inFlight false). The info object may be reused by the caller.
   */
  onPacketSent(space: number, info: SentPacketInfo, now: number): void {
    checkSpace(space);
    checkTime(now);
    if (this.discarded[space]) throw new RangeError(`space ${space} was discarded; no packet can be sent in it`);
    const flags = sentFlagsOf(info);
    this.spaces[space]!.push(info.pn, now, info.size, flags, info.token);
    this.stats.packetsSent++;
    this.stats.bytesSent += info.size;
    if (info.ecn) this.ecn.onPacketSent(space, info.ecn);
    if (flags & SentFlags.IN_FLIGHT) {
      if (flags & SentFlags.ACK_ELICITING) this.lastAckElicitingTime[space] = now;
      this.cc.onPacketSent(space, info.pn, info.size, now);
      this.setLossDetectionTimer(now);
    }
  }

  /**
   * The connection skipped `pn` on purpose (RFC 9000 §21.4 optimistic-ACK defence). An ACK
   * covering it is a PROTOCOL_VIOLATION. The last 8 skipped numbers per space are remembered.
   */
  onPacketNumberSkipped(space: number, pn: number): void {
    checkSpace(space);
    const st = this.spaces[space]!;
    if (!(pn > st.largestSent) || !Number.isInteger(pn)) {
      throw new RangeError(`skipped pn must be an integer above the largest sent (${st.largestSent}), got ${pn}`);
    }
    st.skip(pn);
    const list = this.skipped[space]!;
    if (list.length >= 8) list.shift();
    list.push(pn);
  }

  // ---- acknowledgments ----

  /**
   * Processes one ACK frame (RFC 9002 App. A.7).
   * @param ranges acknowledged ranges as flat [smallest, largest] pairs, highest range first,
   *   ranges disjoint and descending (what the ACK frame's gaps encode).
   * @param ackDelay the decoded ACK Delay in ms (ack_delay_exponent applied).
   * @param ecn the ECN counts of an ACK_ECN frame (type 0x03), or null/undefined.
   * @param rangeCount pairs to read from `ranges` (default: all of it), so the frame codec's
   *   reused array can be passed as is (AckFrame.ranges / AckFrame.rangeCount).
   * @throws TransportError PROTOCOL_VIOLATION when a range acknowledges a packet never sent or a
   *   skipped packet number (RFC 9000 §13.1); FRAME_ENCODING_ERROR for malformed ranges.
   */
  onAckReceived(
    space: number,
    ranges: ArrayLike<number>,
    ackDelay: number,
    now: number,
    ecn?: EcnCounts | null,
    rangeCount?: number,
  ): AckResult {
    checkSpace(space);
    checkTime(now);
    const r = this.ackResult;
    r.reset();
    const n = rangeCount === undefined ? ranges.length : 2 * rangeCount;
    if (n < 2 || (n & 1) !== 0 || n > ranges.length) {
      throw new TypeError(`ranges must hold [smallest, largest] pairs (${n / 2} of ${ranges.length / 2})`);
    }
    let prevSmallest = Infinity;
    for (let i = 0; i < n; i += 2) {
      const lo = ranges[i]!;
      const hi = ranges[i + 1]!;
      if (!(lo >= 0) || !(hi >= lo) || !(hi < prevSmallest - 1)) {
        throw new TransportError(TransportErrorCode.FRAME_ENCODING_ERROR, 'malformed ACK ranges', ACK_FRAME);
      }
      prevSmallest = lo;
    }
    if (this.discarded[space]) {
      r.ignored = true;
      return r;
    }
    const st = this.spaces[space]!;
    const largest = ranges[1]!;
    if (largest > st.largestSent) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, `ACK of unsent packet ${largest}`, ACK_FRAME);
    }
    const skipped = this.skipped[space]!;
    for (let k = 0; k < skipped.length; k++) {
      const pn = skipped[k]!;
      for (let i = 0; i < n; i += 2) {
        if (pn >= ranges[i]! && pn <= ranges[i + 1]!) {
          throw new TransportError(
            TransportErrorCode.PROTOCOL_VIOLATION,
            `ACK of skipped packet number ${pn}`,
            ACK_FRAME,
          );
        }
      }
    }
    const prevLargest = this.largestAcked[space]!;
    if (largest > prevLargest) this.largestAcked[space] = largest;

    // DetectAndRemoveAckedPackets: mark, collect (tokens go to the caller).
    const acked = r.acked;
    let largestNewlyAckedTime = -1;
    let ackEliciting = false;
    let ect0 = 0;
    let ect1 = 0;
    for (let i = 0; i < n; i += 2) {
      const lo = ranges[i]!;
      const hi = ranges[i + 1]!;
      for (let j = st.lowerBound(lo); j < st.length; j++) {
        const pn = st.pnAt(j);
        if (pn > hi) break;
        const f = st.flagsAt(j);
        if ((f & (SentFlags.ACKED | SentFlags.LOST)) === 0) {
          const t = st.timeSentAt(j);
          acked.push(space, pn, st.sizeAt(j), t, f, st.tokenAt(j));
          st.markAcked(j);
          if (pn === largest) largestNewlyAckedTime = t;
          if (f & SentFlags.ACK_ELICITING) ackEliciting = true;
          if (f & SentFlags.ECT0) ect0++;
          else if (f & SentFlags.ECT1) ect1++;
        } else if (f & SentFlags.LOST) {
          // Acknowledged after being declared lost (RFC 9002 §6.1, RFC 9000 §13.3).
          st.markLostAsAcked(j);
          r.spuriousLosses++;
        }
      }
    }
    this.stats.spuriousLosses += r.spuriousLosses;
    if (acked.length === 0) {
      st.compact(this.lostHorizon(now));
      return r;
    }
    r.ackElicitingAcked = ackEliciting;

    // Client: any acknowledged Handshake packet shows the server validated our address.
    if (space === PacketNumberSpace.HANDSHAKE && !this.isServer) this.handshakeAckReceived = true;

    // RTT sample: the largest acknowledged is newly acknowledged and something ack-eliciting was
    // (RFC 9002 §5.1). Initial-space ack delays are ignored (§5.3).
    if (largestNewlyAckedTime >= 0 && ackEliciting) {
      this.rtt.update(
        now - largestNewlyAckedTime,
        space === PacketNumberSpace.INITIAL ? 0 : ackDelay,
        this.handshakeConfirmed,
        this.maxAckDelayMs,
        now,
      );
      r.rttUpdated = true;
    }

    // ECN (RFC 9000 §13.4.2.1: validate only ACKs that advance the largest acknowledged).
    if (largest > prevLargest) {
      const sig = this.ecn.onAck(space, ect0, ect1, ecn ?? null);
      if (sig === EcnSignal.CONGESTION && largestNewlyAckedTime >= 0) {
        r.ecnCe = true;
        this.stats.ecnCeEvents++;
        if (this.congestionEvent(largestNewlyAckedTime, now)) r.congestionEvent = true;
      }
    }

    r.persistentCongestion = this.detectAndRemoveLostPackets(space, now, r.lost);
    if (this.onPacketsLost(r.lost, r.persistentCongestion, now)) r.congestionEvent = true;

    // OnPacketsAcked (App. B.4).
    for (let i = 0; i < acked.length; i++) {
      if (acked.flags[i]! & SentFlags.IN_FLIGHT) this.cc.onPacketAcked(acked.size[i]!, acked.timeSent[i]!, now);
    }
    this.cc.onAckProcessed(space, largest, this.rtt, r.rttUpdated, now);
    // Reset the PTO backoff unless the client is unsure the server validated its address (§6.2.1).
    if (this.peerCompletedAddressValidation()) this.ptoCountValue = 0;
    st.compact(this.lostHorizon(now));
    this.setLossDetectionTimer(now);
    return r;
  }

  // ---- loss ----

  /** Lost packets sent after this time are remembered to detect spurious losses (3 PTOs). */
  private lostHorizon(now: number): number {
    return now - 3 * this.ptoPeriod();
  }

  /**
   * RFC 9002 App. A.10 DetectAndRemoveLostPackets, appending to `out`. Also evaluates persistent
   * congestion (§7.6.2) over the same walk: a run of lost ack-eliciting packets sent after the
   * first RTT sample, with no acknowledged packet between them, spanning more than the persistent
   * congestion duration. PMTU probes are not part of a run. Returns whether it was established.
   */
  private detectAndRemoveLostPackets(space: number, now: number, out: PacketList): boolean {
    const largest = this.largestAcked[space]!;
    this.lossTime[space] = Infinity;
    if (largest < 0) return false;
    const rtt = this.rtt;
    let lossDelay = this.timeThreshold * Math.max(rtt.latestRtt, rtt.smoothedRtt);
    if (lossDelay < GRANULARITY) lossDelay = GRANULARITY;
    const st = this.spaces[space]!;
    const pcEnabled = rtt.hasSample;
    const pcDuration = pcEnabled ? rtt.persistentCongestionDuration(this.maxAckDelayMs, this.persistentCongestionThreshold) : 0;
    const firstSample = rtt.firstSampleTime;
    let runStart = -Infinity;
    let pc = false;
    let lossTime = Infinity;
    // Slots before the oldest outstanding one are all acknowledged or already lost: skipping them
    // leaves the persistent-congestion run where it would be after them (runStart = -Infinity).
    for (let j = st.firstOutstanding(); j < st.length; j++) {
      const pn = st.pnAt(j);
      if (pn > largest) break;
      const f = st.flagsAt(j);
      if (f & SentFlags.ACKED) {
        runStart = -Infinity; // an acknowledged packet between breaks the run
        continue;
      }
      if (f & SentFlags.LOST) continue;
      const t = st.timeSentAt(j);
      // Compared as t + delay ≤ now (not t ≤ now − delay) so that a timer set to t + delay
      // finds the packet lost at exactly that time despite floating-point rounding.
      if (t + lossDelay <= now || largest >= pn + this.packetThreshold) {
        out.push(space, pn, st.sizeAt(j), t, f, st.tokenAt(j));
        st.markLost(j);
        if (
          pcEnabled &&
          (f & (SentFlags.ACK_ELICITING | SentFlags.PMTU_PROBE)) === SentFlags.ACK_ELICITING &&
          t > firstSample
        ) {
          if (runStart === -Infinity) runStart = t;
          else if (t - runStart > pcDuration) pc = true;
        }
      } else if (t + lossDelay < lossTime) {
        lossTime = t + lossDelay;
      }
    }
    this.lossTime[space] = lossTime;
    return pc;
  }

  /** Reports a congestion event to the controller; true if it started a new recovery period. */
  private congestionEvent(sentTime: number, now: number): boolean {
    const before = this.cc.recoveryStartTime;
    this.cc.onCongestionEvent(sentTime, now);
    if (this.cc.recoveryStartTime === before) return false;
    this.stats.congestionEvents++;
    return true;
  }

  /**
   * RFC 9002 App. B.8 OnPacketsLost; PMTU probes leave flight without a congestion reaction.
   * Returns true when a new recovery period started.
   */
  private onPacketsLost(lost: PacketList, persistentCongestion: boolean, now: number): boolean {
    if (lost.length === 0) return false;
    let lastLossTime = -Infinity;
    let ectLost = 0;
    for (let i = 0; i < lost.length; i++) {
      const f = lost.flags[i]!;
      const size = lost.size[i]!;
      this.stats.packetsLost++;
      this.stats.bytesLost += size;
      if (f & (SentFlags.ECT0 | SentFlags.ECT1)) ectLost++;
      if ((f & SentFlags.IN_FLIGHT) === 0) continue;
      this.cc.onPacketLost(size);
      if ((f & SentFlags.PMTU_PROBE) === 0 && lost.timeSent[i]! > lastLossTime) lastLossTime = lost.timeSent[i]!;
    }
    if (ectLost > 0) this.ecn.onEctPacketsLost(ectLost);
    const event = lastLossTime !== -Infinity && this.congestionEvent(lastLossTime, now);
    if (persistentCongestion) {
      this.stats.persistentCongestions++;
      this.cc.onPersistentCongestion(now);
      this.rtt.onPersistentCongestion();
    }
    return event;
  }

  // ---- timer ----

  /** Earliest loss_time and its space (App. A.8 GetLossTimeAndSpace); space -1 when none. */
  private earliestLossTime(): number {
    let t = Infinity;
    for (let s = 0; s < 3; s++) if (this.lossTime[s]! < t) t = this.lossTime[s]!;
    return t;
  }

  private earliestLossSpace(): number {
    let t = Infinity;
    let space = -1;
    for (let s = 0; s < 3; s++) {
      if (this.lossTime[s]! < t) {
        t = this.lossTime[s]!;
        space = s;
      }
    }
    return space;
  }

  /** True when the client must arm the anti-deadlock PTO (RFC 9002 §6.2.2.1). */
  private needsAntiDeadlock(): boolean {
    return (
      !this.peerCompletedAddressValidation() &&
      this.spaces[0].ackElicitingInFlight === 0 &&
      this.spaces[1].ackElicitingInFlight === 0
    );
  }

  /** App. A.8 GetPtoTimeAndSpace; the space is left in ptoSpace. */
  private ptoSpace = 0;
  private ptoTime(now: number): number {
    const backoff = 2 ** this.ptoCountValue;
    let duration = this.rtt.ptoBase() * backoff;
    if (this.needsAntiDeadlock()) {
      this.ptoSpace = this.handshakeKeys ? PacketNumberSpace.HANDSHAKE : PacketNumberSpace.INITIAL;
      return now + duration;
    }
    let timeout = Infinity;
    let space = PacketNumberSpace.INITIAL as number;
    for (let s = 0; s < 3; s++) {
      if (this.discarded[s] || this.spaces[s]!.ackElicitingInFlight === 0) continue;
      if (s === PacketNumberSpace.APPLICATION_DATA) {
        // No App-space PTO before the handshake is confirmed (RFC 9002 §6.2.1).
        if (!this.handshakeConfirmed) break;
        duration += this.maxAckDelayMs * backoff;
      }
      const t = this.lastAckElicitingTime[s]! + duration;
      if (t < timeout) {
        timeout = t;
        space = s;
      }
    }
    this.ptoSpace = space;
    return timeout;
  }

  /** App. A.8 SetLossDetectionTimer. */
  private setLossDetectionTimer(now: number): void {
    const lossTime = this.earliestLossTime();
    if (lossTime !== Infinity) {
      this.timer = lossTime;
      return;
    }
    if (this.isServer && this.amplificationLimited) {
      this.timer = Infinity;
      return;
    }
    const anyInFlight =
      this.spaces[0].ackElicitingInFlight + this.spaces[1].ackElicitingInFlight + this.spaces[2].ackElicitingInFlight >
      0;
    if (!anyInFlight && this.peerCompletedAddressValidation()) {
      this.timer = Infinity;
      return;
    }
    this.timer = this.ptoTime(now);
  }

  /**
   * Runs the loss detection timer (App. A.9). Safe to call early: returns kind NONE unless the
   * timer has expired. For PTO the connection sends `probes` ack-eliciting packets in `space` (new
   * data, else retransmitted data, else PING) and SHOULD also send in other spaces with
   * ack-eliciting packets in flight (RFC 9002 §6.2.4); probes bypass the congestion window.
   */
  onLossDetectionTimeout(now: number): TimeoutResult {
    checkTime(now);
    const r = this.timeoutResult;
    r.reset();
    if (this.timer === Infinity || now < this.timer) return r;
    const lossSpace = this.earliestLossSpace();
    if (lossSpace >= 0) {
      r.kind = TimeoutKind.LOSS;
      r.space = lossSpace;
      r.persistentCongestion = this.detectAndRemoveLostPackets(lossSpace, now, r.lost);
      r.congestionEvent = this.onPacketsLost(r.lost, r.persistentCongestion, now);
      this.spaces[lossSpace]!.compact(this.lostHorizon(now));
      this.setLossDetectionTimer(now);
      return r;
    }
    r.kind = TimeoutKind.PTO;
    if (this.needsAntiDeadlock()) {
      r.antiDeadlock = true;
      r.space = this.handshakeKeys ? PacketNumberSpace.HANDSHAKE : PacketNumberSpace.INITIAL;
      r.probes = 1;
    } else {
      this.ptoTime(now);
      r.space = this.ptoSpace;
      r.probes = 2;
    }
    this.ptoCountValue++;
    this.stats.ptoCount++;
    this.setLossDetectionTimer(now);
    return r;
  }

  // ---- key discard, 0-RTT rejection, Retry ----

  /**
   * Initial or Handshake keys discarded (RFC 9002 §6.4, App. A.11): outstanding packets leave
   * bytes in flight (appended to `out` when given), PTO backoff resets, the timer is re-armed.
   * ACKs for the space are ignored afterwards.
   */
  discardSpace(space: number, now: number, out?: PacketList): void {
    checkSpace(space);
    if (space === PacketNumberSpace.APPLICATION_DATA) {
      throw new RangeError('the Application Data space is never discarded (RFC 9002 App. A.11)');
    }
    if (this.discarded[space]) return;
    const st = this.spaces[space]!;
    if (st.bytesInFlight > 0) this.cc.onPacketDiscarded(st.bytesInFlight);
    st.clear(space, out);
    this.discarded[space] = true;
    this.lastAckElicitingTime[space] = -Infinity;
    this.lossTime[space] = Infinity;
    this.skipped[space]!.length = 0;
    this.ptoCountValue = 0;
    this.setLossDetectionTimer(now);
  }

  /**
   * 0-RTT was rejected (RFC 9002 §6.4): its packets leave flight without being lost; they are
   * appended to `out` so their data can be sent again in 1-RTT packets.
   */
  discardZeroRtt(now: number, out?: PacketList): void {
    const removed = this.spaces[2].removeWhere(2, SentFlags.ZERO_RTT, out);
    if (removed > 0) this.cc.onPacketDiscarded(removed);
    this.recomputeLastAckEliciting(2);
    this.setLossDetectionTimer(now);
  }

  private recomputeLastAckEliciting(space: number): void {
    const st = this.spaces[space]!;
    if (st.ackElicitingInFlight === 0) this.lastAckElicitingTime[space] = -Infinity;
  }

  /**
   * Client received a Retry (RFC 9002 §6.3): congestion control and loss recovery restart; the
   * Initial and 0-RTT packets sent so far are appended to `out` for re-sending. Packet numbers
   * keep increasing. `rttSample` (first Initial → Retry) MAY seed the initial RTT.
   */
  onRetry(now: number, out?: PacketList, rttSample?: number): void {
    if (this.isServer) throw new TypeError('onRetry is for clients');
    this.spaces[0].clear(0, out);
    this.spaces[2].removeWhere(2, SentFlags.ZERO_RTT, out);
    this.cc.reset();
    for (let s = 0; s < 3; s++) {
      this.lossTime[s] = Infinity;
      this.lastAckElicitingTime[s] = -Infinity;
    }
    this.ptoCountValue = 0;
    if (rttSample !== undefined && rttSample > 0) this.rtt.reset(rttSample);
    this.setLossDetectionTimer(now);
  }
}
