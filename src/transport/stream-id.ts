// L2b: stream ID encoding, RFC 9000 §2.1 — bit 0x01 initiator (0 client, 1 server), bit 0x02
// direction (0 bidirectional, 1 unidirectional); the n-th stream of a type has ID 4n + type.
// Stream IDs are numbers (exact to 2^53; larger peer values were saturated by the varint reader and
// fail the stream-limit checks). Arithmetic uses % and division, never 32-bit bitwise operators.

export const StreamType = {
  CLIENT_BIDI: 0,
  SERVER_BIDI: 1,
  CLIENT_UNI: 2,
  SERVER_UNI: 3,
} as const;

/** Two low bits of the ID: 0 client-bidi, 1 server-bidi, 2 client-uni, 3 server-uni. */
export function streamType(id: number): number {
  return id % 4;
}

export function isUni(id: number): boolean {
  return id % 4 >= 2;
}

export function isBidi(id: number): boolean {
  return id % 4 < 2;
}

export function isClientInitiated(id: number): boolean {
  return id % 2 === 0;
}

/** True when the stream was opened by the endpoint with the given role. */
export function isLocallyInitiated(id: number, isClient: boolean): boolean {
  return (id % 2 === 0) === isClient;
}

/** Position of the stream among streams of its type (0 for IDs 0..3). */
export function streamIndex(id: number): number {
  return Math.floor(id / 4);
}

/** ID of the `index`-th stream opened by `client`/server in the given direction. */
export function makeStreamId(index: number, isClient: boolean, bidi: boolean): number {
  return index * 4 + (isClient ? 0 : 1) + (bidi ? 0 : 2);
}

/**
 * API misuse on a stream (unknown ID, writing a receive-only stream, writing after finish…).
 * Peer violations are TransportErrors instead (src/codec/errors.ts).
 */
export class StreamUsageError extends RangeError {
  readonly code = 'ERR_QUIC_STREAM_USAGE';
  readonly streamId: number;
  constructor(streamId: number, message: string) {
    super(`stream ${streamId}: ${message}`);
    this.name = 'StreamUsageError';
    this.streamId = streamId;
  }
}
