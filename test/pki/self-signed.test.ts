// Self-signed certificate generation (src/pki/self-signed.ts): the profile of the module header,
// verified by our own verifyChain and cross-checked with node:crypto's X509Certificate.
import test from 'ava';
import { X509Certificate, createHash } from 'node:crypto';
import { generateSelfSigned, CLOCK_SKEW_MS } from '../../src/pki/self-signed.js';
import { verifyChain, CertificateError, CertAlert } from '../../src/pki/verify.js';
import { parseCertificate, KeyUsage, OID } from '../../src/pki/x509.js';
import { pemDecode } from '../../src/pki/pem.js';
import { loadPrivateKey, sign, verify, generateSigningKey } from '../../src/crypto/sign.js';

const NOW = Date.UTC(2026, 5, 1, 8, 30, 0);
const DAY = 86_400_000;

test('default profile: P-256, SAN localhost/127.0.0.1/::1, CA:FALSE, digitalSignature, serverAuth, 14 days', (t) => {
  const s = generateSelfSigned({ now: NOW });
  t.deepEqual(pemDecode(s.certPem, 'CERTIFICATE'), [s.certDer]);
  const c = parseCertificate(s.certDer);
  t.is(c.version, 3);
  t.is(c.publicKeyAlgorithm, 'ec-p256');
  t.is(c.signatureAlgorithm.name, 'ecdsa-with-SHA256');
  t.true(c.selfIssued);
  t.is(c.subject.rdns[0]![0]!.value, 'localhost');
  t.deepEqual(c.extensions.subjectAltNames?.dns, ['localhost']);
  t.deepEqual(c.extensions.subjectAltNames?.ip.map((b) => b.length), [4, 16]);
  t.deepEqual(c.extensions.basicConstraints, { ca: false, pathLen: undefined });
  t.is(c.extensions.keyUsage, 1 << KeyUsage.digitalSignature);
  t.deepEqual(c.extensions.extKeyUsage, [OID.serverAuth]);
  t.is(c.extensions.subjectKeyId?.length, 20);
  const crit = Object.fromEntries(c.extensions.all.map((e) => [e.oid, e.critical]));
  t.true(crit[OID.basicConstraints]);
  t.true(crit[OID.keyUsage]);
  t.is(c.notBefore, NOW - CLOCK_SKEW_MS);
  t.is(c.notAfter - c.notBefore, 14 * DAY);
  t.is(c.serial.length, 16);
  t.is(c.serial[0]! & 0x80, 0);
  t.deepEqual(c.spki, s.key.spki);
});

test('verifies with our own verifyChain for each default host', (t) => {
  const s = generateSelfSigned({ now: NOW });
  for (const hostname of ['localhost', 'LOCALHOST.', '127.0.0.1', '::1', '[::1]']) {
    t.truthy(verifyChain([s.certDer], { ca: [s.certDer], hostname, now: NOW, purpose: 'server' }), hostname);
  }
  const e1 = t.throws(() => verifyChain([s.certDer], { ca: [s.certDer], hostname: 'example.com', now: NOW, purpose: 'server' }), { instanceOf: CertificateError });
  t.is(e1?.alert, CertAlert.certificate_unknown);
  const e2 = t.throws(() => verifyChain([s.certDer], { hostname: 'localhost', now: NOW, purpose: 'server' }), { instanceOf: CertificateError });
  t.is(e2?.alert, CertAlert.unknown_ca);
  const e3 = t.throws(() => verifyChain([s.certDer], { ca: [s.certDer], now: NOW + 14 * DAY, purpose: 'server' }), { instanceOf: CertificateError });
  t.is(e3?.alert, CertAlert.certificate_expired);
  const e4 = t.throws(() => verifyChain([s.certDer], { ca: [s.certDer], now: NOW, purpose: 'client' }), { instanceOf: CertificateError });
  t.is(e4?.alert, CertAlert.unsupported_certificate);
  // Clock skew: a peer an hour behind still accepts it.
  t.truthy(verifyChain([s.certDer], { ca: [s.certDer], now: NOW - CLOCK_SKEW_MS + 1000, purpose: 'server' }));
  // Another self-signed certificate with the same name is not trusted.
  const other = generateSelfSigned({ now: NOW });
  const e5 = t.throws(() => verifyChain([other.certDer], { ca: [s.certDer], now: NOW, purpose: 'server' }), { instanceOf: CertificateError });
  t.is(e5?.alert, CertAlert.bad_certificate);
});

test('node:crypto X509Certificate accepts it', (t) => {
  const s = generateSelfSigned({ now: NOW });
  const x = new X509Certificate(s.certPem);
  t.true(x.verify(x.publicKey));
  // (x.checkIssued(x) is false by design: keyUsage has no keyCertSign, so it cannot issue — even itself.)
  t.is(x.checkHost('localhost'), 'localhost');
  t.is(x.checkIP('127.0.0.1'), '127.0.0.1');
  t.is(x.checkIP('::1'), '::1');
  t.is(x.checkHost('example.com'), undefined);
  t.false(x.ca);
  t.deepEqual(x.keyUsage, [OID.serverAuth]);
  t.is(Date.parse(x.validFrom), NOW - CLOCK_SKEW_MS);
  t.is(x.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  // spkiSha256Base64 is base64(SHA-256(SPKI DER)) as Chromium's --ignore-certificate-errors-spki-list wants.
  const spki = x.publicKey.export({ format: 'der', type: 'spki' });
  t.is(s.spkiSha256Base64, createHash('sha256').update(spki).digest('base64'));
  t.deepEqual(s.certSha256, new Uint8Array(createHash('sha256').update(s.certDer).digest()));
  t.is(x.fingerprint256.replace(/:/g, '').toLowerCase(), Buffer.from(s.certSha256).toString('hex'));
});

test('the key PEM loads back and signs CertificateVerify for the certificate', (t) => {
  const s = generateSelfSigned({ now: NOW });
  const k = loadPrivateKey(s.keyPem);
  t.is(k.kind, 'ec-p256');
  t.deepEqual(k.spki, parseCertificate(s.certDer).spki);
  const data = new Uint8Array(100).fill(0x20);
  t.true(verify(parseCertificate(s.certDer).spki, 0x0403, data, sign(k, 0x0403, data)));
  t.true(verify(s.key.spki, 0x0403, data, sign(s.key, 0x0403, data)));
});

test('options: hosts, commonName, days, key, serial; bad options throw', (t) => {
  const key = generateSigningKey('ed25519');
  const s = generateSelfSigned({
    now: NOW,
    hosts: ['quiver.test', '*.quiver.test', '10.0.0.1', 'fe80::1'],
    commonName: 'Quiver dev',
    days: 1,
    key,
    serial: new Uint8Array([0x42]),
  });
  const c = parseCertificate(s.certDer);
  t.is(c.subject.rdns[0]![0]!.value, 'Quiver dev');
  t.deepEqual(c.extensions.subjectAltNames?.dns, ['quiver.test', '*.quiver.test']);
  t.is(c.publicKeyAlgorithm, 'ed25519');
  t.is(c.notAfter - c.notBefore, DAY);
  t.deepEqual(c.serial, new Uint8Array([0x42]));
  for (const hostname of ['quiver.test', 'a.quiver.test', '10.0.0.1', 'fe80::1']) {
    t.truthy(verifyChain([s.certDer], { ca: [s.certDer], hostname, now: NOW, purpose: 'server' }), hostname);
  }
  t.throws(() => generateSelfSigned({ now: NOW, days: 15 }), { instanceOf: RangeError });
  t.throws(() => generateSelfSigned({ now: NOW, days: 0 }), { instanceOf: RangeError });
  t.truthy(generateSelfSigned({ now: NOW, days: 365, allowLongValidity: true }));
  t.throws(() => generateSelfSigned({ now: NOW, hosts: [] }), { instanceOf: TypeError });
  t.throws(() => generateSelfSigned({ now: NOW, hosts: ['bad host'] }), { instanceOf: TypeError });
  t.throws(() => generateSelfSigned({ now: NOW, hosts: ['a..b'] }), { instanceOf: TypeError });
  t.throws(() => generateSelfSigned({} as never), { instanceOf: TypeError });
  // Random serials differ.
  t.notDeepEqual(generateSelfSigned({ now: NOW }).certDer.subarray(15, 31), generateSelfSigned({ now: NOW }).certDer.subarray(15, 31));
});
