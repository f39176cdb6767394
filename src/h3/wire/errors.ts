// L1 HTTP/3 error codes: RFC 9114 §8.1, the QPACK codes of RFC 9204 §6, and H3_DATAGRAM_ERROR of
// RFC 9297 §2.1.1, plus the H3Error thrown by the HTTP/3 wire codecs on peer violations (DESIGN §5).

import { QpackErrorCode } from '../../qpack/errors.js';
import { isReserved } from './reserved.js';

export const H3ErrorCode = {
  H3_NO_ERROR: 0x100,
  H3_GENERAL_PROTOCOL_ERROR: 0x101,
  H3_INTERNAL_ERROR: 0x102,
  H3_STREAM_CREATION_ERROR: 0x103,
  H3_CLOSED_CRITICAL_STREAM: 0x104,
  H3_FRAME_UNEXPECTED: 0x105,
  H3_FRAME_ERROR: 0x106,
  H3_EXCESSIVE_LOAD: 0x107,
  H3_ID_ERROR: 0x108,
  H3_SETTINGS_ERROR: 0x109,
  H3_MISSING_SETTINGS: 0x10a,
  H3_REQUEST_REJECTED: 0x10b,
  H3_REQUEST_CANCELLED: 0x10c,
  H3_REQUEST_INCOMPLETE: 0x10d,
  H3_MESSAGE_ERROR: 0x10e,
  H3_CONNECT_ERROR: 0x10f,
  H3_VERSION_FALLBACK: 0x110,
  /** RFC 9204 §6 */
  QPACK_DECOMPRESSION_FAILED: QpackErrorCode.DECOMPRESSION_FAILED,
  QPACK_ENCODER_STREAM_ERROR: QpackErrorCode.ENCODER_STREAM_ERROR,
  QPACK_DECODER_STREAM_ERROR: QpackErrorCode.DECODER_STREAM_ERROR,
  /** RFC 9297 §2.1.1 */
  H3_DATAGRAM_ERROR: 0x33,
} as const;

export type H3ErrorCodeValue = (typeof H3ErrorCode)[keyof typeof H3ErrorCode];

const NAMES: Record<number, string> = {};
for (const [k, v] of Object.entries(H3ErrorCode)) NAMES[v] = k;

/** The registered name of an HTTP/3 error code, "RESERVED(0x…)" for GREASE codes, else hex. */
export function h3ErrorName(code: number): string {
  const n = NAMES[code];
  if (n) return n;
  if (isReserved(code)) return `RESERVED(0x${code.toString(16)})`;
  return `0x${code.toString(16)}`;
}

/**
 * A peer violation of HTTP/3. `errorCode` goes on the wire; `code` is the stable string
 * ('ERR_H3_FRAME_ERROR', 'ERR_QPACK_…', 'ERR_H3' for unnamed codes). `frameType` is the offending
 * frame type or -1. `streamError` marks errors that reset one stream (e.g. H3_MESSAGE_ERROR)
 * rather than close the connection.
 */
export class H3Error extends Error {
  readonly code: string;
  readonly errorCode: number;
  readonly reason: string;
  readonly frameType: number;
  readonly streamError: boolean;

  constructor(errorCode: number, reason = '', frameType = -1, streamError = false) {
    const name = h3ErrorName(errorCode);
    super(`${name}${reason ? `: ${reason}` : ''}`);
    this.name = 'H3Error';
    this.code = NAMES[errorCode] ? `ERR_${name}` : 'ERR_H3';
    this.errorCode = errorCode;
    this.reason = reason;
    this.frameType = frameType;
    this.streamError = streamError;
  }
}
