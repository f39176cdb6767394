// Client authentication (RFC 8446 §4.3.2 CertificateRequest, §4.4.2 empty Certificate,
// certificate_required): requested, required, missing, untrusted, each key type.
import test from 'ava';
import { SignatureScheme, type SigningKeyKind } from '../../src/crypto/sign.js';
import { TlsAlert } from '../../src/tls/wire/alert.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { TicketKeyring } from '../../src/tls/session-ticket.js';
import { NOW, clientOptions, events, handshake, makeCa, makeLeaf, serverOptions, testCa, testLeaf } from './harness.js';

const kinds: [SigningKeyKind, number][] = [
  ['ec-p256', SignatureScheme.ecdsa_secp256r1_sha256],
  ['ed25519', SignatureScheme.ed25519],
  ['rsa', SignatureScheme.rsa_pss_rsae_sha256],
];
for (const [kind, scheme] of kinds) {
  test(`required client certificate (${kind}) is verified`, (t) => {
    const cert = testLeaf(kind, 'client');
    const { client, server } = handshake(clientOptions({ certificate: cert }), serverOptions({ clientAuth: 'require', clientCa: [testCa().der] }));
    t.truthy(client.handshakeInfo);
    t.is(server.handshakeInfo!.peerCertificates.length, 1);
    t.deepEqual(server.handshakeInfo!.peerCertificates[0], cert.chain[0]);
    t.is(server.handshakeInfo!.peerSignatureScheme, scheme);
  });
}

test('requested but not provided: the handshake completes without a client identity', (t) => {
  const { server } = handshake(clientOptions(), serverOptions({ clientAuth: 'request', clientCa: [testCa().der] }));
  t.is(server.handshakeInfo!.peerCertificates.length, 0);
  t.is(server.handshakeInfo!.peerSignatureScheme, 0);
});

test('required but not provided → certificate_required (116)', (t) => {
  const err = t.throws(() => handshake(clientOptions(), serverOptions({ clientAuth: 'require', clientCa: [testCa().der] })), { instanceOf: TlsAlert });
  t.is(err.alert, 116);
});

test('client certificate from an unknown CA → unknown_ca (48)', (t) => {
  const rogue = makeLeaf(makeCa('Rogue CA'), { purpose: 'client', hosts: ['client.test'] });
  const err = t.throws(() => handshake(clientOptions({ certificate: rogue }), serverOptions({ clientAuth: 'require', clientCa: [testCa().der] })), {
    instanceOf: TlsAlert,
  });
  t.is(err.alert, 48);
});

test('a server certificate (serverAuth EKU only) is refused as a client certificate', (t) => {
  const err = t.throws(() => handshake(clientOptions({ certificate: testLeaf('ec-p256', 'server') }), serverOptions({ clientAuth: 'require', clientCa: [testCa().der] })), {
    instanceOf: TlsAlert,
  });
  t.true([42, 43, 46].includes(err.alert), `alert ${err.alert}`);
});

test('client key incompatible with the requested schemes sends an empty Certificate', (t) => {
  const { server } = handshake(
    clientOptions({ certificate: testLeaf('ed25519', 'client') }),
    serverOptions({ clientAuth: 'request', clientCa: [testCa().der], clientSignatureAlgorithms: [SignatureScheme.ecdsa_secp256r1_sha256] }),
  );
  t.is(server.handshakeInfo!.peerCertificates.length, 0);
});

// Resumption carries the client identity in the ticket (no Certificate is sent again); the server
// re-checks the stored leaf's validity dates (RFC 5280 §4.1.2.5) and falls back to a full handshake.
const HOUR = 3_600_000;
function authTicketServer(clientAuth: 'request' | 'require'): ReturnType<typeof serverOptions> {
  return serverOptions({
    clientAuth,
    clientCa: [testCa().der],
    sessionTickets: { keyring: new TicketKeyring({ random: new SeededRandom(11), ticketLifetimeMs: 7 * 24 * HOUR }) },
  });
}

test('resumption with a stored client certificate still valid: resumed, identity kept', (t) => {
  const cert = makeLeaf(testCa(), { purpose: 'client', hosts: ['client.test'], notBefore: NOW - HOUR, notAfter: NOW + 48 * HOUR });
  const so = authTicketServer('require');
  const first = handshake(clientOptions({ certificate: cert }), so);
  const session = events(first.r.clientEvents, 'session-ticket')[0]!.session;
  const again = handshake(clientOptions({ certificate: cert, session }), so, NOW + 24 * HOUR);
  t.true(again.server.handshakeInfo!.resumed);
  t.deepEqual(again.server.handshakeInfo!.peerCertificates, [cert.chain[0]]);
});

test('resumption after the stored client certificate expired: full handshake (not an error), identity re-verified', (t) => {
  const old = makeLeaf(testCa(), { purpose: 'client', hosts: ['client.test'], notBefore: NOW - HOUR, notAfter: NOW + 48 * HOUR });
  const so = authTicketServer('request');
  const first = handshake(clientOptions({ certificate: old }), so);
  const session = events(first.r.clientEvents, 'session-ticket')[0]!.session;
  const later = NOW + 72 * HOUR; // ticket still valid (7 days), certificate not
  const renewed = makeLeaf(testCa(), { purpose: 'client', hosts: ['client.test'], notBefore: later - HOUR, notAfter: later + 48 * HOUR });
  const again = handshake(clientOptions({ certificate: renewed, session }), so, later);
  t.false(again.server.handshakeInfo!.resumed);
  t.false(again.client.handshakeInfo!.resumed);
  t.deepEqual(again.server.handshakeInfo!.peerCertificates, [renewed.chain[0]]);
  // Presenting the expired certificate again is now checked like any other: certificate_expired.
  const err = t.throws(() => handshake(clientOptions({ certificate: old, session }), so, later), { instanceOf: TlsAlert });
  t.is(err.alert, 45);
});
