// AEAD and header protection interfaces (RFC 9001 §5.3, §5.4): argument checks, the -1 sentinel for
// too-short input, disposal, and the backend selector.
import test from 'ava';
import { NodeAead } from '../../src/crypto/aead-node.js';
import { NobleAead } from '../../src/crypto/aead-noble.js';
import {
  JsChaChaHeaderProtection,
  JsAesHeaderProtection,
  NobleAesHeaderProtection,
  NodeAesHeaderProtection,
  NodeChaChaHeaderProtection,
  applyHeaderMask,
} from '../../src/crypto/header-protection.js';
import { cryptoBackend, defaultBackend } from '../../src/crypto/backend.js';
import { aeadKeyLength } from '../../src/crypto/aead.js';

for (const Impl of [NodeAead, NobleAead]) {
  test(`${Impl.name}: argument checks, short ciphertext, dispose`, (t) => {
    t.throws(() => new Impl('aes-128-gcm', new Uint8Array(32)), { instanceOf: RangeError, message: /key/ });
    t.throws(() => new Impl('chacha20-poly1305', new Uint8Array(16)), { instanceOf: RangeError, message: /key/ });
    const a = new Impl('aes-256-gcm', new Uint8Array(32));
    const nonce = new Uint8Array(12);
    t.throws(() => a.seal(new Uint8Array(8), new Uint8Array(0), new Uint8Array(4), new Uint8Array(20), 0), { message: /nonce/ });
    t.throws(() => a.seal(nonce, new Uint8Array(0), new Uint8Array(4), new Uint8Array(19), 0), { message: /out/ });
    t.is(a.open(nonce, new Uint8Array(0), new Uint8Array(15), new Uint8Array(16), 0), -1);
    const out = new Uint8Array(16);
    t.is(a.seal(nonce, new Uint8Array(0), new Uint8Array(0), out, 0), 16, 'empty plaintext: tag only');
    t.is(a.open(nonce, new Uint8Array(0), out, new Uint8Array(0), 0), 0);
    a.dispose();
    t.throws(() => a.seal(nonce, new Uint8Array(0), new Uint8Array(0), out, 0), { instanceOf: TypeError });
  });
}

test('header protection implementations: argument checks and disposal', (t) => {
  t.throws(() => new NodeAesHeaderProtection('chacha20-poly1305', new Uint8Array(32)), { instanceOf: RangeError });
  t.throws(() => new NobleAesHeaderProtection('aes-128-gcm', new Uint8Array(32)), { instanceOf: RangeError, message: /hpKey/ });
  t.throws(() => new JsAesHeaderProtection('aes-256-gcm', new Uint8Array(16)), { instanceOf: RangeError, message: /hpKey/ });
  t.throws(() => new JsAesHeaderProtection('chacha20-poly1305', new Uint8Array(32)), { instanceOf: RangeError });
  t.throws(() => new JsChaChaHeaderProtection('aes-256-gcm', new Uint8Array(32)), { instanceOf: RangeError });
  t.throws(() => new NodeChaChaHeaderProtection('chacha20-poly1305', new Uint8Array(16)), { instanceOf: RangeError });
  for (const hp of [
    new NodeAesHeaderProtection('aes-128-gcm', new Uint8Array(16)),
    new NobleAesHeaderProtection('aes-256-gcm', new Uint8Array(32)),
    new JsAesHeaderProtection('aes-128-gcm', new Uint8Array(16)),
    new NodeChaChaHeaderProtection('chacha20-poly1305', new Uint8Array(32)),
    new JsChaChaHeaderProtection('chacha20-poly1305', new Uint8Array(32)),
  ]) {
    const m = new Uint8Array(5);
    t.throws(() => hp.mask(new Uint8Array(20), 5, m), { instanceOf: RangeError, message: /sample/ });
    hp.mask(new Uint8Array(20), 4, m);
    hp.dispose();
    t.throws(() => hp.mask(new Uint8Array(20), 4, m), { instanceOf: TypeError });
  }
});

test('applyHeaderMask masks 4 bits of a long header, 5 of a short one, and pnLength bytes', (t) => {
  const mask = new Uint8Array([0xff, 1, 2, 3, 4]);
  const long = new Uint8Array([0xc0, 0, 0, 0, 0, 0]);
  applyHeaderMask(long, 0, 1, 2, mask);
  t.deepEqual([...long], [0xcf, 1, 2, 0, 0, 0]);
  const short = new Uint8Array([0x40, 0, 0, 0, 0, 0]);
  applyHeaderMask(short, 0, 2, 4, mask);
  t.deepEqual([...short], [0x5f, 0, 1, 2, 3, 4]);
});

test('backend selector', (t) => {
  t.is(cryptoBackend('node').name, 'node');
  t.is(cryptoBackend('noble').name, 'noble');
  t.is(cryptoBackend('default'), defaultBackend);
  t.throws(() => cryptoBackend('openssl' as 'node'), { instanceOf: RangeError });
  t.true(defaultBackend.createAead('aes-128-gcm', new Uint8Array(16)) instanceof NodeAead);
  t.true(defaultBackend.createHeaderProtection('aes-128-gcm', new Uint8Array(16)) instanceof JsAesHeaderProtection);
  t.true(defaultBackend.createHeaderProtection('chacha20-poly1305', new Uint8Array(32)) instanceof JsChaChaHeaderProtection);
  t.is(aeadKeyLength('aes-256-gcm'), 32);
});
