// L1: generic frame encoding from a frame object (RFC 9000 §19, RFC 9221 §4) — for
// retransmitting recorded frames, qlog round trips and tests. The packet builder's hot path
// calls the specific encodeX(w, …) functions instead.

import { type Writer } from '../../util/bytes.js';
import { encodeAckFrame, sizeAckFrame } from './ack.js';
import {
  encodeApplicationClose,
  encodeConnectionClose,
  encodeDataBlocked,
  encodeHandshakeDone,
  encodeMaxData,
  encodeMaxStreamData,
  encodeMaxStreams,
  encodeNewConnectionId,
  encodeNewToken,
  encodePadding,
  encodePathChallenge,
  encodePathResponse,
  encodePing,
  encodeResetStream,
  encodeRetireConnectionId,
  encodeStopSending,
  encodeStreamDataBlocked,
  encodeStreamsBlocked,
  sizeApplicationClose,
  sizeConnectionClose,
  sizeDataBlocked,
  sizeMaxData,
  sizeMaxStreamData,
  sizeMaxStreams,
  sizeNewConnectionId,
  sizeNewToken,
  sizePathChallenge,
  sizeResetStream,
  sizeRetireConnectionId,
  sizeStopSending,
  sizeStreamDataBlocked,
  sizeStreamsBlocked,
} from './control.js';
import { type Frame, FrameType } from './frame-types.js';
import { encodeCrypto, encodeDatagram, encodeStreamFrame, sizeCrypto, sizeDatagram, sizeStreamFrame } from './stream.js';

/** Encode any frame object; returns bytes written (a PaddingFrame writes `length` zero bytes). */
export function encodeFrame(w: Writer, f: Frame): number {
  switch (f.kind) {
    case FrameType.PADDING:
      return encodePadding(w, f.length);
    case FrameType.PING:
      return encodePing(w);
    case FrameType.ACK:
      return encodeAckFrame(w, f);
    case FrameType.RESET_STREAM:
      return encodeResetStream(w, f.streamId, f.errorCode, f.finalSize);
    case FrameType.STOP_SENDING:
      return encodeStopSending(w, f.streamId, f.errorCode);
    case FrameType.CRYPTO:
      return encodeCrypto(w, f.offset, f.data);
    case FrameType.NEW_TOKEN:
      return encodeNewToken(w, f.token);
    case FrameType.STREAM:
      return encodeStreamFrame(w, f);
    case FrameType.MAX_DATA:
      return encodeMaxData(w, f.maximum);
    case FrameType.MAX_STREAM_DATA:
      return encodeMaxStreamData(w, f.streamId, f.maximum);
    case FrameType.MAX_STREAMS_BIDI:
      return encodeMaxStreams(w, f.bidi, f.maximum);
    case FrameType.DATA_BLOCKED:
      return encodeDataBlocked(w, f.limit);
    case FrameType.STREAM_DATA_BLOCKED:
      return encodeStreamDataBlocked(w, f.streamId, f.limit);
    case FrameType.STREAMS_BLOCKED_BIDI:
      return encodeStreamsBlocked(w, f.bidi, f.limit);
    case FrameType.NEW_CONNECTION_ID:
      return encodeNewConnectionId(w, f.sequence, f.retirePriorTo, f.connectionId, f.statelessResetToken);
    case FrameType.RETIRE_CONNECTION_ID:
      return encodeRetireConnectionId(w, f.sequence);
    case FrameType.PATH_CHALLENGE:
      return encodePathChallenge(w, f.data);
    case FrameType.PATH_RESPONSE:
      return encodePathResponse(w, f.data);
    case FrameType.CONNECTION_CLOSE:
      return f.app
        ? encodeApplicationClose(w, f.errorCode, f.reason)
        : encodeConnectionClose(w, f.errorCode, f.frameType, f.reason);
    case FrameType.HANDSHAKE_DONE:
      return encodeHandshakeDone(w);
    case FrameType.DATAGRAM:
      return encodeDatagram(w, f.data, f.hasLength);
  }
}

/** Encoded size of any frame object (what encodeFrame would write). */
export function sizeFrame(f: Frame): number {
  switch (f.kind) {
    case FrameType.PADDING:
      return f.length;
    case FrameType.PING:
    case FrameType.HANDSHAKE_DONE:
      return 1;
    case FrameType.ACK:
      return sizeAckFrame(f);
    case FrameType.RESET_STREAM:
      return sizeResetStream(f.streamId, f.errorCode, f.finalSize);
    case FrameType.STOP_SENDING:
      return sizeStopSending(f.streamId, f.errorCode);
    case FrameType.CRYPTO:
      return sizeCrypto(f.offset, f.data.length);
    case FrameType.NEW_TOKEN:
      return sizeNewToken(f.token.length);
    case FrameType.STREAM:
      return sizeStreamFrame(f);
    case FrameType.MAX_DATA:
      return sizeMaxData(f.maximum);
    case FrameType.MAX_STREAM_DATA:
      return sizeMaxStreamData(f.streamId, f.maximum);
    case FrameType.MAX_STREAMS_BIDI:
      return sizeMaxStreams(f.maximum);
    case FrameType.DATA_BLOCKED:
      return sizeDataBlocked(f.limit);
    case FrameType.STREAM_DATA_BLOCKED:
      return sizeStreamDataBlocked(f.streamId, f.limit);
    case FrameType.STREAMS_BLOCKED_BIDI:
      return sizeStreamsBlocked(f.limit);
    case FrameType.NEW_CONNECTION_ID:
      return sizeNewConnectionId(f.sequence, f.retirePriorTo, f.connectionId.length);
    case FrameType.RETIRE_CONNECTION_ID:
      return sizeRetireConnectionId(f.sequence);
    case FrameType.PATH_CHALLENGE:
    case FrameType.PATH_RESPONSE:
      return sizePathChallenge();
    case FrameType.CONNECTION_CLOSE:
      return f.app
        ? sizeApplicationClose(f.errorCode, f.reason.length)
        : sizeConnectionClose(f.errorCode, f.frameType, f.reason.length);
    case FrameType.DATAGRAM:
      return sizeDatagram(f.data.length, f.hasLength);
  }
}
