// L2a: AES-256-GCM sealing of self-contained TLS session tickets (RFC 8446 §4.6.1 leaves the
// ticket format to the server; RFC 5077 §4 recommends an authenticated-encryption format).
// node:crypto only; a cold path (one seal per ticket issued, one open per resumption attempt).
import { createCipheriv, createDecipheriv } from 'node:crypto';

export const TICKET_KEY_LENGTH = 32;
export const TICKET_NONCE_LENGTH = 12;
export const TICKET_TAG_LENGTH = 16;

/** ciphertext || 16-byte tag. */
export function ticketSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  if (key.length !== TICKET_KEY_LENGTH) throw new RangeError(`key: expected ${TICKET_KEY_LENGTH} bytes, got ${key.length}`);
  if (nonce.length !== TICKET_NONCE_LENGTH) throw new RangeError(`nonce: expected ${TICKET_NONCE_LENGTH} bytes, got ${nonce.length}`);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const head = c.update(plaintext);
  const tail = c.final();
  const out = new Uint8Array(head.length + tail.length + TICKET_TAG_LENGTH);
  out.set(head, 0);
  out.set(tail, head.length);
  out.set(c.getAuthTag(), head.length + tail.length);
  return out;
}

/** The plaintext, or null if the input is too short or does not authenticate. Never throws for peer data. */
export function ticketOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  if (key.length !== TICKET_KEY_LENGTH) throw new RangeError(`key: expected ${TICKET_KEY_LENGTH} bytes, got ${key.length}`);
  if (nonce.length !== TICKET_NONCE_LENGTH || sealed.length < TICKET_TAG_LENGTH) return null;
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - TICKET_TAG_LENGTH));
    const head = d.update(sealed.subarray(0, sealed.length - TICKET_TAG_LENGTH));
    const tail = d.final();
    const out = new Uint8Array(head.length + tail.length);
    out.set(head, 0);
    out.set(tail, head.length);
    return out;
  } catch {
    return null;
  }
}
