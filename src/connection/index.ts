// L4 public surface: the sans-IO QUIC connection (RFC 9000, 9001, 9002, 9221, 9368, 9369) as the
// lead's contract describes it (/work/notes/CONNECTION-SPEC.md). L5 (endpoint), L6 (HTTP/3) and L7
// import only this file.
//
// Additive changes to the contract, documented here:
// - ConnectionOptions.remote: the peer's address; REQUIRED for clients (SendInfo.to needs it), optional
//   for servers (else learned from the first datagram).
// - ConnectionOptions.versions: compatible version negotiation (RFC 9368). Client: versions offered
//   in version_information (default: `version` first, then v1, v2, v2draft). Server: preference
//   order; it switches to the first one the client offers (default: keep the client's version).
// - ConnectionOptions TLS fields (TlsOptions): certificate (PEM or DER list) + privateKey (PEM or a
//   SigningKey), ca (PEM or DER list), rejectUnauthorized, requestClientCertificate, session (blob
//   from a 'session-ticket' event), enableEarlyData, ticketKeys (TicketKeyring), antiReplay
//   (AntiReplay; required with enableEarlyData on a server), keylog, tlsExtra (raw TLS options).
// - ConnectionOptions.localCid / cidLength / addressValidated / newTokenMinter / maxDatagramSize
//   (default 1200) / pmtud (DPLPMTUD up to a size, opt-in) / initialRtt / keyUpdateInterval /
//   aeadIntegrityLimit.
// - RandomSource: either crypto/random.ts's ({ fillRandom }) or { fill }.
// - Events 'stream-closed' (both directions done, state released) and 'version-negotiated'.
// - streamRead returns { bytes, fin, resetCode }; streamWrite returns -1 after our sending side was
//   reset (STOP_SENDING) or the stream was released. Calls on released streams are no-ops; IDs
//   never opened throw StreamUsageError (RangeError, code ERR_QUIC_STREAM_USAGE).
// - Calls on a closing/closed connection are no-ops: openStream → null, streamWrite → -1,
//   sendDatagram → null, streamFinish/Reset/StopSending do nothing (the 'closed' event tells why).
// - updateKeys() returns whether an update started; rotatePeerCid(); hasStream(); isLocalStream();
//   handleStatelessReset(datagram, now) (endpoint: a datagram no CID routed); error; path;
//   sourceCid; originalDcid; peerCid; isServer; handshakeComplete; resumed; earlyDataAccepted.
// - createServerConnection(options, datagram, from, now) / parseInitial(datagram) for the endpoint.
// - SendInfo.releaseTime never decreases between datagrams and is at most 1 ms ahead of `now`
//   (pacing beyond that holds data back and arms nextTimeout()).
// - CidGenerator.retire?(cid): called when the peer retires one of our CIDs (endpoint routing);
//   Connection.localCidCount (active CIDs, without allocating the localCids array).
// - 0-RTT (RFC 9001 §4.6.2, RFC 9000 §7.4.1): when the server rejects 0-RTT the client keeps the
//   streams the application opened and re-sends their data in 1-RTT packets under the server's new
//   limits (streams above a lowered stream limit wait for MAX_STREAMS); 'handshake-completed'
//   says earlyDataAccepted: false, and an application that must redo its own 0-RTT state (ALPN or
//   settings changed) does so then. A server that accepts 0-RTT while lowering a remembered limit
//   is closed with PROTOCOL_VIOLATION.
//
// Datagram size (RFC 9000 §14): the core builds datagrams of DEFAULT_MAX_DATAGRAM_SIZE (1200) bytes,
// which every QUIC path must carry — the safe default. Drivers with a known larger path MTU set
// `maxDatagramSize` (e.g. ETHERNET_MAX_DATAGRAM_SIZE, 1452 = 1500 − IPv6 − UDP headers); otherwise
// `pmtud: true` turns on DPLPMTUD (RFC 8899), which raises the size up to 1452 once the handshake is
// confirmed (or `pmtud: <bytes>` for another ceiling) and falls back to 1200 on black holes. Larger
// datagrams cut the per-packet cost of a bulk transfer (one AEAD call per ~1.4 KB instead of ~1.15
// KB: ~20 % fewer packets); the I/O layer must size its receive buffers for the largest it accepts
// (transport.maxUdpPayloadSize, default 65527).
export {
  Connection,
  ConnectionClosedError,
  createServerConnection,
  parseInitial,
  type InitialInfo,
  type StreamReadResult,
} from './connection.js';
export {
  DEFAULT_MAX_DATAGRAM_SIZE,
  DEFAULT_TRANSPORT_PARAMS,
  ETHERNET_MAX_DATAGRAM_SIZE,
  type ConnectionOptions,
  type LocalTransportParams,
  type TlsOptions,
} from './options.js';
export type {
  CidGenerator,
  ConnectionError,
  ConnectionErrorKind,
  ConnectionEvent,
  ConnectionState,
  ConnectionStats,
  IssuedCid,
  PathInfo,
  QlogEvent,
  RandomSource,
  SendInfo,
} from './types.js';
export type { TransportParameters } from '../codec/transport-params.js';
export { QUIC_V1, QUIC_V2, QUIC_V2_DRAFT } from '../codec/version.js';
