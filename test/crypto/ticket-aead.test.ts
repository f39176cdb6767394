// AES-256-GCM ticket sealing (RFC 5116 AEAD): round trip, tamper detection, cross-check with noble.
import test from 'ava';
import { gcm } from '@noble/ciphers/aes.js';
import { ticketOpen, ticketSeal } from '../../src/crypto/ticket-aead.js';

const key = new Uint8Array(32).fill(3);
const nonce = new Uint8Array(12).fill(4);
const aad = Uint8Array.of(1, 2, 3);

test('seal/open round trip, agrees with noble', (t) => {
  const pt = new Uint8Array(100).map((_, i) => i);
  const sealed = ticketSeal(key, nonce, aad, pt);
  t.is(sealed.length, 116);
  t.deepEqual(ticketOpen(key, nonce, aad, sealed), pt);
  t.deepEqual(gcm(key, nonce, aad).encrypt(pt), sealed);
});

test('any change to ciphertext, tag, nonce or AAD → null', (t) => {
  const sealed = ticketSeal(key, nonce, aad, Uint8Array.of(9, 9, 9));
  for (let i = 0; i < sealed.length; i++) {
    const b = sealed.slice();
    b[i]! ^= 0x80;
    t.is(ticketOpen(key, nonce, aad, b), null);
  }
  t.is(ticketOpen(key, new Uint8Array(12), aad, sealed), null);
  t.is(ticketOpen(key, nonce, Uint8Array.of(1), sealed), null);
  t.is(ticketOpen(key, nonce, aad, sealed.subarray(0, 15)), null);
  t.throws(() => ticketSeal(new Uint8Array(16), nonce, aad, sealed), { instanceOf: RangeError, message: /key/ });
});
