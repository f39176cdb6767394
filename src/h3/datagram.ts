// L6 HTTP Datagrams over QUIC DATAGRAM frames (RFC 9297 §2.1): Quarter Stream ID (i) = request
// stream ID / 4, then the payload. A Quarter Stream ID above 2^60 - 1 (or a truncated one) is a
// connection error H3_DATAGRAM_ERROR.

import { varintSize } from '../util/bytes.js';
import { H3Error, H3ErrorCode } from './wire/index.js';

/** Quarter Stream IDs must stay below this (4 × it would exceed the largest stream ID 2^62 - 1). */
export const QUARTER_STREAM_ID_LIMIT = 2 ** 60;

/** Build one QUIC DATAGRAM payload for request stream `streamId`. */
export function encodeHttpDatagram(streamId: number, payload: Uint8Array): Uint8Array {
  const q = streamId / 4;
  const n = varintSize(q);
  const out = new Uint8Array(n + payload.length);
  let v = q;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  out[0]! |= n === 1 ? 0 : n === 2 ? 0x40 : n === 4 ? 0x80 : 0xc0;
  out.set(payload, n);
  return out;
}

/** Size of the Quarter Stream ID prefix for `streamId`. */
export function httpDatagramOverhead(streamId: number): number {
  return varintSize(streamId / 4);
}

/**
 * Split a received QUIC DATAGRAM payload into the request stream ID and the HTTP Datagram payload
 * (a view). Throws H3Error(H3_DATAGRAM_ERROR) when the Quarter Stream ID is truncated or too large.
 */
export function decodeHttpDatagram(data: Uint8Array): { streamId: number; payload: Uint8Array } {
  if (data.length === 0) throw new H3Error(H3ErrorCode.H3_DATAGRAM_ERROR, 'empty HTTP datagram');
  const n = 1 << (data[0]! >> 6);
  if (data.length < n) throw new H3Error(H3ErrorCode.H3_DATAGRAM_ERROR, 'truncated Quarter Stream ID');
  let q = data[0]! & 0x3f;
  for (let i = 1; i < n; i++) q = q * 256 + data[i]!;
  if (q >= QUARTER_STREAM_ID_LIMIT) throw new H3Error(H3ErrorCode.H3_DATAGRAM_ERROR, `Quarter Stream ID ${q} exceeds 2^60-1`);
  return { streamId: q * 4, payload: data.subarray(n) };
}
