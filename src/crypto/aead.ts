// L2a: the AEAD and header-protection interfaces that QUIC packet protection uses, and the TLS 1.3
// cipher suites QUIC supports with their limits.
// RFC 9001 §5.3 (AEAD usage: nonce = IV XOR packet number, header as associated data),
// §5.4 (header protection), §6.6 (confidentiality and integrity limits), RFC 8446 §B.4 (suites).
// Backends (node:crypto in aead-node.ts, @noble/ciphers in aead-noble.ts, header protection in
// header-protection.ts) implement these interfaces; backend.ts picks one.
import type { HashName } from './hkdf.js';

export type AeadAlgorithm = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

/** Every AEAD QUIC uses has a 16-byte tag (RFC 9001 §5.3). */
export const AEAD_TAG_LENGTH = 16;
/** Nonce/IV length of all three AEADs. */
export const AEAD_NONCE_LENGTH = 12;
/** Header protection samples 16 bytes (RFC 9001 §5.4.2). */
export const HP_SAMPLE_LENGTH = 16;
/** Header protection mask length used: 1 byte for byte 0, up to 4 packet number bytes. */
export const HP_MASK_LENGTH = 5;

/**
 * One AEAD key. seal/open never allocate on the caller's behalf beyond what the backend needs and
 * never throw for an authentication failure: open returns -1 (a packet that does not decrypt is
 * normal on the network). API misuse (wrong sizes) throws RangeError.
 */
export interface Aead {
  readonly algorithm: AeadAlgorithm;
  /**
   * Encrypt `plaintext` with the 12-byte `nonce` and associated data `aad`, writing ciphertext and
   * the 16-byte tag (plaintext.length + 16 bytes) to `out` at `outOffset`. `out` may be the memory
   * `plaintext` views (sealing in place). Returns the number of bytes written.
   */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset: number): number;
  /**
   * Authenticate and decrypt `ciphertext` (ciphertext || 16-byte tag), writing the plaintext to `out`
   * at `outOffset` (may be the ciphertext's own memory: decrypting in place). Returns the plaintext
   * length, or -1 when authentication fails, in which case `out` is left untouched.
   */
  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array, outOffset: number): number;
  /** Drop (and where possible zeroise) the key material. */
  dispose(): void;
}

/** A header protection key (RFC 9001 §5.4.3 AES-ECB, §5.4.4 ChaCha20). */
export interface HeaderProtection {
  readonly algorithm: AeadAlgorithm;
  /** Compute the 5-byte mask from the 16-byte sample at `sample[offset..offset+16)` into `mask[0..5)`. */
  mask(sample: Uint8Array, offset: number, mask: Uint8Array): void;
  dispose(): void;
}

/** A set of primitive implementations. */
export interface CryptoBackend {
  readonly name: string;
  createAead(algorithm: AeadAlgorithm, key: Uint8Array): Aead;
  createHeaderProtection(algorithm: AeadAlgorithm, hpKey: Uint8Array): HeaderProtection;
}

/** TLS 1.3 cipher suites usable with QUIC (RFC 9001 §5.3; TLS_AES_128_CCM_8_SHA256 is excluded). */
export const CipherSuite = {
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_AES_256_GCM_SHA384: 0x1302,
  TLS_CHACHA20_POLY1305_SHA256: 0x1303,
} as const;
export type CipherSuite = (typeof CipherSuite)[keyof typeof CipherSuite];

export interface CipherSuiteParams {
  readonly id: CipherSuite;
  readonly name: string;
  readonly aead: AeadAlgorithm;
  readonly hash: HashName;
  readonly hashLength: number;
  readonly keyLength: number;
  readonly ivLength: number;
  readonly hpKeyLength: number;
  /** RFC 9001 §6.6: packets that may be encrypted with one key. */
  readonly confidentialityLimit: number;
  /** RFC 9001 §6.6: failed decryptions tolerated across all keys of a connection. */
  readonly integrityLimit: number;
}

/** RFC 9001 §6.6: AES-GCM 2^23 packets encrypted, 2^52 forgery attempts; ChaCha20-Poly1305: no
 * practical confidentiality limit (more than the 2^62 packet numbers), 2^36 forgery attempts. */
export const AES_GCM_CONFIDENTIALITY_LIMIT = 2 ** 23;
export const AES_GCM_INTEGRITY_LIMIT = 2 ** 52;
export const CHACHA20_POLY1305_CONFIDENTIALITY_LIMIT = 2 ** 62;
export const CHACHA20_POLY1305_INTEGRITY_LIMIT = 2 ** 36;

const SUITES: Record<number, CipherSuiteParams> = {
  [CipherSuite.TLS_AES_128_GCM_SHA256]: {
    id: CipherSuite.TLS_AES_128_GCM_SHA256,
    name: 'TLS_AES_128_GCM_SHA256',
    aead: 'aes-128-gcm',
    hash: 'sha256',
    hashLength: 32,
    keyLength: 16,
    ivLength: 12,
    hpKeyLength: 16,
    confidentialityLimit: AES_GCM_CONFIDENTIALITY_LIMIT,
    integrityLimit: AES_GCM_INTEGRITY_LIMIT,
  },
  [CipherSuite.TLS_AES_256_GCM_SHA384]: {
    id: CipherSuite.TLS_AES_256_GCM_SHA384,
    name: 'TLS_AES_256_GCM_SHA384',
    aead: 'aes-256-gcm',
    hash: 'sha384',
    hashLength: 48,
    keyLength: 32,
    ivLength: 12,
    hpKeyLength: 32,
    confidentialityLimit: AES_GCM_CONFIDENTIALITY_LIMIT,
    integrityLimit: AES_GCM_INTEGRITY_LIMIT,
  },
  [CipherSuite.TLS_CHACHA20_POLY1305_SHA256]: {
    id: CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    name: 'TLS_CHACHA20_POLY1305_SHA256',
    aead: 'chacha20-poly1305',
    hash: 'sha256',
    hashLength: 32,
    keyLength: 32,
    ivLength: 12,
    hpKeyLength: 32,
    confidentialityLimit: CHACHA20_POLY1305_CONFIDENTIALITY_LIMIT,
    integrityLimit: CHACHA20_POLY1305_INTEGRITY_LIMIT,
  },
};

/** Parameters of a QUIC-capable TLS 1.3 cipher suite, or undefined for any other code point. */
export function cipherSuiteParams(suite: number): CipherSuiteParams | undefined {
  return SUITES[suite];
}

/** Key length in bytes of an AEAD algorithm. */
export function aeadKeyLength(algorithm: AeadAlgorithm): number {
  return algorithm === 'aes-128-gcm' ? 16 : 32;
}

/** Throws RangeError unless `key` has the algorithm's key length. */
export function checkKey(name: string, algorithm: AeadAlgorithm, key: Uint8Array): void {
  const want = aeadKeyLength(algorithm);
  if (!(key instanceof Uint8Array) || key.length !== want) {
    throw new RangeError(`${name}: ${algorithm} needs a ${want}-byte key, got ${key?.length}`);
  }
}

export function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== AEAD_NONCE_LENGTH) throw new RangeError(`nonce: must be 12 bytes, got ${nonce.length}`);
}

/**
 * nonce = iv XOR packet number, the packet number left-padded to the IV length (RFC 9001 §5.3).
 * Writes into `nonce` (12 bytes); `pn` is a non-negative integer below 2^53.
 */
export function computeNonce(iv: Uint8Array, pn: number, nonce: Uint8Array): void {
  const hi = Math.floor(pn / 0x1_0000_0000);
  const lo = pn >>> 0;
  for (let i = 0; i < 4; i++) nonce[i] = iv[i]!;
  nonce[4] = iv[4]! ^ (hi >>> 24);
  nonce[5] = iv[5]! ^ ((hi >>> 16) & 0xff);
  nonce[6] = iv[6]! ^ ((hi >>> 8) & 0xff);
  nonce[7] = iv[7]! ^ (hi & 0xff);
  nonce[8] = iv[8]! ^ (lo >>> 24);
  nonce[9] = iv[9]! ^ ((lo >>> 16) & 0xff);
  nonce[10] = iv[10]! ^ ((lo >>> 8) & 0xff);
  nonce[11] = iv[11]! ^ (lo & 0xff);
}
