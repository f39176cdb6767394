// L2a: (EC)DHE key exchange for the TLS 1.3 key_share extension (RFC 8446 §4.2.8, §7.4):
// X25519 (RFC 7748), secp256r1 and secp384r1 (uncompressed points, RFC 8446 §4.2.8.2), all
// through node:crypto (DESIGN §4: ~10–30× faster than pure JS). The private scalar comes from the
// caller's random source so handshakes are reproducible (RFC 8448 traces, deterministic tests).
// X25519 keys are imported from a JWK `d` (DESIGN §4: never generateKeyPairSync + JWK export).
import { createECDH, createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';

export const KeyExchangeGroup = {
  secp256r1: 0x0017,
  secp384r1: 0x0018,
  x25519: 0x001d,
} as const;

/** Groups implemented here, in the default preference order. */
export const SUPPORTED_KEY_EXCHANGE_GROUPS: readonly number[] = [
  KeyExchangeGroup.x25519,
  KeyExchangeGroup.secp256r1,
  KeyExchangeGroup.secp384r1,
];

export function isSupportedKeyExchangeGroup(group: number): boolean {
  return group === KeyExchangeGroup.x25519 || group === KeyExchangeGroup.secp256r1 || group === KeyExchangeGroup.secp384r1;
}

/** One ephemeral key pair. */
export interface KeyShare {
  readonly group: number;
  /** key_exchange bytes: 32-byte X25519 u-coordinate, or an uncompressed SEC1 point. */
  readonly publicKey: Uint8Array;
  /**
   * The shared secret with the peer's key_exchange, or null when the peer's value is invalid
   * (wrong length, not on the curve, compressed, or an all-zero X25519 result — RFC 8446 §7.4.2);
   * the handshake then sends illegal_parameter. Never throws for peer input.
   */
  deriveSecret(peerPublic: Uint8Array): Uint8Array | null;
}

export type RandomSource = (n: number) => Uint8Array;

function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function b64u(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

class X25519Share implements KeyShare {
  readonly group = KeyExchangeGroup.x25519;
  readonly publicKey: Uint8Array;
  private readonly priv: KeyObject;

  constructor(d: Uint8Array) {
    // `x` must be a string for the JWK importer; the public key is derived from `d`.
    this.priv = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64u(d), x: '' }, format: 'jwk' });
    const x = createPublicKey(this.priv).export({ format: 'jwk' }).x;
    this.publicKey = u8(Buffer.from(x as string, 'base64url'));
  }

  deriveSecret(peer: Uint8Array): Uint8Array | null {
    if (peer.length !== 32) return null;
    let secret: Uint8Array;
    try {
      const pub = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64u(peer) }, format: 'jwk' });
      secret = u8(diffieHellman({ privateKey: this.priv, publicKey: pub }));
    } catch {
      return null;
    }
    let acc = 0;
    for (let i = 0; i < secret.length; i++) acc |= secret[i]!;
    return acc === 0 ? null : secret;
  }
}

const CURVES = {
  [KeyExchangeGroup.secp256r1]: { name: 'prime256v1', scalar: 32, point: 65 },
  [KeyExchangeGroup.secp384r1]: { name: 'secp384r1', scalar: 48, point: 97 },
} as const;

class EcShare implements KeyShare {
  readonly group: number;
  readonly publicKey: Uint8Array;
  private readonly ecdh: ReturnType<typeof createECDH>;
  private readonly pointLength: number;

  constructor(group: 0x0017 | 0x0018, random: RandomSource) {
    const c = CURVES[group];
    this.group = group;
    this.pointLength = c.point;
    this.ecdh = createECDH(c.name);
    // A random scalar is ≥ the group order with probability < 2^-32: draw again then.
    for (let attempt = 0; ; attempt++) {
      const d = random(c.scalar);
      if (d.length !== c.scalar) throw new RangeError(`random: returned ${d.length} bytes, expected ${c.scalar}`);
      try {
        this.ecdh.setPrivateKey(d);
        break;
      } catch (e) {
        if (attempt >= 8) throw e;
      }
    }
    this.publicKey = u8(this.ecdh.getPublicKey());
  }

  deriveSecret(peer: Uint8Array): Uint8Array | null {
    // RFC 8446 §4.2.8.2: only the uncompressed form (0x04 || X || Y) is allowed.
    if (peer.length !== this.pointLength || peer[0] !== 0x04) return null;
    try {
      return u8(this.ecdh.computeSecret(peer));
    } catch {
      return null;
    }
  }
}

/**
 * A fresh ephemeral key for `group`, its private scalar drawn from `random`
 * (32 bytes for X25519 and P-256, 48 for P-384). RangeError for an unsupported group.
 */
export function generateKeyShare(group: number, random: RandomSource): KeyShare {
  switch (group) {
    case KeyExchangeGroup.x25519: {
      const d = random(32);
      if (d.length !== 32) throw new RangeError(`random: returned ${d.length} bytes, expected 32`);
      return new X25519Share(d);
    }
    case KeyExchangeGroup.secp256r1:
    case KeyExchangeGroup.secp384r1:
      return new EcShare(group, random);
    default:
      throw new RangeError(`group: unsupported key exchange group 0x${group.toString(16)}`);
  }
}
