// L1: data-carrying frames — STREAM (RFC 9000 §19.8), CRYPTO (§19.6), DATAGRAM (RFC 9221 §4) —
// and the fitting helpers the packet builder uses to fill the remaining packet space.
//
// Decoded data is a subarray view into the datagram, never a copy. Stream IDs and offsets are
// read exactly (above 2^53−1 → FRAME_ENCODING_ERROR); "offset + length ≤ 2^62−1" is checked as
// RFC 9000 §19.6/§19.8 require, even though our exact-read ceiling makes it unreachable.

import { type Reader, type Writer, varintSize } from '../../util/bytes.js';
import {
  type CryptoFrame,
  type DatagramFrame,
  FrameType,
  MAX_VARINT_VALUE,
  type StreamFrame,
  StreamFlag,
} from './frame-types.js';
import { checkVarintArg, frameEncodingError } from './internal.js';

const EMPTY_DATA: Uint8Array = new Uint8Array(0);

// ---------------------------------------------------------------------------------------------
// STREAM

export function newStreamFrame(): StreamFrame {
  return {
    kind: FrameType.STREAM,
    type: FrameType.STREAM,
    streamId: 0,
    offset: 0,
    fin: false,
    hasLength: false,
    data: EMPTY_DATA,
  };
}

export function decodeStreamBody(r: Reader, type: number, f: StreamFrame): StreamFrame {
  const streamId = r.varintExact();
  const offset = (type & StreamFlag.OFF) !== 0 ? r.varintExact() : 0;
  const hasLength = (type & StreamFlag.LEN) !== 0;
  const length = hasLength ? r.varint() : r.remaining;
  if (hasLength && length > r.remaining) throw frameEncodingError('STREAM length exceeds the packet', type);
  if (offset + length > MAX_VARINT_VALUE) throw frameEncodingError('STREAM offset + length exceeds 2^62-1', type);
  f.type = type;
  f.streamId = streamId;
  f.offset = offset;
  f.fin = (type & StreamFlag.FIN) !== 0;
  f.hasLength = hasLength;
  f.data = r.bytes(length);
  return f;
}

/** Bytes of a STREAM frame header (type, Stream ID, Offset if non-zero, Length if wanted). */
export function sizeStreamHeader(streamId: number, offset: number, dataLength: number, withLength: boolean): number {
  return 1 + varintSize(streamId) + (offset > 0 ? varintSize(offset) : 0) + (withLength ? varintSize(dataLength) : 0);
}

export function sizeStream(streamId: number, offset: number, dataLength: number, withLength: boolean): number {
  return sizeStreamHeader(streamId, offset, dataLength, withLength) + dataLength;
}

/**
 * Write a STREAM frame header for `dataLength` bytes that the caller then copies in (e.g. from
 * a ring buffer in two pieces). The OFF bit is set only when offset > 0. Without Length the
 * frame must be the last one in the packet. Returns the header size.
 */
export function encodeStreamHeader(
  w: Writer,
  streamId: number,
  offset: number,
  dataLength: number,
  fin: boolean,
  withLength: boolean,
): number {
  checkVarintArg('streamId', streamId);
  checkVarintArg('offset', offset);
  checkVarintArg('dataLength', dataLength);
  const start = w.pos;
  let type: number = FrameType.STREAM;
  if (offset > 0) type |= StreamFlag.OFF;
  if (withLength) type |= StreamFlag.LEN;
  if (fin) type |= StreamFlag.FIN;
  w.need(sizeStreamHeader(streamId, offset, dataLength, withLength));
  w.u8(type);
  w.varint(streamId);
  if (offset > 0) w.varint(offset);
  if (withLength) w.varint(dataLength);
  return w.pos - start;
}

export function encodeStream(
  w: Writer,
  streamId: number,
  offset: number,
  data: Uint8Array,
  fin: boolean,
  withLength: boolean,
): number {
  w.need(sizeStream(streamId, offset, data.length, withLength));
  const n = encodeStreamHeader(w, streamId, offset, data.length, fin, withLength);
  w.bytes(data);
  return n + data.length;
}

/** Re-encode a decoded STREAM frame with its exact type bits (OFF may be set with offset 0). */
export function encodeStreamFrame(w: Writer, f: StreamFrame): number {
  const size = sizeStreamFrame(f);
  w.need(size);
  const withOffset = (f.type & StreamFlag.OFF) !== 0 || f.offset > 0;
  w.u8(
    FrameType.STREAM | (withOffset ? StreamFlag.OFF : 0) | (f.hasLength ? StreamFlag.LEN : 0) | (f.fin ? StreamFlag.FIN : 0),
  );
  w.varint(f.streamId);
  if (withOffset) w.varint(f.offset);
  if (f.hasLength) w.varint(f.data.length);
  w.bytes(f.data);
  return size;
}

export function sizeStreamFrame(f: StreamFrame): number {
  const off = (f.type & StreamFlag.OFF) !== 0 || f.offset > 0 ? varintSize(f.offset) : 0;
  return 1 + varintSize(f.streamId) + off + (f.hasLength ? varintSize(f.data.length) : 0) + f.data.length;
}

/** Result of fitStreamFrame (a caller-owned scratch object: no allocation per packet). */
export interface StreamFit {
  /** Data bytes to put in the frame (from the start of the pending data). */
  dataBytes: number;
  /** Whether to write the Length field. Without it the frame ends exactly at the packet end. */
  withLength: boolean;
  /** The FIN bit to send: the requested fin, dropped when the data was cut short. */
  fin: boolean;
  /** PADDING bytes to write before the frame when it has no Length but leaves space (≤ 7). */
  padding: number;
  /** Frame size in bytes, excluding `padding`. */
  frameBytes: number;
}

export function newStreamFit(): StreamFit {
  return { dataBytes: 0, withLength: false, fin: false, padding: 0, frameBytes: 0 };
}

/**
 * Plan a STREAM frame for `space` bytes, the space left up to the end of the packet payload.
 * - All data fits with a Length field → include it (more frames may follow).
 * - All data fits only without Length → omit it; the few spare bytes (< the Length field's
 *   size) become `padding` to write BEFORE the frame, so the frame still ends the packet.
 * - Data does not fit → as many bytes as fill the packet, no Length, fin dropped.
 * With `allowNoLength` false the frame always has a Length (it need not be last).
 * Returns false when not even one data byte (or, for an empty fin frame, the header) fits.
 */
export function fitStreamFrame(
  out: StreamFit,
  streamId: number,
  offset: number,
  dataLength: number,
  fin: boolean,
  space: number,
  allowNoLength = true,
): boolean {
  const header = 1 + varintSize(streamId) + (offset > 0 ? varintSize(offset) : 0);
  const avail = space - header;
  if (varintSize(dataLength) + dataLength <= avail) {
    out.dataBytes = dataLength;
    out.withLength = true;
    out.fin = fin;
    out.padding = 0;
    out.frameBytes = header + varintSize(dataLength) + dataLength;
    return true;
  }
  if (allowNoLength) {
    if (dataLength <= avail) {
      out.dataBytes = dataLength;
      out.withLength = false;
      out.fin = fin;
      out.padding = avail - dataLength;
      out.frameBytes = header + dataLength;
      return true;
    }
    if (avail < 1) return false;
    out.dataBytes = avail;
    out.withLength = false;
    out.fin = false;
    out.padding = 0;
    out.frameBytes = space;
    return true;
  }
  // Length required and the data does not fit whole.
  const n = maxDataWithLength(avail);
  if (n < 1) return false;
  out.dataBytes = n;
  out.withLength = true;
  out.fin = false;
  out.padding = 0;
  out.frameBytes = header + varintSize(n) + n;
  return true;
}

// ---------------------------------------------------------------------------------------------
// CRYPTO

export function newCryptoFrame(): CryptoFrame {
  return { kind: FrameType.CRYPTO, type: FrameType.CRYPTO, offset: 0, data: EMPTY_DATA };
}

export function decodeCryptoBody(r: Reader, type: number, f: CryptoFrame): CryptoFrame {
  const offset = r.varintExact();
  const length = r.varint();
  if (length > r.remaining) throw frameEncodingError('CRYPTO length exceeds the packet', type);
  if (offset + length > MAX_VARINT_VALUE) throw frameEncodingError('CRYPTO offset + length exceeds 2^62-1', type);
  f.type = type;
  f.offset = offset;
  f.data = r.bytes(length);
  return f;
}

export function sizeCryptoHeader(offset: number, dataLength: number): number {
  return 1 + varintSize(offset) + varintSize(dataLength);
}

export function sizeCrypto(offset: number, dataLength: number): number {
  return sizeCryptoHeader(offset, dataLength) + dataLength;
}

/** Write a CRYPTO frame header for `dataLength` bytes the caller copies in. Returns its size. */
export function encodeCryptoHeader(w: Writer, offset: number, dataLength: number): number {
  checkVarintArg('offset', offset);
  checkVarintArg('dataLength', dataLength);
  const start = w.pos;
  w.need(sizeCryptoHeader(offset, dataLength));
  w.u8(FrameType.CRYPTO);
  w.varint(offset);
  w.varint(dataLength);
  return w.pos - start;
}

export function encodeCrypto(w: Writer, offset: number, data: Uint8Array): number {
  w.need(sizeCrypto(offset, data.length));
  const n = encodeCryptoHeader(w, offset, data.length);
  w.bytes(data);
  return n + data.length;
}

/** Data bytes of a CRYPTO frame at `offset` that fit in `space` bytes (0 if none). */
export function fitCryptoFrame(offset: number, dataLength: number, space: number): number {
  const avail = space - 1 - varintSize(offset);
  if (varintSize(dataLength) + dataLength <= avail) return dataLength;
  return maxDataWithLength(avail);
}

/** Largest n ≥ 0 with varintSize(n) + n ≤ avail: data that fits in `avail` bytes behind its own Length field. */
function maxDataWithLength(avail: number): number {
  let n = avail - 1;
  while (n > 0 && varintSize(n) + n > avail) n--;
  return n > 0 ? n : 0;
}

// ---------------------------------------------------------------------------------------------
// DATAGRAM (RFC 9221 §4)

export function newDatagramFrame(): DatagramFrame {
  return { kind: FrameType.DATAGRAM, type: FrameType.DATAGRAM, hasLength: false, data: EMPTY_DATA };
}

export function decodeDatagramBody(r: Reader, type: number, f: DatagramFrame): DatagramFrame {
  const hasLength = type === FrameType.DATAGRAM_LEN;
  const length = hasLength ? r.varint() : r.remaining;
  if (length > r.remaining) throw frameEncodingError('DATAGRAM length exceeds the packet', type);
  f.type = type;
  f.hasLength = hasLength;
  f.data = r.bytes(length);
  return f;
}

export function sizeDatagram(dataLength: number, withLength: boolean): number {
  return 1 + (withLength ? varintSize(dataLength) : 0) + dataLength;
}

/** Without Length the frame must be the last in the packet. Returns bytes written. */
export function encodeDatagram(w: Writer, data: Uint8Array, withLength: boolean): number {
  const size = sizeDatagram(data.length, withLength);
  w.need(size);
  w.u8(withLength ? FrameType.DATAGRAM_LEN : FrameType.DATAGRAM);
  if (withLength) w.varint(data.length);
  w.bytes(data);
  return size;
}
