// L1 QPACK encoder, sans-IO: RFC 9204 §2.1 (encoder behaviour), §3.2 (dynamic table), §4.3 (encoder
// instructions), §4.4 (decoder instructions, received), §4.5 (field line representations).
//
// Single pass per field section with Base = Insert Count at the start of the section; entries
// inserted while encoding the section are referenced with post-Base indices (§3.2.6). Policy:
// - static exact match → indexed; sensitive fields → literal with the N bit (§7.1.3);
// - dynamic exact match outside the draining area → indexed; inside it, a Duplicate (§4.3.4) of the
//   entry is referenced instead when room allows;
// - otherwise fields that repeat across messages are inserted and referenced (§2.1.1 limits);
// - a reference to an entry not yet acknowledged makes the stream potentially blocked: allowed only
//   while fewer than SETTINGS_QPACK_BLOCKED_STREAMS streams are (§2.1.2); else only acknowledged
//   entries are referenced;
// - eviction never drops an entry that is unacknowledged or referenced by an unacknowledged
//   section (§2.1.1): an insertion that would need that is skipped and the field sent as a literal.

import { EMPTY, Reader } from '../util/bytes.js';
import { ByteSink } from './byte-sink.js';
import { EncoderTable, entrySize } from './dynamic-table.js';
import { QpackError, QpackErrorCode } from './errors.js';
import type { HeaderFieldInput } from './header-field.js';
import { InstructionBuffer } from './instruction-stream.js';
import { INCOMPLETE, readPrefixInt, writePrefixInt } from './prefix-int.js';
import { STATIC_BY_NAME, type StaticNameEntry } from './static-table.js';
import { isLatin1, writeString } from './string-literal.js';

export interface QpackEncoderOptions {
  /** Huffman-code string literals when that is shorter (default true). */
  huffman?: boolean;
  /** Upper bound on the dynamic table capacity this encoder uses, whatever the peer allows (default 16384). */
  maxTableCapacity?: number;
  /** Whether a field may be inserted into the dynamic table (default: defaultShouldIndex). */
  shouldIndex?: (name: string, value: string) => boolean;
  /** Whether a field is sent as a never-indexed literal when its HeaderField has no flag (default: defaultIsSensitive). */
  isSensitive?: (name: string, value: string) => boolean;
  /**
   * Unacknowledged sections with dynamic references this encoder tracks at most (default 1024);
   * beyond that new sections use the static table only, so a peer that never acknowledges cannot
   * make the encoder's bookkeeping grow without bound.
   */
  maxUnacknowledgedSections?: number;
}

/** Output of encodeFieldSection. */
export interface EncodedFieldSection {
  /** The encoded field section: the payload of a HEADERS (or PUSH_PROMISE) frame. */
  fieldSection: Uint8Array;
  /** Bytes to append to the encoder stream (possibly empty); they may arrive before or after the section. */
  encoderStream: Uint8Array;
}

/** Fields whose values are (nearly) unique per message: inserting them only churns the table. */
const UNIQUE_VALUE_FIELDS = new Set([
  ':path',
  'content-length',
  'content-range',
  'content-md5',
  'content-digest',
  'repr-digest',
  'digest',
  'date',
  'expires',
  'age',
  'etag',
  'last-modified',
  'if-modified-since',
  'if-unmodified-since',
  'if-none-match',
  'if-match',
  'if-range',
  'location',
  'x-request-id',
  'x-correlation-id',
  'traceparent',
  'tracestate',
  'sentry-trace',
  'sec-websocket-key',
  'sec-websocket-accept',
]);

/**
 * Default insertion policy: everything that repeats across messages (:authority, user-agent,
 * accept*, sec-ch-ua*, sec-fetch-*, cookie, referer, origin, priority, content-type, server…), but
 * not fields whose values are unique per message (:path, content-length, date, etag, …).
 */
export function defaultShouldIndex(name: string, _value: string): boolean {
  return !UNIQUE_VALUE_FIELDS.has(name);
}

/**
 * Default never-index policy (RFC 9204 §7.1.3): credentials always, and cookies short enough
 * (< 20 octets) for their values to be guessed through the compression oracle.
 */
export function defaultIsSensitive(name: string, value: string): boolean {
  switch (name) {
    case 'authorization':
    case 'proxy-authorization':
      return true;
    case 'cookie':
    case 'set-cookie':
      return value.length < 20;
    default:
      return false;
  }
}

interface SectionRecord {
  /** Required Insert Count of the section. */
  readonly ric: number;
  /** Absolute indices it references (one per reference). */
  readonly refs: number[];
}

const DSE = QpackErrorCode.DECODER_STREAM_ERROR;

export class QpackEncoder {
  private readonly table = new EncoderTable();
  private readonly huffman: boolean;
  private readonly localMaxCapacity: number;
  private readonly shouldIndex: (name: string, value: string) => boolean;
  private readonly isSensitive: (name: string, value: string) => boolean;
  private readonly maxUnacked: number;
  private unacked = 0;

  private peerMaxCapacity = -1;
  private maxEntries = 0;
  private maxBlocked = 0;
  private capacityPending = false;
  private knownReceived = 0;
  /** Unacknowledged field sections with dynamic references, oldest first, per stream. */
  private readonly sections = new Map<number, SectionRecord[]>();

  private readonly encoderOut = new ByteSink(256);
  private readonly reprs = new ByteSink(1024);
  private readonly prefix = new ByteSink(16);
  private readonly decoderIn = new InstructionBuffer();
  /** One decoder-stream instruction (RFC 9204 §4.4); false when the bytes end inside it. */
  private readonly onDecoderInstruction = (r: Reader): boolean => {
    const b = r.buf[r.pos]!;
    const v = readPrefixInt(r, b & 0x80 ? 7 : 6, DSE);
    if (v === INCOMPLETE) return false;
    if (b & 0x80) this.sectionAcknowledged(v);
    else if (b & 0x40) this.streamCancelled(v);
    else this.insertCountIncrement(v);
    return true;
  };

  // Per-section scratch (valid during encodeFieldSection).
  private curRic = 0;
  private curRefs: number[] | null = null;

  constructor(options: QpackEncoderOptions = {}) {
    this.huffman = options.huffman ?? true;
    const max = options.maxTableCapacity ?? 16384;
    if (!Number.isSafeInteger(max) || max < 0) throw new RangeError('options.maxTableCapacity must be a non-negative integer');
    this.localMaxCapacity = max;
    this.shouldIndex = options.shouldIndex ?? defaultShouldIndex;
    this.isSensitive = options.isSensitive ?? defaultIsSensitive;
    this.maxUnacked = options.maxUnacknowledgedSections ?? 1024;
  }

  /**
   * Apply the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY and SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204
   * §5). Until then the encoder uses the static table only (§3.2.3). Call once (again only with
   * the same capacity, e.g. after remembered 0-RTT settings).
   */
  applyPeerSettings(maxTableCapacity: number, blockedStreams: number): void {
    if (!Number.isSafeInteger(maxTableCapacity) || maxTableCapacity < 0) throw new RangeError('maxTableCapacity must be a non-negative integer');
    if (!(blockedStreams >= 0)) throw new RangeError('blockedStreams must be a non-negative number');
    if (this.peerMaxCapacity >= 0) {
      if (this.peerMaxCapacity !== maxTableCapacity) throw new RangeError('maxTableCapacity cannot change once applied');
      this.maxBlocked = blockedStreams;
      return;
    }
    this.peerMaxCapacity = maxTableCapacity;
    this.maxEntries = Math.floor(maxTableCapacity / 32);
    this.maxBlocked = blockedStreams;
    const cap = Math.min(maxTableCapacity, this.localMaxCapacity);
    if (cap > 0) {
      this.table.setCapacity(cap);
      this.capacityPending = true;
    }
  }

  /** Dynamic table capacity in use (0: static table only). */
  get capacity(): number {
    return this.table.capacity;
  }
  get tableSize(): number {
    return this.table.size;
  }
  get insertCount(): number {
    return this.table.insertCount;
  }
  get knownReceivedCount(): number {
    return this.knownReceived;
  }
  /** Field sections with dynamic references not yet acknowledged or cancelled. */
  get unacknowledgedSections(): number {
    return this.unacked;
  }
  /** Streams with an unacknowledged section that references unacknowledged entries. */
  get blockingStreams(): number {
    return this.blockingStreamCount();
  }
  /** References to entry `abs` from unacknowledged sections (-1 when evicted or not inserted). */
  referenceCount(abs: number): number {
    const e = this.table.get(abs);
    return e ? e.refs : -1;
  }

  /**
   * Encode a header or trailer section for `streamId` (RFC 9204 §4.5). The field section goes in a
   * HEADERS frame on that stream; `encoderStream` bytes go on the encoder stream.
   * Throws TypeError for fields that are not Latin-1 [name, value] strings.
   */
  encodeFieldSection(streamId: number, headers: ReadonlyArray<HeaderFieldInput>): EncodedFieldSection {
    if (!Number.isSafeInteger(streamId) || streamId < 0) throw new RangeError('streamId must be a non-negative integer');
    const t = this.table;
    const useDynamic = t.capacity > 0 && this.unacked < this.maxUnacked;
    const base = t.insertCount;
    const krc = this.knownReceived;
    const canBlock = useDynamic && this.maxBlocked > 0 && (this.isStreamBlocking(streamId) || this.blockingStreamCount() < this.maxBlocked);
    const drainIdx = useDynamic ? t.drainingIndex(t.capacity >>> 2) : 0;
    const insertLimit = (t.capacity * 3) >>> 2;
    this.curRic = 0;
    this.curRefs = null;
    const out = this.reprs;
    out.reset();

    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      const name = h[0];
      const value = h[1];
      if (typeof name !== 'string' || typeof value !== 'string' || !isLatin1(name) || !isLatin1(value)) {
        throw new TypeError(`headers[${i}] must be [name, value] with Latin-1 (one octet per char) strings`);
      }
      const st = STATIC_BY_NAME.get(name);
      const flag = h[2];
      if (flag === true || (flag === undefined && this.isSensitive(name, value))) {
        this.writeLiteral(out, name, value, st, true, -1, base);
        continue;
      }
      if (st) {
        const si = st.values.get(value);
        if (si !== undefined) {
          writePrefixInt(out, 0xc0, 6, si);
          continue;
        }
      }
      if (useDynamic) {
        const abs = t.findExact(name, value);
        if (abs >= 0) {
          let use = -1;
          if (abs >= drainIdx) {
            if (abs < krc || canBlock) use = abs;
          } else {
            if (canBlock) use = this.duplicate(abs);
            if (use < 0 && abs < krc) use = abs;
          }
          if (use >= 0) {
            this.writeIndexed(out, use, base);
            continue;
          }
        } else if (entrySize(name, value) <= insertLimit && this.shouldIndex(name, value)) {
          const ins = this.insertEntry(name, value, st);
          if (ins >= 0 && canBlock) {
            this.writeIndexed(out, ins, base);
            continue;
          }
        }
      }
      let nameAbs = -1;
      if (!st && useDynamic) {
        const na = t.findName(name);
        if (na >= drainIdx && (na < krc || canBlock)) nameAbs = na;
      }
      this.writeLiteral(out, name, value, st, false, nameAbs, base);
    }

    const ric = this.curRic;
    const p = this.prefix;
    p.reset();
    if (ric === 0) {
      p.u8(0);
      p.u8(0);
    } else {
      writePrefixInt(p, 0, 8, (ric % (2 * this.maxEntries)) + 1);
      if (base >= ric) writePrefixInt(p, 0, 7, base - ric);
      else writePrefixInt(p, 0x80, 7, ric - base - 1);
      const rec: SectionRecord = { ric, refs: this.curRefs! };
      this.unacked++;
      const list = this.sections.get(streamId);
      if (list) list.push(rec);
      else this.sections.set(streamId, [rec]);
    }
    this.curRefs = null;
    const fieldSection = new Uint8Array(p.len + out.len);
    fieldSection.set(p.view(), 0);
    fieldSection.set(out.view(), p.len);
    return { fieldSection, encoderStream: this.takeEncoderStreamBytes() };
  }

  /**
   * Insert (name, value) into the dynamic table without referencing it (RFC 9204 §2.1.1, the
   * "speculative insert" of Appendix B.3), or, when an identical entry exists, Duplicate it
   * (§4.3.4). Returns false when the table is disabled or has no evictable room. The instruction
   * bytes are returned by the next takeEncoderStreamBytes() / encodeFieldSection().
   */
  insert(name: string, value: string): boolean {
    if (typeof name !== 'string' || typeof value !== 'string' || !isLatin1(name) || !isLatin1(value)) {
      throw new TypeError('name and value must be Latin-1 (one octet per char) strings');
    }
    if (this.table.capacity === 0) return false;
    const abs = this.table.findExact(name, value);
    if (abs >= 0) return this.duplicate(abs) >= 0;
    return this.insertEntry(name, value, STATIC_BY_NAME.get(name)) >= 0;
  }

  /** Encoder-stream bytes produced so far and not yet taken (EMPTY when none). */
  takeEncoderStreamBytes(): Uint8Array {
    return this.encoderOut.len === 0 ? EMPTY : this.encoderOut.take();
  }

  /**
   * Process bytes received on the peer's decoder stream (RFC 9204 §4.4), in chunks split anywhere.
   * Throws QpackError(QPACK_DECODER_STREAM_ERROR) on an invalid instruction.
   */
  receiveDecoderStream(chunk: Uint8Array): void {
    this.decoderIn.feed(chunk, this.onDecoderInstruction);
  }

  // ---- decoder instructions (RFC 9204 §4.4) ---------------------------------------------------

  private sectionAcknowledged(streamId: number): void {
    const list = this.sections.get(streamId);
    if (!list) throw new QpackError(DSE, `Section Acknowledgment for stream ${streamId}, which has no unacknowledged field section`);
    const rec = list.shift()!;
    if (list.length === 0) this.sections.delete(streamId);
    this.unacked--;
    this.release(rec);
    if (rec.ric > this.knownReceived) this.knownReceived = rec.ric;
  }

  private streamCancelled(streamId: number): void {
    const list = this.sections.get(streamId);
    if (!list) return;
    this.sections.delete(streamId);
    this.unacked -= list.length;
    for (const rec of list) this.release(rec);
  }

  private insertCountIncrement(increment: number): void {
    if (increment === 0) throw new QpackError(DSE, 'Insert Count Increment of 0');
    if (this.knownReceived + increment > this.table.insertCount) {
      throw new QpackError(DSE, `Insert Count Increment to ${this.knownReceived + increment} beyond the ${this.table.insertCount} insertions sent`);
    }
    this.knownReceived += increment;
  }

  private release(rec: SectionRecord): void {
    const t = this.table;
    for (const abs of rec.refs) {
      const e = t.get(abs);
      if (e) e.refs--;
    }
  }

  // ---- blocking (RFC 9204 §2.1.2) -------------------------------------------------------------

  private isStreamBlocking(streamId: number): boolean {
    const list = this.sections.get(streamId);
    if (!list) return false;
    for (const rec of list) if (rec.ric > this.knownReceived) return true;
    return false;
  }

  private blockingStreamCount(): number {
    let n = 0;
    const krc = this.knownReceived;
    for (const list of this.sections.values()) {
      for (const rec of list) {
        if (rec.ric > krc) {
          n++;
          break;
        }
      }
    }
    return n;
  }

  // ---- encoder instructions (RFC 9204 §4.3) ---------------------------------------------------

  private announceCapacity(): void {
    if (!this.capacityPending) return;
    this.capacityPending = false;
    writePrefixInt(this.encoderOut, 0x20, 5, this.table.capacity);
  }

  /** Insert With Name Reference / Insert With Literal Name; returns the new absolute index or -1. */
  private insertEntry(name: string, value: string, st: StaticNameEntry | undefined): number {
    const t = this.table;
    if (!t.canMakeRoom(entrySize(name, value), this.knownReceived)) return -1;
    this.announceCapacity();
    const o = this.encoderOut;
    if (st) {
      writePrefixInt(o, 0xc0, 6, st.nameIndex);
    } else {
      const na = t.findName(name);
      if (na >= 0) writePrefixInt(o, 0x80, 6, t.insertCount - 1 - na);
      else writeString(o, 0x40, 6, name, this.huffman);
    }
    writeString(o, 0, 8, value, this.huffman);
    return t.insert(name, value).index;
  }

  /** Duplicate entry `abs`; returns the new absolute index or -1 when there is no room. */
  private duplicate(abs: number): number {
    const t = this.table;
    const e = t.get(abs)!;
    if (!t.canMakeRoom(e.size, this.knownReceived)) return -1;
    this.announceCapacity();
    writePrefixInt(this.encoderOut, 0x00, 5, t.insertCount - 1 - abs);
    return t.insert(e.name, e.value).index;
  }

  // ---- field line representations (RFC 9204 §4.5) --------------------------------------------

  private reference(abs: number): void {
    this.table.get(abs)!.refs++;
    (this.curRefs ??= []).push(abs);
    if (abs + 1 > this.curRic) this.curRic = abs + 1;
  }

  private writeIndexed(out: ByteSink, abs: number, base: number): void {
    this.reference(abs);
    if (abs < base) writePrefixInt(out, 0x80, 6, base - 1 - abs);
    else writePrefixInt(out, 0x10, 4, abs - base);
  }

  private writeLiteral(
    out: ByteSink,
    name: string,
    value: string,
    st: StaticNameEntry | undefined,
    never: boolean,
    nameAbs: number,
    base: number,
  ): void {
    if (st) {
      writePrefixInt(out, never ? 0x70 : 0x50, 4, st.nameIndex);
    } else if (nameAbs >= 0) {
      this.reference(nameAbs);
      if (nameAbs < base) writePrefixInt(out, never ? 0x60 : 0x40, 4, base - 1 - nameAbs);
      else writePrefixInt(out, never ? 0x08 : 0x00, 3, nameAbs - base);
    } else {
      writeString(out, never ? 0x30 : 0x20, 4, name, this.huffman);
    }
    writeString(out, 0, 8, value, this.huffman);
  }
}
