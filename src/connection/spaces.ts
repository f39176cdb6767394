// L4: one packet-number space (RFC 9000 §12.3): packet numbers sent, packets received for
// duplicate detection and ACK generation (§13.2.1 when to ACK, §13.2.3 ranges, §13.2.4 limiting
// ranges after an ACK of an ACK, §13.2.5 ack delay), and the CRYPTO stream of its encryption
// level (§7.5, §19.6): a SendStream with unlimited credit out, a Reassembly in.
import { TransportErrorCode } from '../codec/errors.js';
import type { PacketProtection } from '../crypto/packet-protection.js';
import { RangeSet } from '../util/range-set.js';
import { Reassembly } from '../transport/reassembly.js';
import { SendStream } from '../transport/send-stream.js';

/** Ack-eliciting packets received before ACKs are decimated (RFC 9000 §13.2.2). */
export const ACK_DECIMATION_AFTER = 100;
/** Then: ACK every this many ack-eliciting packets (or after min(max_ack_delay, RTT/4)). */
export const ACK_DECIMATION_EVERY = 10;
/** Most ACK ranges remembered per space (older ranges are dropped, RFC 9000 §13.2.3). */
export const MAX_ACK_RANGES = 64;
/** Packet numbers remembered for duplicate detection (as ranges). */
const MAX_DEDUP_RANGES = 256;
/** CRYPTO data buffered ahead of the TLS read position (RFC 9000 §7.5 asks for ≥ 4096). */
export const CRYPTO_BUFFER = 256 * 1024;

export const SpaceId = { Initial: 0, Handshake: 1, Application: 2 } as const;
export type SpaceId = (typeof SpaceId)[keyof typeof SpaceId];

export class PacketSpace {
  readonly id: SpaceId;
  /** Next packet number to send. */
  nextPn = 0;
  /** Keys: Initial and Handshake live here; the Application space's are in OneRttKeys. */
  seal: PacketProtection | null = null;
  open: PacketProtection | null = null;
  /** Keys were discarded (RFC 9001 §4.9): packets of this space are dropped. */
  discarded = false;

  // ---- receiving
  largestRecv = -1;
  /** When the largest packet number was received (ms), for the ACK Delay field. */
  largestRecvTime = 0;
  /** Packet numbers to acknowledge (≥ ackFloor). */
  readonly ackRanges = new RangeSet();
  /** Packets below this were acknowledged by an ACK the peer acknowledged (§13.2.4). */
  ackFloor = 0;
  /** Received packet numbers (duplicate detection); below dedupFloor everything counts as seen. */
  private readonly seen = new RangeSet();
  private dedupFloor = 0;
  /** Ack-eliciting packets received since the last ACK frame was sent. */
  ackElicitingSinceAck = 0;
  /** Ack-eliciting packets received in all (ACK decimation starts after ACK_DECIMATION_AFTER). */
  ackElicitingTotal = 0;
  /** Some packet received since the last ACK frame was sent (an ACK can be bundled). */
  newSinceAck = false;
  /** An ACK must go out as soon as possible. */
  ackImmediate = false;
  /** An ACK must go out by this time (ms); Infinity when none is owed. */
  ackDeadline = Infinity;

  // ---- CRYPTO
  readonly cryptoSend = new SendStream(0, { maxStreamData: Number.MAX_SAFE_INTEGER, bufferLimit: Number.MAX_SAFE_INTEGER });
  readonly cryptoRecv = new Reassembly({
    maxBuffered: CRYPTO_BUFFER,
    overflowError: TransportErrorCode.CRYPTO_BUFFER_EXCEEDED,
    frameType: 0x06,
    minCapacity: 2048,
  });

  constructor(id: SpaceId) {
    this.id = id;
  }

  /** True when `pn` was already received (or is too old to tell): drop the packet (§12.3, §13.2.3). */
  isDuplicate(pn: number): boolean {
    return pn < this.dedupFloor || this.seen.contains(pn);
  }

  /**
   * Record a successfully processed packet. `ackEliciting`: it contains an ack-eliciting frame.
   * `maxAckDelay` (ms) applies to the Application space; Initial and Handshake ACK at once (§13.2.1).
   * `rtt` (smoothed, ms; 0 if unknown) bounds the delay once ACKs are decimated.
   */
  onPacketReceived(pn: number, ackEliciting: boolean, now: number, maxAckDelay: number, rtt = 0): void {
    this.seen.add(pn);
    if (this.seen.length > MAX_DEDUP_RANGES) {
      this.seen.shift();
      this.dedupFloor = this.seen.min();
    }
    const outOfOrder = pn < this.largestRecv || (this.largestRecv >= 0 && pn > this.largestRecv + 1 && this.ackRanges.length > 0);
    if (pn > this.largestRecv) {
      this.largestRecv = pn;
      this.largestRecvTime = now;
    }
    if (pn >= this.ackFloor) {
      this.ackRanges.add(pn);
      if (this.ackRanges.length > MAX_ACK_RANGES) this.ackRanges.shift();
    }
    this.newSinceAck = true;
    if (!ackEliciting) return;
    this.ackElicitingSinceAck++;
    // §13.2.2 recommends an ACK every 2nd ack-eliciting packet and leaves room for other
    // strategies; like Chromium's ACK decimation, a long-running flow is acknowledged every 10th
    // packet or after a quarter RTT (within max_ack_delay), which halves the packets a bulk
    // transfer costs both ends. Gaps are still acknowledged at once (loss detection keeps its pace).
    const decimate = this.ackElicitingTotal++ >= ACK_DECIMATION_AFTER;
    const threshold = decimate ? ACK_DECIMATION_EVERY : 2;
    if (this.id !== SpaceId.Application || outOfOrder || this.ackElicitingSinceAck >= threshold) {
      // §13.2.1: Initial/Handshake at once; a gap (reordering or loss) at once.
      this.ackImmediate = true;
      this.ackDeadline = now;
    } else if (this.ackDeadline === Infinity) {
      const delay = decimate && rtt > 0 ? Math.min(maxAckDelay, Math.max(1, rtt / 4)) : maxAckDelay;
      this.ackDeadline = now + delay;
    }
  }

  /** An ACK frame should be sent now (deadline reached or immediate). */
  ackDue(now: number): boolean {
    return this.ackDeadline <= now && this.ackRanges.length > 0;
  }

  /** There is something to acknowledge (for bundling with other frames). */
  get hasAckToSend(): boolean {
    return this.newSinceAck && this.ackRanges.length > 0;
  }

  /** An ACK frame was written. */
  onAckSent(): void {
    this.ackElicitingSinceAck = 0;
    this.newSinceAck = false;
    this.ackImmediate = false;
    this.ackDeadline = Infinity;
  }

  /** The peer acknowledged a packet carrying our ACK with Largest Acknowledged `largest` (§13.2.4). */
  onAckAcked(largest: number): void {
    if (largest + 1 > this.ackFloor) {
      this.ackFloor = largest + 1;
      this.ackRanges.removeBelow(this.ackFloor);
    }
  }

  /** Forget keys and buffers (RFC 9001 §4.9). */
  discard(): void {
    this.discarded = true;
    this.seal?.discard();
    this.open?.discard();
    this.seal = null;
    this.open = null;
    this.ackRanges.clear();
    this.ackDeadline = Infinity;
    this.ackImmediate = false;
    this.newSinceAck = false;
    this.cryptoRecv.release();
  }
}
