// L1 HTTP/3 SETTINGS payload codec: RFC 9114 §7.2.4 (format, duplicates, reserved HTTP/2 ids
// 0x02–0x05 → H3_SETTINGS_ERROR, GREASE ignored), §7.2.4.1 (MAX_FIELD_SECTION_SIZE 0x06), RFC 9204 §5
// (QPACK_MAX_TABLE_CAPACITY 0x01, QPACK_BLOCKED_STREAMS 0x07), RFC 8441 §3 / RFC 9220 §3
// (ENABLE_CONNECT_PROTOCOL 0x08, 0 or 1), RFC 9297 §2.1.1 (H3_DATAGRAM 0x33, 0 or 1).
// Values ≥ 2^53 saturate to Number.MAX_SAFE_INTEGER (they are limits: "as good as unlimited").

import { BufferUnderflow, Reader, varintSize, type Writer } from '../../util/bytes.js';
import { H3Error, H3ErrorCode } from './errors.js';

export const SettingId = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
  ENABLE_CONNECT_PROTOCOL: 0x08,
  H3_DATAGRAM: 0x33,
} as const;

export interface H3Settings {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY (default 0). */
  qpackMaxTableCapacity: number;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE (default unlimited = Infinity). */
  maxFieldSectionSize: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS (default 0). */
  qpackBlockedStreams: number;
  /** SETTINGS_ENABLE_CONNECT_PROTOCOL (default false). */
  enableConnectProtocol: boolean;
  /** SETTINGS_H3_DATAGRAM (default false). */
  h3Datagram: boolean;
  /** Settings not interpreted here (GREASE, unknown extensions), in wire order: [id, value]. */
  unknown: Array<[id: number, value: number]>;
}

/** The initial value of every setting (RFC 9114 §7.2.4.2). */
export function defaultSettings(): H3Settings {
  return {
    qpackMaxTableCapacity: 0,
    maxFieldSectionSize: Infinity,
    qpackBlockedStreams: 0,
    enableConnectProtocol: false,
    h3Datagram: false,
    unknown: [],
  };
}

function boolSetting(v: number, name: string): boolean {
  if (v > 1) throw new H3Error(H3ErrorCode.H3_SETTINGS_ERROR, `${name} must be 0 or 1, got ${v}`, 0x04);
  return v === 1;
}

/**
 * Decode a SETTINGS frame payload. Throws H3Error: H3_SETTINGS_ERROR for a duplicate known
 * setting, an HTTP/2-only setting id (0x02–0x05) or an invalid boolean; H3_FRAME_ERROR when the
 * payload ends inside a setting.
 */
export function decodeSettings(payload: Uint8Array): H3Settings {
  const s = defaultSettings();
  const r = new Reader(payload);
  let seen = 0; // bit per known setting
  try {
    while (r.pos < r.end) {
      const id = r.varint();
      const v = r.varint();
      let bit = 0;
      switch (id) {
        case SettingId.QPACK_MAX_TABLE_CAPACITY:
          bit = 1;
          s.qpackMaxTableCapacity = v;
          break;
        case SettingId.MAX_FIELD_SECTION_SIZE:
          bit = 2;
          s.maxFieldSectionSize = v;
          break;
        case SettingId.QPACK_BLOCKED_STREAMS:
          bit = 4;
          s.qpackBlockedStreams = v;
          break;
        case SettingId.ENABLE_CONNECT_PROTOCOL:
          bit = 8;
          s.enableConnectProtocol = boolSetting(v, 'SETTINGS_ENABLE_CONNECT_PROTOCOL');
          break;
        case SettingId.H3_DATAGRAM:
          bit = 16;
          s.h3Datagram = boolSetting(v, 'SETTINGS_H3_DATAGRAM');
          break;
        case 0x02:
        case 0x03:
        case 0x04:
        case 0x05:
          throw new H3Error(H3ErrorCode.H3_SETTINGS_ERROR, `HTTP/2 setting 0x${id.toString(16)} is not allowed in HTTP/3`, 0x04);
        default:
          s.unknown.push([id, v]);
      }
      if (bit) {
        if (seen & bit) throw new H3Error(H3ErrorCode.H3_SETTINGS_ERROR, `duplicate setting 0x${id.toString(16)}`, 0x04);
        seen |= bit;
      }
    }
  } catch (e) {
    if (e instanceof BufferUnderflow) throw new H3Error(H3ErrorCode.H3_FRAME_ERROR, 'SETTINGS payload ends inside a setting', 0x04);
    throw e;
  }
  return s;
}

/** The (id, value) pairs to send: every setting that differs from its default, then `unknown`. */
export function settingsPairs(s: Partial<H3Settings>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (s.qpackMaxTableCapacity) out.push([SettingId.QPACK_MAX_TABLE_CAPACITY, s.qpackMaxTableCapacity]);
  if (s.maxFieldSectionSize !== undefined && s.maxFieldSectionSize !== Infinity) out.push([SettingId.MAX_FIELD_SECTION_SIZE, s.maxFieldSectionSize]);
  if (s.qpackBlockedStreams) out.push([SettingId.QPACK_BLOCKED_STREAMS, s.qpackBlockedStreams]);
  if (s.enableConnectProtocol) out.push([SettingId.ENABLE_CONNECT_PROTOCOL, 1]);
  if (s.h3Datagram) out.push([SettingId.H3_DATAGRAM, 1]);
  if (s.unknown) for (const p of s.unknown) out.push([p[0], p[1]]);
  return out;
}

/** Size of the SETTINGS payload encodeSettingsPayload writes. */
export function settingsPayloadSize(s: Partial<H3Settings>): number {
  let n = 0;
  for (const [id, v] of settingsPairs(s)) n += varintSize(id) + varintSize(v);
  return n;
}

/** Write a SETTINGS payload (without the frame header). */
export function encodeSettingsPayload(w: Writer, s: Partial<H3Settings>): void {
  for (const [id, v] of settingsPairs(s)) {
    w.varint(id);
    w.varint(v);
  }
}
