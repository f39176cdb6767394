// Test support: hand-built client packets for endpoint and connection tests — a protected client
// Initial (RFC 9000 §17.2.2, RFC 9001 §5.2 Initial keys, padded to a datagram size per §14.1), a
// 0-RTT-looking long header, and short-header datagrams with a chosen DCID.
import { PacketType, QUIC_V1 } from '../../src/codec/version.js';
import { encodeLongHeader, patchLength } from '../../src/codec/header.js';
import { encodeCrypto } from '../../src/codec/frames.js';
import { AEAD_TAG_LENGTH } from '../../src/crypto/aead.js';
import { initialProtection } from '../../src/crypto/initial.js';
import { EMPTY, Writer } from '../../src/util/bytes.js';

export interface ClientInitialOptions {
  version?: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  token?: Uint8Array;
  /** Datagram size after padding (default 1200). */
  size?: number;
  pn?: number;
  /** CRYPTO data to carry (default 64 bytes of 0x01: not a valid ClientHello, but it decrypts). */
  crypto?: Uint8Array;
  /** Protect with these Initial keys' DCID instead of `dcid` (to build undecryptable Initials). */
  keysDcid?: Uint8Array;
}

/** A protected client Initial in a datagram of `size` bytes. */
export function buildClientInitial(o: ClientInitialOptions): Uint8Array {
  const version = o.version ?? QUIC_V1;
  const size = o.size ?? 1200;
  const pn = o.pn ?? 0;
  const pnLength = 2;
  const w = Writer.alloc(Math.max(size, 256));
  const pnOffset = encodeLongHeader(w, PacketType.Initial, version, o.dcid, o.scid, o.token ?? EMPTY, pn, pnLength, 2);
  const payloadStart = w.pos;
  encodeCrypto(w, 0, o.crypto ?? new Uint8Array(64).fill(1));
  const minPayload = w.pos - payloadStart;
  const payload = Math.max(minPayload, size - payloadStart - AEAD_TAG_LENGTH);
  while (w.pos < payloadStart + payload) w.u8(0);
  patchLength(w.buf, pnOffset, 2, pnLength + payload + AEAD_TAG_LENGTH);
  const keys = initialProtection(version, o.keysDcid ?? o.dcid, false);
  const end = keys.seal.protect(w.buf, 0, pnOffset, pnLength, pn, payload);
  keys.seal.discard();
  keys.open.discard();
  return w.buf.slice(0, end);
}

/** An unprotected-looking long header of another type (e.g. 0-RTT) of `size` bytes with random payload bytes. */
export function buildLongHeader(type: number, version: number, dcid: Uint8Array, scid: Uint8Array, size: number, fill = 7): Uint8Array {
  const w = Writer.alloc(size + 64);
  const pnOffset = encodeLongHeader(w, type as PacketType, version, dcid, scid, EMPTY, 0, 1, 2);
  const payload = size - w.pos;
  for (let i = 0; i < payload; i++) w.u8(fill);
  patchLength(w.buf, pnOffset, 2, 1 + payload);
  return w.buf.slice(0, w.pos);
}

/** A short-header datagram of `size` bytes to `dcid` (first byte 0x40, the rest `fill`). */
export function buildShort(dcid: Uint8Array, size: number, fill = 0x5a): Uint8Array {
  const out = new Uint8Array(size).fill(fill);
  out[0] = 0x40 | (fill & 0x3f);
  out.set(dcid.subarray(0, Math.max(0, Math.min(dcid.length, size - 1))), 1);
  return out;
}

/** A long-header datagram of an arbitrary (possibly unknown) version padded to `size`. */
export function buildUnknownVersion(version: number, dcid: Uint8Array, scid: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out[0] = 0xc0;
  out[1] = version >>> 24;
  out[2] = (version >>> 16) & 0xff;
  out[3] = (version >>> 8) & 0xff;
  out[4] = version & 0xff;
  out[5] = dcid.length;
  out.set(dcid, 6);
  out[6 + dcid.length] = scid.length;
  out.set(scid, 7 + dcid.length);
  return out;
}
