// Certificate-side handshake costs: TLS 1.3 CertificateVerify sign/verify (RFC 8446 §4.4.3) per key
// type through node:crypto next to @noble/curves, X.509 parsing (RFC 5280 §4.1), a 3-certificate
// chain verification (RFC 5280 §6.1) and self-signed generation. Ratios matter; absolute times drift.
import { performance } from 'node:perf_hooks';
import { p256 } from '@noble/curves/nist.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { generateSigningKey, sign, verify, exportPrivateKeyDer } from '../../src/crypto/sign.js';
import { parseCertificate } from '../../src/pki/x509.js';
import { verifyChain, createTrustStore } from '../../src/pki/verify.js';
import { generateSelfSigned } from '../../src/pki/self-signed.js';
import { root, intermediate, leaf, key, NOW } from '../fixtures/pki/chain.js';

const BUDGET_MS = 150;

function measure(fn: () => void): number {
  const warmEnd = performance.now() + 20;
  while (performance.now() < warmEnd) fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < BUDGET_MS) {
    fn();
    calls++;
    now = performance.now();
  }
  return ((now - start) * 1e6) / calls;
}

const fmt = (ns: number): string => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${Math.round(ns)} ns`).padStart(10);
const row = (cells: string[]): void => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(44) : c.padStart(12))).join(' '));

export async function run(): Promise<void> {
  const msg = new Uint8Array(130).fill(0x20);
  row(['CertificateVerify', 'sign', 'verify', 'noble sign', 'noble verify']);
  for (const kind of ['ec-p256', 'ec-p384', 'ed25519', 'rsa'] as const) {
    const k = generateSigningKey(kind);
    const scheme = k.schemes[0]!;
    const sig = sign(k, scheme, msg);
    const cells = [`${kind} 0x${scheme.toString(16).padStart(4, '0')}`, fmt(measure(() => sign(k, scheme, msg))), fmt(measure(() => verify(k.spki, scheme, msg, sig)))];
    if (kind === 'ec-p256') {
      // PKCS#8 for P-256 from node: the 32-byte scalar sits at a fixed offset (RFC 5915 inside RFC 5208).
      const der = exportPrivateKeyDer(k);
      const sk = der.subarray(36, 68);
      const pub = k.spki.subarray(-65);
      const nsig = p256.sign(msg, sk, { format: 'der' });
      cells.push(fmt(measure(() => p256.sign(msg, sk, { format: 'der' }))), fmt(measure(() => p256.verify(nsig, msg, pub, { format: 'der', lowS: false }))));
    } else if (kind === 'ed25519') {
      const sk = exportPrivateKeyDer(k).subarray(-32);
      const pub = k.spki.subarray(-32);
      const nsig = ed25519.sign(msg, sk);
      cells.push(fmt(measure(() => ed25519.sign(msg, sk))), fmt(measure(() => ed25519.verify(nsig, msg, pub))));
    }
    row(cells);
  }
  console.log('');
  const R = root('Bench Root', key('Bench Root', 'rsa'));
  const I = intermediate(R, 'Bench Intermediate', key('Bench Intermediate'));
  const L = leaf(I);
  const store = createTrustStore([R.der]);
  row(['X.509 / chain', 'time']);
  row(['parseCertificate (P-256 leaf)', fmt(measure(() => parseCertificate(L.der)))]);
  row(['parseCertificate (RSA root)', fmt(measure(() => parseCertificate(R.der)))]);
  row(['verifyChain leaf+intermediate → RSA root', fmt(measure(() => verifyChain([L.der, I.der], { ca: store, now: NOW, purpose: 'server', hostname: 'leaf.example.com' })))]);
  row(['generateSelfSigned (P-256)', fmt(measure(() => generateSelfSigned({ now: NOW })))]);
}
