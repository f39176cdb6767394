// L1: QUIC transport error codes (RFC 9000 §20.1, RFC 9221 §3, RFC 9368 §10.2) and the
// TransportError that codecs and the connection throw on peer violations (DESIGN §5).
// A TransportError thrown inside receive() is caught once per datagram and becomes CONNECTION_CLOSE.

export const TransportErrorCode = {
  NO_ERROR: 0x00,
  INTERNAL_ERROR: 0x01,
  CONNECTION_REFUSED: 0x02,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_LIMIT_ERROR: 0x04,
  STREAM_STATE_ERROR: 0x05,
  FINAL_SIZE_ERROR: 0x06,
  FRAME_ENCODING_ERROR: 0x07,
  TRANSPORT_PARAMETER_ERROR: 0x08,
  CONNECTION_ID_LIMIT_ERROR: 0x09,
  PROTOCOL_VIOLATION: 0x0a,
  INVALID_TOKEN: 0x0b,
  APPLICATION_ERROR: 0x0c,
  CRYPTO_BUFFER_EXCEEDED: 0x0d,
  KEY_UPDATE_ERROR: 0x0e,
  AEAD_LIMIT_REACHED: 0x0f,
  NO_VIABLE_PATH: 0x10,
  /** RFC 9368 §10.2 */
  VERSION_NEGOTIATION_ERROR: 0x11,
  /** 0x0100–0x01ff: TLS alert + 0x100 (RFC 9001 §4.8). */
  CRYPTO_ERROR_BASE: 0x100,
} as const;

const NAMES: Record<number, string> = {};
for (const [k, v] of Object.entries(TransportErrorCode)) NAMES[v] = k;

export function transportErrorName(code: number): string {
  if (code >= 0x100 && code <= 0x1ff) return `CRYPTO_ERROR(0x${code.toString(16)})`;
  return NAMES[code] ?? `0x${code.toString(16)}`;
}

/** A peer violation of the QUIC transport protocol. `frameType` is the offending frame type, 0 if none. */
export class TransportError extends Error {
  readonly code = 'ERR_QUIC_TRANSPORT';
  readonly errorCode: number;
  readonly frameType: number;
  readonly reason: string;

  constructor(errorCode: number, reason = '', frameType = 0) {
    super(`${transportErrorName(errorCode)}${reason ? `: ${reason}` : ''}`);
    this.name = 'TransportError';
    this.errorCode = errorCode;
    this.frameType = frameType;
    this.reason = reason;
  }
}

/** CRYPTO_ERROR for a TLS alert (RFC 9001 §4.8). */
export function cryptoError(alert: number, reason = ''): TransportError {
  return new TransportError(0x100 + (alert & 0xff), reason);
}
