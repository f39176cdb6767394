// L1 QPACK errors (RFC 9204 §6). One error class for every peer violation the QPACK codecs detect;
// the HTTP/3 layer turns a connection-level QpackError into CONNECTION_CLOSE with `errorCode`, and a
// stream-level one (`streamError`) into a reset of that stream (DESIGN §5).

/** QPACK error codes (RFC 9204 §6), registered in the HTTP/3 error code space. */
export const QpackErrorCode = {
  /** The decoder failed to interpret an encoded field section. */
  DECOMPRESSION_FAILED: 0x200,
  /** The decoder failed to interpret an encoder instruction on the encoder stream. */
  ENCODER_STREAM_ERROR: 0x201,
  /** The encoder failed to interpret a decoder instruction on the decoder stream. */
  DECODER_STREAM_ERROR: 0x202,
} as const;

export type QpackErrorCodeValue = (typeof QpackErrorCode)[keyof typeof QpackErrorCode];

/** H3_EXCESSIVE_LOAD (RFC 9114 §8.1), used for a field section above SETTINGS_MAX_FIELD_SECTION_SIZE. */
export const H3_EXCESSIVE_LOAD = 0x107;

const STRING_CODES: Record<number, string> = {
  0x200: 'ERR_QPACK_DECOMPRESSION_FAILED',
  0x201: 'ERR_QPACK_ENCODER_STREAM_ERROR',
  0x202: 'ERR_QPACK_DECODER_STREAM_ERROR',
  0x107: 'ERR_QPACK_FIELD_SECTION_TOO_LARGE',
};

const NAMES: Record<number, string> = {
  0x200: 'QPACK_DECOMPRESSION_FAILED',
  0x201: 'QPACK_ENCODER_STREAM_ERROR',
  0x202: 'QPACK_DECODER_STREAM_ERROR',
  0x107: 'H3_EXCESSIVE_LOAD',
};

/**
 * A QPACK peer violation. `code` is the stable string ('ERR_QPACK_…'), `errorCode` the number to put on
 * the wire (0x200–0x202; 0x107 H3_EXCESSIVE_LOAD for an oversized field section). `streamId` is the
 * request stream concerned, or -1 for the encoder/decoder streams. `streamError` is true when only that
 * stream need be reset (field section too large); every other QpackError is a connection error.
 */
export class QpackError extends Error {
  readonly code: string;
  readonly errorCode: number;
  readonly reason: string;
  readonly streamId: number;
  readonly streamError: boolean;

  constructor(errorCode: number, reason: string, streamId = -1, streamError = false) {
    super(`${NAMES[errorCode] ?? `0x${errorCode.toString(16)}`}: ${reason}`);
    this.name = 'QpackError';
    this.code = STRING_CODES[errorCode] ?? 'ERR_QPACK';
    this.errorCode = errorCode;
    this.reason = reason;
    this.streamId = streamId;
    this.streamError = streamError;
  }
}
