// Node's bundled roots (src/pki/roots.ts): every one must parse (RFC 5280 §4.1), agree with
// node:crypto's X509Certificate, and — where its algorithm is supported — carry a valid self-signature.
import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { defaultTrustAnchors, parsedDefaultTrustAnchors } from '../../src/pki/roots.js';
import { defaultTrustStore } from '../../src/pki/verify.js';
import { verifyCertificateSignature } from '../../src/crypto/sign.js';
import { nameToString } from '../../src/pki/x509.js';

test('every bundled root parses', (t) => {
  const { certs, failures } = parsedDefaultTrustAnchors();
  for (const f of failures) t.log(`root #${f.index} does not parse: ${f.error}`);
  t.is(defaultTrustAnchors().length, rootCertificates.length);
  t.is(failures.length, 0);
  t.is(certs.length, rootCertificates.length);
  t.is(defaultTrustStore().certs.length, certs.length);
  t.log(`${certs.length} roots parsed`);
});

test('bundled roots agree with X509Certificate; supported self-signatures verify', (t) => {
  const { certs } = parsedDefaultTrustAnchors();
  const algs = new Map<string, number>();
  let checked = 0;
  for (const c of certs) {
    const x = new X509Certificate(Buffer.from(c.der));
    t.is(Date.parse(x.validFrom), c.notBefore, nameToString(c.subject));
    t.is(Date.parse(x.validTo), c.notAfter);
    t.is(x.serialNumber.toLowerCase().replace(/^0+/, ''), Buffer.from(c.serial).toString('hex').replace(/^0+/, ''));
    t.deepEqual(new Uint8Array(x.publicKey.export({ format: 'der', type: 'spki' })), c.spki);
    t.true(c.selfIssued);
    t.true(defaultTrustStore().contains(c.der));
    t.true(defaultTrustStore().bySubject(c.subjectDer).includes(c));
    algs.set(c.signatureAlgorithm.name, (algs.get(c.signatureAlgorithm.name) ?? 0) + 1);
    if (c.signatureAlgorithm.verifier) {
      t.true(verifyCertificateSignature(c.spki, c.signatureAlgorithm.verifier, c.tbs, c.signature), nameToString(c.subject));
      checked++;
    }
  }
  t.log(`self-signatures verified: ${checked}; algorithms: ${[...algs].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  t.true(checked > 100);
});
