// Chain verification (src/pki/verify.ts): RFC 5280 §6.1 path validation, §4.2.1.9/§4.2.1.3/
// §4.2.1.12 constraints, RFC 6125 §6.4 names, each failure with its TLS alert (RFC 8446 §6.2).
import test from 'ava';
import { verifyChain, verifyPath, createTrustStore, CertificateError, CertAlert, type VerifyOptions } from '../../src/pki/verify.js';
import { OID } from '../../src/pki/x509.js';
import { derSequence, derOid } from '../../src/pki/asn1.js';
import { root, intermediate, leaf, key, NOW, DAY, type Issued } from '../fixtures/pki/chain.js';

const R = root();
const I = intermediate(R);
const L = leaf(I);

function opts(extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return { ca: [R.der], now: NOW, purpose: 'server', hostname: 'leaf.example.com', ...extra };
}

function alertOf(t: import('ava').ExecutionContext, fn: () => unknown, alert: number, msg?: RegExp): void {
  const e = t.throws(fn, { instanceOf: CertificateError });
  t.is(e?.alert, alert, e?.message);
  t.is(e?.code, 'ERR_TLS_CERTIFICATE');
  if (msg) t.regex(e!.message, msg);
}

test('root → intermediate → leaf verifies and returns the leaf', (t) => {
  const c = verifyChain([L.der, I.der], opts());
  t.deepEqual(c.der, L.der);
  const path = verifyPath([L.der, I.der], opts());
  t.is(path.length, 3);
  t.deepEqual(path[2]!.der, R.der);
  // Same with a prebuilt TrustStore, and a client purpose.
  t.truthy(verifyChain([L.der, I.der], opts({ ca: createTrustStore([R.der]), purpose: 'client', hostname: undefined })));
});

test('intermediates in any order, duplicates and extras ignored', (t) => {
  const other = intermediate(root('Other Root'), 'Unrelated Intermediate');
  t.truthy(verifyChain([L.der, other.der, I.der, I.der], opts()));
  t.truthy(verifyChain([L.der, R.der, I.der], opts()));
});

test('leaf itself pinned as the trust anchor', (t) => {
  t.truthy(verifyChain([L.der], opts({ ca: [L.der] })));
});

test('validity dates: expired and not yet valid → certificate_expired (45)', (t) => {
  alertOf(t, () => verifyChain([L.der, I.der], opts({ now: NOW + 31 * DAY })), CertAlert.certificate_expired, /expired/);
  alertOf(t, () => verifyChain([L.der, I.der], opts({ now: NOW - 2 * DAY })), CertAlert.certificate_expired, /not yet valid/);
  // Boundaries are inclusive (RFC 5280 §4.1.2.5).
  t.truthy(verifyChain([L.der, I.der], opts({ now: NOW + 30 * DAY })));
  t.truthy(verifyChain([L.der, I.der], opts({ now: NOW - DAY })));
  const oldI = intermediate(R, 'Expired Intermediate', key('Expired Intermediate'), { notBefore: NOW - 100 * DAY, notAfter: NOW - DAY });
  alertOf(t, () => verifyChain([leaf(oldI).der, oldI.der], opts()), CertAlert.certificate_expired, /intermediate/);
  const oldRoot = root('Expired Root', key('Expired Root'), { notBefore: NOW - 100 * DAY, notAfter: NOW - DAY });
  const L2 = leaf(oldRoot);
  alertOf(t, () => verifyChain([L2.der], opts({ ca: [oldRoot.der] })), CertAlert.certificate_expired, /trust anchor/);
});

test('unknown CA → unknown_ca (48)', (t) => {
  alertOf(t, () => verifyChain([L.der, I.der], opts({ ca: [root('Other Root').der] })), CertAlert.unknown_ca);
  alertOf(t, () => verifyChain([L.der], opts()), CertAlert.unknown_ca, /no issuer/);
  // Not in Node's bundled roots either.
  alertOf(t, () => verifyChain([L.der, I.der], opts({ ca: undefined })), CertAlert.unknown_ca);
});

test('bad signature → bad_certificate (42)', (t) => {
  // Same DN and name as R but a different key: signatures do not verify.
  const impostor = root('Quiver Test Root', key('impostor'));
  alertOf(t, () => verifyChain([L.der, I.der], opts({ ca: [impostor.der] })), CertAlert.bad_certificate, /bad signature/);
  const tampered = L.der.slice();
  tampered[tampered.length - 10]! ^= 0x01; // inside the signature
  alertOf(t, () => verifyChain([tampered, I.der], opts()), CertAlert.bad_certificate);
  // Flip a byte inside the TBS (in the SAN text) so the structure stays valid.
  const i = Buffer.from(L.der).indexOf('leaf.example.com');
  const tbsTampered = L.der.slice();
  tbsTampered[i]! ^= 0x20;
  alertOf(t, () => verifyChain([tbsTampered, I.der], opts({ hostname: undefined })), CertAlert.bad_certificate, /bad signature/);
});

test('the right issuer is found among same-named candidates', (t) => {
  const impostor = root('Quiver Test Root', key('impostor'));
  t.truthy(verifyChain([L.der, I.der], opts({ ca: [impostor.der, R.der] })));
});

test('wrong host → certificate_unknown (46); CN is ignored; SAN required', (t) => {
  alertOf(t, () => verifyChain([L.der, I.der], opts({ hostname: 'other.example.com' })), CertAlert.certificate_unknown);
  const noSan = leaf(I, { subjectAltNames: undefined });
  alertOf(t, () => verifyChain([noSan.der, I.der], opts()), CertAlert.certificate_unknown, /no subjectAltName/);
  t.truthy(verifyChain([noSan.der, I.der], opts({ hostname: undefined })));
  t.truthy(verifyChain([L.der, I.der], opts({ hostname: 'LEAF.Example.COM.' })));
});

test('wildcards: one whole left-most label only (RFC 6125 §6.4.3)', (t) => {
  const ok = (h: string) => t.truthy(verifyChain([L.der, I.der], opts({ hostname: h })), h);
  const bad = (h: string) => alertOf(t, () => verifyChain([L.der, I.der], opts({ hostname: h })), CertAlert.certificate_unknown);
  ok('a.wild.example.com');
  ok('xn--bcher-kva.wild.example.com');
  bad('wild.example.com');
  bad('a.b.wild.example.com');
  bad('.wild.example.com');
  const odd = leaf(I, { subjectAltNames: { dns: ['*.com', 'f*.example.org', '*.*.example.net', 'a.*.example.io'] } });
  for (const h of ['example.com', 'foo.example.org', 'a.b.example.net', 'a.b.example.io']) {
    alertOf(t, () => verifyChain([odd.der, I.der], opts({ hostname: h })), CertAlert.certificate_unknown, new RegExp(h.replace(/\./g, '\\.')));
  }
});

test('IP SANs match exactly, v4 and v6, never via DNS entries', (t) => {
  for (const h of ['192.0.2.7', '2001:db8::7', '[2001:db8::7]', '2001:0db8:0:0:0:0:0:7', '2001:db8::0.0.0.7']) {
    t.truthy(verifyChain([L.der, I.der], opts({ hostname: h })), h);
  }
  for (const h of ['192.0.2.8', '2001:db8::8', '::ffff:192.0.2.7', '192.0.2.07']) {
    alertOf(t, () => verifyChain([L.der, I.der], opts({ hostname: h })), CertAlert.certificate_unknown);
  }
  // An IP written as a dNSName does not match an IP literal.
  const dnsIp = leaf(I, { subjectAltNames: { dns: ['192.0.2.9'] } });
  alertOf(t, () => verifyChain([dnsIp.der, I.der], opts({ hostname: '192.0.2.9' })), CertAlert.certificate_unknown);
});

test('CA:FALSE or missing basicConstraints on an issuer → unknown_ca (48)', (t) => {
  const notCa = intermediate(R, 'Not A CA', key('Not A CA'), { basicConstraints: { ca: false } });
  alertOf(t, () => verifyChain([leaf(notCa).der, notCa.der], opts()), CertAlert.unknown_ca, /not a CA/);
  const noBc = intermediate(R, 'No BC', key('No BC'), { basicConstraints: undefined });
  alertOf(t, () => verifyChain([leaf(noBc).der, noBc.der], opts()), CertAlert.unknown_ca, /not a CA/);
  // A leaf used to issue another leaf.
  const L2 = leaf(L, { issuer: 'leaf.example.com' }, key('leaf2'));
  alertOf(t, () => verifyChain([L2.der, L.der, I.der], opts({ hostname: undefined })), CertAlert.unknown_ca, /not a CA/);
});

test('keyUsage without keyCertSign on an issuer → unknown_ca (48)', (t) => {
  const noSign = intermediate(R, 'No KeyCertSign', key('No KeyCertSign'), { keyUsage: { bits: ['digitalSignature'] } });
  alertOf(t, () => verifyChain([leaf(noSign).der, noSign.der], opts()), CertAlert.unknown_ca, /keyCertSign/);
});

test('pathLenConstraint exceeded → unknown_ca (48)', (t) => {
  // R → I (pathLen 0) → I2 → leaf: I2 sits under I although I allows no further CA.
  const I2 = intermediate(I, 'Second Intermediate', key('Second Intermediate'));
  const L2 = leaf(I2);
  alertOf(t, () => verifyChain([L2.der, I2.der, I.der], opts()), CertAlert.unknown_ca, /pathLenConstraint 0/);
  // With pathLen 1 on the upper intermediate it passes.
  const Iwide = intermediate(R, 'Wide Intermediate', key('Wide Intermediate'), { basicConstraints: { ca: true, pathLen: 1 } });
  const I3 = intermediate(Iwide, 'Third Intermediate', key('Third Intermediate'));
  t.truthy(verifyChain([leaf(I3).der, I3.der, Iwide.der], opts()));
  // The root's own pathLen applies too.
  const R0 = root('PathLen0 Root', key('PathLen0 Root'), { basicConstraints: { ca: true, pathLen: 0 } });
  const I4 = intermediate(R0, 'Under PathLen0', key('Under PathLen0'));
  alertOf(t, () => verifyChain([leaf(I4).der, I4.der], opts({ ca: [R0.der] })), CertAlert.unknown_ca, /pathLen/);
  t.truthy(verifyChain([leaf(R0).der], opts({ ca: [R0.der] })));
});

test('extKeyUsage by purpose → unsupported_certificate (43)', (t) => {
  const serverOnly = leaf(I, { extKeyUsage: [OID.serverAuth] });
  const clientOnly = leaf(I, { extKeyUsage: [OID.clientAuth] });
  const anyEku = leaf(I, { extKeyUsage: [OID.anyExtendedKeyUsage] });
  const noEku = leaf(I, { extKeyUsage: undefined });
  t.truthy(verifyChain([serverOnly.der, I.der], opts()));
  alertOf(t, () => verifyChain([serverOnly.der, I.der], opts({ purpose: 'client', hostname: undefined })), CertAlert.unsupported_certificate, /clientAuth/);
  t.truthy(verifyChain([clientOnly.der, I.der], opts({ purpose: 'client', hostname: undefined })));
  alertOf(t, () => verifyChain([clientOnly.der, I.der], opts()), CertAlert.unsupported_certificate, /serverAuth/);
  t.truthy(verifyChain([anyEku.der, I.der], opts()));
  t.truthy(verifyChain([noEku.der, I.der], opts({ purpose: 'client' })));
  // An intermediate restricted to clientAuth cannot vouch for a server.
  const clientCa = intermediate(R, 'Client CA', key('Client CA'), { extKeyUsage: [OID.clientAuth] });
  alertOf(t, () => verifyChain([leaf(clientCa).der, clientCa.der], opts()), CertAlert.unsupported_certificate, /intermediate/);
  t.truthy(verifyChain([leaf(clientCa).der, clientCa.der], opts({ purpose: 'client' })));
});

test('leaf keyUsage must include digitalSignature when present', (t) => {
  const kE = leaf(I, { keyUsage: { bits: ['keyEncipherment'] } });
  alertOf(t, () => verifyChain([kE.der, I.der], opts()), CertAlert.unsupported_certificate, /digitalSignature/);
});

test('unknown critical extension → unsupported_certificate (43); non-critical is ignored', (t) => {
  const value = derSequence(derOid('1.2.3.4'));
  const crit = leaf(I, { extensions: [{ oid: '1.3.6.1.4.1.99999.1', critical: true, value }] });
  alertOf(t, () => verifyChain([crit.der, I.der], opts()), CertAlert.unsupported_certificate, /1\.3\.6\.1\.4\.1\.99999\.1/);
  const nonCrit = leaf(I, { extensions: [{ oid: '1.3.6.1.4.1.99999.1', critical: false, value }] });
  t.truthy(verifyChain([nonCrit.der, I.der], opts()));
  const critI = intermediate(R, 'Crit Intermediate', key('Crit Intermediate'), { extensions: [{ oid: '1.3.6.1.4.1.99999.2', critical: true, value }] });
  alertOf(t, () => verifyChain([leaf(critI).der, critI.der], opts()), CertAlert.unsupported_certificate);
});

test('unsupported signature algorithm → unsupported_certificate (43)', (t) => {
  // Re-label both AlgorithmIdentifiers of a valid ECDSA certificate with an unknown ECDSA arc
  // (1.2.840.10045.4.3.9): it still parses, but no verifier exists for it.
  const sha256 = Buffer.from('06082a8648ce3d040302', 'hex');
  const weird = root('Weird Root', key('Weird Root'));
  const P = leaf(weird);
  const patched = Buffer.from(P.der);
  let at = patched.indexOf(sha256);
  while (at >= 0) {
    patched[at + 9] = 0x09; // ecdsa-with-SHA2xx arc 2 → arc 9 (unknown)
    at = patched.indexOf(sha256, at + 1);
  }
  alertOf(t, () => verifyChain([new Uint8Array(patched)], opts({ ca: [weird.der] })), CertAlert.unsupported_certificate, /unsupported signature/);
});

test('algorithms: P-384, Ed25519, RSA PKCS#1 and RSA-PSS chains', (t) => {
  const cases: [string, Issued][] = [];
  const r384 = root('P384 Root', key('P384 Root', 'ec-p384'));
  cases.push(['p384', r384]);
  const rEd = root('Ed Root', key('Ed Root', 'ed25519'));
  cases.push(['ed25519', rEd]);
  const rRsa = root('RSA Root', key('RSA Root', 'rsa'));
  cases.push(['rsa-pkcs1', rRsa]);
  const rPss = root('PSS Root', key('RSA Root', 'rsa'), { alg: { type: 'rsa-pss', hash: 'sha256', saltLength: 32 } });
  cases.push(['rsa-pss', rPss]);
  for (const [label, r] of cases) {
    const alg = label === 'rsa-pss' ? { alg: { type: 'rsa-pss' as const, hash: 'sha384' as const, saltLength: 48 } } : {};
    const i = intermediate(r, `${label} Intermediate`, key(`${label} Intermediate`, label === 'ed25519' ? 'ed25519' : 'ec-p384'), alg);
    const l = leaf(i, {}, key(`${label} leaf`, label === 'p384' ? 'ec-p384' : label === 'ed25519' ? 'ed25519' : 'rsa'));
    t.truthy(verifyChain([l.der, i.der], opts({ ca: [r.der] })), label);
  }
});

test('cross-signed root: a path through the cross certificate to an old root', (t) => {
  const newRoot = root('New Root', key('New Root'));
  const oldRoot = root('Old Root', key('Old Root'));
  // The new root's key and name, certified by the old root.
  const cross = intermediate(oldRoot, 'New Root', key('New Root'), { basicConstraints: { ca: true } });
  const i = intermediate(newRoot, 'Issuing CA', key('Issuing CA'));
  const l = leaf(i);
  t.truthy(verifyChain([l.der, i.der, cross.der], opts({ ca: [newRoot.der] })));
  const path = verifyPath([l.der, i.der, cross.der], opts({ ca: [oldRoot.der] }));
  t.is(path.length, 4);
  t.deepEqual(path[3]!.der, oldRoot.der);
  t.truthy(verifyChain([l.der, cross.der, i.der], opts({ ca: [oldRoot.der, newRoot.der] })));
});

test('name constraints on a CA (DNS and IP subtrees)', (t) => {
  const nc = intermediate(R, 'Constrained CA', key('Constrained CA'), {
    nameConstraints: {
      permittedDns: ['example.com'],
      excludedDns: ['bad.wild.example.com'],
      permittedIp: [{ addr: new Uint8Array([192, 0, 2, 0]), mask: new Uint8Array([255, 255, 255, 0]) }],
    },
  });
  const good = leaf(nc, { subjectAltNames: { dns: ['leaf.example.com'], ip: ['192.0.2.7'] } });
  t.truthy(verifyChain([good.der, nc.der], opts()));
  const outside = leaf(nc, { subjectAltNames: { dns: ['leaf.example.org'] } });
  alertOf(t, () => verifyChain([outside.der, nc.der], opts({ hostname: 'leaf.example.org' })), CertAlert.bad_certificate, /permitted/);
  // The default leaf has *.wild.example.com, which can match the excluded bad.wild.example.com.
  alertOf(t, () => verifyChain([leaf(nc, { subjectAltNames: { dns: ['*.wild.example.com'] } }).der, nc.der], opts({ hostname: 'a.wild.example.com' })), CertAlert.bad_certificate, /excluded/);
  const ipOut = leaf(nc, { subjectAltNames: { dns: ['leaf.example.com'], ip: ['198.51.100.1'] } });
  alertOf(t, () => verifyChain([ipOut.der, nc.der], opts()), CertAlert.bad_certificate, /IP/);
});

test('chain length and option checks', (t) => {
  alertOf(t, () => verifyChain([], opts()), CertAlert.bad_certificate, /empty/);
  alertOf(t, () => verifyChain(new Array(17).fill(L.der), opts()), CertAlert.bad_certificate);
  alertOf(t, () => verifyChain([new Uint8Array([0x30, 0x00])], opts()), CertAlert.bad_certificate);
  t.throws(() => verifyChain([L.der], { ...opts(), now: NaN }), { instanceOf: TypeError });
  t.throws(() => verifyChain([L.der], { ...opts(), purpose: 'both' as never }), { instanceOf: TypeError });
  t.throws(() => verifyChain([L.der], { ...opts(), hostname: '' }), { instanceOf: TypeError });
  t.throws(() => verifyChain([L.der], { ...opts(), ca: [new Uint8Array([1])] }), { instanceOf: TypeError, message: /ca\[0\]/ });
  t.throws(() => verifyChain('x' as never, opts()), { instanceOf: TypeError });
});

test('a long chain of same-named intermediates stays within its budget', (t) => {
  // Many intermediates with identical names and keys that never lead to the anchor.
  const loopKey = key('Loop CA');
  const loops: Uint8Array[] = [];
  for (let i = 0; i < 14; i++) {
    loops.push(intermediate({ der: new Uint8Array(0), key: loopKey, name: 'Loop CA' }, 'Loop CA', loopKey, { basicConstraints: { ca: true } }).der);
  }
  const l = leaf({ der: new Uint8Array(0), key: loopKey, name: 'Loop CA' });
  const start = process.hrtime.bigint();
  alertOf(t, () => verifyChain([l.der, ...loops], opts()), CertAlert.unknown_ca, /budget/);
  t.true(Number(process.hrtime.bigint() - start) / 1e6 < 5000);
});
