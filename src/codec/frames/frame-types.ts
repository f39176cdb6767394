// L1: QUIC frame type registry and frame shapes — RFC 9000 §12.4 (frame types, permitted packet
// types), §9.1 (probing frames), §13.2 / RFC 9002 §2 (ack-eliciting, in flight), §19 (formats),
// RFC 9221 §4 (DATAGRAM).
//
// Decoded frames are plain objects discriminated by `kind` (the lowest frame type of the family,
// e.g. every STREAM frame 0x08..0x0f has kind 0x08) and carry the exact wire `type`. Data fields
// (STREAM/CRYPTO/DATAGRAM data, tokens, connection IDs, reason phrases) are subarray views into
// the decrypted datagram: copy them if they must outlive it.

import { TransportError, TransportErrorCode } from '../errors.js';

/** Frame type values (RFC 9000 §19, §12.4 Table 3; RFC 9221 §4). */
export const FrameType = {
  PADDING: 0x00,
  PING: 0x01,
  ACK: 0x02,
  ACK_ECN: 0x03,
  RESET_STREAM: 0x04,
  STOP_SENDING: 0x05,
  CRYPTO: 0x06,
  NEW_TOKEN: 0x07,
  /** 0x08..0x0f: STREAM with the OFF/LEN/FIN bits of StreamFlag. */
  STREAM: 0x08,
  STREAM_MAX: 0x0f,
  MAX_DATA: 0x10,
  MAX_STREAM_DATA: 0x11,
  MAX_STREAMS_BIDI: 0x12,
  MAX_STREAMS_UNI: 0x13,
  DATA_BLOCKED: 0x14,
  STREAM_DATA_BLOCKED: 0x15,
  STREAMS_BLOCKED_BIDI: 0x16,
  STREAMS_BLOCKED_UNI: 0x17,
  NEW_CONNECTION_ID: 0x18,
  RETIRE_CONNECTION_ID: 0x19,
  PATH_CHALLENGE: 0x1a,
  PATH_RESPONSE: 0x1b,
  /** CONNECTION_CLOSE signalling a QUIC-layer error (carries a Frame Type field). */
  CONNECTION_CLOSE: 0x1c,
  /** CONNECTION_CLOSE signalling an application error. */
  CONNECTION_CLOSE_APP: 0x1d,
  HANDSHAKE_DONE: 0x1e,
  /** RFC 9221 §4: DATAGRAM without Length (extends to the end of the packet). */
  DATAGRAM: 0x30,
  /** RFC 9221 §4: DATAGRAM with Length. */
  DATAGRAM_LEN: 0x31,
} as const;

/** Low bits of a STREAM frame type (RFC 9000 §19.8). */
export const StreamFlag = {
  FIN: 0x01,
  LEN: 0x02,
  OFF: 0x04,
} as const;

/**
 * The packet types that carry frames, as bit flags (version-independent kinds, not long-header
 * type bits — map v1/v2 header types to these before asking). RFC 9000 §12.4.
 */
export const PacketKind = {
  INITIAL: 1,
  ZERO_RTT: 2,
  HANDSHAKE: 4,
  ONE_RTT: 8,
} as const;
export type PacketKind = (typeof PacketKind)[keyof typeof PacketKind];

/** Largest value of a QUIC varint field (stream IDs, offsets): 2^62 − 1. */
export const MAX_VARINT_VALUE = 2 ** 62 - 1;
/** Largest stream count in MAX_STREAMS / STREAMS_BLOCKED / initial_max_streams_*: 2^60 (RFC 9000 §4.6). */
export const MAX_STREAM_COUNT = 2 ** 60;
/** Connection ID length bounds in NEW_CONNECTION_ID (RFC 9000 §19.15). */
export const MAX_CID_LENGTH = 20;
export const STATELESS_RESET_TOKEN_LENGTH = 16;
export const PATH_DATA_LENGTH = 8;

// ---------------------------------------------------------------------------------------------
// Frame shapes (decoder output and encodeFrame input)

export interface PaddingFrame {
  kind: typeof FrameType.PADDING;
  type: number;
  /** Number of consecutive PADDING bytes this "frame" stands for (the decoder coalesces a run). */
  length: number;
}

export interface PingFrame {
  kind: typeof FrameType.PING;
  type: number;
}

export interface EcnCounts {
  ect0: number;
  ect1: number;
  ce: number;
}

/**
 * ACK / ACK_ECN (RFC 9000 §19.3). `ranges` is a reusable flat array of `rangeCount` pairs
 * [smallest, largest], descending: ranges[0..1] is the First ACK Range (ranges[1] === largest).
 * Entries at index ≥ 2 * rangeCount are stale scratch and must be ignored.
 */
export interface AckFrame {
  kind: typeof FrameType.ACK;
  type: number;
  largest: number;
  /** The ACK Delay field as sent: multiply by 2^ack_delay_exponent for microseconds. */
  ackDelay: number;
  /** The First ACK Range field (largest − smallest of the first range). */
  firstRange: number;
  /** Number of acknowledged ranges, including the first (= ACK Range Count + 1). */
  rangeCount: number;
  ranges: number[];
  /** True for type 0x03; then ect0/ect1/ce hold the ECN counts. */
  ecn: boolean;
  ect0: number;
  ect1: number;
  ce: number;
}

export interface ResetStreamFrame {
  kind: typeof FrameType.RESET_STREAM;
  type: number;
  streamId: number;
  errorCode: number;
  finalSize: number;
}

export interface StopSendingFrame {
  kind: typeof FrameType.STOP_SENDING;
  type: number;
  streamId: number;
  errorCode: number;
}

export interface CryptoFrame {
  kind: typeof FrameType.CRYPTO;
  type: number;
  offset: number;
  data: Uint8Array;
}

export interface NewTokenFrame {
  kind: typeof FrameType.NEW_TOKEN;
  type: number;
  token: Uint8Array;
}

export interface StreamFrame {
  kind: typeof FrameType.STREAM;
  /** Exact wire type 0x08..0x0f (the OFF bit may be set with offset 0). */
  type: number;
  streamId: number;
  offset: number;
  fin: boolean;
  /** Whether the Length field was present (LEN bit). */
  hasLength: boolean;
  data: Uint8Array;
}

export interface MaxDataFrame {
  kind: typeof FrameType.MAX_DATA;
  type: number;
  maximum: number;
}

export interface MaxStreamDataFrame {
  kind: typeof FrameType.MAX_STREAM_DATA;
  type: number;
  streamId: number;
  maximum: number;
}

export interface MaxStreamsFrame {
  kind: typeof FrameType.MAX_STREAMS_BIDI;
  type: number;
  bidi: boolean;
  maximum: number;
}

export interface DataBlockedFrame {
  kind: typeof FrameType.DATA_BLOCKED;
  type: number;
  limit: number;
}

export interface StreamDataBlockedFrame {
  kind: typeof FrameType.STREAM_DATA_BLOCKED;
  type: number;
  streamId: number;
  limit: number;
}

export interface StreamsBlockedFrame {
  kind: typeof FrameType.STREAMS_BLOCKED_BIDI;
  type: number;
  bidi: boolean;
  limit: number;
}

export interface NewConnectionIdFrame {
  kind: typeof FrameType.NEW_CONNECTION_ID;
  type: number;
  sequence: number;
  retirePriorTo: number;
  connectionId: Uint8Array;
  statelessResetToken: Uint8Array;
}

export interface RetireConnectionIdFrame {
  kind: typeof FrameType.RETIRE_CONNECTION_ID;
  type: number;
  sequence: number;
}

export interface PathChallengeFrame {
  kind: typeof FrameType.PATH_CHALLENGE;
  type: number;
  data: Uint8Array;
}

export interface PathResponseFrame {
  kind: typeof FrameType.PATH_RESPONSE;
  type: number;
  data: Uint8Array;
}

export interface ConnectionCloseFrame {
  kind: typeof FrameType.CONNECTION_CLOSE;
  type: number;
  /** True for type 0x1d (application error; no Frame Type field). */
  app: boolean;
  errorCode: number;
  /** The Frame Type field of a 0x1c frame (0 for 0x1d or "unknown"). */
  frameType: number;
  /** Reason phrase bytes (SHOULD be UTF-8; not validated). */
  reason: Uint8Array;
}

export interface HandshakeDoneFrame {
  kind: typeof FrameType.HANDSHAKE_DONE;
  type: number;
}

export interface DatagramFrame {
  kind: typeof FrameType.DATAGRAM;
  type: number;
  hasLength: boolean;
  data: Uint8Array;
}

export type Frame =
  | PaddingFrame
  | PingFrame
  | AckFrame
  | ResetStreamFrame
  | StopSendingFrame
  | CryptoFrame
  | NewTokenFrame
  | StreamFrame
  | MaxDataFrame
  | MaxStreamDataFrame
  | MaxStreamsFrame
  | DataBlockedFrame
  | StreamDataBlockedFrame
  | StreamsBlockedFrame
  | NewConnectionIdFrame
  | RetireConnectionIdFrame
  | PathChallengeFrame
  | PathResponseFrame
  | ConnectionCloseFrame
  | HandshakeDoneFrame
  | DatagramFrame;

// ---------------------------------------------------------------------------------------------
// Per-type facts, as small tables indexed by frame type (all known types are < 0x40).

const I = PacketKind.INITIAL;
const Z = PacketKind.ZERO_RTT;
const H = PacketKind.HANDSHAKE;
const O = PacketKind.ONE_RTT;

/** Bit set of PacketKind per frame type; 0 = unknown type. */
const ALLOWED = new Uint8Array(0x40);
const NAMES: string[] = new Array<string>(0x40).fill('');

function def(type: number, name: string, allowed: number): void {
  ALLOWED[type] = allowed;
  NAMES[type] = name;
}

// RFC 9000 §12.4 Table 3 "Pkts" column, with §12.5's 0-RTT exclusions applied strictly:
// ACK, CRYPTO, HANDSHAKE_DONE, NEW_TOKEN, PATH_RESPONSE and RETIRE_CONNECTION_ID are refused
// in 0-RTT ("A server MAY treat receipt of these frames in 0-RTT packets as a connection error
// of type PROTOCOL_VIOLATION"). RFC 9221 §4: DATAGRAM only in 0-RTT and 1-RTT.
def(FrameType.PADDING, 'PADDING', I | Z | H | O);
def(FrameType.PING, 'PING', I | Z | H | O);
def(FrameType.ACK, 'ACK', I | H | O);
def(FrameType.ACK_ECN, 'ACK_ECN', I | H | O);
def(FrameType.RESET_STREAM, 'RESET_STREAM', Z | O);
def(FrameType.STOP_SENDING, 'STOP_SENDING', Z | O);
def(FrameType.CRYPTO, 'CRYPTO', I | H | O);
def(FrameType.NEW_TOKEN, 'NEW_TOKEN', O);
for (let t = FrameType.STREAM; t <= FrameType.STREAM_MAX; t++) def(t, 'STREAM', Z | O);
def(FrameType.MAX_DATA, 'MAX_DATA', Z | O);
def(FrameType.MAX_STREAM_DATA, 'MAX_STREAM_DATA', Z | O);
def(FrameType.MAX_STREAMS_BIDI, 'MAX_STREAMS_BIDI', Z | O);
def(FrameType.MAX_STREAMS_UNI, 'MAX_STREAMS_UNI', Z | O);
def(FrameType.DATA_BLOCKED, 'DATA_BLOCKED', Z | O);
def(FrameType.STREAM_DATA_BLOCKED, 'STREAM_DATA_BLOCKED', Z | O);
def(FrameType.STREAMS_BLOCKED_BIDI, 'STREAMS_BLOCKED_BIDI', Z | O);
def(FrameType.STREAMS_BLOCKED_UNI, 'STREAMS_BLOCKED_UNI', Z | O);
def(FrameType.NEW_CONNECTION_ID, 'NEW_CONNECTION_ID', Z | O);
def(FrameType.RETIRE_CONNECTION_ID, 'RETIRE_CONNECTION_ID', O);
def(FrameType.PATH_CHALLENGE, 'PATH_CHALLENGE', Z | O);
def(FrameType.PATH_RESPONSE, 'PATH_RESPONSE', O);
def(FrameType.CONNECTION_CLOSE, 'CONNECTION_CLOSE', I | Z | H | O);
def(FrameType.CONNECTION_CLOSE_APP, 'CONNECTION_CLOSE_APP', Z | O);
def(FrameType.HANDSHAKE_DONE, 'HANDSHAKE_DONE', O);
def(FrameType.DATAGRAM, 'DATAGRAM', Z | O);
def(FrameType.DATAGRAM_LEN, 'DATAGRAM', Z | O);

/** True for a frame type this codec knows (RFC 9000 §19 and RFC 9221). */
export function isKnownFrameType(frameType: number): boolean {
  return frameType >= 0 && frameType < 0x40 && ALLOWED[frameType]! !== 0;
}

/** Name for logs, errors and qlog ("STREAM", "ACK_ECN", or "0x…" when unknown). */
export function frameTypeName(frameType: number): string {
  if (isKnownFrameType(frameType)) return NAMES[frameType]!;
  return `0x${frameType.toString(16)}`;
}

/** Whether a frame type may appear in a packet of the given kind (RFC 9000 §12.4, §12.5). */
export function frameAllowedIn(frameType: number, kind: PacketKind): boolean {
  if (!(frameType >= 0 && frameType < 0x40)) return false;
  return (ALLOWED[frameType]! & kind) !== 0;
}

const KIND_NAMES: Record<number, string> = {
  [PacketKind.INITIAL]: 'Initial',
  [PacketKind.ZERO_RTT]: '0-RTT',
  [PacketKind.HANDSHAKE]: 'Handshake',
  [PacketKind.ONE_RTT]: '1-RTT',
};

export function packetKindName(kind: number): string {
  return KIND_NAMES[kind] ?? `kind ${kind}`;
}

/**
 * Throw TransportError(PROTOCOL_VIOLATION) when `frameType` is not permitted in a packet of
 * `kind` (RFC 9000 §12.4: "An endpoint MUST treat receipt of a frame in a packet type that is
 * not permitted as a connection error of type PROTOCOL_VIOLATION").
 */
export function checkFrameAllowed(frameType: number, kind: PacketKind): void {
  if (!frameAllowedIn(frameType, kind)) {
    throw new TransportError(
      TransportErrorCode.PROTOCOL_VIOLATION,
      `${frameTypeName(frameType)} frame not permitted in ${packetKindName(kind)} packet`,
      frameType,
    );
  }
}

/**
 * Ack-eliciting frames: all but ACK, PADDING and CONNECTION_CLOSE (RFC 9000 §13.2, §12.4 "N").
 * Unknown extension types count as ack-eliciting (§19.21).
 */
export function isAckEliciting(frameType: number): boolean {
  return !(
    frameType === FrameType.PADDING ||
    frameType === FrameType.ACK ||
    frameType === FrameType.ACK_ECN ||
    frameType === FrameType.CONNECTION_CLOSE ||
    frameType === FrameType.CONNECTION_CLOSE_APP
  );
}

/** Probing frames: PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID, PADDING (RFC 9000 §9.1). */
export function isProbing(frameType: number): boolean {
  return (
    frameType === FrameType.PATH_CHALLENGE ||
    frameType === FrameType.PATH_RESPONSE ||
    frameType === FrameType.NEW_CONNECTION_ID ||
    frameType === FrameType.PADDING
  );
}

/** A packet is in flight when it is ack-eliciting or contains PADDING (RFC 9002 §2). */
export function countsInFlight(frameType: number): boolean {
  return frameType === FrameType.PADDING || isAckEliciting(frameType);
}
