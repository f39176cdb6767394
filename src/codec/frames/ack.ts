// L1: ACK frame codec — RFC 9000 §19.3 (format), §19.3.1 (ACK ranges: "If any computed packet
// number is negative, an endpoint MUST generate a connection error of type
// FRAME_ENCODING_ERROR"), §19.3.2 (ECN counts), §13.2.4 (limiting ranges to the packet).
//
// Range representation, both ways: a flat number array of pairs [smallest, largest] in
// descending order, `count` pairs long — ranges[0], ranges[1] are the smallest and largest of
// the newest range. Flat pairs keep the decoder allocation-free (the AckFrame's array is reused
// and only grows) and let the sender's received-packet tracker hand its own scratch array in.
//
// Packet numbers, First ACK Range, Gap and ACK Range Length are read exactly; a value above
// 2^53−1 is FRAME_ENCODING_ERROR (no packet this stack sends is numbered that high). ACK Delay
// and ECN counts saturate at 2^53−1.

import { type Reader, type Writer, varintSize } from '../../util/bytes.js';
import { type AckFrame, type EcnCounts, FrameType } from './frame-types.js';
import { checkVarintArg, frameEncodingError } from './internal.js';

export function newAckFrame(): AckFrame {
  return {
    kind: FrameType.ACK,
    type: FrameType.ACK,
    largest: 0,
    ackDelay: 0,
    firstRange: 0,
    rangeCount: 0,
    ranges: [],
    ecn: false,
    ect0: 0,
    ect1: 0,
    ce: 0,
  };
}

/** Decode the body of an ACK frame (type already read) into `f`. Throws BufferUnderflow,
 *  VarintRangeError or TransportError(FRAME_ENCODING_ERROR); the frame parser maps all three. */
export function decodeAckBody(r: Reader, type: number, f: AckFrame): AckFrame {
  const largest = r.varintExact();
  const ackDelay = r.varint();
  const extra = r.varintExact();
  const firstRange = r.varintExact();
  if (firstRange > largest) throw frameEncodingError('ACK first range goes below packet number 0', type);
  const ranges = f.ranges;
  let smallest = largest - firstRange;
  ranges[0] = smallest;
  ranges[1] = largest;
  let n = 1;
  // `extra` is peer-controlled; every iteration consumes at least two bytes, so a false count
  // ends in BufferUnderflow at the end of the payload rather than a long loop.
  for (let i = 0; i < extra; i++) {
    const gap = r.varintExact();
    const len = r.varintExact();
    const hi = smallest - gap - 2;
    if (hi < 0) throw frameEncodingError('ACK gap goes below packet number 0', type);
    const lo = hi - len;
    if (lo < 0) throw frameEncodingError('ACK range goes below packet number 0', type);
    ranges[2 * n] = lo;
    ranges[2 * n + 1] = hi;
    n++;
    smallest = lo;
  }
  f.type = type;
  f.largest = largest;
  f.ackDelay = ackDelay;
  f.firstRange = firstRange;
  f.rangeCount = n;
  if (type === FrameType.ACK_ECN) {
    f.ecn = true;
    f.ect0 = r.varint();
    f.ect1 = r.varint();
    f.ce = r.varint();
  } else {
    f.ecn = false;
    f.ect0 = 0;
    f.ect1 = 0;
    f.ce = 0;
  }
  return f;
}

function ecnSize(ecn: EcnCounts | null): number {
  if (ecn === null) return 0;
  checkVarintArg('ECT(0) count', ecn.ect0);
  checkVarintArg('ECT(1) count', ecn.ect1);
  checkVarintArg('ECN-CE count', ecn.ce);
  return varintSize(ecn.ect0) + varintSize(ecn.ect1) + varintSize(ecn.ce);
}

function checkRanges(ranges: ArrayLike<number>, count: number): void {
  if (!(Number.isInteger(count) && count >= 1 && 2 * count <= ranges.length)) {
    throw new RangeError(`ACK range count must be in [1, ${ranges.length >> 1}], got ${count}`);
  }
}

/** Size of the fixed part: type, Largest Acknowledged, ACK Delay, First ACK Range, ECN counts. */
function fixedSize(ranges: ArrayLike<number>, ackDelay: number, ecn: EcnCounts | null): number {
  const smallest = ranges[0]!;
  const largest = ranges[1]!;
  checkVarintArg('ACK largest', largest);
  checkVarintArg('ACK delay', ackDelay);
  if (!(Number.isInteger(smallest) && smallest >= 0 && smallest <= largest)) {
    throw new RangeError(`ACK range 0 must satisfy 0 <= smallest <= largest, got [${smallest}, ${largest}]`);
  }
  return 1 + varintSize(largest) + varintSize(ackDelay) + varintSize(largest - smallest) + ecnSize(ecn);
}

/** Gap + ACK Range Length bytes of range i ≥ 1; validates descending, non-adjacent order. */
function rangeSize(ranges: ArrayLike<number>, i: number): number {
  const prevSmallest = ranges[2 * i - 2]!;
  const smallest = ranges[2 * i]!;
  const largest = ranges[2 * i + 1]!;
  if (!(Number.isInteger(smallest) && smallest >= 0 && smallest <= largest && largest <= prevSmallest - 2)) {
    throw new RangeError(
      `ACK range ${i} [${smallest}, ${largest}] must be non-empty and below range ${i - 1} with a gap`,
    );
  }
  return varintSize(prevSmallest - largest - 2) + varintSize(largest - smallest);
}

/**
 * How many of the `count` ranges (newest first) fit an ACK frame of at most `maxBytes`
 * bytes (RFC 9000 §13.2.4: the oldest ranges are dropped). 0 when not even the first fits.
 */
export function fitAckRanges(
  ranges: ArrayLike<number>,
  count: number,
  ackDelay: number,
  ecn: EcnCounts | null,
  maxBytes: number,
): number {
  checkRanges(ranges, count);
  const fixed = fixedSize(ranges, ackDelay, ecn);
  if (fixed + 1 > maxBytes) return 0;
  let fit = 1;
  let body = 0;
  for (let k = 2; k <= count; k++) {
    body += rangeSize(ranges, k - 1);
    if (fixed + 1 + body > maxBytes) break; // the count field is ≥ 1 byte: nothing larger fits
    if (fixed + varintSize(k - 1) + body <= maxBytes) fit = k;
  }
  return fit;
}

/** Size of an ACK frame carrying the first `count` ranges. */
export function sizeAck(ranges: ArrayLike<number>, count: number, ackDelay: number, ecn: EcnCounts | null): number {
  checkRanges(ranges, count);
  let n = fixedSize(ranges, ackDelay, ecn) + varintSize(count - 1);
  for (let i = 1; i < count; i++) n += rangeSize(ranges, i);
  return n;
}

/**
 * Encode an ACK (ECN counts present → type 0x03) with as many of the newest ranges as fit in
 * `maxBytes` (default: the writer's remaining space). Returns bytes written, or 0 when even the
 * first range does not fit (nothing written). `ackDelay` is the field value (µs >> exponent).
 */
export function encodeAck(
  w: Writer,
  ranges: ArrayLike<number>,
  count: number,
  ackDelay: number,
  ecn: EcnCounts | null,
  maxBytes: number = w.remaining,
): number {
  const limit = maxBytes < w.remaining ? maxBytes : w.remaining;
  const k = fitAckRanges(ranges, count, ackDelay, ecn, limit);
  if (k === 0) return 0;
  const start = w.pos;
  const largest = ranges[1]!;
  let smallest = ranges[0]!;
  w.u8(ecn === null ? FrameType.ACK : FrameType.ACK_ECN);
  w.varint(largest);
  w.varint(ackDelay);
  w.varint(k - 1);
  w.varint(largest - smallest);
  for (let i = 1; i < k; i++) {
    const lo = ranges[2 * i]!;
    const hi = ranges[2 * i + 1]!;
    w.varint(smallest - hi - 2);
    w.varint(hi - lo);
    smallest = lo;
  }
  if (ecn !== null) {
    w.varint(ecn.ect0);
    w.varint(ecn.ect1);
    w.varint(ecn.ce);
  }
  return w.pos - start;
}

/** Re-encode a decoded AckFrame (all its ranges; throws BufferOverflow if they do not fit). */
export function encodeAckFrame(w: Writer, f: AckFrame): number {
  const ecn = f.ecn ? f : null;
  const size = sizeAck(f.ranges, f.rangeCount, f.ackDelay, ecn);
  w.need(size);
  return encodeAck(w, f.ranges, f.rangeCount, f.ackDelay, ecn, size);
}

export function sizeAckFrame(f: AckFrame): number {
  return sizeAck(f.ranges, f.rangeCount, f.ackDelay, f.ecn ? f : null);
}

/** An ascending set of half-open ranges [start, end) — util/range-set's RangeSet fits. */
export interface AscendingRanges {
  readonly length: number;
  start(i: number): number;
  end(i: number): number;
}

/**
 * Fill `out` with the ranges of `set` in the encoder's layout (descending [smallest, largest]
 * pairs), at most `maxRanges` of the newest. Returns the pair count. `out` is reused scratch.
 */
export function ackRangesFromSet(set: AscendingRanges, out: number[], maxRanges = Infinity): number {
  const n = set.length < maxRanges ? set.length : maxRanges;
  for (let k = 0; k < n; k++) {
    const i = set.length - 1 - k;
    out[2 * k] = set.start(i);
    out[2 * k + 1] = set.end(i) - 1;
  }
  return n;
}
