// L1: TLS alert descriptions (RFC 8446 §6, §B.2; RFC 7301 §3.2 no_application_protocol) and the
// one error type the TLS layer raises on peer input. Over QUIC every alert is fatal and becomes
// CRYPTO_ERROR 0x100 + alert (RFC 9001 §4.8); src/tls/alerts.ts does that mapping.

export const AlertDescription = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
} as const;

export type AlertDescriptionValue = (typeof AlertDescription)[keyof typeof AlertDescription];

const ALERT_NAMES: Record<number, string> = {};
for (const [k, v] of Object.entries(AlertDescription)) ALERT_NAMES[v] = k;

export function alertName(alert: number): string {
  return ALERT_NAMES[alert] ?? `alert(${alert})`;
}

/**
 * A fatal TLS alert caused by peer input (or by a local condition such as no usable certificate).
 * `alert` is the AlertDescription; the QUIC layer closes with CRYPTO_ERROR 0x100 + alert.
 */
export class TlsAlert extends Error {
  readonly code = 'ERR_TLS_ALERT';
  readonly alert: number;
  readonly reason: string;

  constructor(alert: number, reason = '') {
    super(`TLS alert ${alertName(alert)} (${alert})${reason ? `: ${reason}` : ''}`);
    this.name = 'TlsAlert';
    this.alert = alert;
    this.reason = reason;
  }
}

/** Shorthand for the most common alert: malformed peer input (RFC 8446 §6.2 decode_error). */
export function decodeError(reason: string): TlsAlert {
  return new TlsAlert(AlertDescription.decode_error, reason);
}
