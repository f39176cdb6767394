// L1 QPACK decoder, sans-IO: RFC 9204 §2.2 (decoder behaviour), §3.2 (dynamic table), §4.3
// (encoder instructions, received), §4.4 (decoder instructions, sent), §4.5 (field line
// representations), §2.2.3/§6 (errors), and the RFC 9114 §4.2.2 field section size limit.
//
// Encoder-stream input may be split anywhere: a partial instruction is kept until the rest arrives
// (at most one instruction, whose strings are bounded by the table capacity). Decoder-stream output
// is queued and taken with takeDecoderStreamBytes(): Section Acknowledgments and Stream
// Cancellations in order, then one Insert Count Increment for inserts no acknowledgment covered.

import { EMPTY, Reader } from '../util/bytes.js';
import { ByteSink } from './byte-sink.js';
import { DynamicTable } from './dynamic-table.js';
import { H3_EXCESSIVE_LOAD, QpackError, QpackErrorCode } from './errors.js';
import type { HeaderField } from './header-field.js';
import { InstructionBuffer } from './instruction-stream.js';
import { INCOMPLETE, readPrefixInt, writePrefixInt } from './prefix-int.js';
import { STATIC_TABLE, STATIC_TABLE_SIZE } from './static-table.js';
import { readString } from './string-literal.js';

export interface QpackDecoderOptions {
  /** Our SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204 §5); 0 disables the dynamic table. */
  maxTableCapacity: number;
  /** Our SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §5). */
  maxBlockedStreams: number;
  /** Our SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2); default unlimited. */
  maxFieldSectionSize?: number;
}

/** A field section that was blocked and has now been decoded (or failed with a stream error). */
export interface UnblockedSection {
  streamId: number;
  /** The decoded fields, or null when `error` is set. */
  headers: HeaderField[] | null;
  /** A stream-level error (field section too large); connection errors are thrown instead. */
  error: QpackError | null;
}

/** Returned by decodeFieldSection when the section waits for encoder-stream inserts. */
export const BLOCKED = 'blocked';

interface BlockedSection {
  readonly ric: number;
  readonly bytes: Uint8Array;
}

const DF = QpackErrorCode.DECOMPRESSION_FAILED;
const ESE = QpackErrorCode.ENCODER_STREAM_ERROR;
const NO_UNBLOCKED: UnblockedSection[] = [];

/** A field section arrives whole (one HEADERS frame): running out of bytes inside it is malformed. */
function truncated(streamId: number): QpackError {
  return new QpackError(DF, 'truncated field section', streamId);
}

function fieldInt(r: Reader, prefixBits: number, streamId: number): number {
  const v = readPrefixInt(r, prefixBits, DF);
  if (v === INCOMPLETE) throw truncated(streamId);
  return v;
}

/** A field-line string within `budget` decoded octets (else H3_EXCESSIVE_LOAD, mapped by decodeLines). */
function fieldString(r: Reader, prefixBits: number, budget: number, streamId: number): string {
  const s = readString(r, prefixBits, budget, DF, H3_EXCESSIVE_LOAD);
  if (s === null) throw truncated(streamId);
  return s;
}

export class QpackDecoder {
  readonly maxTableCapacity: number;
  readonly maxBlockedStreams: number;
  readonly maxFieldSectionSize: number;

  private readonly table = new DynamicTable();
  private readonly maxEntries: number;
  private knownReceived = 0;
  private readonly blocked = new Map<number, BlockedSection>();
  private readonly out = new ByteSink(64);
  private readonly reader = new Reader();
  private readonly encoderIn = new InstructionBuffer();
  private readonly onEncoderInstruction = (r: Reader): boolean => this.encoderInstruction(r);

  constructor(options: QpackDecoderOptions) {
    const { maxTableCapacity, maxBlockedStreams } = options;
    if (!Number.isSafeInteger(maxTableCapacity) || maxTableCapacity < 0) throw new RangeError('options.maxTableCapacity must be a non-negative integer');
    if (!Number.isSafeInteger(maxBlockedStreams) || maxBlockedStreams < 0) throw new RangeError('options.maxBlockedStreams must be a non-negative integer');
    const maxField = options.maxFieldSectionSize ?? Infinity;
    if (!(maxField >= 0)) throw new RangeError('options.maxFieldSectionSize must be a non-negative number');
    this.maxTableCapacity = maxTableCapacity;
    this.maxBlockedStreams = maxBlockedStreams;
    this.maxFieldSectionSize = maxField;
    this.maxEntries = Math.floor(maxTableCapacity / 32);
  }

  get capacity(): number {
    return this.table.capacity;
  }
  get tableSize(): number {
    return this.table.size;
  }
  get insertCount(): number {
    return this.table.insertCount;
  }
  /** Number of streams whose field section waits for inserts. */
  get blockedStreams(): number {
    return this.blocked.size;
  }
  /** The live entry with absolute index `abs` as [name, value], or undefined. */
  entry(abs: number): [string, string] | undefined {
    const e = this.table.get(abs);
    return e ? [e.name, e.value] : undefined;
  }

  /**
   * Decode one encoded field section (the payload of a HEADERS or PUSH_PROMISE frame) received on
   * `streamId`. Returns the fields, or BLOCKED when its Required Insert Count exceeds the inserts
   * received so far (RFC 9204 §2.2.1): the bytes are copied and decoded when feeding the encoder
   * stream unblocks them. At most one section per stream may be blocked (the HTTP/3 layer stops
   * reading a stream while its section is blocked).
   * Throws QpackError: QPACK_DECOMPRESSION_FAILED (connection error), or a stream error
   * (`streamError`, errorCode H3_EXCESSIVE_LOAD) when the section — one literal or the sum —
   * exceeds maxFieldSectionSize; a Stream Cancellation is then already queued when the section
   * referenced the dynamic table, so the caller abandoning the stream need not call cancelStream.
   */
  decodeFieldSection(streamId: number, bytes: Uint8Array): HeaderField[] | typeof BLOCKED {
    if (!Number.isSafeInteger(streamId) || streamId < 0) throw new RangeError('streamId must be a non-negative integer');
    if (this.blocked.has(streamId)) throw new RangeError(`stream ${streamId} already has a blocked field section`);
    const r = this.reader.reset(bytes);
    const encodedRic = readPrefixInt(r, 8, DF);
    if (encodedRic === INCOMPLETE || r.pos >= r.end) throw truncated(streamId);
    const ric = this.decodeRequiredInsertCount(encodedRic);
    const negative = (r.buf[r.pos]! & 0x80) !== 0;
    const delta = readPrefixInt(r, 7, DF);
    if (delta === INCOMPLETE) throw truncated(streamId);
    let base: number;
    if (negative) {
      if (ric <= delta) throw new QpackError(DF, 'negative Base', streamId);
      base = ric - delta - 1;
    } else {
      base = ric + delta;
    }
    if (ric > this.table.insertCount) {
      if (this.blocked.size >= this.maxBlockedStreams) {
        throw new QpackError(DF, `more than SETTINGS_QPACK_BLOCKED_STREAMS (${this.maxBlockedStreams}) blocked streams`, streamId);
      }
      this.blocked.set(streamId, { ric, bytes: bytes.slice() });
      return BLOCKED;
    }
    return this.decodeLines(r, streamId, ric, base);
  }

  /**
   * The stream was reset or its reading abandoned (RFC 9204 §2.2.2.2): drop a blocked section and
   * queue a Stream Cancellation (omitted when our table capacity is 0, as §4.4.2 allows).
   */
  cancelStream(streamId: number): void {
    if (!Number.isSafeInteger(streamId) || streamId < 0) throw new RangeError('streamId must be a non-negative integer');
    this.blocked.delete(streamId);
    if (this.maxTableCapacity > 0) writePrefixInt(this.out, 0x40, 6, streamId);
  }

  /**
   * Process bytes received on the peer's encoder stream (RFC 9204 §4.3), in chunks split anywhere.
   * Returns the blocked sections this made decodable (empty array when none).
   * Throws QpackError(QPACK_ENCODER_STREAM_ERROR) for an invalid instruction, and
   * QpackError(QPACK_DECOMPRESSION_FAILED) when an unblocked section is invalid.
   */
  receiveEncoderStream(chunk: Uint8Array): UnblockedSection[] {
    const before = this.table.insertCount;
    this.encoderIn.feed(chunk, this.onEncoderInstruction);
    if (this.table.insertCount === before || this.blocked.size === 0) return NO_UNBLOCKED;
    return this.unblock();
  }

  /** Decoder-stream bytes to send (EMPTY when none): queued acknowledgments/cancellations, then an Insert Count Increment. */
  takeDecoderStreamBytes(): Uint8Array {
    const ic = this.table.insertCount;
    if (ic > this.knownReceived) {
      writePrefixInt(this.out, 0x00, 6, ic - this.knownReceived);
      this.knownReceived = ic;
    }
    return this.out.len === 0 ? EMPTY : this.out.take();
  }

  // ---- field sections (RFC 9204 §4.5) ---------------------------------------------------------

  /** RFC 9204 §4.5.1.1. */
  private decodeRequiredInsertCount(encoded: number): number {
    if (encoded === 0) return 0;
    const maxEntries = this.maxEntries;
    const fullRange = 2 * maxEntries;
    if (encoded > fullRange) throw new QpackError(DF, `encoded Required Insert Count ${encoded} exceeds ${fullRange}`);
    const maxValue = this.table.insertCount + maxEntries;
    const maxWrapped = Math.floor(maxValue / fullRange) * fullRange;
    let ric = maxWrapped + encoded - 1;
    if (ric > maxValue) {
      if (ric <= fullRange) throw new QpackError(DF, 'invalid encoded Required Insert Count');
      ric -= fullRange;
    }
    if (ric === 0) throw new QpackError(DF, 'Required Insert Count 0 encoded as non-zero');
    return ric;
  }

  private decodeLines(r: Reader, streamId: number, ric: number, base: number): HeaderField[] {
    const limit = this.maxFieldSectionSize;
    const headers: HeaderField[] = [];
    let size = 0;
    let maxRef = -1;
    try {
      while (r.pos < r.end) {
        const b = r.buf[r.pos]!;
        let name: string;
        let value: string;
        let never = false;
        if (b & 0x80) {
          // Indexed Field Line (§4.5.2)
          const idx = fieldInt(r, 6, streamId);
          if (b & 0x40) {
            if (idx >= STATIC_TABLE_SIZE) throw new QpackError(DF, `static index ${idx} out of range`, streamId);
            const e = STATIC_TABLE[idx]!;
            name = e[0];
            value = e[1];
          } else {
            const abs = base - 1 - idx;
            const e = this.dynamicRef(abs, ric, streamId);
            if (abs > maxRef) maxRef = abs;
            name = e.name;
            value = e.value;
          }
        } else if (b & 0x40) {
          // Literal Field Line with Name Reference (§4.5.4)
          never = (b & 0x20) !== 0;
          const idx = fieldInt(r, 4, streamId);
          if (b & 0x10) {
            if (idx >= STATIC_TABLE_SIZE) throw new QpackError(DF, `static index ${idx} out of range`, streamId);
            name = STATIC_TABLE[idx]![0];
          } else {
            const abs = base - 1 - idx;
            name = this.dynamicRef(abs, ric, streamId).name;
            if (abs > maxRef) maxRef = abs;
          }
          value = fieldString(r, 8, limit - size - 32 - name.length, streamId);
        } else if (b & 0x20) {
          // Literal Field Line with Literal Name (§4.5.6)
          never = (b & 0x10) !== 0;
          name = fieldString(r, 4, limit - size - 32, streamId);
          value = fieldString(r, 8, limit - size - 32 - name.length, streamId);
        } else if (b & 0x10) {
          // Indexed Field Line with Post-Base Index (§4.5.3)
          const abs = base + fieldInt(r, 4, streamId);
          const e = this.dynamicRef(abs, ric, streamId);
          if (abs > maxRef) maxRef = abs;
          name = e.name;
          value = e.value;
        } else {
          // Literal Field Line with Post-Base Name Reference (§4.5.5)
          never = (b & 0x08) !== 0;
          const abs = base + fieldInt(r, 3, streamId);
          name = this.dynamicRef(abs, ric, streamId).name;
          if (abs > maxRef) maxRef = abs;
          value = fieldString(r, 8, limit - size - 32 - name.length, streamId);
        }
        size += name.length + value.length + 32;
        if (size > limit) throw new QpackError(H3_EXCESSIVE_LOAD, 'an indexed field line', streamId, true);
        headers.push(never ? [name, value, true] : [name, value]);
      }
    } catch (e) {
      if (e instanceof QpackError && e.errorCode === H3_EXCESSIVE_LOAD) throw this.tooLarge(e.reason, streamId, ric);
      throw e;
    }
    if (ric > 0) {
      // §2.2.1: the Required Insert Count must be exactly what the references need.
      if (maxRef + 1 !== ric) throw new QpackError(DF, `Required Insert Count ${ric} larger than needed (${maxRef + 1})`, streamId);
      writePrefixInt(this.out, 0x80, 7, streamId);
      if (ric > this.knownReceived) this.knownReceived = ric;
    }
    return headers;
  }

  /** The entry a field line references: evicted or ≥ Required Insert Count is invalid (§2.2.3). */
  private dynamicRef(abs: number, ric: number, streamId: number) {
    if (abs < 0 || abs >= ric) throw new QpackError(DF, `dynamic reference ${abs} outside [0, Required Insert Count ${ric})`, streamId);
    const e = this.table.get(abs);
    if (!e) throw new QpackError(DF, `reference to evicted dynamic entry ${abs}`, streamId);
    return e;
  }

  /**
   * RFC 9114 §4.2.2: a section above SETTINGS_MAX_FIELD_SECTION_SIZE is a stream error
   * (H3_EXCESSIVE_LOAD), whether one literal or the sum is too large. The section is abandoned: if
   * it referenced the dynamic table, a Stream Cancellation tells the encoder (RFC 9204 §2.2.2.2).
   */
  private tooLarge(what: string, streamId: number, ric: number): QpackError {
    if (ric > 0) this.cancelStream(streamId);
    return new QpackError(H3_EXCESSIVE_LOAD, `field section exceeds SETTINGS_MAX_FIELD_SECTION_SIZE (${this.maxFieldSectionSize}): ${what}`, streamId, true);
  }

  private unblock(): UnblockedSection[] {
    const ic = this.table.insertCount;
    let out: UnblockedSection[] | null = null;
    for (const [streamId, sec] of this.blocked) {
      if (sec.ric > ic) continue;
      this.blocked.delete(streamId);
      const r = this.reader.reset(sec.bytes);
      // Re-read the prefix (already validated) to find the Base.
      readPrefixInt(r, 8, DF);
      const negative = (r.buf[r.pos]! & 0x80) !== 0;
      const delta = readPrefixInt(r, 7, DF);
      const base = negative ? sec.ric - delta - 1 : sec.ric + delta;
      let item: UnblockedSection;
      try {
        item = { streamId, headers: this.decodeLines(r, streamId, sec.ric, base), error: null };
      } catch (e) {
        if (e instanceof QpackError && e.streamError) item = { streamId, headers: null, error: e };
        else throw e;
      }
      (out ??= []).push(item);
    }
    return out ?? NO_UNBLOCKED;
  }

  // ---- encoder instructions (RFC 9204 §4.3) ---------------------------------------------------

  /** Parse and apply one encoder instruction; false (nothing applied) when the bytes end inside it. */
  private encoderInstruction(r: Reader): boolean {
    const t = this.table;
    const b = r.buf[r.pos]!;
    if (b & 0x80) {
      // Insert With Name Reference (§4.3.2)
      const idx = readPrefixInt(r, 6, ESE);
      if (idx === INCOMPLETE) return false;
      let name: string;
      if (b & 0x40) {
        if (idx >= STATIC_TABLE_SIZE) throw new QpackError(ESE, `static index ${idx} out of range`);
        name = STATIC_TABLE[idx]![0];
      } else {
        name = this.encoderRelative(idx).name;
      }
      const value = readString(r, 8, t.capacity, ESE);
      if (value === null) return false;
      this.insert(name, value);
    } else if (b & 0x40) {
      // Insert With Literal Name (§4.3.3)
      const name = readString(r, 6, t.capacity, ESE);
      if (name === null) return false;
      const value = readString(r, 8, t.capacity, ESE);
      if (value === null) return false;
      this.insert(name, value);
    } else if (b & 0x20) {
      // Set Dynamic Table Capacity (§4.3.1)
      const cap = readPrefixInt(r, 5, ESE);
      if (cap === INCOMPLETE) return false;
      if (cap > this.maxTableCapacity) {
        throw new QpackError(ESE, `Set Dynamic Table Capacity ${cap} above SETTINGS_QPACK_MAX_TABLE_CAPACITY ${this.maxTableCapacity}`);
      }
      t.setCapacity(cap);
    } else {
      // Duplicate (§4.3.4)
      const rel = readPrefixInt(r, 5, ESE);
      if (rel === INCOMPLETE) return false;
      const e = this.encoderRelative(rel);
      this.insert(e.name, e.value);
    }
    return true;
  }

  private encoderRelative(rel: number) {
    const t = this.table;
    const e = t.get(t.insertCount - 1 - rel);
    if (!e) throw new QpackError(ESE, `encoder instruction references relative index ${rel}, which is not in the table`);
    return e;
  }

  private insert(name: string, value: string): void {
    const t = this.table;
    const size = name.length + value.length + 32;
    if (size > t.capacity) throw new QpackError(ESE, `entry of ${size} bytes exceeds the table capacity ${t.capacity}`);
    t.insert(name, value);
  }
}
