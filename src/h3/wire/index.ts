// L1 HTTP/3 wire codecs (RFC 9114 §6–§8, RFC 9218 §4/§7, RFC 9297 §2.1.1): the public surface of
// src/h3/wire/ for the HTTP/3 connection layer.
export { H3Error, H3ErrorCode, h3ErrorName } from './errors.js';
export type { H3ErrorCodeValue } from './errors.js';
export { isReserved, reservedValue } from './reserved.js';
export { H3StreamType, uniStreamKind, readStreamType } from './stream-types.js';
export type { H3StreamTypeValue, UniStreamKind } from './stream-types.js';
export { SettingId, defaultSettings, decodeSettings, encodeSettingsPayload, settingsPayloadSize, settingsPairs } from './settings.js';
export type { H3Settings } from './settings.js';
export {
  H3FrameType,
  decodeFramePayload,
  encodeFrame,
  encodeFrameHeader,
  frameBytes,
  frameHeaderSize,
  framePayloadSize,
  frameSize,
  frameTypeOf,
  isHttp2OnlyFrameType,
} from './frames.js';
export type { H3Frame } from './frames.js';
export { FrameReader } from './frame-reader.js';
export type { FrameReaderOptions, FrameStreamKind, H3FrameEvent } from './frame-reader.js';
export { parsePriority, serializePriority, defaultPriority, DEFAULT_URGENCY } from './priority.js';
export type { Priority } from './priority.js';
