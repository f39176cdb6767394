// L2a: hashes, HMAC and HKDF (RFC 5869) with TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1),
// used by QUIC key derivation (RFC 9001 §5.1) and the TLS key schedule.
// node:crypto's createHmac/createHash; @noble/hashes is the cross-check in tests.
import { createHash, createHmac } from 'node:crypto';

export type HashName = 'sha256' | 'sha384';

export function hashLength(h: HashName): 32 | 48 {
  return h === 'sha256' ? 32 : 48;
}

function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function hash(h: HashName, ...data: Uint8Array[]): Uint8Array {
  const c = createHash(h);
  for (const d of data) c.update(d);
  return u8(c.digest());
}

export function hmac(h: HashName, key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  const c = createHmac(h, key);
  for (const d of data) c.update(d);
  return u8(c.digest());
}

/** HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM). An empty salt means HashLen zeros. */
export function hkdfExtract(h: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return hmac(h, salt.length === 0 ? new Uint8Array(hashLength(h)) : salt, ikm);
}

/** HKDF-Expand(PRK, info, L). */
export function hkdfExpand(h: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const hl = hashLength(h);
  if (length > 255 * hl) throw new RangeError(`hkdfExpand: length ${length} exceeds 255*HashLen`);
  const out = new Uint8Array(length);
  let prev: Uint8Array = new Uint8Array(0);
  const counter = new Uint8Array(1);
  for (let off = 0, i = 1; off < length; i++) {
    counter[0] = i;
    prev = hmac(h, prk, prev, info, counter);
    out.set(prev.subarray(0, Math.min(hl, length - off)), off);
    off += hl;
  }
  return out;
}

const LABEL_PREFIX = 'tls13 ';

/** The HkdfLabel structure of RFC 8446 §7.1. */
export function hkdfLabel(label: string, context: Uint8Array, length: number): Uint8Array {
  const full = LABEL_PREFIX + label;
  if (full.length > 255 || context.length > 255) throw new RangeError('hkdfLabel: label or context too long');
  const out = new Uint8Array(2 + 1 + full.length + 1 + context.length);
  out[0] = length >> 8;
  out[1] = length & 0xff;
  out[2] = full.length;
  for (let i = 0; i < full.length; i++) out[3 + i] = full.charCodeAt(i);
  out[3 + full.length] = context.length;
  out.set(context, 4 + full.length);
  return out;
}

/** HKDF-Expand-Label(Secret, Label, Context, Length) with the "tls13 " prefix. */
export function hkdfExpandLabel(
  h: HashName,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  return hkdfExpand(h, secret, hkdfLabel(label, context, length), length);
}
