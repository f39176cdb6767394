// L6: our SETTINGS (RFC 9114 §7.2.4, RFC 9204 §5, RFC 9220 §3, RFC 9297 §2.1.1) from the options,
// validated, and the GREASE we add to what we send (RFC 9114 §7.2.4.1 reserved settings, §7.2.8
// reserved frame types, §6.2.3 reserved stream types).

import { Writer } from '../util/bytes.js';
import { defaultSettings, encodeFrameHeader, frameHeaderSize, frameBytes, reservedValue, type H3Settings } from './wire/index.js';
import type { H3LocalSettings } from './types.js';
import type { H3Random } from './transport.js';

export const DEFAULT_QPACK_MAX_TABLE_CAPACITY = 16384;
export const DEFAULT_QPACK_BLOCKED_STREAMS = 100;
export const DEFAULT_MAX_FIELD_SECTION_SIZE = 65536;

function nonNegInt(v: unknown, name: string, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
    throw new RangeError(`${name} must be an integer in [0, ${max}]`);
  }
  return v;
}

function bool(v: unknown, name: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean`);
  return v;
}

/** Our settings with defaults applied; RangeError/TypeError naming the bad option. */
export function resolveLocalSettings(input: H3LocalSettings | undefined): H3Settings {
  if (input !== undefined && (typeof input !== 'object' || input === null)) throw new TypeError('options.settings must be an object');
  const i = input ?? {};
  const s = defaultSettings();
  // The QPACK decoder keeps table capacities as exact integers; 2^30 is far above any real table.
  s.qpackMaxTableCapacity = nonNegInt(i.qpackMaxTableCapacity, 'options.settings.qpackMaxTableCapacity', DEFAULT_QPACK_MAX_TABLE_CAPACITY, 2 ** 30);
  s.qpackBlockedStreams = nonNegInt(i.qpackBlockedStreams, 'options.settings.qpackBlockedStreams', DEFAULT_QPACK_BLOCKED_STREAMS, 2 ** 30);
  if (i.maxFieldSectionSize === Infinity) s.maxFieldSectionSize = Infinity;
  else s.maxFieldSectionSize = nonNegInt(i.maxFieldSectionSize, 'options.settings.maxFieldSectionSize', DEFAULT_MAX_FIELD_SECTION_SIZE);
  s.enableConnectProtocol = bool(i.enableConnectProtocol, 'options.settings.enableConnectProtocol');
  s.h3Datagram = bool(i.h3Datagram, 'options.settings.h3Datagram');
  return s;
}

/** A reserved setting with a random value (RFC 9114 §7.2.4.1). */
export function greaseSetting(rng: H3Random): [number, number] {
  return [reservedValue(rng.uint32() % 0x10000), rng.uint32()];
}

/** A reserved frame (type 0x1f·N + 0x21) with 0..7 random payload bytes (RFC 9114 §7.2.8). */
export function greaseFrame(rng: H3Random): Uint8Array {
  const type = reservedValue(rng.uint32() % 0x10000);
  const len = rng.uint32() % 8;
  const out = new Uint8Array(frameHeaderSize(type, len) + len);
  const w = new Writer(out);
  encodeFrameHeader(w, type, len);
  for (let i = 0; i < len; i++) w.u8(rng.uint32() & 0xff);
  return out;
}

/** The opening of a reserved unidirectional stream: its type and a few random bytes (RFC 9114 §6.2.3). */
export function greaseStreamBytes(rng: H3Random): Uint8Array {
  const type = reservedValue(rng.uint32() % 0x10000);
  const len = 1 + (rng.uint32() % 16);
  const w = Writer.alloc(8 + len);
  w.varint(type);
  for (let i = 0; i < len; i++) w.u8(rng.uint32() & 0xff);
  return w.written();
}

/** The control stream's opening: type 0x00, then SETTINGS (RFC 9114 §6.2.1). */
export function controlStreamPreface(settings: H3Settings): Uint8Array {
  const f = frameBytes({ type: 'settings', settings });
  const out = new Uint8Array(1 + f.length);
  out[0] = 0x00;
  out.set(f, 1);
  return out;
}
