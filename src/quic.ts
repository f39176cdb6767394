// `quiver/quic`: the QUIC layer's public surface. Wire codecs (RFC 9000 §16–§19, RFC 8999, RFC 9221),
// packet protection (RFC 9001 §5, RFC 9369), and — as they land — the sans-IO connection and
// endpoint and the Node-level listen/connect API.
export {
  Reader,
  Writer,
  BufferUnderflow,
  BufferOverflow,
  VarintRangeError,
  varintSize,
  toHex,
  fromHex,
} from './util/bytes.js';
export { TransportError, TransportErrorCode, transportErrorName, cryptoError } from './codec/errors.js';
export * as frames from './codec/frames.js';
export {
  QUIC_V1,
  QUIC_V2,
  QUIC_V2_DRAFT,
  SUPPORTED_VERSIONS,
  PacketType,
  versionInfo,
  versionName,
  isSupportedVersion,
  isReservedVersion,
  type VersionInfo,
} from './codec/version.js';
export {
  packetNumberLength,
  truncatePacketNumber,
  decodePacketNumber,
} from './codec/packet-number.js';
export {
  HeaderError,
  PacketHeader,
  parseInvariantHeader,
  decodePacketHeader,
  splitCoalesced,
  encodeLongHeader,
  encodeShortHeader,
  encodeVersionNegotiation,
  patchLength,
  type InvariantHeader,
} from './codec/header.js';
export {
  TransportParameterId,
  defaultTransportParameters,
  decodeTransportParameters,
  encodeTransportParameters,
  sizeTransportParameters,
  type TransportParameters,
} from './codec/transport-params.js';
export { PacketProtection, derivePacketKeys, nextTrafficSecret } from './crypto/packet-protection.js';
export { initialSecrets, initialProtection } from './crypto/initial.js';
export { buildRetryPacket, retryIntegrityTag, verifyRetryIntegrity } from './crypto/retry.js';
export { SecureRandom, SeededRandom, secureRandom, type RandomSource } from './crypto/random.js';
// The Node-level QUIC API (L7): listen/connect, sessions, streams as Node streams, typed errors.
export { listen, connect, QuicServer, type AddressInfo } from './io/quic.js';
export { QuicSession, type SessionInfo, type DatagramStatus } from './io/session.js';
export { QuicStream, QuicSendStream, QuicReceiveStream, type AnyQuicStream } from './io/stream.js';
export { QuicError, QuicErrorCode, type QuicErrorCodeValue, type CloseInfo } from './io/errors.js';
export type { ServerOptions, ClientOptions, TransportOptions, PemInput } from './io/options.js';
export { UdpDriver, type DriverStats } from './io/udp-driver.js';
