// L1 HTTP/3 unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2): the varint that opens
// every unidirectional stream. Reserved types (0x1f * N + 0x21, §6.2.3) carry no meaning.

import { isReserved } from './reserved.js';

export const H3StreamType = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
} as const;

export type H3StreamTypeValue = (typeof H3StreamType)[keyof typeof H3StreamType];

export type UniStreamKind = 'control' | 'push' | 'qpack-encoder' | 'qpack-decoder' | 'reserved' | 'unknown';

/** Classify a unidirectional stream type; unknown and reserved types are to be ignored (§6.2). */
export function uniStreamKind(type: number): UniStreamKind {
  switch (type) {
    case H3StreamType.CONTROL:
      return 'control';
    case H3StreamType.PUSH:
      return 'push';
    case H3StreamType.QPACK_ENCODER:
      return 'qpack-encoder';
    case H3StreamType.QPACK_DECODER:
      return 'qpack-decoder';
    default:
      return isReserved(type) ? 'reserved' : 'unknown';
  }
}

/**
 * Read the stream-type varint at the start of a unidirectional stream's data, which may arrive in
 * pieces: returns the type and its encoded length, or null when `data` holds only part of it.
 * Types ≥ 2^53 saturate to Number.MAX_SAFE_INTEGER (they are unknown types either way).
 */
export function readStreamType(data: Uint8Array): { type: number; length: number } | null {
  if (data.length === 0) return null;
  const length = 1 << (data[0]! >> 6);
  if (data.length < length) return null;
  let v = data[0]! & 0x3f;
  for (let i = 1; i < length; i++) v = v * 256 + data[i]!;
  return { type: Math.min(v, Number.MAX_SAFE_INTEGER), length };
}
