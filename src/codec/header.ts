// L1: QUIC packet headers.
// RFC 8999 §5 (version-invariant long/short header view, for routing without keys),
// RFC 9000 §17.2 (long header; §17.2.1 Version Negotiation, §17.2.2 Initial, §17.2.3 0-RTT,
// §17.2.4 Handshake, §17.2.5 Retry), §17.3.1 (1-RTT short header), §12.2 (coalesced packets),
// RFC 9369 §3.2 (v2 long-header type bits).
//
// Decoders read offsets into the datagram (subarray, no copies) and fill a caller-owned, reusable
// result object. Truncation throws BufferUnderflow; anything else malformed throws HeaderError with a
// stable `reason` the endpoint counts drops by. Protected bits (the low bits of byte 0 and the packet
// number) are left as they are: header protection removal lives in crypto/packet-protection.ts.
//
// Note: the fixed bit (0x40) must be 1 in v1/v2; RFC 9287 (grease_quic_bit) would let a peer that
// advertised it receive 0 there. We do not advertise it, so decoders enforce the bit.
import { BufferUnderflow, EMPTY, Writer, equal, varintSize } from '../util/bytes.js';
import {
  MAX_CID_LENGTH,
  PacketType,
  VERSION_NEGOTIATION,
  longPacketType,
  longTypeBits,
  requireVersionInfo,
  versionInfo,
  type VersionInfo,
} from './version.js';
import { writePacketNumber } from './packet-number.js';

export type HeaderErrorReason =
  /** The fixed bit (0x40) is 0 in a v1/v2 packet. */
  | 'fixed-bit'
  /** A v1/v2 connection ID is longer than 20 bytes (RFC 9000 §17.2: MUST drop). */
  | 'cid-too-long'
  /** A long header carries a version we cannot parse beyond the invariants. */
  | 'unsupported-version'
  /** A Version Negotiation packet's version list is not a whole number of 4-byte versions. */
  | 'vn-length';

/** A malformed packet header. Peer input; never a programming error. */
export class HeaderError extends Error {
  readonly code = 'ERR_QUIC_BAD_HEADER';
  readonly reason: HeaderErrorReason;
  constructor(reason: HeaderErrorReason, detail = '') {
    super(`bad QUIC header: ${reason}${detail ? ` (${detail})` : ''}`);
    this.name = 'HeaderError';
    this.reason = reason;
  }
}

/** Length of the Retry Integrity Tag (RFC 9001 §5.8). */
export const RETRY_INTEGRITY_TAG_LENGTH = 16;

function underflow(needed: number, end: number, pos: number): never {
  throw new BufferUnderflow(needed, Math.max(0, end - pos));
}

// ---------------------------------------------------------------------------------------------
// Version-invariant view (RFC 8999 §5.1, §5.2)

/** What a router may learn from any QUIC packet without knowing its version. */
export interface InvariantHeader {
  long: boolean;
  firstByte: number;
  /** The Version field; -1 for a short header (which has none). 0 means Version Negotiation. */
  version: number;
  dcid: Uint8Array;
  /** Long header only; EMPTY for a short header. */
  scid: Uint8Array;
}

export function createInvariantHeader(): InvariantHeader {
  return { long: false, firstByte: 0, version: -1, dcid: EMPTY, scid: EMPTY };
}

/**
 * Partial decode of the first packet in a datagram using only the version-invariant properties
 * (RFC 8999): header form, version, connection IDs of up to 255 bytes (long header), and for a short
 * header a Destination Connection ID of `shortDcidLength` bytes, which the router must know.
 * No allocation beyond subarray views; fills and returns `out`.
 */
export function parseInvariantHeader(
  datagram: Uint8Array,
  shortDcidLength: number,
  out: InvariantHeader = createInvariantHeader(),
): InvariantHeader {
  const end = datagram.length;
  if (end < 1) underflow(1, end, 0);
  const first = datagram[0]!;
  out.firstByte = first;
  if ((first & 0x80) === 0) {
    if (end < 1 + shortDcidLength) underflow(1 + shortDcidLength, end, 0);
    out.long = false;
    out.version = -1;
    out.dcid = datagram.subarray(1, 1 + shortDcidLength);
    out.scid = EMPTY;
    return out;
  }
  if (end < 6) underflow(6, end, 0);
  out.long = true;
  out.version = ((datagram[1]! << 24) | (datagram[2]! << 16) | (datagram[3]! << 8) | datagram[4]!) >>> 0;
  const dcidLen = datagram[5]!;
  let p = 6;
  if (end - p < dcidLen + 1) underflow(dcidLen + 1, end, p);
  out.dcid = datagram.subarray(p, p + dcidLen);
  p += dcidLen;
  const scidLen = datagram[p++]!;
  if (end - p < scidLen) underflow(scidLen, end, p);
  out.scid = datagram.subarray(p, p + scidLen);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Full header decode (v1, v2, provisional v2)

/**
 * A decoded packet header. One instance is reused per datagram (stable shape, no allocation).
 * Offsets are absolute into the datagram passed to decodePacketHeader.
 */
export class PacketHeader {
  long = false;
  type: PacketType = PacketType.OneRtt;
  /** Version (long headers); 0 for Version Negotiation; -1 for short headers. */
  version = -1;
  /** Constants of the version, undefined for short headers and Version Negotiation. */
  info: VersionInfo | undefined = undefined;
  /** Byte 0 as received (its low bits are still header-protected for Initial/0-RTT/Handshake/1-RTT). */
  firstByte = 0;
  dcid: Uint8Array = EMPTY;
  scid: Uint8Array = EMPTY;
  /** Initial: the Token field; Retry: the Retry Token. Otherwise EMPTY. */
  token: Uint8Array = EMPTY;
  /** Retry: the 16-byte Retry Integrity Tag. */
  integrityTag: Uint8Array = EMPTY;
  /** Version Negotiation: the Supported Version list, 4 bytes per version. */
  supportedVersions: Uint8Array = EMPTY;
  /** Offset of byte 0 of this packet. */
  headerOffset = 0;
  /** Offset of the Length field (long headers with one), else -1. */
  lengthOffset = -1;
  /** Value of the Length field (packet number + payload), or -1. */
  length = -1;
  /** Offset of the (protected) Packet Number field; -1 for Retry and Version Negotiation. */
  pnOffset = -1;
  /** End (exclusive) of this packet: headerOffset + its size. The next coalesced packet starts here. */
  packetEnd = 0;

  /** The Version Negotiation supported versions as numbers (cold path; allocates). */
  versions(): number[] {
    const b = this.supportedVersions;
    const out: number[] = [];
    for (let i = 0; i + 4 <= b.length; i += 4) {
      out.push(((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0);
    }
    return out;
  }
}

/**
 * Decode the header of the packet starting at `offset` in `buf[..end)`: long headers of v1, v2 and
 * the provisional v2, Version Negotiation, and the 1-RTT short header with a DCID of
 * `shortDcidLength` bytes. Sets `packetEnd` so coalesced packets can be walked (RFC 9000 §12.2).
 * Throws BufferUnderflow when the packet is cut short (including a Length beyond the datagram) and
 * HeaderError for anything else malformed.
 */
export function decodePacketHeader(
  buf: Uint8Array,
  offset: number,
  end: number,
  shortDcidLength: number,
  out: PacketHeader = new PacketHeader(),
): PacketHeader {
  if (offset >= end) underflow(1, end, offset);
  const first = buf[offset]!;
  out.firstByte = first;
  out.headerOffset = offset;
  out.token = EMPTY;
  out.integrityTag = EMPTY;
  out.supportedVersions = EMPTY;
  out.lengthOffset = -1;
  out.length = -1;

  if ((first & 0x80) === 0) {
    // RFC 9000 §17.3.1
    if ((first & 0x40) === 0) throw new HeaderError('fixed-bit');
    const p = offset + 1;
    if (end - p < shortDcidLength) underflow(shortDcidLength, end, p);
    out.long = false;
    out.type = PacketType.OneRtt;
    out.version = -1;
    out.info = undefined;
    out.dcid = buf.subarray(p, p + shortDcidLength);
    out.scid = EMPTY;
    out.pnOffset = p + shortDcidLength;
    out.packetEnd = end;
    return out;
  }

  let p = offset + 1;
  if (end - p < 5) underflow(5, end, p);
  const version = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
  p += 4;
  out.long = true;
  out.version = version;

  if (version === VERSION_NEGOTIATION) {
    // RFC 9000 §17.2.1: connection IDs of any length up to 255 (invariants), no fixed bit.
    const dcidLen = buf[p++]!;
    if (end - p < dcidLen + 1) underflow(dcidLen + 1, end, p);
    out.dcid = buf.subarray(p, p + dcidLen);
    p += dcidLen;
    const scidLen = buf[p++]!;
    if (end - p < scidLen) underflow(scidLen, end, p);
    out.scid = buf.subarray(p, p + scidLen);
    p += scidLen;
    if ((end - p) % 4 !== 0) throw new HeaderError('vn-length', `${end - p} bytes of versions`);
    out.type = PacketType.VersionNegotiation;
    out.info = undefined;
    out.supportedVersions = buf.subarray(p, end);
    out.pnOffset = -1;
    out.packetEnd = end;
    return out;
  }

  const info = versionInfo(version);
  if (info === undefined) throw new HeaderError('unsupported-version', `0x${version.toString(16)}`);
  if ((first & 0x40) === 0) throw new HeaderError('fixed-bit');
  out.info = info;

  const dcidLen = buf[p++]!;
  if (dcidLen > MAX_CID_LENGTH) throw new HeaderError('cid-too-long', `dcid ${dcidLen}`);
  if (end - p < dcidLen + 1) underflow(dcidLen + 1, end, p);
  out.dcid = buf.subarray(p, p + dcidLen);
  p += dcidLen;
  const scidLen = buf[p++]!;
  if (scidLen > MAX_CID_LENGTH) throw new HeaderError('cid-too-long', `scid ${scidLen}`);
  if (end - p < scidLen) underflow(scidLen, end, p);
  out.scid = buf.subarray(p, p + scidLen);
  p += scidLen;

  const type = longPacketType(info, first);
  out.type = type;
  if (type === PacketType.Retry) {
    // RFC 9000 §17.2.5: Retry Token (..) then a 16-byte tag; it consumes the datagram.
    if (end - p < RETRY_INTEGRITY_TAG_LENGTH) underflow(RETRY_INTEGRITY_TAG_LENGTH, end, p);
    out.token = buf.subarray(p, end - RETRY_INTEGRITY_TAG_LENGTH);
    out.integrityTag = buf.subarray(end - RETRY_INTEGRITY_TAG_LENGTH, end);
    out.pnOffset = -1;
    out.packetEnd = end;
    return out;
  }
  if (type === PacketType.Initial) {
    // RFC 9000 §17.2.2: Token Length (i), Token (..)
    const tokenLen = readVarint(buf, p, end);
    p += varintLength;
    if (end - p < tokenLen) underflow(tokenLen, end, p);
    out.token = buf.subarray(p, p + tokenLen);
    p += tokenLen;
  }
  // Length (i): packet number + payload (RFC 9000 §17.2).
  out.lengthOffset = p;
  const length = readVarint(buf, p, end);
  p += varintLength;
  if (end - p < length) underflow(length, end, p);
  out.length = length;
  out.pnOffset = p;
  out.packetEnd = p + length;
  return out;
}

/** Byte length of the last varint read by readVarint (module scratch: avoids a result object). */
let varintLength = 0;

function readVarint(buf: Uint8Array, p: number, end: number): number {
  if (p >= end) underflow(1, end, p);
  const b0 = buf[p]!;
  const n = 1 << (b0 >> 6);
  if (end - p < n) underflow(n, end, p);
  varintLength = n;
  let v = b0 & 0x3f;
  for (let i = 1; i < n; i++) v = v * 256 + buf[p + i]!;
  // 8-byte values above 2^53 lose precision; any such Length/Token Length exceeds the datagram anyway.
  return v;
}

/**
 * Bits of byte 0 after header protection removal (RFC 9000 §17.2, §17.3.1): the reserved bits must
 * be 0 (a PROTOCOL_VIOLATION otherwise, once the packet decrypts).
 */
export function reservedBitsValid(firstByte: number): boolean {
  return (firstByte & 0x80) !== 0 ? (firstByte & 0x0c) === 0 : (firstByte & 0x18) === 0;
}

/** Key Phase bit of an unprotected short-header first byte (RFC 9001 §6). */
export function keyPhaseBit(firstByte: number): 0 | 1 {
  return ((firstByte >> 2) & 1) as 0 | 1;
}

/** Spin bit of a short-header first byte (RFC 9000 §17.4); not header-protected. */
export function spinBit(firstByte: number): 0 | 1 {
  return ((firstByte >> 5) & 1) as 0 | 1;
}

/** Packet Number Length (1–4) from an unprotected first byte. */
export function packetNumberLengthBits(firstByte: number): number {
  return (firstByte & 3) + 1;
}

// ---------------------------------------------------------------------------------------------
// Coalesced packets (RFC 9000 §12.2)

export interface CoalescedSplit {
  /** Each packet as a view into the datagram, in order. */
  packets: Uint8Array[];
  /** Why splitting stopped early (the bytes after the last good packet are ignored), or null. */
  error: HeaderError | BufferUnderflow | null;
  /** Packets skipped because their DCID differs from the first packet's (RFC 9000 §12.2 SHOULD ignore). */
  ignoredDcidMismatch: number;
}

/**
 * Split a datagram into its coalesced packets using each long header's Length; a short header,
 * Retry or Version Negotiation packet takes the rest of the datagram. A malformed first packet
 * throws (HeaderError/BufferUnderflow); a malformed later packet ends the split and is reported in
 * `error`, keeping the packets before it. Cold-path convenience: the connection can instead loop
 * decodePacketHeader with one reused PacketHeader.
 */
export function splitCoalesced(datagram: Uint8Array, shortDcidLength: number, hdr: PacketHeader = new PacketHeader()): CoalescedSplit {
  const result: CoalescedSplit = { packets: [], error: null, ignoredDcidMismatch: 0 };
  const end = datagram.length;
  decodePacketHeader(datagram, 0, end, shortDcidLength, hdr);
  const firstDcid = hdr.dcid;
  result.packets.push(datagram.subarray(0, hdr.packetEnd));
  let off = hdr.packetEnd;
  while (off < end) {
    try {
      decodePacketHeader(datagram, off, end, shortDcidLength, hdr);
    } catch (e) {
      if (e instanceof HeaderError || e instanceof BufferUnderflow) {
        result.error = e;
        break;
      }
      throw e;
    }
    if (!equal(hdr.dcid, firstDcid)) result.ignoredDcidMismatch++;
    else result.packets.push(datagram.subarray(off, hdr.packetEnd));
    off = hdr.packetEnd;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Encoders

function checkCid(name: string, cid: Uint8Array): void {
  if (cid.length > MAX_CID_LENGTH) throw new RangeError(`${name}: connection ID longer than ${MAX_CID_LENGTH} bytes`);
}

function checkPnLength(pnLength: number): void {
  if (!(pnLength >= 1 && pnLength <= 4) || (pnLength | 0) !== pnLength) {
    throw new RangeError(`pnLength: must be 1..4, got ${pnLength}`);
  }
}

/** Size of the Length field to reserve: 2 bytes holds up to 16383, which covers any UDP payload we send. */
export const DEFAULT_LENGTH_FIELD_SIZE = 2;

/** Encoded size of a long header (Initial/0-RTT/Handshake) up to and including the packet number. */
export function longHeaderSize(
  type: PacketType,
  dcidLength: number,
  scidLength: number,
  tokenLength: number,
  pnLength: number,
  lengthFieldSize = DEFAULT_LENGTH_FIELD_SIZE,
): number {
  let n = 1 + 4 + 1 + dcidLength + 1 + scidLength + lengthFieldSize + pnLength;
  if (type === PacketType.Initial) n += varintSize(tokenLength) + tokenLength;
  return n;
}

/** Encoded size of a short header up to and including the packet number. */
export function shortHeaderSize(dcidLength: number, pnLength: number): number {
  return 1 + dcidLength + pnLength;
}

/**
 * Write an Initial, 0-RTT or Handshake long header (RFC 9000 §17.2.2–§17.2.4) with the version's type
 * bits, reserved bits 0, the Packet Number Length bits, a Length field of `lengthFieldSize` bytes
 * (2 or 4) left as zero, and the truncated packet number. Returns the packet number offset; the Length
 * field sits at `pnOffset - lengthFieldSize`. Patch it with patchLength once the payload size is known
 * and BEFORE sealing (the header, Length included, is the AEAD associated data).
 */
export function encodeLongHeader(
  w: Writer,
  type: PacketType,
  version: number,
  dcid: Uint8Array,
  scid: Uint8Array,
  token: Uint8Array,
  pn: number,
  pnLength: number,
  lengthFieldSize = DEFAULT_LENGTH_FIELD_SIZE,
): number {
  const info = requireVersionInfo(version);
  if (type !== PacketType.Initial && type !== PacketType.ZeroRtt && type !== PacketType.Handshake) {
    throw new RangeError(`type: ${type} has no Length/packet number (use encodeRetry or encodeVersionNegotiation)`);
  }
  if (token.length !== 0 && type !== PacketType.Initial) throw new RangeError('token: only Initial packets carry a token');
  if (lengthFieldSize !== 1 && lengthFieldSize !== 2 && lengthFieldSize !== 4) {
    throw new RangeError(`lengthFieldSize: must be 1, 2 or 4, got ${lengthFieldSize}`);
  }
  checkCid('dcid', dcid);
  checkCid('scid', scid);
  checkPnLength(pnLength);
  w.need(longHeaderSize(type, dcid.length, scid.length, token.length, pnLength, lengthFieldSize));
  w.u8(0xc0 | (longTypeBits(info, type) << 4) | (pnLength - 1));
  w.u32(version);
  w.u8Bytes(dcid);
  w.u8Bytes(scid);
  if (type === PacketType.Initial) w.varintBytes(token);
  w.varintN(0, lengthFieldSize);
  const pnOffset = w.pos;
  writePacketNumber(w.buf, pnOffset, pn, pnLength);
  w.pos = pnOffset + pnLength;
  return pnOffset;
}

/**
 * Write the Length value (packet number length + payload length + AEAD tag length) into the
 * `lengthFieldSize`-byte field that ends at `pnOffset`.
 */
export function patchLength(buf: Uint8Array, pnOffset: number, lengthFieldSize: number, length: number): void {
  const p = pnOffset - lengthFieldSize;
  switch (lengthFieldSize) {
    case 1:
      if (length >= 0x40) break;
      buf[p] = length;
      return;
    case 2:
      if (length >= 0x4000) break;
      buf[p] = 0x40 | (length >>> 8);
      buf[p + 1] = length & 0xff;
      return;
    case 4:
      if (length >= 0x4000_0000) break;
      buf[p] = 0x80 | (length >>> 24);
      buf[p + 1] = (length >>> 16) & 0xff;
      buf[p + 2] = (length >>> 8) & 0xff;
      buf[p + 3] = length & 0xff;
      return;
    default:
      throw new RangeError(`lengthFieldSize: must be 1, 2 or 4, got ${lengthFieldSize}`);
  }
  throw new RangeError(`length: ${length} does not fit a ${lengthFieldSize}-byte varint`);
}

/**
 * Write a 1-RTT short header (RFC 9000 §17.3.1) with reserved bits 0 and the truncated packet number.
 * Returns the packet number offset.
 */
export function encodeShortHeader(
  w: Writer,
  dcid: Uint8Array,
  pn: number,
  pnLength: number,
  keyPhase: number,
  spin: number,
): number {
  checkCid('dcid', dcid);
  checkPnLength(pnLength);
  w.need(1 + dcid.length + pnLength);
  w.u8(0x40 | ((spin & 1) << 5) | ((keyPhase & 1) << 2) | (pnLength - 1));
  w.bytes(dcid);
  const pnOffset = w.pos;
  writePacketNumber(w.buf, pnOffset, pn, pnLength);
  w.pos = pnOffset + pnLength;
  return pnOffset;
}

/**
 * Write a Version Negotiation packet (RFC 9000 §17.2.1). `dcid`/`scid` echo the client's SCID/DCID
 * (up to 255 bytes: other versions' CIDs). `random` supplies the 6 arbitrary low bits of byte 0; the
 * 0x40 bit is set as RFC 9000 §17.2.1 recommends. Returns bytes written.
 */
export function encodeVersionNegotiation(
  w: Writer,
  dcid: Uint8Array,
  scid: Uint8Array,
  versions: readonly number[],
  random: number,
): number {
  if (dcid.length > 255 || scid.length > 255) throw new RangeError('dcid/scid: longer than 255 bytes');
  const start = w.pos;
  w.need(1 + 4 + 1 + dcid.length + 1 + scid.length + 4 * versions.length);
  w.u8(0xc0 | (random & 0x3f));
  w.u32(VERSION_NEGOTIATION);
  w.u8Bytes(dcid);
  w.u8Bytes(scid);
  for (const v of versions) w.u32(v);
  return w.pos - start;
}

/**
 * Write a Retry packet without its integrity tag (RFC 9000 §17.2.5): `unused` gives the 4 low bits of
 * byte 0. The 16-byte tag is computed over the pseudo-packet by crypto/retry.ts and appended after.
 * Returns bytes written.
 */
export function encodeRetryWithoutTag(
  w: Writer,
  version: number,
  dcid: Uint8Array,
  scid: Uint8Array,
  token: Uint8Array,
  unused = 0,
): number {
  const info = requireVersionInfo(version);
  checkCid('dcid', dcid);
  checkCid('scid', scid);
  const start = w.pos;
  w.need(1 + 4 + 1 + dcid.length + 1 + scid.length + token.length);
  w.u8(0xc0 | (longTypeBits(info, PacketType.Retry) << 4) | (unused & 0x0f));
  w.u32(version);
  w.u8Bytes(dcid);
  w.u8Bytes(scid);
  w.bytes(token);
  return w.pos - start;
}
