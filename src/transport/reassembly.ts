// L2b: out-of-order byte reassembly for STREAM (RFC 9000 §2.2) and CRYPTO (RFC 9000 §19.6, §7.5)
// receive paths.
//
// Bytes are copied once, on arrival, into a growable ring buffer at their final position
// (offset − readOffset from the ring head), so delivery to the application is one copy out
// (`read`) or zero copies (`peek` + `consume`). A RangeSet records which offsets at or above
// `readOffset` have arrived; duplicated and overlapping frames only copy the missing parts.
// The caller's input is never retained (datagram buffers are reused by the I/O layer).
//
// Memory bound: nothing beyond `readOffset + maxBuffered` is accepted (TransportError with the
// configured code — FLOW_CONTROL_ERROR for streams, where flow control already enforces it,
// CRYPTO_BUFFER_EXCEEDED for CRYPTO, RFC 9000 §7.5). The ring grows by doubling to the span actually
// used, so a stream that carries 100 bytes costs a small buffer, not a window.
//
// Optional conflict detection (RFC 9000 §2.2: "MAY treat receipt of different data at the same
// offset … as a connection error of type PROTOCOL_VIOLATION"): overlapping bytes still buffered are
// compared instead of skipped. It costs nothing for non-overlapping data.

import { TransportError, TransportErrorCode } from '../codec/errors.js';
import { EMPTY } from '../util/bytes.js';
import { RangeSet } from '../util/range-set.js';

export interface ReassemblyOptions {
  /** Largest span (highest received end − readOffset) that may be buffered. */
  maxBuffered: number;
  /** Transport error code thrown when `maxBuffered` is exceeded. */
  overflowError?: number;
  /** Frame type reported with errors (0x06 CRYPTO, 0x08 STREAM). */
  frameType?: number;
  /** Compare re-received bytes with buffered ones; mismatch → PROTOCOL_VIOLATION. */
  detectConflicts?: boolean;
  /** Smallest ring allocation in bytes (default 1024). */
  minCapacity?: number;
}

export class Reassembly {
  /** Offset of the next byte the reader gets. Everything below has been delivered (or skipped). */
  readOffset = 0;
  /** One past the largest offset ever inserted (including bytes below readOffset). */
  highest = 0;
  /** Bytes buffered at or above readOffset (not counting duplicates). */
  buffered = 0;

  private ring: Uint8Array = EMPTY;
  /** Ring index holding the byte at readOffset. */
  private head = 0;
  /** Received ranges at or above readOffset. */
  private readonly received = new RangeSet();
  private readonly maxBuffered: number;
  private readonly overflowError: number;
  private readonly frameType: number;
  private readonly detectConflicts: boolean;
  private readonly minCapacity: number;

  constructor(opts: ReassemblyOptions) {
    if (!(opts.maxBuffered > 0)) throw new RangeError('maxBuffered must be positive');
    this.maxBuffered = opts.maxBuffered;
    this.overflowError = opts.overflowError ?? TransportErrorCode.FLOW_CONTROL_ERROR;
    this.frameType = opts.frameType ?? 0;
    this.detectConflicts = opts.detectConflicts ?? false;
    this.minCapacity = Math.max(16, opts.minCapacity ?? 1024);
  }

  /** Bytes available to read contiguously at readOffset. */
  get readable(): number {
    const rs = this.received;
    if (rs.length === 0 || rs.start(0) !== this.readOffset) return 0;
    return rs.end(0) - this.readOffset;
  }

  /** Current ring allocation in bytes (for memory accounting and tests). */
  get capacity(): number {
    return this.ring.length;
  }

  /** True when every byte in [readOffset, end) has arrived. */
  hasAllBelow(end: number): boolean {
    return end <= this.readOffset + this.readable;
  }

  /**
   * Accept `data` at stream offset `offset`. Bytes below readOffset or already buffered are
   * ignored (or compared, with detectConflicts). Returns how many bytes were newly buffered.
   * Throws TransportError when the data would exceed the buffering bound.
   */
  insert(offset: number, data: Uint8Array): number {
    const len = data.length;
    const end = offset + len;
    if (end > this.highest) this.highest = end;
    if (end <= this.readOffset || len === 0) return 0;
    const start = offset > this.readOffset ? offset : this.readOffset;
    const span = end - this.readOffset;
    if (span > this.maxBuffered) {
      throw new TransportError(this.overflowError, `data at ${end} exceeds the ${this.maxBuffered}-byte reassembly bound`, this.frameType);
    }
    if (span > this.ring.length) this.grow(span);

    // Walk the received ranges intersecting [start, end): copy the gaps, compare the overlaps.
    const rs = this.received;
    let i = rs.indexAfter(start);
    let pos = start;
    while (pos < end) {
      if (i < rs.length && rs.start(i) <= pos) {
        const overlapEnd = Math.min(rs.end(i), end);
        if (this.detectConflicts) this.compare(pos, data.subarray(pos - offset, overlapEnd - offset));
        pos = overlapEnd;
        i++;
        continue;
      }
      const gapEnd = i < rs.length ? Math.min(rs.start(i), end) : end;
      this.writeAt(pos, data.subarray(pos - offset, gapEnd - offset));
      pos = gapEnd;
    }
    const added = rs.insert(start, end);
    this.buffered += added;
    return added;
  }

  /** Copy up to `out.length - pos` contiguous bytes into `out` at `pos`; returns the count. */
  read(out: Uint8Array, pos = 0): number {
    const want = out.length - pos;
    if (want <= 0) return 0;
    const avail = this.readable;
    const n = avail < want ? avail : want;
    if (n === 0) return 0;
    const cap = this.ring.length;
    const first = Math.min(n, cap - this.head);
    out.set(this.ring.subarray(this.head, this.head + first), pos);
    if (first < n) out.set(this.ring.subarray(0, n - first), pos + first);
    this.consume(n);
    return n;
  }

  /**
   * Zero-copy view of the next contiguous readable bytes (may be shorter than `readable` where the
   * ring wraps). Valid until the next insert/consume. Pair with `consume(n)`.
   */
  peek(): Uint8Array {
    const avail = this.readable;
    if (avail === 0) return EMPTY;
    const first = Math.min(avail, this.ring.length - this.head);
    return this.ring.subarray(this.head, this.head + first);
  }

  /** Mark `n` readable bytes as delivered. */
  consume(n: number): void {
    if (n < 0 || n > this.readable) throw new RangeError(`consume(${n}): only ${this.readable} byte(s) readable`);
    if (n === 0) return;
    this.readOffset += n;
    this.buffered -= n;
    this.received.removeBelow(this.readOffset);
    if (this.buffered === 0) {
      // Nothing buffered ahead: re-align so the next peek is as long as possible.
      this.head = 0;
    } else {
      this.head += n;
      if (this.head >= this.ring.length) this.head -= this.ring.length;
    }
  }

  /**
   * Drop everything below `offset` without delivering it (STOP_SENDING, reset) and advance
   * readOffset there. Returns how many buffered bytes were dropped.
   */
  skipTo(offset: number): number {
    if (offset <= this.readOffset) return 0;
    const dropped = this.received.removeBelow(offset);
    const delta = offset - this.readOffset;
    this.buffered -= dropped;
    this.readOffset = offset;
    if (this.buffered === 0) this.head = 0;
    else {
      // Only reachable when delta < ring length (everything buffered lies within the ring).
      this.head = (this.head + delta) % this.ring.length;
    }
    return dropped;
  }

  /** Free the ring and forget buffered data (stream reset or finished). readOffset is kept. */
  release(): void {
    this.received.clear();
    this.buffered = 0;
    this.ring = EMPTY;
    this.head = 0;
  }

  private writeAt(offset: number, src: Uint8Array): void {
    const cap = this.ring.length;
    let p = this.head + (offset - this.readOffset);
    if (p >= cap) p -= cap;
    const first = Math.min(src.length, cap - p);
    this.ring.set(first === src.length ? src : src.subarray(0, first), p);
    if (first < src.length) this.ring.set(src.subarray(first), 0);
  }

  private compare(offset: number, src: Uint8Array): void {
    const ring = this.ring;
    const cap = ring.length;
    let p = this.head + (offset - this.readOffset);
    if (p >= cap) p -= cap;
    for (let k = 0; k < src.length; k++) {
      if (ring[p] !== src[k]) {
        throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, `conflicting data at offset ${offset + k}`, this.frameType);
      }
      if (++p === cap) p = 0;
    }
  }

  private grow(span: number): void {
    let cap = Math.max(this.minCapacity, this.ring.length);
    while (cap < span) cap *= 2;
    if (cap > this.maxBuffered) cap = this.maxBuffered;
    const next = new Uint8Array(cap);
    const old = this.ring;
    if (this.buffered > 0 && old.length > 0) {
      // Move the occupied window [readOffset, highest) so that readOffset lands at index 0.
      const used = Math.min(old.length, this.received.end(this.received.length - 1) - this.readOffset);
      const first = Math.min(used, old.length - this.head);
      next.set(old.subarray(this.head, this.head + first), 0);
      if (first < used) next.set(old.subarray(0, used - first), first);
    }
    this.ring = next;
    this.head = 0;
  }
}
