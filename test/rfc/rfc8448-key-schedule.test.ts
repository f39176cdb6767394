// RFC 8448 §3 (simple 1-RTT), §4 (resumed 0-RTT), §5 (HelloRetryRequest) and §6 (client
// authentication): with the traces' private keys, reproduce the (EC)DHE secrets, every stage secret,
// traffic secrets, Finished values, PSK binder and early secrets, and decode/re-encode every
// handshake message the traces print. RFC 8448 runs over the TLS record layer without QUIC transport
// parameters, so the key schedule and transcript are tested directly (RFC 8448 §1).
import test from 'ava';
import { createPublicKey, verify as nodeVerify, constants } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { EMPTY, fromHex, toHex } from '../../src/util/bytes.js';
import { hkdfExpandLabel } from '../../src/crypto/hkdf.js';
import { generateKeyShare, KeyExchangeGroup } from '../../src/crypto/ecdh.js';
import {
  KeySchedule,
  certificateVerifyContent,
  finishedVerifyData,
  resumptionPsk,
  deriveSecret,
  emptyHash,
} from '../../src/tls/key-schedule.js';
import { Transcript } from '../../src/tls/transcript.js';
import {
  decodeClientHello,
  encodeClientHello,
  decodeServerHello,
  encodeServerHello,
  isHelloRetryRequest,
  decodeEncryptedExtensions,
  encodeEncryptedExtensions,
  decodeCertificate,
  encodeCertificate,
  decodeCertificateVerify,
  encodeCertificateVerify,
  decodeCertificateRequest,
  encodeCertificateRequest,
  decodeFinished,
  encodeFinished,
  decodeNewSessionTicket,
  encodeNewSessionTicket,
} from '../../src/tls/wire/messages.js';
import { decodeOfferedPsks, findExtension, decodeKeyShareCH, decodeKeyShareHRR, decodeCookie } from '../../src/tls/wire/extensions.js';
import { ExtensionType } from '../../src/tls/wire/constants.js';
import { trace } from './rfc8448-vectors.js';

const h = (s: string): Uint8Array => (s === '(empty)' ? EMPTY : fromHex(s));
const hex = (b: Uint8Array): string => toHex(b);
const body = (msg: Uint8Array): Uint8Array => msg.subarray(4);

/** A random source that returns the given private key once (RFC 8448 §2: keys as generated). */
function fixed(key: Uint8Array): (n: number) => Uint8Array {
  let used = false;
  return (n: number) => {
    if (used || n !== key.length) throw new Error('fixed random used twice or with the wrong size');
    used = true;
    return key;
  };
}

// ---------------------------------------------------------------------------------------------
// RFC 8448 §3: Simple 1-RTT Handshake

const S3 = {
  ch: h(trace(3, 'construct a ClientHello', 'ClientHello')),
  sh: h(trace(3, 'construct a ServerHello', 'ServerHello')),
  ee: h(trace(3, 'construct an EncryptedExtensions', 'EncryptedExtensions')),
  cert: h(trace(3, 'construct a Certificate handshake', 'Certificate')),
  cv: h(trace(3, 'construct a CertificateVerify', 'CertificateVerify')),
  sfin: h(trace(3, 'server: construct a Finished', 'Finished')),
  cfin: h(trace(3, 'client: construct a Finished', 'Finished')),
  nst: h(trace(3, 'construct a NewSessionTicket', 'NewSessionTicket')),
};

test('RFC 8448 §3: X25519 key pairs and shared secret through node:crypto (and noble agrees)', (t) => {
  const cPriv = h(trace(3, 'client: create an ephemeral x25519', 'private key'));
  const sPriv = h(trace(3, 'server: create an ephemeral x25519', 'private key'));
  const client = generateKeyShare(KeyExchangeGroup.x25519, fixed(cPriv));
  const server = generateKeyShare(KeyExchangeGroup.x25519, fixed(sPriv));
  t.is(hex(client.publicKey), trace(3, 'client: create an ephemeral x25519', 'public key'));
  t.is(hex(server.publicKey), trace(3, 'server: create an ephemeral x25519', 'public key'));
  const shared = trace(3, "server: extract secret 'handshake'", 'IKM');
  t.is(hex(client.deriveSecret(server.publicKey)!), shared);
  t.is(hex(server.deriveSecret(client.publicKey)!), shared);
  t.is(hex(x25519.getSharedSecret(cPriv, server.publicKey)), shared);
});

test('RFC 8448 §3: every handshake message decodes and re-encodes byte for byte', (t) => {
  t.is(hex(encodeClientHello(decodeClientHello(body(S3.ch)))), hex(S3.ch));
  const sh = decodeServerHello(body(S3.sh));
  t.false(isHelloRetryRequest(sh));
  t.is(sh.cipherSuite, 0x1301);
  t.is(hex(encodeServerHello(sh)), hex(S3.sh));
  t.is(hex(encodeEncryptedExtensions(decodeEncryptedExtensions(body(S3.ee)))), hex(S3.ee));
  const cert = decodeCertificate(body(S3.cert));
  t.is(cert.entries.length, 1);
  t.is(hex(encodeCertificate(cert)), hex(S3.cert));
  const cv = decodeCertificateVerify(body(S3.cv));
  t.is(cv.scheme, 0x0804);
  t.is(hex(encodeCertificateVerify(cv)), hex(S3.cv));
  t.is(hex(encodeFinished(decodeFinished(body(S3.sfin), 32))), hex(S3.sfin));
  const nst = decodeNewSessionTicket(body(S3.nst));
  t.is(nst.lifetime, 30);
  t.is(hex(nst.nonce), '0000');
  t.is(hex(encodeNewSessionTicket(nst)), hex(S3.nst));
  const ch = decodeClientHello(body(S3.ch));
  t.deepEqual(ch.cipherSuites, [0x1301, 0x1303, 0x1302]);
  t.is(ch.sessionId.length, 0);
});

test('RFC 8448 §3: key schedule — early, handshake, master, traffic, exporter and resumption secrets', (t) => {
  const ks = new KeySchedule('sha256');
  t.is(hex(ks.earlySecret), trace(3, "server: extract secret 'early'", 'secret'));
  t.is(hex(deriveSecret('sha256', ks.earlySecret, 'derived', emptyHash('sha256'))), trace(3, "derive secret for handshake 'tls13 derived'", 'expanded'));
  const tr = new Transcript();
  tr.add(S3.ch);
  tr.add(S3.sh);
  const helloHash = tr.hash('sha256');
  t.is(hex(helloHash), trace(3, "server: derive secret 'tls13 c hs traffic'", 'hash'));
  ks.deriveHandshakeSecret(h(trace(3, "server: extract secret 'handshake'", 'IKM')));
  t.is(hex(ks.handshakeSecret!), trace(3, "server: extract secret 'handshake'", 'secret'));
  const chs = ks.clientHandshakeTrafficSecret(helloHash);
  const shs = ks.serverHandshakeTrafficSecret(helloHash);
  t.is(hex(chs), trace(3, "derive secret 'tls13 c hs traffic'", 'expanded'));
  t.is(hex(shs), trace(3, "derive secret 'tls13 s hs traffic'", 'expanded'));
  // TLS record keys from the server handshake secret (checks HKDF-Expand-Label with an empty context).
  t.is(hex(hkdfExpandLabel('sha256', shs, 'key', EMPTY, 16)), trace(3, 'derive write traffic keys for handshake data', 'key expanded'));
  t.is(hex(hkdfExpandLabel('sha256', shs, 'iv', EMPTY, 12)), trace(3, 'derive write traffic keys for handshake data', 'iv expanded'));

  ks.deriveMasterSecret();
  t.is(hex(ks.masterSecret!), trace(3, "server: extract secret 'master'", 'secret'));

  // Server Finished over CH..CertificateVerify.
  tr.add(S3.ee);
  tr.add(S3.cert);
  tr.add(S3.cv);
  const sfinHash = tr.hash('sha256');
  const sfin = finishedVerifyData('sha256', shs, sfinHash);
  t.is(hex(sfin), trace(3, "server: calculate finished 'tls13 finished'", 'finished'));
  t.is(hex(encodeFinished(sfin)), hex(S3.sfin));

  tr.add(S3.sfin);
  const appHash = tr.hash('sha256');
  t.is(hex(appHash), trace(3, "derive secret 'tls13 c ap traffic'", 'hash'));
  t.is(hex(ks.clientApplicationTrafficSecret(appHash)), trace(3, "derive secret 'tls13 c ap traffic'", 'expanded'));
  t.is(hex(ks.serverApplicationTrafficSecret(appHash)), trace(3, "derive secret 'tls13 s ap traffic'", 'expanded'));
  t.is(hex(ks.exporterMasterSecret(appHash)), trace(3, "derive secret 'tls13 exp master'", 'expanded'));

  // Client Finished over CH..server Finished.
  const cfin = finishedVerifyData('sha256', chs, appHash);
  t.is(hex(cfin), trace(3, "client: calculate finished 'tls13 finished'", 'finished'));
  t.is(hex(encodeFinished(cfin)), hex(S3.cfin));

  tr.add(S3.cfin);
  const rms = ks.resumptionMasterSecret(tr.hash('sha256'));
  t.is(hex(rms), trace(3, "derive secret 'tls13 res master'", 'expanded'));
  const nonce = decodeNewSessionTicket(body(S3.nst)).nonce;
  t.is(hex(nonce), trace(3, "generate resumption secret 'tls13 resumption'", 'hash'));
  t.is(hex(resumptionPsk('sha256', rms, nonce)), trace(3, "generate resumption secret 'tls13 resumption'", 'expanded'));
});

test('RFC 8448 §3: the server CertificateVerify signs our certificateVerifyContent (RSA-PSS-SHA256)', (t) => {
  const tr = new Transcript();
  for (const m of [S3.ch, S3.sh, S3.ee, S3.cert]) tr.add(m);
  const content = certificateVerifyContent(true, tr.hash('sha256'));
  const leaf = decodeCertificate(body(S3.cert)).entries[0]!.data;
  // The trace's leaf is an X.509 certificate; node:crypto extracts its key from the certificate PEM.
  const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(leaf).toString('base64')}\n-----END CERTIFICATE-----\n`;
  const key = createPublicKey(pem);
  const cv = decodeCertificateVerify(body(S3.cv));
  t.true(nodeVerify('sha256', content, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, cv.signature));
  const wrong = certificateVerifyContent(false, tr.hash('sha256'));
  t.false(nodeVerify('sha256', wrong, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, cv.signature));
});

// ---------------------------------------------------------------------------------------------
// RFC 8448 §4: Resumed 0-RTT Handshake

test('RFC 8448 §4: PSK from the §3 ticket, early secret, binder, client early traffic secret', (t) => {
  // The resumption PSK of §3 is the IKM of §4's early secret.
  const psk = h(trace(4, "client: extract secret 'early'", 'IKM'));
  t.is(hex(psk), trace(3, "generate resumption secret 'tls13 resumption'", 'expanded'));
  const ks = new KeySchedule('sha256', psk);
  t.is(hex(ks.earlySecret), trace(4, "client: extract secret 'early'", 'secret'));
  const binderKey = ks.binderKey();
  t.is(hex(binderKey), trace(4, 'calculate PSK binder', 'PRK'));

  const full = h(trace(4, 'client: send handshake record', 'payload'));
  const prefix = h(trace(4, 'calculate PSK binder', 'ClientHello prefix'));
  const ch = decodeClientHello(body(full));
  t.is(hex(encodeClientHello(ch)), hex(full));
  // The ClientHello printed under "construct" is the truncated one; Truncate() removes the binders list.
  const offered = decodeOfferedPsks(findExtension(ch.extensions, ExtensionType.pre_shared_key)!);
  t.is(offered.identities.length, 1);
  t.is(hex(full.subarray(0, full.length - offered.bindersLength)), hex(prefix));
  t.is(hex(prefix), trace(4, 'construct a ClientHello', 'ClientHello'));

  const tr = new Transcript();
  const binderHash = tr.hashWith('sha256', prefix);
  t.is(hex(binderHash), trace(4, 'calculate PSK binder', 'binder hash'));
  const binder = finishedVerifyData('sha256', binderKey, binderHash);
  t.is(hex(binder), trace(4, 'calculate PSK binder', 'finished'));
  t.is(hex(offered.binders[0]!), hex(binder));

  tr.add(full);
  const chHash = tr.hash('sha256');
  t.is(hex(chHash), trace(4, "derive secret 'tls13 c e traffic'", 'hash'));
  t.is(hex(ks.clientEarlyTrafficSecret(chHash)), trace(4, "derive secret 'tls13 c e traffic'", 'expanded'));
  t.is(hex(ks.earlyExporterMasterSecret(chHash)), trace(4, "derive secret 'tls13 e exp master'", 'expanded'));
});

test('RFC 8448 §4: resumed handshake secrets with PSK + X25519 and the Finished values', (t) => {
  const psk = h(trace(4, "client: extract secret 'early'", 'IKM'));
  const ks = new KeySchedule('sha256', psk);
  const cPriv = h(trace(4, 'client: create an ephemeral x25519', 'private key'));
  const sPriv = h(trace(4, 'server: create an ephemeral x25519', 'private key'));
  const c = generateKeyShare(KeyExchangeGroup.x25519, fixed(cPriv));
  const s = generateKeyShare(KeyExchangeGroup.x25519, fixed(sPriv));
  t.is(hex(s.publicKey), trace(4, 'server: create an ephemeral x25519', 'public key'));
  const shared = c.deriveSecret(s.publicKey)!;
  t.is(hex(shared), trace(4, "server: extract secret 'handshake'", 'IKM'));

  const ch = h(trace(4, 'client: send handshake record', 'payload'));
  const sh = h(trace(4, 'construct a ServerHello', 'ServerHello'));
  t.is(hex(encodeServerHello(decodeServerHello(body(sh)))), hex(sh));
  const tr = new Transcript();
  tr.add(ch);
  tr.add(sh);
  ks.deriveHandshakeSecret(shared);
  t.is(hex(ks.handshakeSecret!), trace(4, "server: extract secret 'handshake'", 'secret'));
  const hh = tr.hash('sha256');
  const chs = ks.clientHandshakeTrafficSecret(hh);
  const shs = ks.serverHandshakeTrafficSecret(hh);
  t.is(hex(chs), trace(4, "derive secret 'tls13 c hs traffic'", 'expanded'));
  t.is(hex(shs), trace(4, "derive secret 'tls13 s hs traffic'", 'expanded'));
  ks.deriveMasterSecret();
  t.is(hex(ks.masterSecret!), trace(4, "server: extract secret 'master'", 'secret'));

  const ee = h(trace(4, 'construct an EncryptedExtensions', 'EncryptedExtensions'));
  const eed = decodeEncryptedExtensions(body(ee));
  t.not(findExtension(eed.extensions, ExtensionType.early_data), undefined, 'server accepted early data');
  tr.add(ee);
  const sfin = finishedVerifyData('sha256', shs, tr.hash('sha256'));
  t.is(hex(sfin), trace(4, "server: calculate finished 'tls13 finished'", 'finished'));
  tr.add(encodeFinished(sfin));
  const ah = tr.hash('sha256');
  t.is(hex(ks.clientApplicationTrafficSecret(ah)), trace(4, "derive secret 'tls13 c ap traffic'", 'expanded'));
  t.is(hex(ks.serverApplicationTrafficSecret(ah)), trace(4, "derive secret 'tls13 s ap traffic'", 'expanded'));
  // §4 sends EndOfEarlyData (TLS over TCP); QUIC removes it (RFC 9001 §8.3), so the client Finished
  // here covers it as the trace does.
  const eoed = h(trace(4, 'construct an EndOfEarlyData', 'EndOfEarlyData'));
  tr.add(eoed);
  const cfin = finishedVerifyData('sha256', chs, tr.hash('sha256'));
  t.is(hex(cfin), trace(4, "client: calculate finished 'tls13 finished'", 'finished'));
  tr.add(encodeFinished(cfin));
  t.is(hex(ks.resumptionMasterSecret(tr.hash('sha256'))), trace(4, "derive secret 'tls13 res master'", 'expanded'));
});

// ---------------------------------------------------------------------------------------------
// RFC 8448 §5: HelloRetryRequest (X25519 offered, P-256 requested, with a cookie)

test('RFC 8448 §5: HRR decodes; message_hash transcript; P-256 shared secret; handshake secrets', (t) => {
  const ch1 = h(trace(5, 'client: construct a ClientHello', 'ClientHello', 0));
  const hrr = h(trace(5, 'server: construct a ServerHello', 'ServerHello', 0));
  const ch2 = h(trace(5, 'client: construct a ClientHello', 'ClientHello', 1));
  const sh = h(trace(5, 'server: construct a ServerHello', 'ServerHello', 1));
  const hr = decodeServerHello(body(hrr));
  t.true(isHelloRetryRequest(hr));
  t.is(decodeKeyShareHRR(findExtension(hr.extensions, ExtensionType.key_share)!), 0x0017);
  t.true(decodeCookie(findExtension(hr.extensions, ExtensionType.cookie)!).length > 0);
  t.is(hex(encodeServerHello(hr)), hex(hrr));
  const c2 = decodeClientHello(body(ch2));
  t.is(hex(encodeClientHello(c2)), hex(ch2));
  t.deepEqual(decodeKeyShareCH(findExtension(c2.extensions, ExtensionType.key_share)!).map((s) => s.group), [0x0017]);

  const cPriv = h(trace(5, 'client: create an ephemeral P-256', 'private key'));
  const sPriv = h(trace(5, 'server: create an ephemeral P-256', 'private key'));
  const c = generateKeyShare(KeyExchangeGroup.secp256r1, fixed(cPriv));
  const s = generateKeyShare(KeyExchangeGroup.secp256r1, fixed(sPriv));
  t.is(hex(c.publicKey), trace(5, 'client: create an ephemeral P-256', 'public key'));
  t.is(hex(s.publicKey), trace(5, 'server: create an ephemeral P-256', 'public key'));
  const shared = s.deriveSecret(c.publicKey)!;
  t.is(hex(shared), trace(5, "server: extract secret 'handshake'", 'IKM'));
  t.is(hex(p256.getSharedSecret(sPriv, c.publicKey).subarray(1)), hex(shared));

  const tr = new Transcript();
  tr.add(ch1);
  tr.replaceClientHelloWithMessageHash('sha256');
  tr.add(hrr);
  tr.add(ch2);
  tr.add(sh);
  const ks = new KeySchedule('sha256');
  ks.deriveHandshakeSecret(shared);
  t.is(hex(ks.handshakeSecret!), trace(5, "server: extract secret 'handshake'", 'secret'));
  t.is(hex(tr.hash('sha256')), trace(5, "derive secret 'tls13 c hs traffic'", 'hash'));
  t.is(hex(ks.clientHandshakeTrafficSecret(tr.hash('sha256'))), trace(5, "derive secret 'tls13 c hs traffic'", 'expanded'));
});

// ---------------------------------------------------------------------------------------------
// RFC 8448 §6: Client Authentication

test('RFC 8448 §6: CertificateRequest and client Certificate/CertificateVerify codecs; client CV content', (t) => {
  const cr = h(trace(6, 'construct a CertificateRequest', 'CertificateRequest'));
  const d = decodeCertificateRequest(body(cr));
  t.is(d.context.length, 0);
  t.not(findExtension(d.extensions, ExtensionType.signature_algorithms), undefined);
  t.is(hex(encodeCertificateRequest(d)), hex(cr));
  const ccert = h(trace(6, 'client: construct a Certificate', 'Certificate'));
  const ccv = h(trace(6, 'client: construct a CertificateVerify', 'CertificateVerify'));
  t.is(hex(encodeCertificate(decodeCertificate(body(ccert)))), hex(ccert));
  t.is(hex(encodeCertificateVerify(decodeCertificateVerify(body(ccv)))), hex(ccv));
  // The client signs CH..client Certificate with the client context string.
  const tr = new Transcript();
  for (const [step, field] of [
    ['client: construct a ClientHello', 'ClientHello'],
    ['server: construct a ServerHello', 'ServerHello'],
    ['construct an EncryptedExtensions', 'EncryptedExtensions'],
    ['construct a CertificateRequest', 'CertificateRequest'],
    ['server: construct a Certificate handshake', 'Certificate'],
    ['server: construct a CertificateVerify', 'CertificateVerify'],
    ['server: construct a Finished', 'Finished'],
    ['client: construct a Certificate handshake', 'Certificate'],
  ] as const) {
    tr.add(h(trace(6, step, field)));
  }
  const content = certificateVerifyContent(false, tr.hash('sha256'));
  const leaf = decodeCertificate(body(ccert)).entries[0]!.data;
  const key = createPublicKey(`-----BEGIN CERTIFICATE-----\n${Buffer.from(leaf).toString('base64')}\n-----END CERTIFICATE-----\n`);
  const sig = decodeCertificateVerify(body(ccv));
  t.true(nodeVerify('sha256', content, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig.signature));
});
