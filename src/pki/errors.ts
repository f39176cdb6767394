// L3: the one error type of certificate parsing and verification, carrying the TLS alert
// (RFC 8446 §6.2) the handshake sends when it rejects a peer's certificate.

/** TLS alerts used for certificate failures (RFC 8446 §6 AlertDescription). */
export const CertAlert = {
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  unknown_ca: 48,
  decrypt_error: 51,
} as const;

/**
 * A certificate was malformed, unsupported or failed verification. `alert` is the TLS alert to send
 * (RFC 8446 §6.2; QUIC: CRYPTO_ERROR 0x100 + alert, RFC 9001 §4.8). `code` is stable across threads.
 */
export class CertificateError extends Error {
  readonly code = 'ERR_TLS_CERTIFICATE';
  readonly alert: number;
  constructor(alert: number, message: string) {
    super(message);
    this.name = 'CertificateError';
    this.alert = alert;
  }
}

/** A malformed encoding: bad_certificate (42). */
export function malformed(what: string): CertificateError {
  return new CertificateError(CertAlert.bad_certificate, `malformed certificate: ${what}`);
}
