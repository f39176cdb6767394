// L7: typed errors of the high-level API (DESIGN §5). Every error carries a stable string `code`
// ('ERR_QUIC_…') because subclasses do not survive structured clone across threads; QUIC error
// codes (RFC 9000 §20, RFC 9114 §8.1) travel in `errorCode`. API misuse throws TypeError/RangeError
// naming the argument (see options.ts); these classes are for protocol and state failures.

/** Why a connection ended, as the sans-IO core reports it (src/connection ConnectionError). */
export interface CloseInfo {
  kind: 'transport' | 'application' | 'idle' | 'reset' | 'version' | 'local';
  code: number;
  reason: string;
  frameType?: number;
  remote: boolean;
  errCode?: string;
}

export const QuicErrorCode = {
  /** The peer (or we) closed with a transport error (RFC 9000 §20.1). */
  TRANSPORT: 'ERR_QUIC_TRANSPORT_ERROR',
  /** The TLS handshake failed (CRYPTO_ERROR 0x100 + alert, RFC 9001 §4.8). */
  TLS: 'ERR_QUIC_TLS_ERROR',
  /** The peer (or we) closed with an application error code. */
  APPLICATION: 'ERR_QUIC_APPLICATION_ERROR',
  /** No packets for the idle timeout (RFC 9000 §10.1). */
  IDLE_TIMEOUT: 'ERR_QUIC_IDLE_TIMEOUT',
  /** The handshake did not complete before the idle timeout. */
  HANDSHAKE_TIMEOUT: 'ERR_QUIC_HANDSHAKE_TIMEOUT',
  /** The peer sent a stateless reset (RFC 9000 §10.3). */
  STATELESS_RESET: 'ERR_QUIC_STATELESS_RESET',
  /** No version in common (RFC 9000 §6). */
  VERSION_NEGOTIATION: 'ERR_QUIC_VERSION_NEGOTIATION',
  /** The session was closed or destroyed locally before the operation finished. */
  SESSION_CLOSED: 'ERR_QUIC_SESSION_CLOSED',
  /** The peer reset the stream (RESET_STREAM, RFC 9000 §19.4). */
  STREAM_RESET: 'ERR_QUIC_STREAM_RESET',
  /** The peer asked us to stop sending (STOP_SENDING, RFC 9000 §19.5). */
  STREAM_STOPPED: 'ERR_QUIC_STREAM_STOPPED',
  /** We aborted the stream (resetStream / stopSending / destroy). */
  STREAM_ABORTED: 'ERR_QUIC_STREAM_ABORTED',
  /** DATAGRAM frames were not negotiated (RFC 9221 §3). */
  DATAGRAM_UNSUPPORTED: 'ERR_QUIC_DATAGRAM_UNSUPPORTED',
  /** The datagram exceeds what the peer accepts in one packet. */
  DATAGRAM_TOO_LARGE: 'ERR_QUIC_DATAGRAM_TOO_LARGE',
  /** A UDP socket failed (bind, send). */
  SOCKET: 'ERR_QUIC_SOCKET_ERROR',
  /** The operation was aborted (AbortSignal). */
  ABORTED: 'ERR_QUIC_ABORTED',
  /** An HTTP/3 error (RFC 9114 §8.1) ended the request or the connection. */
  HTTP3: 'ERR_QUIC_HTTP3_ERROR',
} as const;

export type QuicErrorCodeValue = (typeof QuicErrorCode)[keyof typeof QuicErrorCode];

export class QuicError extends Error {
  /** Stable string code, ERR_QUIC_… */
  readonly code: string;
  /** QUIC/HTTP/3 numeric error code (transport, application or stream), when there is one. */
  readonly errorCode: number | undefined;
  /** True when the peer caused it (CONNECTION_CLOSE, RESET_STREAM, STOP_SENDING received). */
  readonly remote: boolean;
  /** For connection errors, the core's close kind. */
  readonly kind: CloseInfo['kind'] | undefined;
  /** Offending frame type of a transport error. */
  readonly frameType: number | undefined;

  constructor(code: string, message: string, extra: { errorCode?: number; remote?: boolean; kind?: CloseInfo['kind']; frameType?: number; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'QuicError';
    this.code = code;
    this.errorCode = extra.errorCode;
    this.remote = extra.remote ?? false;
    this.kind = extra.kind;
    this.frameType = extra.frameType;
  }
}

/** True when a close ends a session cleanly (closed promise resolves rather than rejects). */
export function isCleanClose(info: CloseInfo, handshakeDone: boolean, noErrorCodes: readonly number[] = [0]): boolean {
  if (info.kind === 'local') return true;
  if (info.kind === 'transport' && info.code === 0) return true;
  if (info.kind === 'application' && noErrorCodes.includes(info.code)) return true;
  return info.kind === 'idle' && handshakeDone;
}

/** Map the core's close information onto a QuicError. */
export function closeError(info: CloseInfo, handshakeDone: boolean): QuicError {
  const who = info.remote ? 'peer' : 'local';
  const reason = info.reason ? `: ${info.reason}` : '';
  const extra = { errorCode: info.code, remote: info.remote, kind: info.kind, ...(info.frameType === undefined ? {} : { frameType: info.frameType }) };
  switch (info.kind) {
    case 'transport':
      if (info.code >= 0x100 && info.code <= 0x1ff) {
        return new QuicError(QuicErrorCode.TLS, `TLS handshake failed (${who}, CRYPTO_ERROR 0x${info.code.toString(16)}, alert ${info.code - 0x100})${reason}`, extra);
      }
      return new QuicError(QuicErrorCode.TRANSPORT, `connection closed by ${who} with transport error 0x${info.code.toString(16)}${reason}`, extra);
    case 'application':
      return new QuicError(QuicErrorCode.APPLICATION, `connection closed by ${who} with application error 0x${info.code.toString(16)}${reason}`, extra);
    case 'idle':
      return handshakeDone
        ? new QuicError(QuicErrorCode.IDLE_TIMEOUT, `idle timeout${reason}`, extra)
        : new QuicError(QuicErrorCode.HANDSHAKE_TIMEOUT, `handshake timed out (no answer from the peer)${reason}`, extra);
    case 'reset':
      return new QuicError(QuicErrorCode.STATELESS_RESET, `peer sent a stateless reset${reason}`, extra);
    case 'version':
      return new QuicError(QuicErrorCode.VERSION_NEGOTIATION, `no QUIC version in common with the peer${reason}`, extra);
    default:
      return new QuicError(QuicErrorCode.SESSION_CLOSED, `session closed${reason}`, extra);
  }
}

export function sessionClosedError(what: string): QuicError {
  return new QuicError(QuicErrorCode.SESSION_CLOSED, `${what}: the session is closed`);
}
