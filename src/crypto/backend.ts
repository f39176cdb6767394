// L2a: crypto backend selection for QUIC packet protection (RFC 9001 §5.3, §5.4).
// - 'node':    node:crypto for everything (AEAD per-packet contexts, persistent AES-ECB, chacha20).
// - 'noble':   pure JS: @noble/ciphers AEADs, our own one-block AES and ChaCha20 for the HP mask.
// - 'default': the fastest measured per primitive (test/bench/crypto.bench.ts, Node 20, 2 vCPU):
//              AEAD from node:crypto (~5 µs vs 20–50 µs per 1200-byte packet),
//              AES header protection from our own 4 KiB-table JS round function (JsAesHeaderProtection:
//              ~0.1 µs, and it stays that cheap on the real I/O path where @noble's 512 KiB of merged
//              tables miss the cache and cost ~1 µs per mask; an ECB update() ~0.5–1.2 µs), ChaCha20 header protection from the JS block (vs ~2.4 µs for a
//              node:crypto context per packet).
// All three produce identical bytes (test/crypto/backends.test.ts).
import type { AeadAlgorithm, CryptoBackend } from './aead.js';
import { NodeAead } from './aead-node.js';
import { NobleAead } from './aead-noble.js';
import {
  JsAesHeaderProtection,
  JsChaChaHeaderProtection,
  NodeAesHeaderProtection,
  NodeChaChaHeaderProtection,
} from './header-protection.js';

export const nodeBackend: CryptoBackend = {
  name: 'node',
  createAead: (algorithm: AeadAlgorithm, key: Uint8Array) => new NodeAead(algorithm, key),
  createHeaderProtection: (algorithm: AeadAlgorithm, hpKey: Uint8Array) =>
    algorithm === 'chacha20-poly1305' ? new NodeChaChaHeaderProtection(algorithm, hpKey) : new NodeAesHeaderProtection(algorithm, hpKey),
};

export const nobleBackend: CryptoBackend = {
  name: 'noble',
  createAead: (algorithm: AeadAlgorithm, key: Uint8Array) => new NobleAead(algorithm, key),
  createHeaderProtection: (algorithm: AeadAlgorithm, hpKey: Uint8Array) =>
    algorithm === 'chacha20-poly1305' ? new JsChaChaHeaderProtection(algorithm, hpKey) : new JsAesHeaderProtection(algorithm, hpKey),
};

export const defaultBackend: CryptoBackend = {
  name: 'default',
  createAead: nodeBackend.createAead,
  createHeaderProtection: nobleBackend.createHeaderProtection,
};

export type CryptoBackendName = 'node' | 'noble' | 'default';

export function cryptoBackend(name: CryptoBackendName): CryptoBackend {
  switch (name) {
    case 'node':
      return nodeBackend;
    case 'noble':
      return nobleBackend;
    case 'default':
      return defaultBackend;
    default:
      throw new RangeError(`name: unknown crypto backend ${String(name)}`);
  }
}
