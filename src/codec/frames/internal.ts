// L1: helpers shared by the frame codec modules (not re-exported by codec/frames.ts).
// RFC 9000 §4.6 (stream count limit 2^60), §19 (FRAME_ENCODING_ERROR).

import type { Reader } from '../../util/bytes.js';
import { TransportError, TransportErrorCode } from '../errors.js';

export function frameEncodingError(reason: string, frameType: number): TransportError {
  return new TransportError(TransportErrorCode.FRAME_ENCODING_ERROR, reason, frameType);
}

const TWO28 = 0x1000_0000;

/**
 * Read a varint and report whether it exceeds 2^60 (the stream-count ceiling). Values in
 * (2^53, 2^60] are legal limits and saturate to Number.MAX_SAFE_INTEGER; values above 2^60
 * return -1 so the caller can raise its own error (FRAME_ENCODING_ERROR in a frame,
 * TRANSPORT_PARAMETER_ERROR in a transport parameter).
 */
export function readStreamCount(r: Reader): number {
  const start = r.pos;
  const v = r.varint();
  if (r.pos - start === 8) {
    const b = r.buf;
    // High 30 bits of the 62-bit value; 2^60 = hi 2^28, lo 0.
    const hi = (b[start]! & 0x3f) * 0x100_0000 + ((b[start + 1]! << 16) | (b[start + 2]! << 8) | b[start + 3]!);
    if (hi > TWO28) return -1;
    if (hi === TWO28 && (b[start + 4]! | b[start + 5]! | b[start + 6]! | b[start + 7]!) !== 0) return -1;
  }
  return v;
}

/** API-misuse check for encoder arguments that must be exact varint values. */
export function checkVarintArg(name: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${name} must be an integer in [0, 2^53-1], got ${v}`);
  }
}
