// X.509 parsing (src/pki/x509.ts): RFC 5280 §4.1 structure and §4.2.1 extensions, cross-checked
// against node:crypto's X509Certificate; truncations and structural violations are bad_certificate.
import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { parseCertificate, nameToString, commonName, KeyUsage, OID, CertificateError } from '../../src/pki/x509.js';
import { buildCertificate, encodeTbs, encodeSignatureAlgorithm } from '../../src/pki/cert-builder.js';
import { derSequence, derBitString, derInteger, derExplicit, derOid, derOctetString, derTlv, derTime } from '../../src/pki/asn1.js';
import { pemEncode } from '../../src/pki/pem.js';
import { signCertificate } from '../../src/crypto/sign.js';
import { root, intermediate, leaf, key, NOW, DAY } from '../fixtures/pki/chain.js';

const R = root();
const I = intermediate(R);
const L = leaf(I);

function bad(t: import('ava').ExecutionContext, der: Uint8Array, msg?: RegExp): void {
  const e = t.throws(() => parseCertificate(der), { instanceOf: CertificateError });
  t.is(e?.alert, 42);
  if (msg) t.regex(e!.message, msg);
}

test('leaf fields', (t) => {
  const c = parseCertificate(L.der);
  t.is(c.version, 3);
  t.deepEqual(c.der, L.der);
  t.not(c.der.buffer, L.der.buffer); // a private copy
  t.is(nameToString(c.subject), 'CN=leaf.example.com');
  t.is(nameToString(c.issuer), 'CN=Quiver Test Intermediate,O=Quiver Tests');
  t.is(commonName(c.subject), 'leaf.example.com');
  t.is(c.notBefore, NOW - DAY);
  t.is(c.notAfter, NOW + 30 * DAY);
  t.deepEqual(c.spki, key('leaf').spki);
  t.is(c.publicKeyAlgorithm, 'ec-p256');
  t.is(c.publicKeyBits, 256);
  t.is(c.signatureAlgorithm.name, 'ecdsa-with-SHA256');
  t.deepEqual(c.signatureAlgorithm.verifier, { type: 'ecdsa', hash: 'sha256' });
  t.false(c.selfIssued);
  const e = c.extensions;
  t.deepEqual(e.subjectAltNames?.dns, ['leaf.example.com', '*.wild.example.com']);
  t.deepEqual(e.subjectAltNames?.ip.map((b) => Buffer.from(b).toString('hex')), ['c0000207', '20010db8000000000000000000000007']);
  t.deepEqual(e.basicConstraints, { ca: false, pathLen: undefined });
  t.is(e.keyUsage, 1 << KeyUsage.digitalSignature);
  t.deepEqual(e.extKeyUsage, [OID.serverAuth, OID.clientAuth]);
  t.is(e.subjectKeyId?.length, 20);
  t.deepEqual(e.authorityKeyId, parseCertificate(I.der).extensions.subjectKeyId);
  t.deepEqual(e.unhandledCritical, []);
  t.deepEqual(e.all.map((x) => [x.oid, x.critical, x.handled]), [
    [OID.subjectAltName, false, true],
    [OID.basicConstraints, true, true],
    [OID.keyUsage, true, true],
    [OID.extKeyUsage, false, true],
    [OID.subjectKeyIdentifier, false, true],
    [OID.authorityKeyIdentifier, false, true],
  ]);
  const ic = parseCertificate(I.der);
  t.deepEqual(ic.extensions.basicConstraints, { ca: true, pathLen: 0 });
  t.is(ic.extensions.keyUsage, (1 << KeyUsage.keyCertSign) | (1 << KeyUsage.cRLSign));
  t.true(parseCertificate(R.der).selfIssued);
});

test('agrees with node:crypto X509Certificate', (t) => {
  for (const d of [R.der, I.der, L.der]) {
    const c = parseCertificate(d);
    const x = new X509Certificate(Buffer.from(d));
    t.is(Date.parse(x.validFrom), c.notBefore);
    t.is(Date.parse(x.validTo), c.notAfter);
    t.is(x.serialNumber.toLowerCase(), Buffer.from(c.serial).toString('hex'));
    t.deepEqual(new Uint8Array(x.publicKey.export({ format: 'der', type: 'spki' })), c.spki);
    t.is(x.ca, c.extensions.basicConstraints?.ca ?? false);
    t.deepEqual(new Uint8Array(x.raw), c.der);
  }
  const x = new X509Certificate(pemEncode(L.der, 'CERTIFICATE'));
  t.is(x.subjectAltName, 'DNS:leaf.example.com, DNS:*.wild.example.com, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:7');
  t.deepEqual(x.keyUsage, [OID.serverAuth, OID.clientAuth]);
  t.true(x.verify(new X509Certificate(Buffer.from(I.der)).publicKey));
  t.truthy(x.checkIssued(new X509Certificate(Buffer.from(I.der))));
});

test('every truncated prefix and any trailing byte is bad_certificate', (t) => {
  for (let n = 0; n < L.der.length; n++) bad(t, L.der.subarray(0, n));
  const extra = new Uint8Array(L.der.length + 1);
  extra.set(L.der);
  bad(t, extra, /trailing/);
});

// Assemble a certificate from a hand-made TBS so structural rules can be broken on purpose.
function assemble(tbs: Uint8Array, outerAlg = encodeSignatureAlgorithm({ type: 'ecdsa', hash: 'sha256' })): Uint8Array {
  const sig = signCertificate(key('leaf'), { type: 'ecdsa', hash: 'sha256' }, tbs);
  return derSequence(tbs, outerAlg, derBitString(sig));
}

const k = key('leaf');
const base = {
  serial: new Uint8Array([1]),
  subject: 'x',
  notBefore: NOW,
  notAfter: NOW + DAY,
  publicKey: k.spki,
  issuerKey: k,
};

test('TBS signature algorithm must equal the outer one (RFC 5280 §4.1.1.2)', (t) => {
  const tbs = encodeTbs(base, { type: 'ecdsa', hash: 'sha256' });
  t.truthy(parseCertificate(assemble(tbs)));
  bad(t, assemble(tbs, encodeSignatureAlgorithm({ type: 'ecdsa', hash: 'sha384' })), /differs/);
});

test('duplicate extensions, empty SAN, bad IP length and v1 with extensions are rejected', (t) => {
  const v = derSequence(derOid('1.2.3'));
  bad(t, buildCertificate({ ...base, extensions: [{ oid: '1.2.3.4', value: v }, { oid: '1.2.3.4', value: v }] }), /duplicate/);
  bad(t, buildCertificate({ ...base, extensions: [{ oid: OID.subjectAltName, value: derSequence() }] }), /empty GeneralNames/);
  bad(t, buildCertificate({ ...base, extensions: [{ oid: OID.subjectAltName, value: derSequence(derTlv(0x87, new Uint8Array(5))) }] }), /iPAddress/);
  bad(t, buildCertificate({ ...base, extensions: [{ oid: OID.subjectAltName, value: derSequence(derTlv(0x82, new Uint8Array([0xc3, 0xa9]))) }] }), /IA5/);
  bad(t, buildCertificate({ ...base, extensions: [{ oid: OID.basicConstraints, value: derSequence(derInteger(1), derInteger(1)) }] }), /trailing/);
  bad(t, buildCertificate({ ...base, extensions: [{ oid: OID.keyUsage, value: derOctetString(new Uint8Array(1)) }] }));
  bad(t, buildCertificate({ ...base, extensions: [{ oid: OID.extKeyUsage, value: derSequence() }] }), /empty/);
  // v1: no version field; extensions not allowed.
  const alg = encodeSignatureAlgorithm({ type: 'ecdsa', hash: 'sha256' });
  const name = derSequence();
  const validity = derSequence(derTime(NOW), derTime(NOW + DAY));
  const v1 = derSequence(derInteger(5), alg, name, validity, name, k.spki);
  const c = parseCertificate(assemble(v1));
  t.is(c.version, 1);
  t.deepEqual(c.extensions.all, []);
  bad(t, assemble(derSequence(derInteger(5), alg, name, validity, name, k.spki, derExplicit(3, derSequence(derSequence(derOid('1.2.3'), derOctetString(v)))))), /not v3/);
  bad(t, assemble(derSequence(derExplicit(0, derInteger(3)), derInteger(5), alg, name, validity, name, k.spki)), /version/);
});

test('critical unknown extensions are listed; name constraints with other forms are unhandled', (t) => {
  const v = derSequence(derOid('1.2.3'));
  const c = parseCertificate(buildCertificate({ ...base, extensions: [{ oid: '1.2.3.4', critical: true, value: v }] }));
  t.deepEqual(c.extensions.unhandledCritical, ['1.2.3.4']);
  const nc = derSequence(derTlv(0xa0, derSequence(derTlv(0x81, new TextEncoder().encode('example.com')))));
  const c2 = parseCertificate(buildCertificate({ ...base, extensions: [{ oid: OID.nameConstraints, critical: true, value: nc }] }));
  t.true(c2.extensions.nameConstraints?.hasUnsupportedForms);
  t.deepEqual(c2.extensions.unhandledCritical, [OID.nameConstraints]);
});

test('RSA, RSA-PSS, Ed25519 and P-384 certificates parse with the right algorithms', (t) => {
  const rsa = root('RSA Root', key('RSA Root', 'rsa'));
  const c = parseCertificate(rsa.der);
  t.is(c.publicKeyAlgorithm, 'rsa');
  t.is(c.publicKeyBits, 2048);
  t.is(c.signatureAlgorithm.name, 'sha256WithRSAEncryption');
  const pss = root('PSS Root', key('RSA Root', 'rsa'), { alg: { type: 'rsa-pss', hash: 'sha384', saltLength: 48 } } as never);
  const cp = parseCertificate(pss.der);
  t.is(cp.signatureAlgorithm.name, 'RSASSA-PSS');
  t.deepEqual(cp.signatureAlgorithm.verifier, { type: 'rsa-pss', hash: 'sha384', saltLength: 48 });
  t.true(new X509Certificate(Buffer.from(pss.der)).verify(new X509Certificate(Buffer.from(pss.der)).publicKey));
  const ed = parseCertificate(root('Ed Root', key('Ed Root', 'ed25519')).der);
  t.is(ed.publicKeyAlgorithm, 'ed25519');
  t.is(ed.signatureAlgorithm.name, 'Ed25519');
  const p384 = parseCertificate(root('P384 Root', key('P384 Root', 'ec-p384')).der);
  t.is(p384.publicKeyAlgorithm, 'ec-p384');
  t.is(p384.signatureAlgorithm.name, 'ecdsa-with-SHA384');
});
