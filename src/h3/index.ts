// L6 public surface of the sans-IO HTTP/3 layer (RFC 9114, RFC 9204 streams, RFC 9218, RFC 9220,
// RFC 9297): the H3Connection, the transport interface it needs from a QUIC connection, events,
// options, header validation helpers and HTTP Datagram framing.
export { H3Connection, GOAWAY_NO_NEW_REQUESTS } from './connection.js';
export { H3ClosedError } from './errors.js';
export type {
  H3CloseError,
  H3ConnectionOptions,
  H3Event,
  H3LocalSettings,
  H3QpackOptions,
  H3RequestOptions,
  H3RespondOptions,
  H3Stats,
  H3StreamStats,
} from './types.js';
export type { H3Random, H3Transport, H3TransportCloseInfo, H3TransportEvent } from './transport.js';
export { isBidi, isClientInitiated, isRequestStreamId } from './transport.js';
export {
  checkRequestToSend,
  checkResponseToSend,
  checkTrailersToSend,
  headerListSize,
  parseRequestHead,
  parseResponseHead,
  parseTrailers,
  splitCookies,
} from './headers.js';
export type { RequestHead, ResponseHead } from './headers.js';
export { QUARTER_STREAM_ID_LIMIT, decodeHttpDatagram, encodeHttpDatagram, httpDatagramOverhead } from './datagram.js';
export { DEFAULT_MAX_FIELD_SECTION_SIZE, DEFAULT_QPACK_BLOCKED_STREAMS, DEFAULT_QPACK_MAX_TABLE_CAPACITY } from './local-settings.js';
export {
  acceptsRememberedSettings,
  decodeRememberedSettings,
  encodeRememberedSettings,
  rememberedSettingsConflict,
  rememberedSettingsFor,
} from './zero-rtt.js';
