// L1: TLS 1.3 code points (RFC 8446 §4, §B.3, IANA TLS registries) used by the handshake codecs,
// plus the QUIC transport-parameters extension (RFC 9001 §8.2).

/** RFC 8446 §4 HandshakeType. */
export const HandshakeType = {
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  end_of_early_data: 5,
  encrypted_extensions: 8,
  certificate: 11,
  certificate_request: 13,
  certificate_verify: 15,
  finished: 20,
  key_update: 24,
  /** RFC 8446 §4.4.1: the synthetic message that replaces ClientHello1 after HelloRetryRequest. */
  message_hash: 254,
} as const;

/** RFC 8446 §4.2 ExtensionType (the ones this stack reads or writes). */
export const ExtensionType = {
  server_name: 0,
  max_fragment_length: 1,
  status_request: 5,
  supported_groups: 10,
  signature_algorithms: 13,
  use_srtp: 14,
  heartbeat: 15,
  application_layer_protocol_negotiation: 16,
  signed_certificate_timestamp: 18,
  client_certificate_type: 19,
  server_certificate_type: 20,
  padding: 21,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  cookie: 44,
  psk_key_exchange_modes: 45,
  certificate_authorities: 47,
  oid_filters: 48,
  post_handshake_auth: 49,
  signature_algorithms_cert: 50,
  key_share: 51,
  /** RFC 9001 §8.2 */
  quic_transport_parameters: 0x39,
} as const;

/** RFC 8446 §B.4 cipher suites. */
export const CipherSuite = {
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_AES_256_GCM_SHA384: 0x1302,
  TLS_CHACHA20_POLY1305_SHA256: 0x1303,
} as const;

/** RFC 8446 §4.2.7 NamedGroup (only the ones implemented are listed; others are skipped). */
export const NamedGroup = {
  secp256r1: 0x0017,
  secp384r1: 0x0018,
  x25519: 0x001d,
  /** draft-kwiatkowski-tls-ecdhe-mlkem: not implemented, listed to recognise Chromium/Go shares. */
  X25519MLKEM768: 0x11ec,
} as const;

export const ProtocolVersion = {
  TLS12: 0x0303,
  TLS13: 0x0304,
} as const;

/** RFC 8446 §4.2.9 */
export const PskKeyExchangeMode = {
  psk_ke: 0,
  psk_dhe_ke: 1,
} as const;

/** RFC 8446 §4.1.3: ServerHello.random of a HelloRetryRequest = SHA-256("HelloRetryRequest"). */
export const HRR_RANDOM: Uint8Array = Uint8Array.of(
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
);

/** RFC 8446 §4.1.3 downgrade sentinels in the last 8 bytes of ServerHello.random. */
export const DOWNGRADE_TLS12: Uint8Array = Uint8Array.of(0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01);
export const DOWNGRADE_TLS11: Uint8Array = Uint8Array.of(0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00);

/** RFC 8701: GREASE values are 0x?A?A with both bytes equal. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/** RFC 9001 §4.6.1: the only max_early_data_size a QUIC server may send. */
export const QUIC_MAX_EARLY_DATA = 0xffffffff;
