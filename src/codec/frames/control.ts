// L1: control frames — RFC 9000 §19.1 PADDING, §19.2 PING, §19.4 RESET_STREAM, §19.5
// STOP_SENDING, §19.7 NEW_TOKEN, §19.9 MAX_DATA, §19.10 MAX_STREAM_DATA, §19.11 MAX_STREAMS,
// §19.12 DATA_BLOCKED, §19.13 STREAM_DATA_BLOCKED, §19.14 STREAMS_BLOCKED, §19.15
// NEW_CONNECTION_ID, §19.16 RETIRE_CONNECTION_ID, §19.17 PATH_CHALLENGE, §19.18 PATH_RESPONSE,
// §19.19 CONNECTION_CLOSE, §19.20 HANDSHAKE_DONE.
//
// Field policy: stream IDs, final sizes and CID sequence numbers are read exactly (above
// 2^53−1 → FRAME_ENCODING_ERROR); flow-control limits and error codes saturate at 2^53−1;
// stream counts above 2^60 → FRAME_ENCODING_ERROR (§19.11, §19.14), counts in (2^53, 2^60]
// saturate.

import { type Reader, type Writer, varintSize } from '../../util/bytes.js';
import {
  type ConnectionCloseFrame,
  type DataBlockedFrame,
  FrameType,
  type HandshakeDoneFrame,
  MAX_CID_LENGTH,
  MAX_STREAM_COUNT,
  type MaxDataFrame,
  type MaxStreamDataFrame,
  type MaxStreamsFrame,
  type NewConnectionIdFrame,
  type NewTokenFrame,
  PATH_DATA_LENGTH,
  type PaddingFrame,
  type PathChallengeFrame,
  type PathResponseFrame,
  type PingFrame,
  type ResetStreamFrame,
  type RetireConnectionIdFrame,
  STATELESS_RESET_TOKEN_LENGTH,
  type StopSendingFrame,
  type StreamDataBlockedFrame,
  type StreamsBlockedFrame,
} from './frame-types.js';
import { checkVarintArg, frameEncodingError, readStreamCount } from './internal.js';

const EMPTY_DATA: Uint8Array = new Uint8Array(0);

// ---------------------------------------------------------------------------------------------
// PADDING, PING, HANDSHAKE_DONE

export function newPaddingFrame(): PaddingFrame {
  return { kind: FrameType.PADDING, type: FrameType.PADDING, length: 0 };
}

/** The type byte (0x00) is already consumed; swallow the rest of the run of zero bytes. */
export function decodePaddingBody(r: Reader, f: PaddingFrame): PaddingFrame {
  const b = r.buf;
  const start = r.pos - 1;
  let p = r.pos;
  const end = r.end;
  while (p < end && b[p] === 0) p++;
  r.pos = p;
  f.length = p - start;
  return f;
}

/** Write `n` PADDING frames (n zero bytes). */
export function encodePadding(w: Writer, n: number): number {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`padding length must be a non-negative integer, got ${n}`);
  w.fill(0, n);
  return n;
}

export function newPingFrame(): PingFrame {
  return { kind: FrameType.PING, type: FrameType.PING };
}

export function encodePing(w: Writer): number {
  w.u8(FrameType.PING);
  return 1;
}

export function sizePing(): number {
  return 1;
}

export function newHandshakeDoneFrame(): HandshakeDoneFrame {
  return { kind: FrameType.HANDSHAKE_DONE, type: FrameType.HANDSHAKE_DONE };
}

export function encodeHandshakeDone(w: Writer): number {
  w.u8(FrameType.HANDSHAKE_DONE);
  return 1;
}

export function sizeHandshakeDone(): number {
  return 1;
}

// ---------------------------------------------------------------------------------------------
// RESET_STREAM, STOP_SENDING

export function newResetStreamFrame(): ResetStreamFrame {
  return { kind: FrameType.RESET_STREAM, type: FrameType.RESET_STREAM, streamId: 0, errorCode: 0, finalSize: 0 };
}

export function decodeResetStreamBody(r: Reader, f: ResetStreamFrame): ResetStreamFrame {
  f.streamId = r.varintExact();
  f.errorCode = r.varint();
  f.finalSize = r.varintExact();
  return f;
}

export function sizeResetStream(streamId: number, errorCode: number, finalSize: number): number {
  return 1 + varintSize(streamId) + varintSize(errorCode) + varintSize(finalSize);
}

export function encodeResetStream(w: Writer, streamId: number, errorCode: number, finalSize: number): number {
  checkVarintArg('streamId', streamId);
  checkVarintArg('errorCode', errorCode);
  checkVarintArg('finalSize', finalSize);
  const size = sizeResetStream(streamId, errorCode, finalSize);
  w.need(size);
  w.u8(FrameType.RESET_STREAM);
  w.varint(streamId);
  w.varint(errorCode);
  w.varint(finalSize);
  return size;
}

export function newStopSendingFrame(): StopSendingFrame {
  return { kind: FrameType.STOP_SENDING, type: FrameType.STOP_SENDING, streamId: 0, errorCode: 0 };
}

export function decodeStopSendingBody(r: Reader, f: StopSendingFrame): StopSendingFrame {
  f.streamId = r.varintExact();
  f.errorCode = r.varint();
  return f;
}

export function sizeStopSending(streamId: number, errorCode: number): number {
  return 1 + varintSize(streamId) + varintSize(errorCode);
}

export function encodeStopSending(w: Writer, streamId: number, errorCode: number): number {
  checkVarintArg('streamId', streamId);
  checkVarintArg('errorCode', errorCode);
  const size = sizeStopSending(streamId, errorCode);
  w.need(size);
  w.u8(FrameType.STOP_SENDING);
  w.varint(streamId);
  w.varint(errorCode);
  return size;
}

// ---------------------------------------------------------------------------------------------
// NEW_TOKEN

export function newNewTokenFrame(): NewTokenFrame {
  return { kind: FrameType.NEW_TOKEN, type: FrameType.NEW_TOKEN, token: EMPTY_DATA };
}

export function decodeNewTokenBody(r: Reader, f: NewTokenFrame): NewTokenFrame {
  const length = r.varint();
  // §19.7: "A client MUST treat receipt of a NEW_TOKEN frame with an empty Token field as a
  // connection error of type FRAME_ENCODING_ERROR."
  if (length === 0) throw frameEncodingError('NEW_TOKEN with an empty token', FrameType.NEW_TOKEN);
  f.token = r.bytes(length);
  return f;
}

export function sizeNewToken(tokenLength: number): number {
  return 1 + varintSize(tokenLength) + tokenLength;
}

export function encodeNewToken(w: Writer, token: Uint8Array): number {
  if (token.length === 0) throw new RangeError('NEW_TOKEN token must not be empty');
  const size = sizeNewToken(token.length);
  w.need(size);
  w.u8(FrameType.NEW_TOKEN);
  w.varint(token.length);
  w.bytes(token);
  return size;
}

// ---------------------------------------------------------------------------------------------
// MAX_DATA, MAX_STREAM_DATA, MAX_STREAMS, DATA_BLOCKED, STREAM_DATA_BLOCKED, STREAMS_BLOCKED

export function newMaxDataFrame(): MaxDataFrame {
  return { kind: FrameType.MAX_DATA, type: FrameType.MAX_DATA, maximum: 0 };
}

export function decodeMaxDataBody(r: Reader, f: MaxDataFrame): MaxDataFrame {
  f.maximum = r.varint();
  return f;
}

export function sizeMaxData(maximum: number): number {
  return 1 + varintSize(maximum);
}

export function encodeMaxData(w: Writer, maximum: number): number {
  return encodeOneVarint(w, FrameType.MAX_DATA, 'maximum', maximum);
}

export function newMaxStreamDataFrame(): MaxStreamDataFrame {
  return { kind: FrameType.MAX_STREAM_DATA, type: FrameType.MAX_STREAM_DATA, streamId: 0, maximum: 0 };
}

export function decodeMaxStreamDataBody(r: Reader, f: MaxStreamDataFrame): MaxStreamDataFrame {
  f.streamId = r.varintExact();
  f.maximum = r.varint();
  return f;
}

export function sizeMaxStreamData(streamId: number, maximum: number): number {
  return 1 + varintSize(streamId) + varintSize(maximum);
}

export function encodeMaxStreamData(w: Writer, streamId: number, maximum: number): number {
  return encodeTwoVarints(w, FrameType.MAX_STREAM_DATA, 'streamId', streamId, 'maximum', maximum);
}

export function newMaxStreamsFrame(): MaxStreamsFrame {
  return { kind: FrameType.MAX_STREAMS_BIDI, type: FrameType.MAX_STREAMS_BIDI, bidi: true, maximum: 0 };
}

export function decodeMaxStreamsBody(r: Reader, type: number, f: MaxStreamsFrame): MaxStreamsFrame {
  const v = readStreamCount(r);
  if (v < 0) throw frameEncodingError('MAX_STREAMS above 2^60', type);
  f.type = type;
  f.bidi = type === FrameType.MAX_STREAMS_BIDI;
  f.maximum = v;
  return f;
}

export function sizeMaxStreams(maximum: number): number {
  return 1 + varintSize(maximum);
}

export function encodeMaxStreams(w: Writer, bidi: boolean, maximum: number): number {
  checkStreamCountArg('maximum', maximum);
  return encodeOneVarint(w, bidi ? FrameType.MAX_STREAMS_BIDI : FrameType.MAX_STREAMS_UNI, 'maximum', maximum);
}

export function newDataBlockedFrame(): DataBlockedFrame {
  return { kind: FrameType.DATA_BLOCKED, type: FrameType.DATA_BLOCKED, limit: 0 };
}

export function decodeDataBlockedBody(r: Reader, f: DataBlockedFrame): DataBlockedFrame {
  f.limit = r.varint();
  return f;
}

export function sizeDataBlocked(limit: number): number {
  return 1 + varintSize(limit);
}

export function encodeDataBlocked(w: Writer, limit: number): number {
  return encodeOneVarint(w, FrameType.DATA_BLOCKED, 'limit', limit);
}

export function newStreamDataBlockedFrame(): StreamDataBlockedFrame {
  return { kind: FrameType.STREAM_DATA_BLOCKED, type: FrameType.STREAM_DATA_BLOCKED, streamId: 0, limit: 0 };
}

export function decodeStreamDataBlockedBody(r: Reader, f: StreamDataBlockedFrame): StreamDataBlockedFrame {
  f.streamId = r.varintExact();
  f.limit = r.varint();
  return f;
}

export function sizeStreamDataBlocked(streamId: number, limit: number): number {
  return 1 + varintSize(streamId) + varintSize(limit);
}

export function encodeStreamDataBlocked(w: Writer, streamId: number, limit: number): number {
  return encodeTwoVarints(w, FrameType.STREAM_DATA_BLOCKED, 'streamId', streamId, 'limit', limit);
}

export function newStreamsBlockedFrame(): StreamsBlockedFrame {
  return { kind: FrameType.STREAMS_BLOCKED_BIDI, type: FrameType.STREAMS_BLOCKED_BIDI, bidi: true, limit: 0 };
}

export function decodeStreamsBlockedBody(r: Reader, type: number, f: StreamsBlockedFrame): StreamsBlockedFrame {
  const v = readStreamCount(r);
  if (v < 0) throw frameEncodingError('STREAMS_BLOCKED above 2^60', type);
  f.type = type;
  f.bidi = type === FrameType.STREAMS_BLOCKED_BIDI;
  f.limit = v;
  return f;
}

export function sizeStreamsBlocked(limit: number): number {
  return 1 + varintSize(limit);
}

export function encodeStreamsBlocked(w: Writer, bidi: boolean, limit: number): number {
  checkStreamCountArg('limit', limit);
  return encodeOneVarint(w, bidi ? FrameType.STREAMS_BLOCKED_BIDI : FrameType.STREAMS_BLOCKED_UNI, 'limit', limit);
}

// ---------------------------------------------------------------------------------------------
// NEW_CONNECTION_ID, RETIRE_CONNECTION_ID

export function newNewConnectionIdFrame(): NewConnectionIdFrame {
  return {
    kind: FrameType.NEW_CONNECTION_ID,
    type: FrameType.NEW_CONNECTION_ID,
    sequence: 0,
    retirePriorTo: 0,
    connectionId: EMPTY_DATA,
    statelessResetToken: EMPTY_DATA,
  };
}

export function decodeNewConnectionIdBody(r: Reader, f: NewConnectionIdFrame): NewConnectionIdFrame {
  const t = FrameType.NEW_CONNECTION_ID;
  const sequence = r.varintExact();
  const retirePriorTo = r.varintExact();
  // §19.15: "Receiving a value in the Retire Prior To field that is greater than that in the
  // Sequence Number field MUST be treated as a connection error of type FRAME_ENCODING_ERROR."
  if (retirePriorTo > sequence) throw frameEncodingError('NEW_CONNECTION_ID retire_prior_to > sequence', t);
  const length = r.u8();
  // §19.15: "Values less than 1 and greater than 20 are invalid and MUST be treated as a
  // connection error of type FRAME_ENCODING_ERROR."
  if (length < 1 || length > MAX_CID_LENGTH) throw frameEncodingError(`NEW_CONNECTION_ID length ${length}`, t);
  f.sequence = sequence;
  f.retirePriorTo = retirePriorTo;
  f.connectionId = r.bytes(length);
  f.statelessResetToken = r.bytes(STATELESS_RESET_TOKEN_LENGTH);
  return f;
}

export function sizeNewConnectionId(sequence: number, retirePriorTo: number, cidLength: number): number {
  return 1 + varintSize(sequence) + varintSize(retirePriorTo) + 1 + cidLength + STATELESS_RESET_TOKEN_LENGTH;
}

export function encodeNewConnectionId(
  w: Writer,
  sequence: number,
  retirePriorTo: number,
  connectionId: Uint8Array,
  statelessResetToken: Uint8Array,
): number {
  checkVarintArg('sequence', sequence);
  checkVarintArg('retirePriorTo', retirePriorTo);
  if (retirePriorTo > sequence) throw new RangeError('retirePriorTo must not exceed sequence');
  if (connectionId.length < 1 || connectionId.length > MAX_CID_LENGTH) {
    throw new RangeError(`connectionId length must be 1..20, got ${connectionId.length}`);
  }
  if (statelessResetToken.length !== STATELESS_RESET_TOKEN_LENGTH) {
    throw new RangeError(`statelessResetToken must be 16 bytes, got ${statelessResetToken.length}`);
  }
  const size = sizeNewConnectionId(sequence, retirePriorTo, connectionId.length);
  w.need(size);
  w.u8(FrameType.NEW_CONNECTION_ID);
  w.varint(sequence);
  w.varint(retirePriorTo);
  w.u8(connectionId.length);
  w.bytes(connectionId);
  w.bytes(statelessResetToken);
  return size;
}

export function newRetireConnectionIdFrame(): RetireConnectionIdFrame {
  return { kind: FrameType.RETIRE_CONNECTION_ID, type: FrameType.RETIRE_CONNECTION_ID, sequence: 0 };
}

export function decodeRetireConnectionIdBody(r: Reader, f: RetireConnectionIdFrame): RetireConnectionIdFrame {
  f.sequence = r.varintExact();
  return f;
}

export function sizeRetireConnectionId(sequence: number): number {
  return 1 + varintSize(sequence);
}

export function encodeRetireConnectionId(w: Writer, sequence: number): number {
  return encodeOneVarint(w, FrameType.RETIRE_CONNECTION_ID, 'sequence', sequence);
}

// ---------------------------------------------------------------------------------------------
// PATH_CHALLENGE, PATH_RESPONSE

export function newPathChallengeFrame(): PathChallengeFrame {
  return { kind: FrameType.PATH_CHALLENGE, type: FrameType.PATH_CHALLENGE, data: EMPTY_DATA };
}

export function newPathResponseFrame(): PathResponseFrame {
  return { kind: FrameType.PATH_RESPONSE, type: FrameType.PATH_RESPONSE, data: EMPTY_DATA };
}

export function decodePathBody<F extends PathChallengeFrame | PathResponseFrame>(r: Reader, f: F): F {
  f.data = r.bytes(PATH_DATA_LENGTH);
  return f;
}

export function sizePathChallenge(): number {
  return 1 + PATH_DATA_LENGTH;
}

export function sizePathResponse(): number {
  return 1 + PATH_DATA_LENGTH;
}

function encodePath(w: Writer, type: number, data: Uint8Array): number {
  if (data.length !== PATH_DATA_LENGTH) throw new RangeError(`path data must be 8 bytes, got ${data.length}`);
  w.need(1 + PATH_DATA_LENGTH);
  w.u8(type);
  w.bytes(data);
  return 1 + PATH_DATA_LENGTH;
}

export function encodePathChallenge(w: Writer, data: Uint8Array): number {
  return encodePath(w, FrameType.PATH_CHALLENGE, data);
}

export function encodePathResponse(w: Writer, data: Uint8Array): number {
  return encodePath(w, FrameType.PATH_RESPONSE, data);
}

// ---------------------------------------------------------------------------------------------
// CONNECTION_CLOSE (0x1c transport, 0x1d application)

export function newConnectionCloseFrame(): ConnectionCloseFrame {
  return {
    kind: FrameType.CONNECTION_CLOSE,
    type: FrameType.CONNECTION_CLOSE,
    app: false,
    errorCode: 0,
    frameType: 0,
    reason: EMPTY_DATA,
  };
}

export function decodeConnectionCloseBody(r: Reader, type: number, f: ConnectionCloseFrame): ConnectionCloseFrame {
  const app = type === FrameType.CONNECTION_CLOSE_APP;
  const errorCode = r.varint();
  const frameType = app ? 0 : r.varint();
  const length = r.varint();
  // §19.19: the reason phrase is bounded by the frame, which cannot span packets.
  if (length > r.remaining) throw frameEncodingError('CONNECTION_CLOSE reason exceeds the packet', type);
  f.type = type;
  f.app = app;
  f.errorCode = errorCode;
  f.frameType = frameType;
  f.reason = r.bytes(length);
  return f;
}

export function sizeConnectionClose(errorCode: number, frameType: number, reasonLength: number): number {
  return 1 + varintSize(errorCode) + varintSize(frameType) + varintSize(reasonLength) + reasonLength;
}

export function sizeApplicationClose(errorCode: number, reasonLength: number): number {
  return 1 + varintSize(errorCode) + varintSize(reasonLength) + reasonLength;
}

/** CONNECTION_CLOSE 0x1c (QUIC-layer error; `frameType` 0 when unknown). */
export function encodeConnectionClose(w: Writer, errorCode: number, frameType: number, reason: Uint8Array): number {
  checkVarintArg('errorCode', errorCode);
  checkVarintArg('frameType', frameType);
  const size = sizeConnectionClose(errorCode, frameType, reason.length);
  w.need(size);
  w.u8(FrameType.CONNECTION_CLOSE);
  w.varint(errorCode);
  w.varint(frameType);
  w.varint(reason.length);
  w.bytes(reason);
  return size;
}

/** CONNECTION_CLOSE 0x1d (application error; only in 0-RTT/1-RTT packets). */
export function encodeApplicationClose(w: Writer, errorCode: number, reason: Uint8Array): number {
  checkVarintArg('errorCode', errorCode);
  const size = sizeApplicationClose(errorCode, reason.length);
  w.need(size);
  w.u8(FrameType.CONNECTION_CLOSE_APP);
  w.varint(errorCode);
  w.varint(reason.length);
  w.bytes(reason);
  return size;
}

// ---------------------------------------------------------------------------------------------

function checkStreamCountArg(name: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= MAX_STREAM_COUNT && v <= Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${name} must be an integer in [0, 2^53-1] (stream counts ≤ 2^60), got ${v}`);
  }
}

function encodeOneVarint(w: Writer, type: number, name: string, v: number): number {
  checkVarintArg(name, v);
  const size = 1 + varintSize(v);
  w.need(size);
  w.u8(type);
  w.varint(v);
  return size;
}

function encodeTwoVarints(w: Writer, type: number, an: string, a: number, bn: string, b: number): number {
  checkVarintArg(an, a);
  checkVarintArg(bn, b);
  const size = 1 + varintSize(a) + varintSize(b);
  w.need(size);
  w.u8(type);
  w.varint(a);
  w.varint(b);
  return size;
}
