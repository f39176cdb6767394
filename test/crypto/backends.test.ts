// The node:crypto and @noble/JS backends produce identical bytes for AEAD seal/open (RFC 9001 §5.3)
// and header protection masks (RFC 9001 §5.4.3, §5.4.4) across all three suites, for random keys,
// nonces, headers and payloads; both reject tampering with the -1 sentinel.
import test from 'ava';
import fc from 'fast-check';
import { chacha20 } from '@noble/ciphers/chacha.js';
import { createCipheriv } from 'node:crypto';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { type AeadAlgorithm } from '../../src/crypto/aead.js';
import { NodeAead } from '../../src/crypto/aead-node.js';
import { NobleAead } from '../../src/crypto/aead-noble.js';
import {
  JsChaChaHeaderProtection,
  JsAesHeaderProtection,
  NobleAesHeaderProtection,
  aesEncryptBlock,
  aesExpandKey,
  NodeAesHeaderProtection,
  NodeChaChaHeaderProtection,
} from '../../src/crypto/header-protection.js';

const ALGS: AeadAlgorithm[] = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'];
const keyLen = (a: AeadAlgorithm): number => (a === 'aes-128-gcm' ? 16 : 32);

for (const alg of ALGS) {
  test(`${alg}: node and noble seal to identical bytes and open each other's output`, (t) => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: keyLen(alg), maxLength: keyLen(alg) }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ minLength: 0, maxLength: 64 }),
        fc.uint8Array({ minLength: 0, maxLength: 1500 }),
        fc.nat(),
        (key, nonce, aad, pt, flip) => {
          const a = new NodeAead(alg, key);
          const b = new NobleAead(alg, key);
          const outA = new Uint8Array(pt.length + 16);
          const outB = new Uint8Array(pt.length + 16);
          t.is(a.seal(nonce, aad, pt, outA, 0), pt.length + 16);
          t.is(b.seal(nonce, aad, pt, outB, 0), pt.length + 16);
          t.is(toHex(outA), toHex(outB));
          const back = new Uint8Array(pt.length);
          t.is(a.open(nonce, aad, outB, back, 0), pt.length);
          t.is(toHex(back), toHex(pt));
          back.fill(0);
          t.is(b.open(nonce, aad, outA, back, 0), pt.length);
          t.is(toHex(back), toHex(pt));
          // Tampering with ciphertext, tag or associated data: both say -1 and write nothing.
          const bad = outA.slice();
          bad[flip % bad.length]! ^= 1 << (flip % 8);
          const untouched = new Uint8Array(pt.length).fill(0x5a);
          t.is(a.open(nonce, aad, bad, untouched, 0), -1);
          t.is(b.open(nonce, aad, bad, untouched, 0), -1);
          t.true(untouched.every((x) => x === 0x5a));
          if (aad.length > 0) {
            const aad2 = aad.slice();
            aad2[flip % aad2.length]! ^= 0x80;
            t.is(a.open(nonce, aad2, outA, untouched, 0), -1);
            t.is(b.open(nonce, aad2, outA, untouched, 0), -1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test(`${alg}: sealing and opening in place`, (t) => {
    for (const Impl of [NodeAead, NobleAead]) {
      const key = new Uint8Array(keyLen(alg)).map((_, i) => i * 7);
      const nonce = new Uint8Array(12).fill(3);
      const buf = new Uint8Array(100 + 1200 + 16);
      for (let i = 0; i < 1300; i++) buf[i] = i & 0xff;
      const original = buf.slice(100, 1300);
      const aead = new Impl(alg, key);
      const aad = buf.subarray(0, 100);
      aead.seal(nonce, aad, buf.subarray(100, 1300), buf, 100);
      t.not(toHex(buf.subarray(100, 1300)), toHex(original));
      t.is(aead.open(nonce, aad, buf.subarray(100, 1316), buf, 100), 1200);
      t.is(toHex(buf.subarray(100, 1300)), toHex(original), Impl.name);
    }
  });
}

// FIPS 197 Appendix C.1 (AES-128) and C.3 (AES-256): the example vectors, all 16 output bytes.
test('aesEncryptBlock: FIPS 197 App. C.1 and C.3 vectors', (t) => {
  const pt = fromHex('00112233445566778899aabbccddeeff');
  const out = new Uint8Array(16);
  aesEncryptBlock(aesExpandKey(fromHex('000102030405060708090a0b0c0d0e0f')), pt, 0, out, 16);
  t.is(toHex(out), '69c4e0d86a7b0430d8cdb78070b4c55a');
  aesEncryptBlock(aesExpandKey(fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f')), pt, 0, out, 16);
  t.is(toHex(out), '8ea2b7ca516745bfeafc49904b496089');
  // n < 16 writes only the first n bytes.
  const part = new Uint8Array(16).fill(0xee);
  aesEncryptBlock(aesExpandKey(fromHex('000102030405060708090a0b0c0d0e0f')), pt, 0, part, 5);
  t.is(toHex(part), '69c4e0d86a' + 'ee'.repeat(11));
  t.throws(() => aesExpandKey(new Uint8Array(24)), { instanceOf: RangeError, message: /key/ });
});

test('aesEncryptBlock equals OpenSSL AES-ECB on random keys and blocks (128 and 256)', (t) => {
  for (const alg of ['aes-128-gcm', 'aes-256-gcm'] as const) {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: keyLen(alg), maxLength: keyLen(alg) }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (key, block) => {
        const ecb = createCipheriv(alg === 'aes-128-gcm' ? 'aes-128-ecb' : 'aes-256-ecb', key, null);
        ecb.setAutoPadding(false);
        const want = ecb.update(block);
        const got = new Uint8Array(16);
        aesEncryptBlock(aesExpandKey(key), block, 0, got, 16);
        t.is(toHex(got), toHex(want));
      }),
      { numRuns: 300 },
    );
  }
});

test('AES header protection: our 4 KiB-table JS and the node ECB context give identical masks (128 and 256)', (t) => {
  for (const alg of ['aes-128-gcm', 'aes-256-gcm'] as const) {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: keyLen(alg), maxLength: keyLen(alg) }),
        fc.uint8Array({ minLength: 16, maxLength: 40 }),
        fc.nat(),
        (key, data, off) => {
          const o = off % (data.length - 15);
          const a = new NodeAesHeaderProtection(alg, key);
          const b = new JsAesHeaderProtection(alg, key);
          const ma = new Uint8Array(5);
          const mb = new Uint8Array(5);
          a.mask(data, o, ma);
          b.mask(data, o, mb);
          t.is(toHex(ma), toHex(mb));
        },
      ),
      { numRuns: 300 },
    );
  }
});

test('AES header protection: node ECB context and noble expanded key give identical masks (128 and 256)', (t) => {
  for (const alg of ['aes-128-gcm', 'aes-256-gcm'] as const) {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: keyLen(alg), maxLength: keyLen(alg) }),
        fc.uint8Array({ minLength: 16, maxLength: 40 }),
        fc.nat(),
        (key, data, off) => {
          const o = off % (data.length - 15);
          const a = new NodeAesHeaderProtection(alg, key);
          const b = new NobleAesHeaderProtection(alg, key);
          const ma = new Uint8Array(5);
          const mb = new Uint8Array(5);
          a.mask(data, o, ma);
          b.mask(data, o, mb);
          t.is(toHex(ma), toHex(mb));
        },
      ),
      { numRuns: 300 },
    );
  }
});

test('ChaCha20 header protection: node chacha20, our JS block and noble chacha20 agree', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (key, sample) => {
      const a = new NodeChaChaHeaderProtection('chacha20-poly1305', key);
      const b = new JsChaChaHeaderProtection('chacha20-poly1305', key);
      const ma = new Uint8Array(5);
      const mb = new Uint8Array(5);
      a.mask(sample, 0, ma);
      b.mask(sample, 0, mb);
      t.is(toHex(ma), toHex(mb));
      const counter = new DataView(sample.buffer, sample.byteOffset).getUint32(0, true);
      if (counter < 0xffffffff) {
        const ref = chacha20(key, sample.subarray(4), new Uint8Array(5), undefined, counter);
        t.is(toHex(ref), toHex(mb));
      }
    }),
    { numRuns: 300 },
  );
});

test('ChaCha20 header protection with block counter 2^32-1 (noble refuses it; node and our block agree)', (t) => {
  const key = new Uint8Array(32).map((_, i) => i);
  for (const tail of [0x00, 0x5a, 0xff]) {
    const sample = new Uint8Array(16).fill(tail);
    sample.set([0xff, 0xff, 0xff, 0xff], 0);
    const ma = new Uint8Array(5);
    const mb = new Uint8Array(5);
    new NodeChaChaHeaderProtection('chacha20-poly1305', key).mask(sample, 0, ma);
    new JsChaChaHeaderProtection('chacha20-poly1305', key).mask(sample, 0, mb);
    t.is(toHex(ma), toHex(mb));
  }
});

test('RFC 8439 §2.3.2 ChaCha20 block test vector through the JS block (first 5 bytes)', (t) => {
  // key 00..1f, nonce 000000090000004a00000000, counter 1 → serialized block starts 10 f1 e7 e4 d1.
  const key = new Uint8Array(32).map((_, i) => i);
  const sample = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0x09, 0, 0, 0, 0x4a, 0, 0, 0, 0]);
  const m = new Uint8Array(5);
  new JsChaChaHeaderProtection('chacha20-poly1305', key).mask(sample, 0, m);
  t.is(toHex(m), '10f1e7e4d1');
});
