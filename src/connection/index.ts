// L4 public surface: the sans-IO QUIC connection (RFC 9000, 9001, 9002, 9221, 9368, 9369) as the
// lead's contract describes it (/work/notes/CONNECTION-SPEC.md). L5 (endpoint), L6 (HTTP/3) and L7
// import only this file.
//
// Additive changes to the contract, documented here:
// - ConnectionOptions.remote: the client's server address (required for clients).
// - ConnectionOptions.versions: compatible version negotiation preferences (RFC 9368).
// - ConnectionOptions TLS fields: certificate, privateKey, ca, rejectUnauthorized,
//   requestClientCertificate, session, enableEarlyData, ticketKeys, antiReplay, keylog, tlsExtra.
// - ConnectionOptions.localCid / cidLength / addressValidated / newTokenMinter / maxDatagramSize /
//   initialRtt / keyUpdateInterval / aeadIntegrityLimit.
// - RandomSource: either crypto/random.ts's ({ fillRandom }) or { fill }.
// - Events 'stream-closed' and 'version-negotiated'.
// - streamRead returns { bytes, fin, resetCode }; streamWrite returns -1 after our side was reset.
// - updateKeys() returns whether an update started; rotatePeerCid(); hasStream(); error; path;
//   sourceCid; originalDcid; peerCid; isServer; handshakeComplete; resumed; earlyDataAccepted.
// - createServerConnection() / parseInitial() for the endpoint.
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
