// L2a: AES-256-GCM sealing of self-contained TLS session tickets (RFC 8446 §4.6.1 leaves the
// ticket format to the server; RFC 5077 §4 recommends an authenticated-encryption format).
// A cold path (one seal per ticket issued, one open per resumption attempt) on the node:crypto
// AEAD that packet protection uses (aead-node.ts).
import { AEAD_TAG_LENGTH } from './aead.js';
import { NodeAead } from './aead-node.js';

export const TICKET_KEY_LENGTH = 32;
export const TICKET_NONCE_LENGTH = 12;
export const TICKET_TAG_LENGTH = AEAD_TAG_LENGTH;

function checkTicketKey(key: Uint8Array): void {
  if (key.length !== TICKET_KEY_LENGTH) throw new RangeError(`key: expected ${TICKET_KEY_LENGTH} bytes, got ${key.length}`);
}

/** ciphertext || 16-byte tag. */
export function ticketSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  checkTicketKey(key);
  if (nonce.length !== TICKET_NONCE_LENGTH) throw new RangeError(`nonce: expected ${TICKET_NONCE_LENGTH} bytes, got ${nonce.length}`);
  const out = new Uint8Array(plaintext.length + TICKET_TAG_LENGTH);
  new NodeAead('aes-256-gcm', key).seal(nonce, aad, plaintext, out, 0);
  return out;
}

/** The plaintext, or null if the input is too short or does not authenticate. Never throws for peer data. */
export function ticketOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  checkTicketKey(key);
  if (nonce.length !== TICKET_NONCE_LENGTH || sealed.length < TICKET_TAG_LENGTH) return null;
  const out = new Uint8Array(sealed.length - TICKET_TAG_LENGTH);
  return new NodeAead('aes-256-gcm', key).open(nonce, aad, sealed, out, 0) < 0 ? null : out;
}
