// L5 public surface: the sans-IO endpoint (routing, Version Negotiation, Retry and address
// validation tokens, stateless reset). HTTP/3 (L6) and the I/O layer (L7) import only this file.
export {
  Endpoint,
  MIN_INITIAL_DATAGRAM,
  MIN_INITIAL_DCID_LENGTH,
  type ClientConnectionOptions,
  type ConnectionFactory,
  type EndpointConnection,
  type EndpointEvent,
  type EndpointOptions,
  type RetryPolicy,
  type ServerConnectionOptions,
} from './endpoint.js';
export { RandomCidGenerator, cidKey, type ConnectionIdGenerator, type EndpointRandom } from './cid.js';
export { AddressTokens, TokenKind, DEFAULT_NEW_TOKEN_LIFETIME, DEFAULT_RETRY_TOKEN_LIFETIME, type TokenResult } from './tokens.js';
export {
  MIN_STATELESS_RESET_LENGTH,
  RateLimiter,
  STATELESS_RESET_TOKEN_LENGTH,
  statelessResetSize,
  statelessResetToken,
  writeStatelessReset,
} from './stateless-reset.js';
export { DROP_REASONS, createEndpointStats, type DropReason, type EndpointStats } from './stats.js';
export type { PathInfo, SendInfo } from '../connection/types.js';
