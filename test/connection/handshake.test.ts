// Connection handshake in memory (RFC 9000 §7, RFC 9001 §4): client and server Connection objects,
// a virtual clock, real TLS 1.3.
import test from 'ava';
import { Pair, VIRTUAL_EPOCH } from './pair.js';
import { StreamApp } from './app.js';
import { testCertificate } from '../support/cert.js';
import { generateSigningKey } from '../../src/crypto/sign.js';
import { buildCertificate } from '../../src/pki/cert-builder.js';
import { OID } from '../../src/pki/x509.js';

test('handshake completes and is confirmed on both sides', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  t.is(p.client.state, 'established');
  t.is(p.server!.state, 'established');
  t.is(p.client.alpn, 'test');
  t.is(p.server!.alpn, 'test');
  t.truthy(p.clientEvents.find((e) => e.type === 'handshake-completed'));
  t.truthy(p.serverEvents.find((e) => e.type === 'handshake-confirmed'));
  t.is(Pair.internals(p.client).internalError, undefined);
  t.is(Pair.internals(p.server!).internalError, undefined);
});

test('HelloRetryRequest over QUIC: the server wants X25519, the client led with a P-256 share', (t) => {
  const p = new Pair({
    client: { tlsExtra: { groups: [0x0017, 0x001d], keyShareGroups: [0x0017] } },
    server: { tlsExtra: { groups: [0x001d] } },
  });
  t.true(p.handshake());
  t.is(Pair.internals(p.client).internalError, undefined);
});

test('handshake with every cipher suite the server may prefer', (t) => {
  for (const suite of [0x1301, 0x1302, 0x1303]) {
    const p = new Pair({ server: { tlsExtra: { cipherSuites: [suite] } } });
    t.true(p.handshake(), `suite 0x${suite.toString(16)}`);
    t.is(Number(Pair.internals(p.client).oneRtt!.seal.suite.id), suite);
    const capp = new StreamApp(p.client);
    const sapp = new StreamApp(p.server!);
    sapp.onFinished = (id, n) => sapp.send(id, n, true);
    p.onEvent = (side, _c, e) => (side === 'client' ? capp : sapp).handle(e);
    capp.send(p.client.openStream(true)!, 20_000, true);
    t.true(p.runUntil(() => capp.finishedCount() === 1, 5_000));
  }
});

function clientCertificate(): { der: Uint8Array; key: ReturnType<typeof generateSigningKey> } {
  const key = generateSigningKey('ec-p256');
  const der = buildCertificate({
    serial: Uint8Array.of(0x21, 0x42),
    subject: [['CN', 'quiver client']],
    notBefore: VIRTUAL_EPOCH - 86_400_000,
    notAfter: VIRTUAL_EPOCH + 10 * 86_400_000,
    publicKey: key.spki,
    issuerKey: key,
    basicConstraints: { ca: false },
    keyUsage: { bits: ['digitalSignature'] },
    extKeyUsage: [OID.clientAuth],
    subjectKeyId: true,
  });
  return { der, key };
}

test('client certificate requested and verified', (t) => {
  const c = clientCertificate();
  const p = new Pair({
    server: { requestClientCertificate: true, ca: [c.der] },
    client: { certificate: [c.der], privateKey: c.key },
  });
  t.true(p.handshake(), JSON.stringify(p.client.error ?? p.server?.error));
});

test('a client certificate without clientAuth is refused with a CRYPTO_ERROR', (t) => {
  const cert = testCertificate();
  const p = new Pair({
    server: { requestClientCertificate: true, ca: [cert.certDer] },
    client: { certificate: cert.certPem, privateKey: cert.keyPem },
  });
  t.false(p.handshake(3_000));
  const e = p.server!.error!;
  t.is(e.kind, 'transport');
  t.true(e.code > 0x100 && e.code <= 0x1ff);
  t.regex(e.reason, /clientAuth/);
});

// The server certificate is always checked against a name: serverName, else verifyName, else the
// address dialled (tls-driver); an absent serverName only means "no SNI".
test('no serverName: the certificate is checked against the remote address (10.0.0.2 is not in it) → certificate_unknown', (t) => {
  const p = new Pair({ client: { serverName: undefined } });
  t.false(p.handshake(3_000));
  const e = p.client.error!;
  t.is(e.kind, 'transport');
  t.is(e.code, 0x100 + 46); // certificate_unknown (RFC 8446 §6.2): no SAN matches
  t.regex(e.reason, /10\.0\.0\.2/);
});

test('no serverName, verifyName given: no SNI is sent and the certificate must match verifyName', (t) => {
  const ok = new Pair({ client: { serverName: undefined, verifyName: 'quiver.test' } });
  t.true(ok.handshake(), JSON.stringify(ok.client.error));
  const tls = Pair.internals(ok.server!).tls as unknown as { serverName: string | undefined };
  t.is(tls.serverName, undefined);
  const bad = new Pair({ client: { serverName: undefined, verifyName: 'example.org' } });
  t.false(bad.handshake(3_000));
  t.is(bad.client.error!.code, 0x100 + 46);
  // verifyName overrides serverName for the check; SNI stays serverName.
  const both = new Pair({ client: { serverName: 'localhost', verifyName: 'example.org' } });
  t.false(both.handshake(3_000));
  t.is(both.client.error!.code, 0x100 + 46);
});

test('options.verifyName must be a non-empty string', (t) => {
  t.throws(() => new Pair({ client: { verifyName: '' } }), { instanceOf: TypeError, message: /options\.verifyName/ });
  t.throws(() => new Pair({ client: { verifyName: 7 as unknown as string } }), { instanceOf: TypeError, message: /options\.verifyName/ });
});
