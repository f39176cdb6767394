// L2a: AEAD through node:crypto (OpenSSL): AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305.
// RFC 9001 §5.3. One cipher context per packet (OpenSSL has no reusable-context API in Node).
// Measured here (Node 20, AES-128-GCM, 1200-byte packets, interleaved runs; /work/notes/perf.md):
// ~3.8 µs per seal or open, of which createCipheriv ~1.3 µs, setAAD + final + getAuthTag ~1.3 µs,
// and update ~0.5 µs + ~0.7 ns/byte (it allocates its output Buffer): the binding overhead, not
// the cipher, dominates. A KeyObject and a raw key Buffer cost the same (the key is imported once
// as a KeyObject anyway), as does leaving out the authTagLength option; Node 20 has no update()
// into caller memory and no way to reuse a GCM context, so nothing cheaper exists in its API.
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { AEAD_TAG_LENGTH, checkKey, checkNonce, type Aead, type AeadAlgorithm } from './aead.js';

const TAG_OPTIONS = { authTagLength: AEAD_TAG_LENGTH } as const;

export class NodeAead implements Aead {
  readonly algorithm: AeadAlgorithm;
  private key: KeyObject | null;

  constructor(algorithm: AeadAlgorithm, key: Uint8Array) {
    checkKey('key', algorithm, key);
    this.algorithm = algorithm;
    this.key = createSecretKey(key);
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset: number): number {
    const key = this.key;
    if (key === null) throw new TypeError('aead: key was disposed');
    checkNonce(nonce);
    const n = plaintext.length;
    if (outOffset < 0 || outOffset + n + AEAD_TAG_LENGTH > out.length) {
      throw new RangeError(`out: needs ${n + AEAD_TAG_LENGTH} bytes at offset ${outOffset}`);
    }
    // The algorithm union defeats Node's overloads; all three share the AEAD cipher surface.
    const c = createCipheriv(this.algorithm as 'aes-128-gcm', key, nonce, TAG_OPTIONS);
    c.setAAD(aad);
    const ct = c.update(plaintext);
    const tail = c.final();
    // Stream modes: update returns all n bytes, final nothing. Copy after encryption, so the
    // plaintext and the destination may be the same memory.
    out.set(ct, outOffset);
    if (tail.length !== 0) out.set(tail, outOffset + ct.length);
    out.set(c.getAuthTag(), outOffset + n);
    return n + AEAD_TAG_LENGTH;
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array, outOffset: number): number {
    const key = this.key;
    if (key === null) throw new TypeError('aead: key was disposed');
    checkNonce(nonce);
    const n = ciphertext.length - AEAD_TAG_LENGTH;
    if (n < 0) return -1;
    if (outOffset < 0 || outOffset + n > out.length) throw new RangeError(`out: needs ${n} bytes at offset ${outOffset}`);
    const d = createDecipheriv(this.algorithm as 'aes-128-gcm', key, nonce, TAG_OPTIONS);
    d.setAuthTag(ciphertext.subarray(n));
    d.setAAD(aad);
    const pt = d.update(ciphertext.subarray(0, n));
    try {
      d.final();
    } catch {
      return -1; // authentication failed; nothing written
    }
    out.set(pt, outOffset);
    return n;
  }

  dispose(): void {
    // A KeyObject cannot be zeroised from JS; dropping the reference lets OpenSSL free it.
    this.key = null;
  }
}
