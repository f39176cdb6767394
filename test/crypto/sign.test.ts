// Tests for src/crypto/sign.ts: TLS 1.3 CertificateVerify schemes (RFC 8446 §4.2.3, §4.4.3) and
// X.509 signature algorithms, with @noble/curves as an independent check of node's ECDSA/Ed25519.
import test from 'ava';
import * as nodeCrypto from 'node:crypto';
import { generateKeyPairSync, createPrivateKey, createPublicKey, sign as nodeSign, constants } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  SignatureScheme,
  TLS13_SIGNATURE_SCHEMES,
  loadPrivateKey,
  generateSigningKey,
  exportPrivateKeyPem,
  exportPrivateKeyDer,
  sign,
  verify,
  verifyCertificateSignature,
  signCertificate,
  publicKeyFromSpki,
  isTls13SignatureScheme,
  defaultCertSignatureAlgorithm,
  type SigningKey,
} from '../../src/crypto/sign.js';

const msg = new TextEncoder().encode('TLS 1.3, server CertificateVerify\0' + 'x'.repeat(64));

const keys = {
  p256: generateSigningKey('ec-p256'),
  p384: generateSigningKey('ec-p384'),
  ed25519: generateSigningKey('ed25519'),
  rsa: generateSigningKey('rsa'),
};

test('schemes per key kind, preferred first', (t) => {
  t.deepEqual([...keys.p256.schemes], [0x0403]);
  t.deepEqual([...keys.p384.schemes], [0x0503]);
  t.deepEqual([...keys.ed25519.schemes], [0x0807]);
  t.deepEqual([...keys.rsa.schemes], [0x0804, 0x0805, 0x0806]);
  t.is(keys.rsa.kind, 'rsa');
  t.is(keys.rsa.bits, 2048);
  t.false(TLS13_SIGNATURE_SCHEMES.includes(SignatureScheme.rsa_pkcs1_sha256));
  t.false(isTls13SignatureScheme(0x0401));
  t.true(isTls13SignatureScheme(0x0804));
});

test('sign/verify round trip for every key and scheme', (t) => {
  for (const key of Object.values(keys)) {
    for (const scheme of key.schemes) {
      const sig = sign(key, scheme, msg);
      t.true(verify(key.spki, scheme, msg, sig), `${key.kind} 0x${scheme.toString(16)}`);
      const pk = publicKeyFromSpki(key.spki)!;
      t.true(verify(pk, scheme, msg, sig));
      const bad = msg.slice();
      bad[3]! ^= 1;
      t.false(verify(key.spki, scheme, bad, sig));
      const badSig = sig.slice();
      badSig[badSig.length - 1]! ^= 1;
      t.false(verify(key.spki, scheme, msg, badSig));
      t.false(verify(key.spki, scheme, msg, sig.subarray(0, sig.length - 1)));
      t.false(verify(key.spki, scheme, msg, new Uint8Array(0)));
    }
  }
});

test('RSA-PSS salt length is the hash length (RFC 8446 §4.2.3)', (t) => {
  const ko = createPublicKey({ key: Buffer.from(keys.rsa.spki), format: 'der', type: 'spki' });
  const sig = sign(keys.rsa, SignatureScheme.rsa_pss_rsae_sha384, msg);
  const nv = nodeCrypto.verify;
  t.true(nv('sha384', msg, { key: ko, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }, sig));
  t.false(nv('sha384', msg, { key: ko, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 }, sig));
  // A PSS signature with another salt length is refused by our verify.
  const priv = createPrivateKey(exportPrivateKeyPem(keys.rsa));
  const other = nodeSign('sha256', msg, { key: priv, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 });
  t.false(verify(keys.rsa.spki, SignatureScheme.rsa_pss_rsae_sha256, msg, other));
});

test('PKCS#1 v1.5 schemes are refused for TLS 1.3 CertificateVerify', (t) => {
  for (const s of [0x0401, 0x0501, 0x0601, 0x0201, 0x0203]) {
    t.throws(() => sign(keys.rsa, s, msg), { instanceOf: RangeError });
  }
  const priv = createPrivateKey(exportPrivateKeyPem(keys.rsa));
  const pkcs1 = new Uint8Array(nodeSign('sha256', msg, { key: priv, padding: constants.RSA_PKCS1_PADDING }));
  t.false(verify(keys.rsa.spki, SignatureScheme.rsa_pkcs1_sha256, msg, pkcs1));
  // …but the certificate path accepts it.
  t.true(verifyCertificateSignature(keys.rsa.spki, { type: 'rsa-pkcs1', hash: 'sha256' }, msg, pkcs1));
  t.false(verifyCertificateSignature(keys.rsa.spki, { type: 'rsa-pkcs1', hash: 'sha384' }, msg, pkcs1));
});

test('ECDSA schemes are bound to their curve; keys to their type', (t) => {
  t.throws(() => sign(keys.p256, SignatureScheme.ecdsa_secp384r1_sha384, msg), { instanceOf: RangeError });
  t.throws(() => sign(keys.p384, SignatureScheme.ecdsa_secp256r1_sha256, msg), { instanceOf: RangeError });
  t.throws(() => sign(keys.ed25519, SignatureScheme.rsa_pss_rsae_sha256, msg), { instanceOf: RangeError });
  // A P-256 key signing with SHA-384 (valid ECDSA) is still not ecdsa_secp384r1_sha384.
  const priv = createPrivateKey(exportPrivateKeyPem(keys.p256));
  const s384 = new Uint8Array(nodeSign('sha384', msg, { key: priv, dsaEncoding: 'der' }));
  t.false(verify(keys.p256.spki, SignatureScheme.ecdsa_secp384r1_sha384, msg, s384));
  const sig = sign(keys.p256, 0x0403, msg);
  t.false(verify(keys.p384.spki, 0x0403, msg, sig));
  t.false(verify(keys.rsa.spki, 0x0804, msg, sign(keys.ed25519, 0x0807, msg)));
  t.false(verify(keys.ed25519.spki, 0x0403, msg, sig));
});

test('verify never throws on hostile input', (t) => {
  const sig = sign(keys.p256, 0x0403, msg);
  t.false(verify(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), 0x0403, msg, sig));
  t.false(verify(new Uint8Array(0), 0x0403, msg, sig));
  t.false(verify(keys.p256.spki, 0xfafa, msg, sig));
  t.false(verify(keys.p256.spki, -1, msg, sig));
  t.false(verify(keys.p256.spki, 0x0403, msg, new Uint8Array(200).fill(0x30)));
  t.false(verify(null as unknown as Uint8Array, 0x0403, msg, sig));
  t.false(verify({ type: 'ec' } as never, 0x0403, msg, sig));
  t.false(verifyCertificateSignature(new Uint8Array(3), { type: 'ecdsa', hash: 'sha256' }, msg, sig));
  t.false(verifyCertificateSignature(keys.p256.spki, { type: 'bogus' } as never, msg, sig));
  t.is(publicKeyFromSpki(new Uint8Array([1, 2, 3])), null);
});

test('ECDSA signatures are DER and verify with @noble/curves', (t) => {
  for (let i = 0; i < 5; i++) {
    const m = msg.subarray(0, 10 + i * 7);
    const s256 = sign(keys.p256, 0x0403, m);
    t.is(s256[0], 0x30);
    t.true(p256.verify(s256, m, keys.p256.spki.subarray(-65), { format: 'der', lowS: false }));
    const s384 = sign(keys.p384, 0x0503, m);
    t.true(p384.verify(s384, m, keys.p384.spki.subarray(-97), { format: 'der', lowS: false }));
    const sEd = sign(keys.ed25519, 0x0807, m);
    t.is(sEd.length, 64);
    t.true(ed25519.verify(sEd, m, keys.ed25519.spki.subarray(-32)));
  }
});

test('signatures made by @noble/curves verify with ours', (t) => {
  const sk = p256.utils.randomSecretKey();
  const pub = p256.getPublicKey(sk, false);
  // SPKI for id-ecPublicKey + prime256v1 (RFC 5480 §2): fixed 26-byte prefix.
  const prefix = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
  const spki = new Uint8Array(Buffer.concat([prefix, Buffer.from(pub)]));
  const sig = p256.sign(msg, sk, { format: 'der' });
  t.true(verify(spki, 0x0403, msg, sig));
  const esk = ed25519.utils.randomSecretKey();
  const epub = ed25519.getPublicKey(esk);
  const espki = new Uint8Array(Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(epub)]));
  t.true(verify(espki, 0x0807, msg, ed25519.sign(msg, esk)));
});

test('loadPrivateKey: PKCS#8, SEC1, PKCS#1 PEM and DER', (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const forms: (string | Uint8Array)[] = [
    ec.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    ec.privateKey.export({ format: 'pem', type: 'sec1' }) as string,
    new Uint8Array(ec.privateKey.export({ format: 'der', type: 'pkcs8' })),
    new Uint8Array(ec.privateKey.export({ format: 'der', type: 'sec1' })),
    // openssl ecparam -genkey style: EC PARAMETERS block before the key, plus a certificate after.
    '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n' +
      (ec.privateKey.export({ format: 'pem', type: 'sec1' }) as string) +
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
  ];
  const spki = new Uint8Array(ec.publicKey.export({ format: 'der', type: 'spki' }));
  for (const f of forms) {
    const k = loadPrivateKey(f);
    t.is(k.kind, 'ec-p256');
    t.deepEqual(k.spki, spki);
    t.true(verify(spki, 0x0403, msg, sign(k, 0x0403, msg)));
  }
  const rsaPriv = createPrivateKey(exportPrivateKeyPem(keys.rsa));
  for (const f of [
    rsaPriv.export({ format: 'pem', type: 'pkcs1' }) as string,
    new Uint8Array(rsaPriv.export({ format: 'der', type: 'pkcs1' })),
    exportPrivateKeyPem(keys.rsa),
    exportPrivateKeyDer(keys.rsa),
  ]) {
    const k = loadPrivateKey(f);
    t.is(k.kind, 'rsa');
    t.deepEqual(k.spki, keys.rsa.spki);
  }
  const ed = loadPrivateKey(exportPrivateKeyPem(keys.ed25519));
  t.is(ed.kind, 'ed25519');
  t.deepEqual(ed.spki, keys.ed25519.spki);
});

test('loadPrivateKey: RSASSA-PSS keys produce rsa_pss_pss_* schemes', (t) => {
  const { privateKey } = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
  const k = loadPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  t.deepEqual([...k.schemes], [0x0809, 0x080a, 0x080b]);
  for (const s of k.schemes) t.true(verify(k.spki, s, msg, sign(k, s, msg)));
  // rsae and pss schemes are not interchangeable (RFC 8446 §4.2.3).
  t.false(verify(k.spki, 0x0804, msg, sign(k, 0x0809, msg)));
  t.false(verify(keys.rsa.spki, 0x0809, msg, sign(keys.rsa, 0x0804, msg)));
  const restricted = generateKeyPairSync('rsa-pss', { modulusLength: 2048, hashAlgorithm: 'sha384', mgf1HashAlgorithm: 'sha384', saltLength: 48 } as never) as unknown as nodeCrypto.KeyPairKeyObjectResult;
  const kr = loadPrivateKey(new Uint8Array(restricted.privateKey.export({ format: 'der', type: 'pkcs8' })));
  t.deepEqual([...kr.schemes], [0x080a]);
  t.true(verify(kr.spki, 0x080a, msg, sign(kr, 0x080a, msg)));
});

test('loadPrivateKey: TypeError on bad or unsupported input', (t) => {
  const bad: unknown[] = [
    '',
    'hello',
    '-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n',
    '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
    new Uint8Array([1, 2, 3]),
    new Uint8Array(0),
    42,
    null,
    generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
    generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
    generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
    generateKeyPairSync('ed448').privateKey.export({ format: 'pem', type: 'pkcs8' }),
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
      cipher: 'aes-128-cbc',
      passphrase: 'pw',
    }),
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
      format: 'pem',
      type: 'sec1',
      cipher: 'aes-128-cbc',
      passphrase: 'pw',
    }),
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'pem', type: 'spki' }),
  ];
  for (const b of bad) t.throws(() => loadPrivateKey(b as string), { instanceOf: TypeError }, String(b).slice(0, 40));
});

test('sign rejects forged SigningKey objects', (t) => {
  const fake: SigningKey = { kind: 'ec-p256', schemes: [0x0403], spki: keys.p256.spki, bits: 0 };
  t.throws(() => sign(fake, 0x0403, msg), { instanceOf: TypeError });
  t.throws(() => signCertificate(fake, { type: 'ecdsa', hash: 'sha256' }, msg), { instanceOf: TypeError });
});

test('certificate signatures: every algorithm round trips; mismatches are false', (t) => {
  const cases: [SigningKey, Parameters<typeof signCertificate>[1]][] = [
    [keys.p256, { type: 'ecdsa', hash: 'sha256' }],
    [keys.p256, { type: 'ecdsa', hash: 'sha384' }],
    [keys.p384, { type: 'ecdsa', hash: 'sha384' }],
    [keys.p384, { type: 'ecdsa', hash: 'sha512' }],
    [keys.ed25519, { type: 'ed25519' }],
    [keys.rsa, { type: 'rsa-pkcs1', hash: 'sha256' }],
    [keys.rsa, { type: 'rsa-pkcs1', hash: 'sha512' }],
    [keys.rsa, { type: 'rsa-pss', hash: 'sha256', saltLength: 32 }],
    [keys.rsa, { type: 'rsa-pss', hash: 'sha384', saltLength: 48 }],
  ];
  for (const [k, alg] of cases) {
    const sig = signCertificate(k, alg, msg);
    t.true(verifyCertificateSignature(k.spki, alg, msg, sig), JSON.stringify(alg));
    t.false(verifyCertificateSignature(k.spki, alg, msg.subarray(1), sig));
  }
  t.throws(() => signCertificate(keys.p256, { type: 'ed25519' }, msg), { instanceOf: RangeError });
  t.throws(() => signCertificate(keys.ed25519, { type: 'rsa-pkcs1', hash: 'sha256' }, msg), { instanceOf: RangeError });
  const s = signCertificate(keys.p256, { type: 'ecdsa', hash: 'sha256' }, msg);
  t.false(verifyCertificateSignature(keys.p256.spki, { type: 'ecdsa', hash: 'sha384' }, msg, s));
  t.false(verifyCertificateSignature(keys.rsa.spki, { type: 'ecdsa', hash: 'sha256' }, msg, s));
  t.deepEqual(defaultCertSignatureAlgorithm(keys.p256), { type: 'ecdsa', hash: 'sha256' });
  t.deepEqual(defaultCertSignatureAlgorithm(keys.rsa), { type: 'rsa-pkcs1', hash: 'sha256' });
});

test('public key import: fast paths agree with SPKI DER, reject bad points and trailing data, cache', (t) => {
  for (const k of Object.values(keys)) {
    const pk = publicKeyFromSpki(k.spki)!;
    t.truthy(pk);
    t.is(publicKeyFromSpki(k.spki.slice()), pk); // cached by content
    const ko = createPublicKey({ key: Buffer.from(k.spki), format: 'der', type: 'spki' });
    t.is(pk.type as string, ko.asymmetricKeyType as string);
    t.is(pk.bits, ko.asymmetricKeyDetails?.modulusLength ?? 0);
  }
  // A P-256 point that is not on the curve.
  const offCurve = keys.p256.spki.slice();
  offCurve[offCurve.length - 1]! ^= 1;
  t.is(publicKeyFromSpki(offCurve), null);
  t.false(verify(offCurve, 0x0403, msg, sign(keys.p256, 0x0403, msg)));
  // Trailing data after an RSA SPKI, and a wrong unused-bits octet.
  const trailing = new Uint8Array(keys.rsa.spki.length + 1);
  trailing.set(keys.rsa.spki);
  t.is(publicKeyFromSpki(trailing), null);
  const unused = keys.rsa.spki.slice();
  unused[23] = 1; // the BIT STRING's unused-bits octet (30 82 01 22 | 30 0d … 05 00 | 03 82 01 0f | 00)
  t.is(keys.rsa.spki[23], 0);
  t.is(publicKeyFromSpki(unused), null);
  // Ed25519 SPKI with a wrong length.
  t.is(publicKeyFromSpki(keys.ed25519.spki.subarray(0, 43)), null);
});
