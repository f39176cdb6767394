// L3 public surface of the TLS 1.3 handshake for the QUIC connection layer (RFC 8446, RFC 9001 §4).
export { TlsClient, DEFAULT_CIPHER_SUITES, type TlsClientOptions } from './client.js';
export {
  TlsServer,
  makeHrrCookie,
  openHrrCookie,
  type TlsServerOptions,
  type SessionTicketOptions,
  type EarlyDataOptions,
  type EarlyDataContext,
} from './server.js';
export type { TlsError } from './engine.js';
export { TlsStateError } from './errors.js';
export { EncryptionLevel, type TlsEvent, type HandshakeInfo } from './types.js';
export { AlertDescription, TlsAlert, alertName, alertToCryptoErrorCode, toTransportError } from './alerts.js';
export {
  TicketKeyring,
  encodeClientSession,
  decodeClientSession,
  clientSessionAppData,
  withClientSessionAppData,
  MAX_TICKET_LIFETIME_SECONDS,
  type ClientSession,
  type TicketKeyringOptions,
  type TicketKeyMaterial,
} from './session-ticket.js';
export { AntiReplay, type AntiReplayOptions, type AntiReplayMode } from './anti-replay.js';
export {
  certifiedKeyFromPem,
  DEFAULT_SIGNATURE_SCHEMES,
  DEFAULT_CERT_SIGNATURE_SCHEMES,
  type CertifiedKey,
} from './certificates.js';
export { KeyLogLabel, keyLogLine, type KeyLogger } from './keylog.js';
export { NamedGroup, CipherSuite } from './wire/constants.js';
