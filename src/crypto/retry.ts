// L2a: the Retry Integrity Tag (RFC 9001 §5.8; RFC 9369 §3.3.3; provisional v2 draft §3.3.3):
// AEAD_AES_128_GCM with the version's fixed key and nonce, empty plaintext, and the Retry
// Pseudo-Packet (ODCID Length, ODCID, the Retry packet without its tag) as associated data.
import { Writer } from '../util/bytes.js';
import { MAX_CID_LENGTH, requireVersionInfo, versionInfo, type VersionInfo } from '../codec/version.js';
import { RETRY_INTEGRITY_TAG_LENGTH, encodeRetryWithoutTag } from '../codec/header.js';
import { AEAD_TAG_LENGTH, type Aead, type CryptoBackend } from './aead.js';
import { defaultBackend } from './backend.js';

const aeads = new WeakMap<CryptoBackend, Map<number, Aead>>();
const EMPTY_PLAINTEXT = new Uint8Array(0);

function retryAead(info: VersionInfo, backend: CryptoBackend): Aead {
  let byVersion = aeads.get(backend);
  if (byVersion === undefined) aeads.set(backend, (byVersion = new Map()));
  let a = byVersion.get(info.version);
  if (a === undefined) byVersion.set(info.version, (a = backend.createAead('aes-128-gcm', info.retryKey)));
  return a;
}

function pseudoPacket(odcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  if (odcid.length > MAX_CID_LENGTH) throw new RangeError(`odcid: longer than ${MAX_CID_LENGTH} bytes`);
  const p = new Uint8Array(1 + odcid.length + retryWithoutTag.length);
  p[0] = odcid.length;
  p.set(odcid, 1);
  p.set(retryWithoutTag, 1 + odcid.length);
  return p;
}

/** The 16-byte Retry Integrity Tag for a Retry packet (given without its tag) answering `odcid`. */
export function retryIntegrityTag(
  version: number,
  odcid: Uint8Array,
  retryWithoutTag: Uint8Array,
  backend: CryptoBackend = defaultBackend,
): Uint8Array {
  const info = requireVersionInfo(version);
  const tag = new Uint8Array(AEAD_TAG_LENGTH);
  retryAead(info, backend).seal(info.retryNonce, pseudoPacket(odcid, retryWithoutTag), EMPTY_PLAINTEXT, tag, 0);
  return tag;
}

/**
 * Verify a received Retry packet (the whole packet, tag last) against the Destination Connection ID
 * the client put in its first Initial. False for a bad tag, a too-short packet or an unknown version.
 */
export function verifyRetryIntegrity(
  version: number,
  odcid: Uint8Array,
  retryPacket: Uint8Array,
  backend: CryptoBackend = defaultBackend,
): boolean {
  const info = versionInfo(version);
  if (info === undefined || retryPacket.length < RETRY_INTEGRITY_TAG_LENGTH || odcid.length > MAX_CID_LENGTH) return false;
  const split = retryPacket.length - RETRY_INTEGRITY_TAG_LENGTH;
  const aad = pseudoPacket(odcid, retryPacket.subarray(0, split));
  // AEAD open of an empty plaintext: the tag is the whole "ciphertext".
  return retryAead(info, backend).open(info.retryNonce, aad, retryPacket.subarray(split), EMPTY_PLAINTEXT, 0) === 0;
}

/**
 * A complete Retry packet (RFC 9000 §17.2.5): `dcid` is the client's SCID, `scid` the server's new
 * connection ID, `odcid` the DCID of the client's Initial, `unused` the 4 arbitrary low bits of byte 0.
 */
export function buildRetryPacket(
  version: number,
  odcid: Uint8Array,
  dcid: Uint8Array,
  scid: Uint8Array,
  token: Uint8Array,
  unused = 0,
  backend: CryptoBackend = defaultBackend,
): Uint8Array {
  const w = Writer.alloc(1 + 4 + 1 + dcid.length + 1 + scid.length + token.length + RETRY_INTEGRITY_TAG_LENGTH);
  const n = encodeRetryWithoutTag(w, version, dcid, scid, token, unused);
  w.bytes(retryIntegrityTag(version, odcid, w.buf.subarray(0, n), backend));
  return w.buf;
}
