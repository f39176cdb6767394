// L1: frame decoding over a decrypted packet payload — RFC 9000 §12.4 (frame type encoding,
// permitted packet types, unknown types, empty payloads) and §19 (formats).
//
// Error policy (DESIGN §5): every failure is a TransportError.
// - Truncation (BufferUnderflow) and malformed fields → FRAME_ENCODING_ERROR with the frame type.
// - Exact fields (stream IDs, offsets, final sizes, ACK packet numbers, CID sequence numbers)
//   above 2^53−1 (VarintRangeError) → FRAME_ENCODING_ERROR: values that large are legal on the
//   wire but unreachable by this stack (it never opens that many streams, sends that many bytes
//   or numbers packets that high), so a peer sending them is treated as malformed.
// - Unknown frame type → FRAME_ENCODING_ERROR with that type (§12.4).
// - A frame type not in its shortest varint encoding → PROTOCOL_VIOLATION (§12.4 permits this
//   "MAY"; every frame type we know is one byte, so a longer form is never legitimate).
// - A frame not permitted in the packet type → PROTOCOL_VIOLATION (§12.4); a packet with no
//   frames → PROTOCOL_VIOLATION (§12.4).
//
// Hot path: FrameParser owns one scratch object per frame kind, so parsing allocates nothing;
// a returned frame is valid until the next frame of the same kind is parsed. Data fields are
// subarray views into the payload. decodeFrame() is the allocating cold-path variant.

import { BufferUnderflow, Reader, VarintRangeError, varintSize } from '../../util/bytes.js';
import { TransportError, TransportErrorCode } from '../errors.js';
import { decodeAckBody, newAckFrame } from './ack.js';
import {
  decodeConnectionCloseBody,
  decodeDataBlockedBody,
  decodeMaxDataBody,
  decodeMaxStreamDataBody,
  decodeMaxStreamsBody,
  decodeNewConnectionIdBody,
  decodeNewTokenBody,
  decodePaddingBody,
  decodePathBody,
  decodeResetStreamBody,
  decodeRetireConnectionIdBody,
  decodeStopSendingBody,
  decodeStreamDataBlockedBody,
  decodeStreamsBlockedBody,
  newConnectionCloseFrame,
  newDataBlockedFrame,
  newHandshakeDoneFrame,
  newMaxDataFrame,
  newMaxStreamDataFrame,
  newMaxStreamsFrame,
  newNewConnectionIdFrame,
  newNewTokenFrame,
  newPaddingFrame,
  newPathChallengeFrame,
  newPathResponseFrame,
  newPingFrame,
  newResetStreamFrame,
  newRetireConnectionIdFrame,
  newStopSendingFrame,
  newStreamDataBlockedFrame,
  newStreamsBlockedFrame,
} from './control.js';
import {
  type AckFrame,
  checkFrameAllowed,
  type ConnectionCloseFrame,
  type CryptoFrame,
  type DataBlockedFrame,
  type DatagramFrame,
  type Frame,
  FrameType,
  frameTypeName,
  type HandshakeDoneFrame,
  isKnownFrameType,
  type MaxDataFrame,
  type MaxStreamDataFrame,
  type MaxStreamsFrame,
  type NewConnectionIdFrame,
  type NewTokenFrame,
  type PacketKind,
  type PaddingFrame,
  type PathChallengeFrame,
  type PathResponseFrame,
  type PingFrame,
  type ResetStreamFrame,
  type RetireConnectionIdFrame,
  type StopSendingFrame,
  type StreamDataBlockedFrame,
  type StreamFrame,
  type StreamsBlockedFrame,
} from './frame-types.js';
import { frameEncodingError } from './internal.js';
import {
  decodeCryptoBody,
  decodeDatagramBody,
  decodeStreamBody,
  newCryptoFrame,
  newDatagramFrame,
  newStreamFrame,
} from './stream.js';

/** Scratch objects, one per frame kind (FrameParser implements this). */
interface FrameScratch {
  readonly padding: PaddingFrame;
  readonly ping: PingFrame;
  readonly ack: AckFrame;
  readonly resetStream: ResetStreamFrame;
  readonly stopSending: StopSendingFrame;
  readonly crypto: CryptoFrame;
  readonly newToken: NewTokenFrame;
  readonly stream: StreamFrame;
  readonly maxData: MaxDataFrame;
  readonly maxStreamData: MaxStreamDataFrame;
  readonly maxStreams: MaxStreamsFrame;
  readonly dataBlocked: DataBlockedFrame;
  readonly streamDataBlocked: StreamDataBlockedFrame;
  readonly streamsBlocked: StreamsBlockedFrame;
  readonly newConnectionId: NewConnectionIdFrame;
  readonly retireConnectionId: RetireConnectionIdFrame;
  readonly pathChallenge: PathChallengeFrame;
  readonly pathResponse: PathResponseFrame;
  readonly connectionClose: ConnectionCloseFrame;
  readonly handshakeDone: HandshakeDoneFrame;
  readonly datagram: DatagramFrame;
}

function mapError(e: unknown, type: number): unknown {
  if (e instanceof TransportError) return e;
  if (e instanceof BufferUnderflow) return frameEncodingError(`truncated ${frameTypeName(type)} frame`, type);
  if (e instanceof VarintRangeError) {
    return frameEncodingError(`${frameTypeName(type)} field exceeds 2^53-1`, type);
  }
  return e; // a bug, not peer input: let it surface
}

/** Read the frame type (§12.4 shortest-encoding rule) and check it is known and permitted. */
function readType(r: Reader, kind: number): number {
  const first = r.buf[r.pos]!;
  let type: number;
  if (first < 0x40) {
    r.pos++;
    type = first;
  } else {
    const start = r.pos;
    type = r.varint();
    if (varintSize(type) < r.pos - start) {
      throw new TransportError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        `frame type 0x${type.toString(16)} not in its shortest encoding`,
        type,
      );
    }
  }
  if (!isKnownFrameType(type)) throw frameEncodingError(`unknown frame type 0x${type.toString(16)}`, type);
  if (kind !== 0) checkFrameAllowed(type, kind as PacketKind);
  return type;
}

/**
 * Parse one frame at r.pos. `s` supplies reusable objects (null: allocate fresh ones);
 * `kind` ≠ 0 enforces RFC 9000 §12.4 permitted packet types. The caller ensures r.pos < r.end.
 */
function readFrame(r: Reader, s: FrameScratch | null, kind: number): Frame {
  let type = 0;
  try {
    type = readType(r, kind);
    switch (type) {
      case FrameType.PADDING:
        return decodePaddingBody(r, s !== null ? s.padding : newPaddingFrame());
      case FrameType.PING:
        return s !== null ? s.ping : newPingFrame();
      case FrameType.ACK:
      case FrameType.ACK_ECN:
        return decodeAckBody(r, type, s !== null ? s.ack : newAckFrame());
      case FrameType.RESET_STREAM:
        return decodeResetStreamBody(r, s !== null ? s.resetStream : newResetStreamFrame());
      case FrameType.STOP_SENDING:
        return decodeStopSendingBody(r, s !== null ? s.stopSending : newStopSendingFrame());
      case FrameType.CRYPTO:
        return decodeCryptoBody(r, type, s !== null ? s.crypto : newCryptoFrame());
      case FrameType.NEW_TOKEN:
        return decodeNewTokenBody(r, s !== null ? s.newToken : newNewTokenFrame());
      case 0x08:
      case 0x09:
      case 0x0a:
      case 0x0b:
      case 0x0c:
      case 0x0d:
      case 0x0e:
      case 0x0f:
        return decodeStreamBody(r, type, s !== null ? s.stream : newStreamFrame());
      case FrameType.MAX_DATA:
        return decodeMaxDataBody(r, s !== null ? s.maxData : newMaxDataFrame());
      case FrameType.MAX_STREAM_DATA:
        return decodeMaxStreamDataBody(r, s !== null ? s.maxStreamData : newMaxStreamDataFrame());
      case FrameType.MAX_STREAMS_BIDI:
      case FrameType.MAX_STREAMS_UNI:
        return decodeMaxStreamsBody(r, type, s !== null ? s.maxStreams : newMaxStreamsFrame());
      case FrameType.DATA_BLOCKED:
        return decodeDataBlockedBody(r, s !== null ? s.dataBlocked : newDataBlockedFrame());
      case FrameType.STREAM_DATA_BLOCKED:
        return decodeStreamDataBlockedBody(r, s !== null ? s.streamDataBlocked : newStreamDataBlockedFrame());
      case FrameType.STREAMS_BLOCKED_BIDI:
      case FrameType.STREAMS_BLOCKED_UNI:
        return decodeStreamsBlockedBody(r, type, s !== null ? s.streamsBlocked : newStreamsBlockedFrame());
      case FrameType.NEW_CONNECTION_ID:
        return decodeNewConnectionIdBody(r, s !== null ? s.newConnectionId : newNewConnectionIdFrame());
      case FrameType.RETIRE_CONNECTION_ID:
        return decodeRetireConnectionIdBody(r, s !== null ? s.retireConnectionId : newRetireConnectionIdFrame());
      case FrameType.PATH_CHALLENGE:
        return decodePathBody(r, s !== null ? s.pathChallenge : newPathChallengeFrame());
      case FrameType.PATH_RESPONSE:
        return decodePathBody(r, s !== null ? s.pathResponse : newPathResponseFrame());
      case FrameType.CONNECTION_CLOSE:
      case FrameType.CONNECTION_CLOSE_APP:
        return decodeConnectionCloseBody(r, type, s !== null ? s.connectionClose : newConnectionCloseFrame());
      case FrameType.HANDSHAKE_DONE:
        return s !== null ? s.handshakeDone : newHandshakeDoneFrame();
      case FrameType.DATAGRAM:
      case FrameType.DATAGRAM_LEN:
        return decodeDatagramBody(r, type, s !== null ? s.datagram : newDatagramFrame());
      default:
        // isKnownFrameType() and this switch cover the same set; reaching here is a bug.
        throw new Error(`frame parser: no decoder for known type 0x${type.toString(16)}`);
    }
  } catch (e) {
    throw mapError(e, type);
  }
}

/**
 * Decode one frame at `r.pos` into freshly allocated objects (cold path, tests). With `kind`
 * the RFC 9000 §12.4 packet-type rule is enforced. Throws only TransportError on peer input.
 */
export function decodeFrame(r: Reader, kind: PacketKind | 0 = 0): Frame {
  if (r.pos >= r.end) throw frameEncodingError('no frame: empty input', 0);
  return readFrame(r, null, kind);
}

/**
 * Allocation-free iterator over the frames of one decrypted packet payload:
 *
 *   parser.reset(payload, PacketKind.ONE_RTT);
 *   for (let f = parser.next(); f !== null; f = parser.next()) switch (f.kind) { … }
 *
 * A returned frame object is reused for the next frame of the same kind.
 */
export class FrameParser implements FrameScratch {
  readonly reader: Reader = new Reader();
  /** Offset in the payload buffer of the frame last returned by next(). */
  frameStart = 0;
  /** Frames returned since reset() (a PADDING run counts once). */
  frameCount = 0;
  private kind = 0;

  readonly padding = newPaddingFrame();
  readonly ping = newPingFrame();
  readonly ack = newAckFrame();
  readonly resetStream = newResetStreamFrame();
  readonly stopSending = newStopSendingFrame();
  readonly crypto = newCryptoFrame();
  readonly newToken = newNewTokenFrame();
  readonly stream = newStreamFrame();
  readonly maxData = newMaxDataFrame();
  readonly maxStreamData = newMaxStreamDataFrame();
  readonly maxStreams = newMaxStreamsFrame();
  readonly dataBlocked = newDataBlockedFrame();
  readonly streamDataBlocked = newStreamDataBlockedFrame();
  readonly streamsBlocked = newStreamsBlockedFrame();
  readonly newConnectionId = newNewConnectionIdFrame();
  readonly retireConnectionId = newRetireConnectionIdFrame();
  readonly pathChallenge = newPathChallengeFrame();
  readonly pathResponse = newPathResponseFrame();
  readonly connectionClose = newConnectionCloseFrame();
  readonly handshakeDone = newHandshakeDoneFrame();
  readonly datagram = newDatagramFrame();

  /** Start on a packet payload; `kind` (a PacketKind) selects the §12.4 permitted frame types. */
  reset(payload: Uint8Array, kind: PacketKind, start = 0, end = payload.length): this {
    this.reader.reset(payload, start, end);
    this.kind = kind;
    this.frameStart = start;
    this.frameCount = 0;
    return this;
  }

  /**
   * The next frame, or null at the end of the payload. Throws TransportError on malformed or
   * forbidden frames, and PROTOCOL_VIOLATION for a payload without any frame (§12.4).
   */
  next(): Frame | null {
    const r = this.reader;
    if (r.pos >= r.end) {
      if (this.frameCount === 0) {
        throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'packet contains no frames', 0);
      }
      return null;
    }
    this.frameStart = r.pos;
    const f = readFrame(r, this, this.kind);
    this.frameCount++;
    return f;
  }

  /** Parse one frame from an external reader into this parser's scratch objects (no §12.4 check). */
  parse(r: Reader): Frame {
    if (r.pos >= r.end) throw frameEncodingError('no frame: empty input', 0);
    return readFrame(r, this, 0);
  }
}

/**
 * Call `onFrame` for every frame of a packet payload; returns the number of frames. Frames are
 * the parser's reusable objects (see FrameParser).
 */
export function parseFrames(
  payload: Uint8Array,
  kind: PacketKind,
  onFrame: (f: Frame) => void,
  parser: FrameParser = new FrameParser(),
): number {
  parser.reset(payload, kind);
  for (let f = parser.next(); f !== null; f = parser.next()) onFrame(f);
  return parser.frameCount;
}
