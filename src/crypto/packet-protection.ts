// L2a: QUIC packet protection for one direction and one key phase.
// RFC 9001 §5.1 (key/iv/hp from a secret with the version's labels), §5.3 (AEAD: nonce = iv XOR pn,
// the header as associated data), §5.4 (header protection: sample at pn_offset + 4, mask byte 0 and
// the packet number), §6.1 (key update: next secret with "quic ku"/"quicv2 ku", header protection key
// unchanged), §6.6 (limits; counters here, policy in the connection), §5.5/§9.2 (discarding keys:
// secrets zeroised). RFC 9000 App. A.3 recovers the full packet number.
//
// Hot path: protect/unprotect allocate nothing of their own beyond the subarray views node:crypto
// needs; the nonce, mask and result objects are per-instance scratch. Decryption is in place: the
// plaintext overwrites the ciphertext in the datagram buffer.
import { wipe } from '../util/bytes.js';
import { decodePacketNumber, readPacketNumber } from '../codec/packet-number.js';
import { requireVersionInfo, type VersionInfo } from '../codec/version.js';
import {
  AEAD_NONCE_LENGTH,
  AEAD_TAG_LENGTH,
  HP_MASK_LENGTH,
  HP_SAMPLE_LENGTH,
  cipherSuiteParams,
  computeNonce,
  type Aead,
  type CipherSuiteParams,
  type CryptoBackend,
  type HeaderProtection,
} from './aead.js';
import { defaultBackend } from './backend.js';
import { applyHeaderMask } from './header-protection.js';
import { hkdfExpandLabel } from './hkdf.js';

/** Packet protection keys derived from one traffic secret (RFC 9001 §5.1). */
export interface PacketKeys {
  key: Uint8Array;
  iv: Uint8Array;
  hp: Uint8Array;
}

function requireSuite(suite: number): CipherSuiteParams {
  const p = cipherSuiteParams(suite);
  if (p === undefined) throw new RangeError(`suite: 0x${suite.toString(16)} is not a QUIC cipher suite`);
  return p;
}

/** key, iv and hp for a secret with the version's labels (RFC 9001 §5.1, RFC 9369 §3.3.2). */
export function derivePacketKeys(suite: CipherSuiteParams, secret: Uint8Array, info: VersionInfo): PacketKeys {
  const none = new Uint8Array(0);
  return {
    key: hkdfExpandLabel(suite.hash, secret, info.keyLabel, none, suite.keyLength),
    iv: hkdfExpandLabel(suite.hash, secret, info.ivLabel, none, suite.ivLength),
    hp: hkdfExpandLabel(suite.hash, secret, info.hpLabel, none, suite.hpKeyLength),
  };
}

/** The secret of the next key phase (RFC 9001 §6.1): HKDF-Expand-Label(secret, "quic ku", "", Hash.length). */
export function nextTrafficSecret(suite: CipherSuiteParams, secret: Uint8Array, info: VersionInfo): Uint8Array {
  return hkdfExpandLabel(suite.hash, secret, info.kuLabel, new Uint8Array(0), suite.hashLength);
}

/**
 * Result of removing protection. One instance per PacketProtection, overwritten by every call:
 * copy what you need before the next packet.
 */
export class UnprotectResult {
  /** Byte 0 with header protection removed (reserved bits, key phase, pn length readable). */
  firstByte = 0;
  pnLength = 0;
  /** The full packet number, recovered against the largest packet number received (App. A.3). */
  pn = 0;
  headerOffset = 0;
  pnOffset = 0;
  /** Start of the payload (just after the packet number). */
  payloadOffset = 0;
  /** Plaintext length after a successful open; before it, the ciphertext length including the tag. */
  payloadLength = 0;
  packetEnd = 0;
}

export type UnprotectFailure = 'none' | 'sample' | 'aead';

/** A header protection key shared by all key phases of one direction (RFC 9001 §6.1: it never changes). */
class SharedHeaderProtection {
  hp: HeaderProtection;
  refs = 1;
  constructor(hp: HeaderProtection) {
    this.hp = hp;
  }
  release(): void {
    if (--this.refs === 0) this.hp.dispose();
  }
}

export class PacketProtection {
  readonly suite: CipherSuiteParams;
  readonly version: VersionInfo;
  readonly backend: CryptoBackend;
  /** Key generation: 0 for the first keys, +1 per key update. The Key Phase bit is generation & 1. */
  readonly generation: number;
  /** Packets sealed with this key (against suite.confidentialityLimit). */
  sealed = 0;
  /** Packets successfully opened with this key. */
  opened = 0;
  /** Packets that failed authentication with this key (the connection sums these across keys). */
  openFailures = 0;
  /** Why the last unprotect/removeHeaderProtection/decryptPayload failed. */
  lastFailure: UnprotectFailure = 'none';
  /** Scratch result returned by unprotect/removeHeaderProtection. */
  readonly result = new UnprotectResult();

  private secret: Uint8Array;
  private readonly iv: Uint8Array;
  private aead: Aead;
  private readonly shared: SharedHeaderProtection;
  private readonly nonce = new Uint8Array(AEAD_NONCE_LENGTH);
  private readonly mask = new Uint8Array(HP_MASK_LENGTH);
  private discarded = false;

  /**
   * Protection for one direction from a traffic secret: `suite` is the TLS cipher suite
   * (0x1301, 0x1302, 0x1303), `version` the QUIC version whose labels apply. The secret is copied.
   * `previous` is internal (nextKeyPhase): the key phase whose header protection key is shared.
   */
  constructor(suite: number, secret: Uint8Array, version: number, backend: CryptoBackend = defaultBackend, previous?: PacketProtection) {
    const params = requireSuite(suite);
    const info = requireVersionInfo(version);
    if (!(secret instanceof Uint8Array) || secret.length !== params.hashLength) {
      throw new RangeError(`secret: ${params.name} needs a ${params.hashLength}-byte secret, got ${secret?.length}`);
    }
    this.suite = params;
    this.version = info;
    this.backend = backend;
    this.secret = new Uint8Array(secret);
    const keys = derivePacketKeys(params, secret, info);
    this.iv = keys.iv;
    this.aead = backend.createAead(params.aead, keys.key);
    if (previous === undefined) {
      this.generation = 0;
      this.shared = new SharedHeaderProtection(backend.createHeaderProtection(params.aead, keys.hp));
    } else {
      previous.checkLive();
      this.generation = previous.generation + 1;
      this.shared = previous.shared;
      this.shared.refs++;
    }
    wipe(keys.key);
    wipe(keys.hp);
  }

  /** The keys of the next key phase (RFC 9001 §6): new secret, key and IV; the same header protection. */
  nextKeyPhase(): PacketProtection {
    this.checkLive();
    const nextSecret = nextTrafficSecret(this.suite, this.secret, this.version);
    const next = new PacketProtection(this.suite.id, nextSecret, this.version.version, this.backend, this);
    wipe(nextSecret);
    return next;
  }

  /** Key Phase bit that packets protected with these keys carry. */
  get keyPhase(): 0 | 1 {
    return (this.generation & 1) as 0 | 1;
  }

  get isDiscarded(): boolean {
    return this.discarded;
  }

  /**
   * Protect a packet in place (RFC 9001 §5.3, §5.4). The header occupies
   * `packet[headerOffset .. pnOffset + pnLength)` with the truncated packet number already written
   * (byte 0's Packet Number Length bits must say `pnLength`, a long header's Length must already be
   * final: it is associated data). `payloadLength` plaintext bytes follow, and 16 more bytes must be
   * free for the tag. Returns the end offset of the protected packet.
   */
  protect(packet: Uint8Array, headerOffset: number, pnOffset: number, pnLength: number, pn: number, payloadLength: number): number {
    this.checkLive();
    const payloadOffset = pnOffset + pnLength;
    const end = payloadOffset + payloadLength + AEAD_TAG_LENGTH;
    if (!(pnLength >= 1 && pnLength <= 4) || ((packet[headerOffset]! & 3) + 1) !== pnLength) {
      throw new RangeError(`pnLength: ${pnLength} disagrees with the header's packet number length bits`);
    }
    if (headerOffset < 0 || pnOffset <= headerOffset || end > packet.length) {
      throw new RangeError(`packet: offsets out of range (header ${headerOffset}, pn ${pnOffset}, end ${end}, size ${packet.length})`);
    }
    // RFC 9001 §5.4.2: pn + payload must reach 4 bytes so the 16-byte sample at pn_offset+4 exists.
    if (pnLength + payloadLength < 4) throw new RangeError(`payloadLength: ${payloadLength} too short to sample; pad to ${4 - pnLength}`);
    computeNonce(this.iv, pn, this.nonce);
    this.aead.seal(
      this.nonce,
      packet.subarray(headerOffset, payloadOffset),
      packet.subarray(payloadOffset, payloadOffset + payloadLength),
      packet,
      payloadOffset,
    );
    this.shared.hp.mask(packet, pnOffset + 4, this.mask);
    applyHeaderMask(packet, headerOffset, pnOffset, pnLength, this.mask);
    this.sealed++;
    return end;
  }

  /**
   * Remove header and packet protection in place (RFC 9001 §5.4, §5.3). `pnOffset` and `packetEnd`
   * come from the header decoder; `largestPn` is the largest packet number received in this space
   * (-1 if none). Returns the scratch result, or null when the packet is too short to sample or does
   * not authenticate (see lastFailure) — expected network conditions, never exceptions.
   */
  unprotect(packet: Uint8Array, headerOffset: number, pnOffset: number, packetEnd: number, largestPn: number): UnprotectResult | null {
    const r = this.removeHeaderProtection(packet, headerOffset, pnOffset, packetEnd, largestPn);
    if (r === null) return null;
    return this.decryptPayload(packet, r) ? r : null;
  }

  /**
   * Step 1 of unprotect: remove header protection only, recovering byte 0, the packet number length
   * and the full packet number. Lets the connection read the Key Phase bit and then open the payload
   * with this object or another key phase's (decryptPayload), which share this header protection key.
   */
  removeHeaderProtection(
    packet: Uint8Array,
    headerOffset: number,
    pnOffset: number,
    packetEnd: number,
    largestPn: number,
  ): UnprotectResult | null {
    this.checkLive();
    if (packetEnd > packet.length || pnOffset <= headerOffset) {
      throw new RangeError(`packet: offsets out of range (header ${headerOffset}, pn ${pnOffset}, end ${packetEnd})`);
    }
    const sampleOffset = pnOffset + 4;
    if (sampleOffset + HP_SAMPLE_LENGTH > packetEnd) {
      // RFC 9001 §5.4.2: MUST discard packets too short to contain a complete sample.
      this.lastFailure = 'sample';
      return null;
    }
    const mask = this.mask;
    this.shared.hp.mask(packet, sampleOffset, mask);
    let first = packet[headerOffset]!;
    first ^= mask[0]! & ((first & 0x80) !== 0 ? 0x0f : 0x1f);
    packet[headerOffset] = first;
    const pnLength = (first & 3) + 1;
    for (let i = 0; i < pnLength; i++) packet[pnOffset + i] ^= mask[1 + i]!;
    const truncated = readPacketNumber(packet, pnOffset, pnLength);
    const r = this.result;
    r.firstByte = first;
    r.pnLength = pnLength;
    r.pn = decodePacketNumber(largestPn, truncated, pnLength);
    r.headerOffset = headerOffset;
    r.pnOffset = pnOffset;
    r.payloadOffset = pnOffset + pnLength;
    r.payloadLength = packetEnd - r.payloadOffset;
    r.packetEnd = packetEnd;
    return r;
  }

  /**
   * Step 2 of unprotect: authenticate and decrypt the payload in place with THESE keys, using a
   * result from removeHeaderProtection (possibly another key phase's object). On success
   * r.payloadLength becomes the plaintext length; on failure the ciphertext is left intact so
   * another key phase can be tried.
   */
  decryptPayload(packet: Uint8Array, r: UnprotectResult): boolean {
    this.checkLive();
    computeNonce(this.iv, r.pn, this.nonce);
    const n = this.aead.open(
      this.nonce,
      packet.subarray(r.headerOffset, r.payloadOffset),
      packet.subarray(r.payloadOffset, r.packetEnd),
      packet,
      r.payloadOffset,
    );
    if (n < 0) {
      this.openFailures++;
      this.lastFailure = 'aead';
      return false;
    }
    r.payloadLength = n;
    this.opened++;
    this.lastFailure = 'none';
    return true;
  }

  /** Discard the keys (RFC 9001 §4.9, §6): zeroise the secret and IV, release the AEAD and header key. */
  discard(): void {
    if (this.discarded) return;
    this.discarded = true;
    wipe(this.secret);
    wipe(this.iv);
    this.aead.dispose();
    this.shared.release();
  }

  private checkLive(): void {
    if (this.discarded) throw new TypeError('packet protection: keys were discarded');
  }
}
