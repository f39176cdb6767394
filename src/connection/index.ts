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
// - CidGenerator.retire?(cid): called when the peer retires one of our CIDs (endpoint routing);
//   Connection.localCidCount (active CIDs, without allocating the localCids array).
// - createServerConnection(options, datagram, from, now) / parseInitial(datagram) for the endpoint.
// - SendInfo.releaseTime never decreases between datagrams and is at most 1 ms ahead of `now`
//   (pacing beyond that holds data back and arms nextTimeout()).
export {
  Connection,
  ConnectionClosedError,
  createServerConnection,
  parseInitial,
  type InitialInfo,
  type StreamReadResult,
} from './connection.js';
export { DEFAULT_TRANSPORT_PARAMS, type ConnectionOptions, type LocalTransportParams, type TlsOptions } from './options.js';
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
