// Test helpers for the I/O layer: a real-clock self-signed certificate (the shared test certificate
// is valid around the virtual clock's epoch, not today) and small stream utilities.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { generateSelfSigned, type SelfSigned } from '../../src/pki/self-signed.js';

let cert: SelfSigned | undefined;

/** A certificate for localhost / 127.0.0.1 / ::1 valid now (generated once per process). */
export function liveCertificate(): SelfSigned {
  cert ??= generateSelfSigned({ now: Date.now(), hosts: ['localhost', '127.0.0.1', '::1'] });
  return cert;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Read a stream to the end: total bytes and sha256. */
export async function drain(stream: Readable): Promise<{ bytes: number; sha256: string }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += (chunk as Buffer).length;
    h.update(chunk as Buffer);
  }
  return { bytes, sha256: h.digest('hex') };
}

/** Deterministic pseudo-random bytes. */
export function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}
