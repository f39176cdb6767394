// L5: the packets an endpoint sends without a connection — Version Negotiation (RFC 9000 §6.1,
// §17.2.1), Retry (§8.1.2, §17.2.5; RFC 9001 §5.8), and the Initial carrying CONNECTION_CLOSE
// INVALID_TOKEN for a bad Retry token (§8.1.2, §10.2.3) — and the check that a new Initial decrypts
// before the endpoint commits state to it (RFC 9001 §5.2).
import { PacketType, QUIC_V1, greaseVersion } from '../codec/version.js';
import { encodeLongHeader, encodeVersionNegotiation, patchLength, type PacketHeader } from '../codec/header.js';
import { encodeConnectionClose, sizeConnectionClose } from '../codec/frames.js';
import { TransportErrorCode } from '../codec/errors.js';
import { AEAD_TAG_LENGTH } from '../crypto/aead.js';
import { initialProtection, type InitialProtection } from '../crypto/initial.js';
import { buildRetryPacket } from '../crypto/retry.js';
import { EMPTY, Writer, utf8 } from '../util/bytes.js';
import { randomBelow, type EndpointRandom } from './cid.js';

/**
 * A Version Negotiation packet answering a long header with DCID `dcid` and SCID `scid`: the CIDs
 * are echoed swapped (§17.2.1), the list is `versions` plus one reserved 0x?a?a?a?a version
 * (§6.3 greasing) placed at a random position.
 */
export function buildVersionNegotiation(
  dcid: Uint8Array,
  scid: Uint8Array,
  versions: readonly number[],
  rng: EndpointRandom,
  scratch: Uint8Array,
): Uint8Array {
  const list = [...versions];
  list.splice(randomBelow(rng, list.length + 1, scratch), 0, greaseVersion(randomBelow(rng, 0x10000, scratch)));
  const w = Writer.alloc(7 + dcid.length + scid.length + 4 * list.length);
  encodeVersionNegotiation(w, scid, dcid, list, randomBelow(rng, 64, scratch));
  return w.buf;
}

/** A Retry (§17.2.5) answering a client Initial `hdr`, offering `retryScid` and `token`. */
export function buildRetry(hdr: PacketHeader, retryScid: Uint8Array, token: Uint8Array, rng: EndpointRandom, scratch: Uint8Array): Uint8Array {
  return buildRetryPacket(hdr.version, hdr.dcid, hdr.scid, retryScid, token, randomBelow(rng, 16, scratch));
}

/**
 * Does the first packet of `datagram` (an Initial whose header is `hdr`) decrypt with the client
 * Initial keys of its DCID? Works on a copy: the datagram is still handed to the connection intact.
 * Returns the keys (the caller disposes them) when it does, or null.
 */
export function openInitial(datagram: Uint8Array, hdr: PacketHeader): InitialProtection | null {
  const keys = initialProtection(hdr.version, hdr.dcid, true);
  const copy = datagram.slice(hdr.headerOffset, hdr.packetEnd);
  const ok = keys.open.unprotect(copy, 0, hdr.pnOffset - hdr.headerOffset, copy.length, -1) !== null;
  if (!ok) {
    disposeInitial(keys);
    return null;
  }
  return keys;
}

export function disposeInitial(keys: InitialProtection): void {
  keys.open.discard();
  keys.seal.discard();
}

/**
 * A server Initial carrying CONNECTION_CLOSE (`errorCode`, frame type 0) to the client of `hdr`,
 * sealed with the server Initial keys of `hdr.dcid` (§10.2.3: an immediate close before any
 * handshake state). `scid` is the Source Connection ID to put in it.
 */
export function buildInitialClose(
  hdr: PacketHeader,
  keys: InitialProtection,
  scid: Uint8Array,
  errorCode: number = TransportErrorCode.INVALID_TOKEN,
  reason = 'invalid address validation token',
): Uint8Array {
  const phrase = utf8(reason);
  const frameSize = sizeConnectionClose(errorCode, 0, phrase.length);
  const pnLength = 1;
  const lengthField = 2;
  // Header ≤ 1+4+1+20+1+20+1(token len 0)+2+1; payload padded so the HP sample exists (RFC 9001 §5.4.2).
  const payload = Math.max(frameSize, 4 - pnLength);
  const w = Writer.alloc(64 + payload + AEAD_TAG_LENGTH);
  const pnOffset = encodeLongHeader(w, PacketType.Initial, hdr.version || QUIC_V1, hdr.scid, scid, EMPTY, 0, pnLength, lengthField);
  encodeConnectionClose(w, errorCode, 0, phrase);
  while (w.pos < pnOffset + pnLength + payload) w.u8(0); // PADDING
  patchLength(w.buf, pnOffset, lengthField, pnLength + payload + AEAD_TAG_LENGTH);
  const end = keys.seal.protect(w.buf, 0, pnOffset, pnLength, 0, payload);
  return w.buf.subarray(0, end);
}
