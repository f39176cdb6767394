// L2b: per-space sent-packet records (RFC 9002 App. A.1 "Tracking Sent Packets", fields §A.1.1).
// Stored structure-of-arrays in a power-of-two ring ordered by packet number (packet numbers only
// grow within a space, RFC 9000 §12.3), so lookups are binary searches and no object is allocated
// per packet (DESIGN §7.7). Acknowledged/lost packets stay as tombstones until the ring head passes
// them; the tombstones let persistent-congestion detection see "a packet between these two was
// acknowledged" (RFC 9002 §7.6.2) and let a late ACK of a lost packet be counted as spurious.

/** Bit flags of a sent packet record. The low bits describe the packet, the high bits its state. */
export const SentFlags = {
  /** Contains an ack-eliciting frame (RFC 9002 §2). */
  ACK_ELICITING: 0x01,
  /** Counts toward bytes in flight (ack-eliciting or PADDING, RFC 9002 §2). */
  IN_FLIGHT: 0x02,
  /** A DPLPMTUD probe (RFC 9000 §14.4): its loss is not a congestion signal. */
  PMTU_PROBE: 0x04,
  /** Sent with 0-RTT keys (discarded if 0-RTT is rejected, RFC 9002 §6.4). */
  ZERO_RTT: 0x08,
  /** IP ECN codepoint ECT(0) was set (RFC 9000 §13.4). */
  ECT0: 0x10,
  /** IP ECN codepoint ECT(1) was set. */
  ECT1: 0x20,
  /** State: acknowledged (tombstone). */
  ACKED: 0x40,
  /** State: declared lost (tombstone). */
  LOST: 0x80,
} as const;

const RESOLVED = SentFlags.ACKED | SentFlags.LOST;

/**
 * What the connection reports for each sent packet. A caller may reuse one object for every call:
 * the fields are copied. `token` is opaque here — the connection attaches whatever lets it re-queue
 * the packet's frames when it is lost or release them when it is acknowledged.
 */
export interface SentPacketInfo {
  pn: number;
  /** Bytes of the QUIC packet incl. header and AEAD tag, excluding UDP/IP (RFC 9002 App. B.2). */
  size: number;
  ackEliciting: boolean;
  inFlight: boolean;
  /** Marks a PMTU probe (RFC 9000 §14.4): loss is excluded from congestion control. */
  pmtuProbe?: boolean;
  /** Sent in a 0-RTT packet (Application Data space only). */
  zeroRtt?: boolean;
  /** IP ECN codepoint the packet was sent with: 0 Not-ECT, 1 ECT(1), 2 ECT(0) (RFC 3168 values). */
  ecn?: number;
  token: unknown;
}

/** Converts a SentPacketInfo into its flag bits. */
export function sentFlagsOf(info: SentPacketInfo): number {
  let f = 0;
  if (info.ackEliciting) f |= SentFlags.ACK_ELICITING;
  if (info.inFlight) f |= SentFlags.IN_FLIGHT;
  if (info.pmtuProbe) f |= SentFlags.PMTU_PROBE;
  if (info.zeroRtt) f |= SentFlags.ZERO_RTT;
  if (info.ecn === 2) f |= SentFlags.ECT0;
  else if (info.ecn === 1) f |= SentFlags.ECT1;
  return f;
}

/**
 * A reusable list of packets handed back to the connection (acknowledged, lost or discarded).
 * Parallel arrays, reused across calls: contents are valid until the next call that fills it.
 */
export class PacketList {
  length = 0;
  readonly pn: number[] = [];
  readonly size: number[] = [];
  readonly timeSent: number[] = [];
  readonly flags: number[] = [];
  readonly token: unknown[] = [];
  /** Packet-number space of each entry (0 Initial, 1 Handshake, 2 Application Data). */
  readonly space: number[] = [];

  clear(): void {
    // Drop token references so the previous batch can be collected.
    for (let i = 0; i < this.length; i++) this.token[i] = undefined;
    this.length = 0;
  }

  push(space: number, pn: number, size: number, timeSent: number, flags: number, token: unknown): void {
    const i = this.length++;
    this.space[i] = space;
    this.pn[i] = pn;
    this.size[i] = size;
    this.timeSent[i] = timeSent;
    this.flags[i] = flags;
    this.token[i] = token;
  }

  isAckEliciting(i: number): boolean {
    return (this.flags[i]! & SentFlags.ACK_ELICITING) !== 0;
  }

  isInFlight(i: number): boolean {
    return (this.flags[i]! & SentFlags.IN_FLIGHT) !== 0;
  }

  isPmtuProbe(i: number): boolean {
    return (this.flags[i]! & SentFlags.PMTU_PROBE) !== 0;
  }
}

const MIN_CAPACITY = 16;

/**
 * Sent packets of one packet-number space, in packet-number order. Slots are addressed by a
 * logical index 0 … count−1 from the head (oldest).
 */
export class SentPackets {
  private cap: number;
  private mask: number;
  private head = 0;
  /** Slots in use between head and tail, tombstones included. */
  private count = 0;
  private pns: Float64Array;
  private times: Float64Array;
  private sizes: Int32Array;
  private flagBits: Uint8Array;
  private tokens: unknown[];
  /** Outstanding (neither acknowledged nor lost) packets. */
  outstanding = 0;
  /** Outstanding ack-eliciting packets that are in flight. */
  ackElicitingInFlight = 0;
  /** Bytes of outstanding in-flight packets. */
  bytesInFlight = 0;
  /** Largest packet number pushed, -1 if none. */
  largestSent = -1;
  /** Slots the head has passed since creation: the absolute position of logical index 0. */
  private passed = 0;
  /** Absolute position before which every slot is resolved (a hint for firstOutstanding). */
  private resolvedBefore = 0;

  constructor(initialCapacity = 64) {
    let c = MIN_CAPACITY;
    while (c < initialCapacity) c *= 2;
    this.cap = c;
    this.mask = c - 1;
    this.pns = new Float64Array(c);
    this.times = new Float64Array(c);
    this.sizes = new Int32Array(c);
    this.flagBits = new Uint8Array(c);
    this.tokens = new Array<unknown>(c).fill(undefined);
  }

  /** Slots in use (outstanding packets plus tombstones not yet passed by the head). */
  get length(): number {
    return this.count;
  }

  private grow(): void {
    const c = this.cap * 2;
    const pns = new Float64Array(c);
    const times = new Float64Array(c);
    const sizes = new Int32Array(c);
    const flags = new Uint8Array(c);
    const tokens = new Array<unknown>(c).fill(undefined);
    for (let i = 0; i < this.count; i++) {
      const s = (this.head + i) & this.mask;
      pns[i] = this.pns[s]!;
      times[i] = this.times[s]!;
      sizes[i] = this.sizes[s]!;
      flags[i] = this.flagBits[s]!;
      tokens[i] = this.tokens[s];
    }
    this.pns = pns;
    this.times = times;
    this.sizes = sizes;
    this.flagBits = flags;
    this.tokens = tokens;
    this.cap = c;
    this.mask = c - 1;
    this.head = 0;
  }

  /** Records a sent packet; pn must exceed every packet number pushed before. */
  push(pn: number, timeSent: number, size: number, flags: number, token: unknown): void {
    if (!(pn > this.largestSent) || !Number.isInteger(pn)) {
      throw new RangeError(`pn must be an integer above the largest sent (${this.largestSent}), got ${pn}`);
    }
    if (!(size >= 0) || !Number.isInteger(size)) {
      throw new RangeError(`size must be a non-negative integer, got ${size}`);
    }
    if (this.count === this.cap) this.grow();
    const s = (this.head + this.count) & this.mask;
    this.pns[s] = pn;
    this.times[s] = timeSent;
    this.sizes[s] = size;
    this.flagBits[s] = flags & ~RESOLVED;
    this.tokens[s] = token;
    this.count++;
    this.outstanding++;
    this.largestSent = pn;
    if (flags & SentFlags.IN_FLIGHT) {
      this.bytesInFlight += size;
      if (flags & SentFlags.ACK_ELICITING) this.ackElicitingInFlight++;
    }
  }

  /** Notes a packet number as used (skipped) without a record, so later pushes stay ordered. */
  skip(pn: number): void {
    if (pn > this.largestSent) this.largestSent = pn;
  }

  // Accessors by logical index (0 = oldest slot).
  pnAt(i: number): number {
    return this.pns[(this.head + i) & this.mask]!;
  }
  timeSentAt(i: number): number {
    return this.times[(this.head + i) & this.mask]!;
  }
  sizeAt(i: number): number {
    return this.sizes[(this.head + i) & this.mask]!;
  }
  flagsAt(i: number): number {
    return this.flagBits[(this.head + i) & this.mask]!;
  }
  tokenAt(i: number): unknown {
    return this.tokens[(this.head + i) & this.mask];
  }
  isOutstandingAt(i: number): boolean {
    return (this.flagBits[(this.head + i) & this.mask]! & RESOLVED) === 0;
  }

  /**
   * Logical index of the oldest outstanding slot (length if none). Resolved slots never become
   * outstanding again, so the position found is remembered and the next call resumes from it:
   * walks that only care about outstanding packets (loss detection) skip the tombstones that
   * compact() must keep (lost packets within the spurious-loss horizon) in amortised O(1).
   */
  firstOutstanding(): number {
    let i = this.resolvedBefore - this.passed;
    if (i < 0) i = 0;
    while (i < this.count && (this.flagBits[(this.head + i) & this.mask]! & RESOLVED) !== 0) i++;
    this.resolvedBefore = this.passed + i;
    return i;
  }

  /** Logical index of the first slot whose pn ≥ `pn` (count if none). */
  lowerBound(pn: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.pns[(this.head + mid) & this.mask]! < pn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Logical index of the slot holding `pn`, -1 if absent. */
  indexOf(pn: number): number {
    const i = this.lowerBound(pn);
    return i < this.count && this.pns[(this.head + i) & this.mask] === pn ? i : -1;
  }

  private resolve(i: number, state: number): void {
    const s = (this.head + i) & this.mask;
    const f = this.flagBits[s]!;
    this.flagBits[s] = f | state;
    this.outstanding--;
    if (f & SentFlags.IN_FLIGHT) {
      this.bytesInFlight -= this.sizes[s]!;
      if (f & SentFlags.ACK_ELICITING) this.ackElicitingInFlight--;
    }
    // The token is released now; the connection received it in the result list.
    if (state === SentFlags.ACKED || state === SentFlags.LOST) this.tokens[s] = undefined;
  }

  /** Marks outstanding slot i acknowledged. */
  markAcked(i: number): void {
    this.resolve(i, SentFlags.ACKED);
  }

  /** Marks outstanding slot i lost. */
  markLost(i: number): void {
    this.resolve(i, SentFlags.LOST);
  }

  /** Turns a LOST tombstone into ACKED (a late acknowledgment of a packet declared lost). */
  markLostAsAcked(i: number): void {
    const s = (this.head + i) & this.mask;
    this.flagBits[s] = (this.flagBits[s]! & ~SentFlags.LOST) | SentFlags.ACKED;
  }

  /**
   * Advances the head past resolved tombstones at the front. A tombstone behind an older
   * outstanding packet is kept, so it stays visible while that packet can still be declared lost.
   * LOST tombstones sent at or after `keepLostSince` are kept too, so that a late acknowledgment
   * can still be recognised as a spurious loss (RFC 9000 §13.3).
   */
  compact(keepLostSince = Infinity): void {
    while (this.count > 0) {
      const f = this.flagBits[this.head]!;
      if ((f & RESOLVED) === 0) break;
      if ((f & SentFlags.LOST) !== 0 && this.times[this.head]! >= keepLostSince) break;
      this.tokens[this.head] = undefined;
      this.head = (this.head + 1) & this.mask;
      this.count--;
      this.passed++;
    }
    if (this.count === 0) this.head = 0;
  }

  /**
   * Removes every outstanding packet (key discard, RFC 9002 §6.4), appending them to `out` when
   * given, and resets the ring. largestSent is kept.
   */
  clear(space: number, out?: PacketList): void {
    for (let i = 0; i < this.count; i++) {
      const s = (this.head + i) & this.mask;
      const f = this.flagBits[s]!;
      if (out && (f & RESOLVED) === 0) {
        out.push(space, this.pns[s]!, this.sizes[s]!, this.times[s]!, f, this.tokens[s]);
      }
      this.tokens[s] = undefined;
    }
    this.passed += this.count;
    this.head = 0;
    this.count = 0;
    this.outstanding = 0;
    this.ackElicitingInFlight = 0;
    this.bytesInFlight = 0;
  }

  /**
   * Removes outstanding packets whose flags contain every bit of `mask` (e.g. ZERO_RTT when 0-RTT
   * is rejected), appending them to `out`. Returns the in-flight bytes removed.
   */
  removeWhere(space: number, mask: number, out?: PacketList): number {
    let removed = 0;
    for (let i = 0; i < this.count; i++) {
      const s = (this.head + i) & this.mask;
      const f = this.flagBits[s]!;
      if ((f & RESOLVED) !== 0 || (f & mask) !== mask) continue;
      if (out) out.push(space, this.pns[s]!, this.sizes[s]!, this.times[s]!, f, this.tokens[s]);
      if (f & SentFlags.IN_FLIGHT) removed += this.sizes[s]!;
      // A discarded packet is neither acknowledged nor lost; mark it LOST-like so it is skipped,
      // but it must not count as a loss anywhere: callers never see it in a loss list.
      this.resolve(i, SentFlags.LOST);
    }
    this.compact();
    return removed;
  }
}
