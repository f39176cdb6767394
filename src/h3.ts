// `quiver/h3`: HTTP/3 over Quiver's QUIC, sans-IO (RFC 9114, with QPACK RFC 9204, priorities RFC 9218,
// Extended CONNECT RFC 9220 and HTTP Datagrams RFC 9297). Server push is never offered.
export * from './h3/index.js';
export {
  H3Error,
  H3ErrorCode,
  h3ErrorName,
  SettingId,
  defaultSettings,
  parsePriority,
  serializePriority,
  defaultPriority,
  DEFAULT_URGENCY,
} from './h3/wire/index.js';
export type { H3ErrorCodeValue, H3Settings, Priority } from './h3/wire/index.js';
export type { HeaderField, HeaderFieldInput } from './qpack/index.js';
