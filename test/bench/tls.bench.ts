// TLS 1.3 handshake cost (RFC 8446 over the RFC 9001 §4 interface, in memory, no QUIC): full
// client+server handshakes per second with X25519 and P-256 / Ed25519 server certificates, the
// public-key operations timed on their own (what share of a handshake they are), and node:tls
// (OpenSSL, over an in-memory duplex pair, TLS 1.3, X25519, same certificate) as the peer.
import { performance } from 'node:perf_hooks';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { SeededRandom } from '../../src/crypto/random.js';
import { KeyExchangeGroup, generateKeyShare } from '../../src/crypto/ecdh.js';
import { exportPrivateKeyPem, sign, verify, type SigningKeyKind } from '../../src/crypto/sign.js';
import { pemEncode } from '../../src/pki/pem.js';
import { verifyChain } from '../../src/pki/verify.js';
import { TlsClient } from '../../src/tls/client.js';
import { TlsServer } from '../../src/tls/server.js';
import { certificateVerifyContent } from '../../src/tls/key-schedule.js';
import { clientOptions, makeCa, makeLeaf, pump, serverOptions, type Ca } from '../tls/harness.js';
import type { CertifiedKey } from '../../src/tls/certificates.js';

const BUDGET_MS = 1500;
// node:tls checks validity against the real clock, so these certificates are dated from it.
const NOW = Date.now();
let ca: Ca | undefined;
const leaves = new Map<string, CertifiedKey>();
function testCa(): Ca {
  ca ??= makeCa('Bench CA', 'ec-p256', NOW);
  return ca;
}
function testLeaf(kind: SigningKeyKind): CertifiedKey {
  let l = leaves.get(kind);
  if (!l) leaves.set(kind, (l = makeLeaf(testCa(), { kind, now: NOW })));
  return l;
}

function measure(fn: () => void, budget = BUDGET_MS): number {
  const warmEnd = performance.now() + Math.min(200, budget / 4);
  while (performance.now() < warmEnd) fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < budget) {
    fn();
    calls++;
    now = performance.now();
  }
  return ((now - start) * 1000) / calls; // µs per call
}

function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  for (let i = 0; i < 2; i++) {
    ends.push(
      new Duplex({
        read() {},
        write(chunk, _enc, cb) {
          ends[1 - i]!.push(chunk);
          cb();
        },
        final(cb) {
          ends[1 - i]!.push(null);
          cb();
        },
      }),
    );
  }
  return [ends[0]!, ends[1]!];
}

async function nodeTlsHandshakeUs(kind: SigningKeyKind, n: number): Promise<number> {
  const leaf = testLeaf(kind);
  const ctx = tls.createSecureContext({
    cert: pemEncode(leaf.chain[0]!, 'CERTIFICATE'),
    key: exportPrivateKeyPem(leaf.key),
    minVersion: 'TLSv1.3',
  });
  const ca = pemEncode(testCa().der, 'CERTIFICATE');
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const [a, b] = duplexPair();
      let done = 0;
      const fin = (): void => {
        if (++done === 2) {
          client.destroy();
          server.destroy();
          resolve();
        }
      };
      const server = new tls.TLSSocket(b, { isServer: true, secureContext: ctx, ALPNProtocols: ['h3'] });
      server.once('secure', fin);
      server.once('error', reject);
      const client = tls.connect({ socket: a, ca, servername: 'localhost', ALPNProtocols: ['h3'], minVersion: 'TLSv1.3', ecdhCurve: 'X25519' });
      client.once('secureConnect', fin);
      client.once('error', reject);
    });
  for (let i = 0; i < 20; i++) await one();
  const start = performance.now();
  for (let i = 0; i < n; i++) await one();
  return ((performance.now() - start) * 1000) / n;
}

function quiverHandshakeUs(kind: SigningKeyKind): number {
  const rnd = new SeededRandom(1);
  const so = serverOptions({ certificates: [testLeaf(kind)], random: rnd });
  const co = clientOptions({ random: rnd, ca: [testCa().der] });
  return measure(() => {
    const c = new TlsClient(co);
    const s = new TlsServer(so);
    c.start(NOW);
    pump(c, s, NOW);
    if (!c.handshakeInfo || !s.handshakeInfo) throw new Error('handshake did not complete');
  });
}

const f = (us: number): string => `${us.toFixed(1)} µs`;
const row = (cells: string[]): void => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(34) : c.padStart(14))).join(' '));

export async function run(): Promise<void> {
  const rnd = new SeededRandom(2);
  const random = (n: number): Uint8Array => rnd.randomBytes(n);
  // Public-key operations of one handshake, timed alone.
  const x25519 = measure(() => {
    const a = generateKeyShare(KeyExchangeGroup.x25519, random);
    a.deriveSecret(generateKeyShare(KeyExchangeGroup.x25519, random).publicKey);
  }, 500) / 2; // per side: one key generation + one derivation (the peer's keygen is the other side's)
  const content = certificateVerifyContent(true, new Uint8Array(32).fill(1));

  row(['handshake (X25519, AES-128-GCM)', 'quiver', 'handshakes/s', 'public-key', 'node:tls', 'handshakes/s']);
  for (const kind of ['ec-p256', 'ed25519'] as const) {
    const leaf = testLeaf(kind);
    const scheme = leaf.key.schemes[0]!;
    const sig = sign(leaf.key, scheme, content);
    const signUs = measure(() => sign(leaf.key, scheme, content), 400);
    const verifyUs = measure(() => verify(leaf.key.spki, scheme, content, sig), 400);
    const anchors = [testCa().der]; // one array, so verify.ts reuses its parsed trust store (as a client does)
    const chainUs = measure(() => verifyChain(leaf.chain, { ca: anchors, hostname: 'localhost', now: NOW, purpose: 'server' }), 400);
    const pk = 2 * x25519 + signUs + verifyUs + chainUs;
    const total = quiverHandshakeUs(kind);
    const node = await nodeTlsHandshakeUs(kind, 300);
    row([`${kind} certificate (CA-issued)`, f(total), (1e6 / total).toFixed(0), `${((100 * pk) / total).toFixed(0)} %`, f(node), (1e6 / node).toFixed(0)]);
    console.log(
      `  public-key per handshake: 2 × X25519 keygen+derive ${f(x25519)}, CertificateVerify sign ${f(signUs)} + verify ${f(verifyUs)}, ` +
        `chain (parse + CA signature) ${f(chainUs)} = ${f(pk)}`,
    );
  }
}
