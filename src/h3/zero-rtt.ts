// L6: HTTP/3 settings across 0-RTT (RFC 9114 §7.2.4.2; RFC 9204 §3.2.3 for the QPACK table
// capacity). A client stores the server's SETTINGS with its session ticket and complies with them
// while it sends 0-RTT requests; a server stores the SETTINGS it advertised in its tickets and
// accepts 0-RTT only when those remembered settings are compatible with its current ones.
//
// Remembered settings travel as a small versioned blob: one version byte, then a SETTINGS frame
// payload (RFC 9114 §7.2.4.1) of the non-default known settings (GREASE and unknown ids dropped).

import { Writer } from '../util/bytes.js';
import { H3Error, H3ErrorCode, H3FrameType, decodeSettings, encodeSettingsPayload, settingsPayloadSize, type H3Settings } from './wire/index.js';
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

/**
 * Client side of 0-RTT settings (RFC 9114 §7.2.4.2): the remembered SETTINGS that stand in for the
 * server's until they arrive, whether the QPACK encoder was given them, and the 0-RTT verdict.
 * Our transport replays 0-RTT stream data in 1-RTT when 0-RTT is rejected, so sections encoded
 * under the remembered QPACK table must stay decodable under the server's real SETTINGS either way.
 */
export class EarlySettings {
  readonly remembered: H3Settings;
  /** The encoder got the remembered QPACK limits: sections were encoded under them. */
  private qpackApplied = false;
  private verdict: 'unknown' | 'accepted' | 'rejected' = 'unknown';
  private peer: H3Settings | null = null;

  constructor(blob: unknown) {
    if (!(blob instanceof Uint8Array)) throw new TypeError('options.earlySettings must be a Uint8Array (settingsToRemember of an earlier connection)');
    const r = decodeRememberedSettings(blob);
    if (r === null) throw new RangeError('options.earlySettings is not a remembered-settings blob');
    this.remembered = r;
  }

  /** Before a section is encoded while the server's SETTINGS are unknown: QPACK limits to apply once. */
  qpackLimitsToApply(): H3Settings | null {
    if (this.qpackApplied || this.peer !== null || this.remembered.qpackMaxTableCapacity === 0) return null;
    this.qpackApplied = true;
    return this.remembered;
  }

  /** The server's SETTINGS arrived (before the encoder takes them). Throws H3Error(H3_SETTINGS_ERROR). */
  onSettings(settings: H3Settings): void {
    const r = this.remembered;
    if (this.qpackApplied && (settings.qpackMaxTableCapacity !== r.qpackMaxTableCapacity || settings.qpackBlockedStreams < r.qpackBlockedStreams)) {
      throw settingsError(
        `QPACK settings (capacity ${settings.qpackMaxTableCapacity}, blocked streams ${settings.qpackBlockedStreams}) below the remembered ones requests were encoded under (${r.qpackMaxTableCapacity}, ${r.qpackBlockedStreams}; RFC 9204 §3.2.3)`,
      );
    }
    this.peer = settings;
    if (this.verdict === 'accepted') this.checkAccepted();
  }

  /** 'handshake-completed': an accepted 0-RTT binds the server to the remembered settings. */
  onVerdict(accepted: boolean): void {
    if (this.verdict !== 'unknown') return;
    this.verdict = accepted ? 'accepted' : 'rejected';
    if (accepted && this.peer !== null) this.checkAccepted();
  }

  private checkAccepted(): void {
    const conflict = rememberedSettingsConflict(this.remembered, this.peer!);
    if (conflict !== null) throw settingsError(`0-RTT was accepted but ${conflict} (RFC 9114 §7.2.4.2)`);
  }
}

function settingsError(reason: string): H3Error {
  return new H3Error(H3ErrorCode.H3_SETTINGS_ERROR, reason, H3FrameType.SETTINGS);
}
