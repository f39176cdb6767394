// L1: QUIC versions and their version-specific constants.
// RFC 9000 §15 (versions, 0x?a?a?a?a reserved), §17.2 (v1 long-header types),
// RFC 9001 §5.2 (v1 Initial salt), §5.8 (v1 Retry key/nonce), §5.1/§6.1 (labels),
// RFC 9369 §3.1–§3.3 (QUIC v2: version, types, salt, labels, Retry key/nonce) and the
// provisional v2 codepoint 0x709a50c4 (draft-ietf-quic-v2, spoken by ngtcp2 0.12.1 "v2draft").
import { fromHex } from '../util/bytes.js';

/** QUIC version 1 (RFC 9000). */
export const QUIC_V1 = 0x00000001;
/** QUIC version 2 (RFC 9369 §3.1). */
export const QUIC_V2 = 0x6b3343cf;
/** The provisional QUIC v2 codepoint of draft-ietf-quic-v2 (RFC 9369 §9 lists it as provisional). */
export const QUIC_V2_DRAFT = 0x709a50c4;
/** The Version field of a Version Negotiation packet (RFC 9000 §17.2.1). */
export const VERSION_NEGOTIATION = 0x00000000;

/** Largest connection ID length in QUIC v1 and v2 (RFC 9000 §17.2). */
export const MAX_CID_LENGTH = 20;

/**
 * Logical packet types, independent of the wire bits (which differ per version).
 * OneRtt is the short header; VersionNegotiation has Version 0.
 */
export const PacketType = {
  Initial: 0,
  ZeroRtt: 1,
  Handshake: 2,
  Retry: 3,
  OneRtt: 4,
  VersionNegotiation: 5,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

export const PACKET_TYPE_NAMES: readonly string[] = ['Initial', '0-RTT', 'Handshake', 'Retry', '1-RTT', 'VersionNegotiation'];

/** The version-specific parameters that headers and packet protection need. */
export interface VersionInfo {
  readonly version: number;
  readonly name: string;
  /** Salt for HKDF-Extract of the Initial secret (RFC 9001 §5.2). */
  readonly initialSalt: Uint8Array;
  /** HKDF-Expand-Label labels (without the "tls13 " prefix) for key, IV, header protection and key update. */
  readonly keyLabel: string;
  readonly ivLabel: string;
  readonly hpLabel: string;
  readonly kuLabel: string;
  /** The secret the Retry key and nonce are derived from (kept for cross-checking the constants). */
  readonly retrySecret: Uint8Array;
  /** AEAD_AES_128_GCM key and nonce of the Retry Integrity Tag (RFC 9001 §5.8). */
  readonly retryKey: Uint8Array;
  readonly retryNonce: Uint8Array;
  /** Long-header type bits indexed by logical type Initial, 0-RTT, Handshake, Retry. */
  readonly typeBits: readonly [number, number, number, number];
  /** Logical type indexed by the two long-header type bits. */
  readonly bitsType: readonly [PacketType, PacketType, PacketType, PacketType];
}

// RFC 9001 §5.2, §5.8.
const V1: VersionInfo = {
  version: QUIC_V1,
  name: 'v1',
  initialSalt: fromHex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a'),
  keyLabel: 'quic key',
  ivLabel: 'quic iv',
  hpLabel: 'quic hp',
  kuLabel: 'quic ku',
  retrySecret: fromHex('d9c9943e6101fd200021506bcc02814c73030f25c79d71ce876eca876e6fca8e'),
  retryKey: fromHex('be0c690b9f66575a1d766b54e368c84e'),
  retryNonce: fromHex('461599d35d632bf2239825bb'),
  typeBits: [0, 1, 2, 3],
  bitsType: [PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake, PacketType.Retry],
};

// RFC 9369 §3.2 (types: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00) and §3.3.
const V2_TYPE_BITS: readonly [number, number, number, number] = [1, 2, 3, 0];
const V2_BITS_TYPE: readonly [PacketType, PacketType, PacketType, PacketType] = [
  PacketType.Retry,
  PacketType.Initial,
  PacketType.ZeroRtt,
  PacketType.Handshake,
];

const V2: VersionInfo = {
  version: QUIC_V2,
  name: 'v2',
  initialSalt: fromHex('0dede3def700a6db819381be6e269dcbf9bd2ed9'),
  keyLabel: 'quicv2 key',
  ivLabel: 'quicv2 iv',
  hpLabel: 'quicv2 hp',
  kuLabel: 'quicv2 ku',
  retrySecret: fromHex('c4dd2484d681aefa4ff4d69c2c20299984a765a5d3c31982f38fc74162155e9f'),
  retryKey: fromHex('8fb4b01b56ac48e260fbcbcead7ccc92'),
  retryNonce: fromHex('d86969bc2d7c6d9990efb04a'),
  typeBits: V2_TYPE_BITS,
  bitsType: V2_BITS_TYPE,
};

// draft-ietf-quic-v2 (provisional 0x709a50c4) §3.3: own salt and Retry key/nonce, v2 labels and types.
const V2_DRAFT: VersionInfo = {
  version: QUIC_V2_DRAFT,
  name: 'v2draft',
  initialSalt: fromHex('a707c203a59b47184a1d62ca570406ea7ae3e5d3'),
  keyLabel: 'quicv2 key',
  ivLabel: 'quicv2 iv',
  hpLabel: 'quicv2 hp',
  kuLabel: 'quicv2 ku',
  retrySecret: fromHex('3425c20cf88779df2ff71e8abfa78249891e763bbed2f13c048343d348c060e2'),
  retryKey: fromHex('ba858dc7b43de5dbf87617ff4ab253db'),
  retryNonce: fromHex('141b99c239b03e785d6a2e9f'),
  typeBits: V2_TYPE_BITS,
  bitsType: V2_BITS_TYPE,
};

/** Versions this implementation speaks, in our order of preference. */
export const SUPPORTED_VERSIONS: readonly number[] = [QUIC_V1, QUIC_V2, QUIC_V2_DRAFT];

/** The constants of a supported version, or undefined. */
export function versionInfo(version: number): VersionInfo | undefined {
  switch (version) {
    case QUIC_V1:
      return V1;
    case QUIC_V2:
      return V2;
    case QUIC_V2_DRAFT:
      return V2_DRAFT;
    default:
      return undefined;
  }
}

/** The constants of a supported version; RangeError naming `version` otherwise (API misuse). */
export function requireVersionInfo(version: number): VersionInfo {
  const info = versionInfo(version);
  if (info === undefined) throw new RangeError(`version: 0x${(version >>> 0).toString(16)} is not supported`);
  return info;
}

export function isSupportedVersion(version: number): boolean {
  return version === QUIC_V1 || version === QUIC_V2 || version === QUIC_V2_DRAFT;
}

/** Versions of the form 0x?a?a?a?a, reserved to exercise version negotiation (RFC 9000 §15). */
export function isReservedVersion(version: number): boolean {
  return ((version & 0x0f0f0f0f) >>> 0) === 0x0a0a0a0a;
}

/** A reserved (greasing) version 0x?a?a?a?a built from 16 random bits (RFC 9000 §6.3, §15). */
export function greaseVersion(random16: number): number {
  const r = random16 & 0xffff;
  return (
    ((((r >>> 12) & 0xf) << 28) |
      (((r >>> 8) & 0xf) << 20) |
      (((r >>> 4) & 0xf) << 12) |
      ((r & 0xf) << 4) |
      0x0a0a0a0a) >>>
    0
  );
}

/** Long-header type bits (0–3) of a logical type for a version. */
export function longTypeBits(info: VersionInfo, type: PacketType): number {
  if (type > PacketType.Retry) throw new RangeError(`type: ${type} is not a long-header packet type`);
  return (info.typeBits as readonly number[])[type]!;
}

/** Logical packet type from the first byte of a long-header packet of a known version. */
export function longPacketType(info: VersionInfo, firstByte: number): PacketType {
  return info.bitsType[(firstByte >> 4) & 3]!;
}

export function versionName(version: number): string {
  const info = versionInfo(version);
  if (info) return info.name;
  return `0x${(version >>> 0).toString(16).padStart(8, '0')}`;
}
