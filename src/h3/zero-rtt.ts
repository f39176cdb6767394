// L6: HTTP/3 settings across 0-RTT (RFC 9114 §7.2.4.2; RFC 9204 §3.2.3 for the QPACK table
// capacity). A client stores the server's SETTINGS with its session ticket and complies with them
// while it sends 0-RTT requests; a server stores the SETTINGS it advertised in its tickets and
// accepts 0-RTT only when those remembered settings are compatible with its current ones.
//
// Remembered settings travel as a small versioned blob: one version byte, then a SETTINGS frame
// payload (RFC 9114 §7.2.4.1) of the non-default known settings (GREASE and unknown ids dropped).

import { Writer } from '../util/bytes.js';
import { H3Error, decodeSettings, encodeSettingsPayload, settingsPayloadSize, type H3Settings } from './wire/index.js';
import { resolveLocalSettings } from './local-settings.js';
import type { H3LocalSettings } from './types.js';

const REMEMBERED_SETTINGS_VERSION = 1;

/** The blob to store for `settings` (the server's, received or advertised). */
export function encodeRememberedSettings(settings: H3Settings): Uint8Array {
  const known: H3Settings = { ...settings, unknown: [] };
  const out = new Uint8Array(1 + settingsPayloadSize(known));
  const w = new Writer(out);
  w.u8(REMEMBERED_SETTINGS_VERSION);
  encodeSettingsPayload(w, known);
  return out;
}

/** The settings in a blob from encodeRememberedSettings; null for anything else (never throws). */
export function decodeRememberedSettings(blob: Uint8Array): H3Settings | null {
  if (!(blob instanceof Uint8Array) || blob.length === 0 || blob[0] !== REMEMBERED_SETTINGS_VERSION) return null;
  let s: H3Settings;
  try {
    s = decodeSettings(blob.subarray(1));
  } catch (e) {
    if (e instanceof H3Error) return null;
    throw e;
  }
  // A blob we wrote never holds unknown ids.
  return s.unknown.length === 0 ? s : null;
}

/**
 * Why a client that complied with `remembered` would violate `current`, or null when the two are
 * compatible (RFC 9114 §7.2.4.2): no limit lower, no feature withdrawn, and a non-zero remembered
 * QPACK table capacity unchanged (RFC 9204 §3.2.3; it also fixes the Required Insert Count
 * encoding). A setting omitted from `current` reads as its default, so dropping a setting that was
 * non-default is caught as well (MAX_FIELD_SECTION_SIZE: only omission yields Infinity, as a
 * remembered finite limit can only be raised to a sent, finite value).
 */
export function rememberedSettingsConflict(remembered: H3Settings, current: H3Settings): string | null {
  const r = remembered;
  const c = current;
  if (r.qpackMaxTableCapacity !== 0 && c.qpackMaxTableCapacity !== r.qpackMaxTableCapacity) {
    return `SETTINGS_QPACK_MAX_TABLE_CAPACITY ${c.qpackMaxTableCapacity} differs from the remembered ${r.qpackMaxTableCapacity}`;
  }
  if (c.qpackBlockedStreams < r.qpackBlockedStreams) {
    return `SETTINGS_QPACK_BLOCKED_STREAMS ${c.qpackBlockedStreams} is below the remembered ${r.qpackBlockedStreams}`;
  }
  if (r.maxFieldSectionSize !== Infinity && (c.maxFieldSectionSize === Infinity || c.maxFieldSectionSize < r.maxFieldSectionSize)) {
    return c.maxFieldSectionSize === Infinity
      ? `SETTINGS_MAX_FIELD_SECTION_SIZE omitted, remembered as ${r.maxFieldSectionSize}`
      : `SETTINGS_MAX_FIELD_SECTION_SIZE ${c.maxFieldSectionSize} is below the remembered ${r.maxFieldSectionSize}`;
  }
  if (r.enableConnectProtocol && !c.enableConnectProtocol) return 'SETTINGS_ENABLE_CONNECT_PROTOCOL withdrawn';
  if (r.h3Datagram && !c.h3Datagram) return 'SETTINGS_H3_DATAGRAM withdrawn';
  return null;
}

/** Server: the blob to seal into session tickets for the SETTINGS these options advertise. */
export function rememberedSettingsFor(settings: H3LocalSettings | undefined): Uint8Array {
  return encodeRememberedSettings(resolveLocalSettings(settings));
}

/**
 * Server: may 0-RTT that a client sends under the settings in `blob` (from a ticket) be accepted by
 * a connection advertising `settings` (the H3ConnectionOptions.settings it will use)? False when the
 * blob is missing or unreadable: the server cannot tell what the client remembered (RFC 9114 §7.2.4.2).
 */
export function acceptsRememberedSettings(blob: Uint8Array | null | undefined, settings: H3LocalSettings | undefined): boolean {
  if (!blob) return false;
  const remembered = decodeRememberedSettings(blob);
  return remembered !== null && rememberedSettingsConflict(remembered, resolveLocalSettings(settings)) === null;
}
