// L2a: AEAD through @noble/ciphers (pure JS): AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305.
// RFC 9001 §5.3. The portable fallback and the cross-check of the node:crypto path; 5–10× slower
// per packet than node:crypto here (test/bench/crypto.bench.ts), so not the default.
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { AEAD_TAG_LENGTH, checkKey, checkNonce, type Aead, type AeadAlgorithm } from './aead.js';

type NobleAeadFactory = (key: Uint8Array, nonce: Uint8Array, aad?: Uint8Array) => {
  encrypt(plaintext: Uint8Array): Uint8Array;
  decrypt(ciphertext: Uint8Array): Uint8Array;
};

export class NobleAead implements Aead {
  readonly algorithm: AeadAlgorithm;
  private key: Uint8Array;
  private readonly factory: NobleAeadFactory;

  constructor(algorithm: AeadAlgorithm, key: Uint8Array) {
    checkKey('key', algorithm, key);
    this.algorithm = algorithm;
    this.key = new Uint8Array(key);
    this.factory = (algorithm === 'chacha20-poly1305' ? chacha20poly1305 : gcm) as unknown as NobleAeadFactory;
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset: number): number {
    if (this.key.length === 0) throw new TypeError('aead: key was disposed');
    checkNonce(nonce);
    const n = plaintext.length;
    if (outOffset < 0 || outOffset + n + AEAD_TAG_LENGTH > out.length) {
      throw new RangeError(`out: needs ${n + AEAD_TAG_LENGTH} bytes at offset ${outOffset}`);
    }
    const sealed = this.factory(this.key, nonce, aad).encrypt(plaintext);
    out.set(sealed, outOffset);
    return sealed.length;
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array, outOffset: number): number {
    if (this.key.length === 0) throw new TypeError('aead: key was disposed');
    checkNonce(nonce);
    const n = ciphertext.length - AEAD_TAG_LENGTH;
    if (n < 0) return -1;
    if (outOffset < 0 || outOffset + n > out.length) throw new RangeError(`out: needs ${n} bytes at offset ${outOffset}`);
    let pt: Uint8Array;
    try {
      pt = this.factory(this.key, nonce, aad).decrypt(ciphertext);
    } catch {
      return -1; // noble throws on a bad tag; nothing written
    }
    out.set(pt, outOffset);
    return n;
  }

  dispose(): void {
    this.key.fill(0);
    this.key = new Uint8Array(0);
  }
}
