// Client authentication (RFC 8446 §4.3.2 CertificateRequest, §4.4.2 empty Certificate,
// certificate_required): requested, required, missing, untrusted, each key type.
import test from 'ava';
import { SignatureScheme, type SigningKeyKind } from '../../src/crypto/sign.js';
import { TlsAlert } from '../../src/tls/wire/alert.js';
import { clientOptions, handshake, makeCa, makeLeaf, serverOptions, testCa, testLeaf } from './harness.js';

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
