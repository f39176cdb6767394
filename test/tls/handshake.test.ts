// In-memory TLS 1.3 handshakes over the QUIC interface (RFC 8446 §2, RFC 9001 §4.1): each cipher
// suite, group and signature scheme; secrets agree on both sides, appear in the RFC 9001 §4.1.4
// order, and the transport parameters and ALPN cross over.
import test from 'ava';
import { toHex } from '../../src/util/bytes.js';
import { EncryptionLevel, type TlsEvent } from '../../src/tls/types.js';
import { CipherSuite, NamedGroup } from '../../src/tls/wire/constants.js';
import { SignatureScheme, exportPrivateKeyPem, type SigningKeyKind } from '../../src/crypto/sign.js';
import { pemEncode } from '../../src/pki/pem.js';
import { generateSelfSigned } from '../../src/pki/self-signed.js';
import { certifiedKeyFromPem } from '../../src/tls/certificates.js';
import { TlsAlert } from '../../src/tls/wire/alert.js';
import { CLIENT_TP, NOW, SERVER_TP, clientOptions, events, handshake, serverOptions, testCa, testLeaf } from './harness.js';

function secrets(list: TlsEvent[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of events(list, 'secret')) out[`${e.level}/${e.direction}`] = toHex(e.secret);
  return out;
}

/** Client write secret at a level equals the server read secret, and vice versa. */
function assertSecretsMatch(t: import('ava').ExecutionContext, c: TlsEvent[], s: TlsEvent[]): void {
  const cs = secrets(c);
  const ss = secrets(s);
  for (const level of [EncryptionLevel.Handshake, EncryptionLevel.Application]) {
    t.truthy(cs[`${level}/write`]);
    t.is(cs[`${level}/write`], ss[`${level}/read`], `level ${level} client→server`);
    t.is(cs[`${level}/read`], ss[`${level}/write`], `level ${level} server→client`);
  }
}

test('default handshake: X25519, AES-128-GCM, ECDSA P-256; events in order; TPs and ALPN exchanged', (t) => {
  const lines: string[] = [];
  const { client, server, r } = handshake(clientOptions({ keylog: (l) => lines.push('c ' + l) }), serverOptions({ keylog: (l) => lines.push('s ' + l) }));
  assertSecretsMatch(t, r.clientEvents, r.serverEvents);
  const ci = client.handshakeInfo!;
  const si = server.handshakeInfo!;
  t.is(ci.alpn, 'h3');
  t.is(si.alpn, 'h3');
  t.is(ci.suite.id, CipherSuite.TLS_AES_128_GCM_SHA256);
  t.is(ci.group, NamedGroup.x25519);
  t.is(si.group, NamedGroup.x25519);
  t.is(ci.peerSignatureScheme, SignatureScheme.ecdsa_secp256r1_sha256);
  t.false(ci.resumed);
  t.is(si.serverName, 'localhost');
  t.deepEqual(events(r.clientEvents, 'transport-parameters')[0]!.data, SERVER_TP);
  t.deepEqual(events(r.serverEvents, 'transport-parameters')[0]!.data, CLIENT_TP);

  // Client: Initial CH, Handshake keys, Handshake flight, 1-RTT keys, complete.
  t.deepEqual(
    r.clientEvents.map((e) => (e.type === 'secret' ? `secret ${e.level} ${e.direction}` : e.type === 'handshake-data' ? `data ${e.level}` : e.type)),
    ['data 0', 'secret 2 read', 'secret 2 write', 'transport-parameters', 'data 2', 'secret 3 read', 'secret 3 write', 'handshake-complete', 'session-ticket'].filter(
      (x) => x !== 'session-ticket',
    ),
  );
  t.deepEqual(
    r.serverEvents.map((e) => (e.type === 'secret' ? `secret ${e.level} ${e.direction}` : e.type === 'handshake-data' ? `data ${e.level}` : e.type)),
    ['transport-parameters', 'data 0', 'secret 2 read', 'secret 2 write', 'data 2', 'secret 3 write', 'secret 3 read', 'handshake-complete'],
  );
  // Key log: both sides log the four 1-RTT handshake labels with the same client random.
  const labels = lines.map((l) => l.split(' ').slice(0, 2).join(' ')).sort();
  t.deepEqual(labels, [
    'c CLIENT_HANDSHAKE_TRAFFIC_SECRET',
    'c CLIENT_TRAFFIC_SECRET_0',
    'c SERVER_HANDSHAKE_TRAFFIC_SECRET',
    'c SERVER_TRAFFIC_SECRET_0',
    's CLIENT_HANDSHAKE_TRAFFIC_SECRET',
    's CLIENT_TRAFFIC_SECRET_0',
    's SERVER_HANDSHAKE_TRAFFIC_SECRET',
    's SERVER_TRAFFIC_SECRET_0',
  ]);
  const cl = lines.filter((l) => l.startsWith('c ')).map((l) => l.slice(2)).sort();
  const sl = lines.filter((l) => l.startsWith('s ')).map((l) => l.slice(2)).sort();
  t.deepEqual(cl, sl);
  t.regex(cl[0]!, /^[A-Z_0]+ [0-9a-f]{64} [0-9a-f]{64}$/);
});

for (const suite of [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_CHACHA20_POLY1305_SHA256]) {
  test(`cipher suite 0x${suite.toString(16)}`, (t) => {
    const { client, server, r } = handshake(clientOptions({ cipherSuites: [suite] }), serverOptions());
    assertSecretsMatch(t, r.clientEvents, r.serverEvents);
    t.is(client.handshakeInfo!.suite.id, suite);
    t.is(server.handshakeInfo!.suite.id, suite);
    const len = suite === CipherSuite.TLS_AES_256_GCM_SHA384 ? 48 : 32;
    for (const e of events(r.clientEvents, 'secret')) t.is(e.secret.length, len);
  });
}

test('server preference picks its first suite among the client list', (t) => {
  const { client } = handshake(
    clientOptions({ cipherSuites: [CipherSuite.TLS_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384] }),
    serverOptions({ cipherSuites: [CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_CHACHA20_POLY1305_SHA256] }),
  );
  t.is(client.handshakeInfo!.suite.id, CipherSuite.TLS_AES_256_GCM_SHA384);
});

for (const group of [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1]) {
  test(`key exchange group 0x${group.toString(16)}`, (t) => {
    const { client, server, r } = handshake(clientOptions({ groups: [group] }), serverOptions());
    assertSecretsMatch(t, r.clientEvents, r.serverEvents);
    t.is(client.handshakeInfo!.group, group);
    t.is(server.handshakeInfo!.group, group);
    // No HelloRetryRequest: exactly one Initial message each way.
    t.is(r.clientSent.filter((x) => x.level === 0).length, 1);
  });
}

const schemes: [SigningKeyKind, number][] = [
  ['ec-p256', SignatureScheme.ecdsa_secp256r1_sha256],
  ['ec-p384', SignatureScheme.ecdsa_secp384r1_sha384],
  ['ed25519', SignatureScheme.ed25519],
  ['rsa', SignatureScheme.rsa_pss_rsae_sha256],
];
for (const [kind, scheme] of schemes) {
  test(`server certificate ${kind} → CertificateVerify 0x${scheme.toString(16)}`, (t) => {
    const { client, r } = handshake(clientOptions(), serverOptions({ certificates: [testLeaf(kind)] }));
    assertSecretsMatch(t, r.clientEvents, r.serverEvents);
    t.is(client.handshakeInfo!.peerSignatureScheme, scheme);
    t.is(client.handshakeInfo!.peerCertificates.length, 1);
  });
}

for (const [kind, scheme] of schemes) {
  test(`server chain and key loaded from PEM (${kind}): certifiedKeyFromPem`, (t) => {
    const leaf = testLeaf(kind);
    // Leaf and its CA as one PEM file, leaf first, the way servers are usually configured.
    const certPem = pemEncode(leaf.chain[0]!, 'CERTIFICATE') + pemEncode(testCa().der, 'CERTIFICATE');
    const loaded = certifiedKeyFromPem(certPem, exportPrivateKeyPem(leaf.key));
    t.is(loaded.chain.length, 2);
    const { client } = handshake(clientOptions(), serverOptions({ certificates: [loaded] }));
    t.is(client.handshakeInfo!.peerSignatureScheme, scheme);
    t.deepEqual(client.handshakeInfo!.peerCertificates.map(toHex), [toHex(leaf.chain[0]!), toHex(testCa().der)]);
  });
}

test('RSA-PSS with SHA-384 when the client prefers it', (t) => {
  const { client } = handshake(
    clientOptions({ signatureAlgorithms: [SignatureScheme.rsa_pss_rsae_sha384, SignatureScheme.rsa_pss_rsae_sha256] }),
    serverOptions({ certificates: [testLeaf('rsa')] }),
  );
  t.is(client.handshakeInfo!.peerSignatureScheme, SignatureScheme.rsa_pss_rsae_sha384);
});

test('server with several certificates picks one the client can verify', (t) => {
  const { client } = handshake(
    clientOptions({ signatureAlgorithms: [SignatureScheme.ed25519] }),
    serverOptions({ certificates: [testLeaf('ec-p256'), testLeaf('ed25519')] }),
  );
  t.is(client.handshakeInfo!.peerSignatureScheme, SignatureScheme.ed25519);
});

test('IP literal server name: no SNI sent, certificate matched on its IP SAN', (t) => {
  const { client, server } = handshake(clientOptions({ serverName: '127.0.0.1' }), serverOptions());
  t.truthy(client.handshakeInfo);
  t.is(server.serverName, undefined);
});

test('insecure client (rejectUnauthorized: false) accepts an unknown issuer but still checks CertificateVerify', (t) => {
  const { client } = handshake(clientOptions({ ca: [], rejectUnauthorized: false, serverName: 'other.example' }), serverOptions());
  t.truthy(client.handshakeInfo);
  const b = handshake(clientOptions({ ca: [], insecure: true }), serverOptions());
  t.truthy(b.client.handshakeInfo);
});

test('deterministic: the same seeds give byte-identical hellos and handshake secrets', (t) => {
  // (ECDSA signatures use node:crypto's own nonce, so later flights differ.)
  const a = handshake(clientOptions({}, 7), serverOptions({}, 8));
  const b = handshake(clientOptions({}, 7), serverOptions({}, 8));
  t.deepEqual(
    a.r.clientSent.filter((x) => x.level === 0).map((x) => toHex(x.data)),
    b.r.clientSent.filter((x) => x.level === 0).map((x) => toHex(x.data)),
  );
  t.is(secrets(a.r.clientEvents)['2/write'], secrets(b.r.clientEvents)['2/write']);
  t.deepEqual(
    a.r.serverSent.filter((x) => x.level === 0).map((x) => toHex(x.data)),
    b.r.serverSent.filter((x) => x.level === 0).map((x) => toHex(x.data)),
  );
});

test('generateSelfSigned certificate: trusted when pinned as the anchor, unknown_ca against Node roots', (t) => {
  const ss = generateSelfSigned({ now: NOW });
  const so = serverOptions({ certificates: [{ chain: [ss.certDer], key: ss.key }] });
  const { client } = handshake(clientOptions({ ca: [ss.certDer] }), so);
  t.is(client.handshakeInfo!.peerSignatureScheme, SignatureScheme.ecdsa_secp256r1_sha256);
  const err = t.throws(() => handshake(clientOptions({ ca: undefined }), so), { instanceOf: TlsAlert });
  t.is(err.alert, 48);
});
