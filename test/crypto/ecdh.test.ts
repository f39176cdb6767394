// (EC)DHE through node:crypto (RFC 7748 X25519, SEC 1 P-256/P-384 with RFC 8446 §4.2.8.2 checks),
// cross-checked against @noble/curves; invalid peer values yield null, never an exception.
import test from 'ava';
import { x25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { KeyExchangeGroup, generateKeyShare, isSupportedKeyExchangeGroup } from '../../src/crypto/ecdh.js';
import { fromHex, toHex } from '../../src/util/bytes.js';

const rnd = new SeededRandom(1234);
const random = (n: number) => rnd.randomBytes(n);

test('RFC 7748 §6.1 X25519 test vector (Alice/Bob)', (t) => {
  const aPriv = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bPriv = fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  const a = generateKeyShare(KeyExchangeGroup.x25519, () => aPriv);
  const b = generateKeyShare(KeyExchangeGroup.x25519, () => bPriv);
  t.is(toHex(a.publicKey), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  t.is(toHex(b.publicKey), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  t.is(toHex(a.deriveSecret(b.publicKey)!), '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
});

test('node:crypto agrees with noble for every group (20 random keys each)', (t) => {
  for (let i = 0; i < 20; i++) {
    const x = generateKeyShare(KeyExchangeGroup.x25519, random);
    const np = x25519.utils.randomSecretKey();
    t.is(toHex(x.deriveSecret(x25519.getPublicKey(np))!), toHex(x25519.getSharedSecret(np, x.publicKey)));

    const e = generateKeyShare(KeyExchangeGroup.secp256r1, random);
    const q = p256.utils.randomSecretKey();
    t.is(e.publicKey.length, 65);
    t.is(toHex(e.deriveSecret(p256.getPublicKey(q, false))!), toHex(p256.getSharedSecret(q, e.publicKey).subarray(1)));

    const f = generateKeyShare(KeyExchangeGroup.secp384r1, random);
    const r = p384.utils.randomSecretKey();
    t.is(f.publicKey.length, 97);
    t.is(toHex(f.deriveSecret(p384.getPublicKey(r, false))!), toHex(p384.getSharedSecret(r, f.publicKey).subarray(1)));
  }
});

test('invalid peer values → null: wrong length, compressed point, off-curve point, X25519 low-order point', (t) => {
  const x = generateKeyShare(KeyExchangeGroup.x25519, random);
  t.is(x.deriveSecret(new Uint8Array(31)), null);
  t.is(x.deriveSecret(new Uint8Array(32)), null, 'all-zero shared secret (RFC 8446 §7.4.2)');
  t.is(x.deriveSecret(Uint8Array.of(1, ...new Uint8Array(31))), null, 'order-1 point');
  const e = generateKeyShare(KeyExchangeGroup.secp256r1, random);
  const q = p256.utils.randomSecretKey();
  t.is(e.deriveSecret(p256.getPublicKey(q, true)), null, 'compressed');
  const off = p256.getPublicKey(q, false).slice();
  off[64]! ^= 1;
  t.is(e.deriveSecret(off), null, 'not on the curve');
  t.is(e.deriveSecret(new Uint8Array(65)), null);
});

test('group support and misuse', (t) => {
  t.true(isSupportedKeyExchangeGroup(0x1d));
  t.false(isSupportedKeyExchangeGroup(0x11ec));
  t.throws(() => generateKeyShare(0x11ec, random), { instanceOf: RangeError, message: /group/ });
  t.throws(() => generateKeyShare(0x1d, () => new Uint8Array(31)), { instanceOf: RangeError, message: /random/ });
});
