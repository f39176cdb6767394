// L3: API misuse of the TLS engines (DESIGN §5): a call the engine's state does not allow. Peer
// violations are TlsAlert / TransportError (RFC 8446 §6, RFC 9001 §4.8), never this.

/** A TLS engine method was called in a state that does not allow it (stable code across threads). */
export class TlsStateError extends Error {
  readonly code = 'ERR_TLS_INVALID_STATE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TlsStateError';
  }
}
