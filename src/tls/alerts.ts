// L3: TLS alerts as QUIC sees them (RFC 9001 §4.8): every alert is fatal and closes the connection
// with CRYPTO_ERROR = 0x100 + AlertDescription in a CONNECTION_CLOSE of type 0x1c.
import { TransportError, cryptoError } from '../codec/errors.js';
import { TlsAlert } from './wire/alert.js';

export { AlertDescription, TlsAlert, alertName, type AlertDescriptionValue } from './wire/alert.js';

/** The QUIC error code for an alert (0x100 + alert). */
export function alertToCryptoErrorCode(alert: number): number {
  return 0x100 + (alert & 0xff);
}

/**
 * The TransportError to close with for anything the TLS engine threw: TlsAlert → CRYPTO_ERROR,
 * TransportError (RFC 9001 PROTOCOL_VIOLATION cases) unchanged.
 */
export function toTransportError(e: TlsAlert | TransportError): TransportError {
  if (e instanceof TransportError) return e;
  return cryptoError(e.alert, e.reason);
}
