// Negative handshakes, each asserting the alert (RFC 8446 §6.2) or the QUIC transport error
// (RFC 9001 §4.6.1, §4.4, §8.3, §8.4): bad Finished, bad CertificateVerify, certificate failures,
// missing quic_transport_parameters (0x16d), no ALPN overlap (0x178), downgrades, every truncated
// and oversized message (decode_error), messages out of order and KeyUpdate (unexpected_message).
import test from 'ava';
import { TransportError } from '../../src/codec/errors.js';
import { TlsClient } from '../../src/tls/client.js';
import { TlsServer } from '../../src/tls/server.js';
import { toTransportError } from '../../src/tls/alerts.js';
import { EncryptionLevel } from '../../src/tls/types.js';
import { TlsAlert } from '../../src/tls/wire/alert.js';
import { DOWNGRADE_TLS12, ExtensionType, HandshakeType } from '../../src/tls/wire/constants.js';
import { encodeU16, findExtension, type Extension } from '../../src/tls/wire/extensions.js';
import {
  decodeEncryptedExtensions,
  decodeServerHello,
  encodeEncryptedExtensions,
  encodeNewSessionTicket,
  encodeServerHello,
} from '../../src/tls/wire/messages.js';
import { SignatureScheme } from '../../src/crypto/sign.js';
import { NOW, clientOptions, frameMessage, handshake, makeCa, makeLeaf, mutateFlight, serverOptions, splitMessages, testCa } from './harness.js';

type Transform = Parameters<typeof handshake>[3];

function alertOf(t: import('ava').ExecutionContext, fn: () => unknown): number {
  const e = t.throws(fn, { instanceOf: TlsAlert });
  return e.alert;
}

function serverFlight(fn: (flight: Uint8Array) => Uint8Array): Transform {
  return (from, level, data) => (from === 'server' && level === EncryptionLevel.Handshake ? fn(data) : data);
}

function flipLast(m: Uint8Array): Uint8Array {
  const d = m.slice();
  d[d.length - 1]! ^= 0x01;
  return d;
}

function withoutExtension(exts: readonly Extension[], type: number): Extension[] {
  return exts.filter((e) => e.type !== type);
}

// --- Finished and CertificateVerify ----------------------------------------------------------

test('bad server Finished → decrypt_error (51)', (t) => {
  t.is(alertOf(t, () => handshake(clientOptions(), serverOptions(), NOW, serverFlight((f) => mutateFlight(f, HandshakeType.finished, flipLast)))), 51);
});

test('bad client Finished → decrypt_error (51)', (t) => {
  const tr: Transform = (from, level, data) => (from === 'client' && level === EncryptionLevel.Handshake ? flipLast(data) : data);
  t.is(alertOf(t, () => handshake(clientOptions(), serverOptions(), NOW, tr)), 51);
});

test('bad CertificateVerify signature → decrypt_error (51); unoffered scheme → illegal_parameter (47)', (t) => {
  t.is(alertOf(t, () => handshake(clientOptions(), serverOptions(), NOW, serverFlight((f) => mutateFlight(f, HandshakeType.certificate_verify, flipLast)))), 51);
  const pkcs1 = (m: Uint8Array) => {
    const d = m.slice();
    d[4] = 0x04;
    d[5] = 0x01; // rsa_pkcs1_sha256: never valid in a TLS 1.3 CertificateVerify
    return d;
  };
  t.is(alertOf(t, () => handshake(clientOptions(), serverOptions(), NOW, serverFlight((f) => mutateFlight(f, HandshakeType.certificate_verify, pkcs1)))), 47);
  const ed = (m: Uint8Array) => {
    const d = m.slice();
    d[4] = 0x08;
    d[5] = 0x07; // offered, but not the key's type: the signature cannot verify
    return d;
  };
  t.is(alertOf(t, () => handshake(clientOptions(), serverOptions(), NOW, serverFlight((f) => mutateFlight(f, HandshakeType.certificate_verify, ed)))), 51);
});

test('even with rejectUnauthorized: false a forged CertificateVerify is refused', (t) => {
  t.is(
    alertOf(t, () =>
      handshake(clientOptions({ rejectUnauthorized: false, ca: [] }), serverOptions(), NOW, serverFlight((f) => mutateFlight(f, HandshakeType.certificate_verify, flipLast))),
    ),
    51,
  );
});

// --- certificates --------------------------------------------------------------------------------

test('wrong host name → certificate_unknown (46)', (t) => {
  t.is(alertOf(t, () => handshake(clientOptions({ serverName: 'example.org' }), serverOptions())), 46);
});

test('expired certificate → certificate_expired (45)', (t) => {
  const expired = makeLeaf(testCa(), { notBefore: NOW - 40 * 86400_000, notAfter: NOW - 86400_000 });
  t.is(alertOf(t, () => handshake(clientOptions(), serverOptions({ certificates: [expired] }))), 45);
});

test('unknown CA → unknown_ca (48)', (t) => {
  t.is(alertOf(t, () => handshake(clientOptions({ ca: [makeCa('Other CA').der] }), serverOptions())), 48);
});

test('server Certificate with no entries → decode_error (50)', (t) => {
  const empty = () => frameMessage(HandshakeType.certificate, Uint8Array.of(0, 0, 0, 0));
  t.is(alertOf(t, () => handshake(clientOptions(), serverOptions(), NOW, serverFlight((f) => mutateFlight(f, HandshakeType.certificate, empty)))), 50);
});

test('no certificate for the client signature algorithms → handshake_failure (40)', (t) => {
  t.is(alertOf(t, () => handshake(clientOptions({ signatureAlgorithms: [SignatureScheme.ed25519] }), serverOptions())), 40);
});

// --- QUIC transport parameters and ALPN ------------------------------------------------------------

test('ClientHello without quic_transport_parameters → missing_extension (109 → 0x16d)', (t) => {
  const err = t.throws(
    () => handshake(clientOptions({ mutateClientHello: (ch) => ({ ...ch, extensions: withoutExtension(ch.extensions, ExtensionType.quic_transport_parameters) }) }), serverOptions()),
    { instanceOf: TlsAlert },
  );
  t.is(err.alert, 109);
  t.is(toTransportError(err).errorCode, 0x16d);
});

function rewriteEE(fn: (exts: Extension[]) => Extension[]): Transform {
  return serverFlight((f) =>
    mutateFlight(f, HandshakeType.encrypted_extensions, (m) => encodeEncryptedExtensions({ extensions: fn(decodeEncryptedExtensions(m.subarray(4)).extensions) })),
  );
}

test('EncryptedExtensions without quic_transport_parameters → missing_extension (109)', (t) => {
  t.is(alertOf(t, () => handshake(clientOptions(), serverOptions(), NOW, rewriteEE((x) => withoutExtension(x, ExtensionType.quic_transport_parameters)))), 109);
});

test('no ALPN overlap → no_application_protocol (120 → 0x178), both directions', (t) => {
  const err = t.throws(() => handshake(clientOptions({ alpn: ['hq-interop'] }), serverOptions()), { instanceOf: TlsAlert });
  t.is(err.alert, 120);
  t.is(toTransportError(err).errorCode, 0x178);
  // ClientHello without ALPN at all.
  t.is(
    alertOf(t, () =>
      handshake(clientOptions({ mutateClientHello: (ch) => ({ ...ch, extensions: withoutExtension(ch.extensions, ExtensionType.application_layer_protocol_negotiation) }) }), serverOptions()),
    ),
    120,
  );
  // The server "selects" a protocol the client never offered, or none.
  const h2 = { type: ExtensionType.application_layer_protocol_negotiation, data: Uint8Array.of(0, 3, 2, 0x68, 0x32) };
  t.is(alertOf(t, () => handshake(clientOptions(), serverOptions(), NOW, rewriteEE((x) => [...withoutExtension(x, 16), h2]))), 120);
  t.is(alertOf(t, () => handshake(clientOptions(), serverOptions(), NOW, rewriteEE((x) => withoutExtension(x, 16)))), 120);
});

test('EncryptedExtensions with a forbidden or unsolicited extension', (t) => {
  t.is(alertOf(t, () => handshake(clientOptions(), serverOptions(), NOW, rewriteEE((x) => [...x, { type: ExtensionType.key_share, data: Uint8Array.of(0, 0x1d, 0, 0) }]))), 47);
  t.is(alertOf(t, () => handshake(clientOptions(), serverOptions(), NOW, rewriteEE((x) => [...x, { type: 0x7777, data: new Uint8Array(0) }]))), 110);
  t.is(alertOf(t, () => handshake(clientOptions(), serverOptions(), NOW, rewriteEE((x) => [...x, { type: ExtensionType.early_data, data: new Uint8Array(0) }]))), 110);
});

// --- versions and downgrades ------------------------------------------------------------------------

/** A client that sent its ClientHello, and the genuine ServerHello for it. */
function clientAndServerHello(): { client: TlsClient; sh: Uint8Array } {
  const client = new TlsClient(clientOptions({}, 21));
  client.start(NOW);
  const ch = client.pollEvent()!;
  const server = new TlsServer(serverOptions({}, 22));
  if (ch.type !== 'handshake-data') throw new Error('no CH');
  server.receive(0, ch.data, NOW);
  for (let e = server.pollEvent(); e; e = server.pollEvent()) if (e.type === 'handshake-data' && e.level === 0) return { client, sh: e.data };
  throw new Error('no SH');
}

function rewriteSH(sh: Uint8Array, fn: (s: ReturnType<typeof decodeServerHello>) => ReturnType<typeof decodeServerHello>): Uint8Array {
  return encodeServerHello(fn(decodeServerHello(sh.subarray(4))));
}

test('downgrade: sentinel in ServerHello.random without supported_versions → illegal_parameter (47)', (t) => {
  const { client, sh } = clientAndServerHello();
  const bad = rewriteSH(sh, (s) => {
    const random = s.random.slice();
    random.set(DOWNGRADE_TLS12, 24);
    return { ...s, random, extensions: withoutExtension(s.extensions, ExtensionType.supported_versions) };
  });
  t.is(alertOf(t, () => client.receive(0, bad, NOW)), 47);
});

test('downgrade: supported_versions selecting TLS 1.2 → illegal_parameter (47); no supported_versions → protocol_version (70)', (t) => {
  const a = clientAndServerHello();
  const tls12 = rewriteSH(a.sh, (s) => ({ ...s, extensions: s.extensions.map((e) => (e.type === ExtensionType.supported_versions ? { type: e.type, data: encodeU16(0x0303) } : e)) }));
  t.is(alertOf(t, () => a.client.receive(0, tls12, NOW)), 47);
  const b = clientAndServerHello();
  const legacy = rewriteSH(b.sh, (s) => ({ ...s, extensions: withoutExtension(s.extensions, ExtensionType.supported_versions) }));
  t.is(alertOf(t, () => b.client.receive(0, legacy, NOW)), 70);
});

test('server: ClientHello without TLS 1.3 → protocol_version (70)', (t) => {
  const only12 = { type: ExtensionType.supported_versions, data: Uint8Array.of(2, 3, 3) };
  t.is(
    alertOf(t, () =>
      handshake(clientOptions({ mutateClientHello: (ch) => ({ ...ch, extensions: ch.extensions.map((e) => (e.type === ExtensionType.supported_versions ? only12 : e)) }) }), serverOptions()),
    ),
    70,
  );
  t.is(
    alertOf(t, () =>
      handshake(clientOptions({ mutateClientHello: (ch) => ({ ...ch, extensions: withoutExtension(ch.extensions, ExtensionType.supported_versions) }) }), serverOptions()),
    ),
    70,
  );
});

test('ServerHello: unsolicited extension → unsupported_extension (110); share for an unsent group → illegal_parameter (47); non-empty session id echo → 47', (t) => {
  const a = clientAndServerHello();
  t.is(alertOf(t, () => a.client.receive(0, rewriteSH(a.sh, (s) => ({ ...s, extensions: [...s.extensions, { type: 0x1234, data: new Uint8Array(0) }] })), NOW)), 110);
  const b = clientAndServerHello();
  const p256share = { type: ExtensionType.key_share, data: new Uint8Array([0, 0x17, 0, 65, 4, ...new Uint8Array(64).fill(1)]) };
  t.is(alertOf(t, () => b.client.receive(0, rewriteSH(b.sh, (s) => ({ ...s, extensions: s.extensions.map((e) => (e.type === ExtensionType.key_share ? p256share : e)) })), NOW)), 47);
  const c = clientAndServerHello();
  t.is(alertOf(t, () => c.client.receive(0, rewriteSH(c.sh, (s) => ({ ...s, sessionIdEcho: Uint8Array.of(1) })), NOW)), 47);
  const d = clientAndServerHello();
  const zero = { type: ExtensionType.key_share, data: new Uint8Array([0, 0x1d, 0, 32, ...new Uint8Array(32)]) };
  t.is(alertOf(t, () => d.client.receive(0, rewriteSH(d.sh, (s) => ({ ...s, extensions: s.extensions.map((e) => (e.type === ExtensionType.key_share ? zero : e)) })), NOW)), 47, 'all-zero X25519 result');
});

// --- malformed ClientHello structure ------------------------------------------------------------------

test('ClientHello: duplicate extension or pre_shared_key not last → illegal_parameter (47)', (t) => {
  t.is(alertOf(t, () => handshake(clientOptions({ mutateClientHello: (ch) => ({ ...ch, extensions: [...ch.extensions, ch.extensions[0]!] }) }), serverOptions())), 47);
  const psk = { type: ExtensionType.pre_shared_key, data: new Uint8Array([0, 7, 0, 1, 1, 0, 0, 0, 0, 0, 33, 32, ...new Uint8Array(32)]) };
  t.is(alertOf(t, () => handshake(clientOptions({ mutateClientHello: (ch) => ({ ...ch, extensions: [psk, ...ch.extensions] }) }), serverOptions())), 47);
});

test('RFC 9001 §8.4: non-empty legacy_session_id → PROTOCOL_VIOLATION', (t) => {
  const err = t.throws(() => handshake(clientOptions({ mutateClientHello: (ch) => ({ ...ch, sessionId: new Uint8Array(32).fill(3) }) }), serverOptions()), {
    instanceOf: TransportError,
  });
  t.is(err.errorCode, 0x0a);
});

// --- truncated and oversized messages at every length ---------------------------------------------------

/** Frame `body` under `type` with its true length, truncated to `n`, or with `extra` trailing bytes. */
function reframe(msg: Uint8Array, bodyLen: number): Uint8Array {
  const body = new Uint8Array(bodyLen);
  body.set(msg.subarray(4, 4 + Math.min(bodyLen, msg.length - 4)));
  return frameMessage(msg[0]!, body);
}

test('server: ClientHello truncated at every length → decode_error; one byte too long → decode_error', (t) => {
  const client = new TlsClient(clientOptions({}, 31));
  client.start(NOW);
  const ev = client.pollEvent()!;
  if (ev.type !== 'handshake-data') return t.fail();
  const ch = ev.data;
  // The one cut that is not a decode error: right after compression_methods the legacy grammar
  // allows no extensions, and such a ClientHello is a TLS 1.2 one (protocol_version).
  const sidLen = ch[4 + 34]!;
  const csLen = (ch[4 + 35 + sidLen]! << 8) | ch[4 + 36 + sidLen]!;
  const noExtCut = 35 + sidLen + 2 + csLen + 2;
  for (let n = 0; n < ch.length - 4; n++) {
    const s = new TlsServer(serverOptions());
    const a = alertOf(t, () => s.receive(0, reframe(ch, n), NOW));
    if (a !== (n === noExtCut ? 70 : 50)) t.fail(`length ${n}: alert ${a}`);
  }
  const s = new TlsServer(serverOptions());
  t.is(alertOf(t, () => s.receive(0, reframe(ch, ch.length - 4 + 1), NOW)), 50);
});

/** A client that processed the genuine ServerHello, and the server's Handshake flight for it. */
function clientAtEE(seed = 41): { client: TlsClient; flight: Uint8Array } {
  const client = new TlsClient(clientOptions({}, seed));
  const server = new TlsServer(serverOptions({}, seed + 1));
  client.start(NOW);
  const ch = client.pollEvent()!;
  if (ch.type !== 'handshake-data') throw new Error('no CH');
  server.receive(0, ch.data, NOW);
  let flight: Uint8Array | undefined;
  for (let e = server.pollEvent(); e; e = server.pollEvent()) {
    if (e.type !== 'handshake-data') continue;
    if (e.level === 0) client.receive(0, e.data, NOW);
    else if (e.level === EncryptionLevel.Handshake) flight = e.data;
  }
  while (client.pollEvent());
  return { client, flight: flight! };
}

test('client: ServerHello, EncryptedExtensions, Certificate, CertificateVerify, Finished truncated at every length and one byte long → decode_error', (t) => {
  // ServerHello
  {
    const { sh } = clientAndServerHello();
    const noExtCut = 2 + 32 + 1 + 2 + 1;
    for (let n = 0; n <= sh.length - 4 + 1; n++) {
      if (n === sh.length - 4) continue;
      const { client } = clientAndServerHello();
      const a = alertOf(t, () => client.receive(0, reframe(sh, n), NOW));
      if (a !== (n === noExtCut ? 70 : 50)) t.fail(`ServerHello length ${n}: alert ${a}`);
    }
  }
  const { flight } = clientAtEE();
  const msgs = splitMessages(flight);
  t.deepEqual(
    msgs.map((m) => m[0]),
    [HandshakeType.encrypted_extensions, HandshakeType.certificate, HandshakeType.certificate_verify, HandshakeType.finished],
  );
  let checked = 0;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    for (let n = 0; n <= m.length - 4 + 1; n++) {
      if (n === m.length - 4) continue;
      const { client } = clientAtEE();
      const before = msgs.slice(0, i);
      for (const p of before) client.receive(EncryptionLevel.Handshake, p, NOW);
      const a = alertOf(t, () => client.receive(EncryptionLevel.Handshake, reframe(m, n), NOW));
      if (a !== 50) t.fail(`message type ${m[0]} length ${n}: alert ${a}`);
      checked++;
    }
  }
  t.true(checked > 300);
});

test('a handshake message longer than maxMessageSize → decode_error before buffering it', (t) => {
  const s = new TlsServer(serverOptions({ maxMessageSize: 4096 }));
  t.is(alertOf(t, () => s.receive(0, Uint8Array.of(1, 0, 0x10, 0x01), NOW)), 50);
});

// --- order and levels -------------------------------------------------------------------------------

test('unexpected message order and levels → unexpected_message (10)', (t) => {
  const { flight } = clientAtEE();
  const msgs = splitMessages(flight);
  // Certificate before EncryptedExtensions.
  t.is(alertOf(t, () => clientAtEE().client.receive(EncryptionLevel.Handshake, msgs[1]!, NOW)), 10);
  // Finished right after EncryptedExtensions (certificate skipped) in a full handshake.
  {
    const { client } = clientAtEE();
    client.receive(EncryptionLevel.Handshake, msgs[0]!, NOW);
    t.is(alertOf(t, () => client.receive(EncryptionLevel.Handshake, msgs[3]!, NOW)), 10);
  }
  // Handshake-level bytes to a client still waiting for ServerHello.
  {
    const client = new TlsClient(clientOptions());
    client.start(NOW);
    t.is(alertOf(t, () => client.receive(EncryptionLevel.Handshake, msgs[0]!, NOW)), 10);
  }
  // Finished as the first message a server sees.
  t.is(alertOf(t, () => new TlsServer(serverOptions()).receive(0, frameMessage(HandshakeType.finished, new Uint8Array(32)), NOW)), 10);
  // An unknown handshake type.
  t.is(alertOf(t, () => new TlsServer(serverOptions()).receive(0, frameMessage(99, new Uint8Array(3)), NOW)), 10);
  // A ChangeCipherSpec record where handshake bytes belong (no compatibility mode in QUIC).
  t.is(alertOf(t, () => new TlsServer(serverOptions()).receive(0, Uint8Array.of(0x14, 0x03, 0x03, 0x00, 0x01, 0x01), NOW)), 10);
  {
    const c = new TlsClient(clientOptions());
    c.start(NOW);
    t.is(alertOf(t, () => c.receive(0, Uint8Array.of(0x14, 0x03, 0x03, 0x00, 0x01, 0x01), NOW)), 10);
  }
  // More Initial bytes after the ServerHello moved the client to Handshake keys.
  {
    const { client } = clientAndServerHello();
    const extra = new Uint8Array([...clientAndServerHello().sh, 1]);
    t.is(alertOf(t, () => client.receive(0, extra, NOW)), 10);
  }
});

test('after the handshake: KeyUpdate → unexpected_message on both sides; EndOfEarlyData → unexpected_message', (t) => {
  const ku = frameMessage(HandshakeType.key_update, Uint8Array.of(0));
  const a = handshake(clientOptions(), serverOptions());
  t.is(alertOf(t, () => a.client.receive(EncryptionLevel.Application, ku, NOW)), 10);
  t.is(alertOf(t, () => a.server.receive(EncryptionLevel.Application, ku, NOW)), 10);
  // EndOfEarlyData where the client Finished is due (RFC 9001 §8.3: QUIC removes it).
  const client = new TlsClient(clientOptions());
  const s = new TlsServer(serverOptions());
  client.start(NOW);
  const ch = client.pollEvent()!;
  if (ch.type !== 'handshake-data') return t.fail();
  s.receive(0, ch.data, NOW);
  t.is(alertOf(t, () => s.receive(EncryptionLevel.Handshake, frameMessage(HandshakeType.end_of_early_data, new Uint8Array(0)), NOW)), 10);
});

test('QUIC rules after the handshake: post-handshake CertificateRequest and a bad max_early_data_size → PROTOCOL_VIOLATION', (t) => {
  const a = handshake(clientOptions(), serverOptions());
  const cr = frameMessage(HandshakeType.certificate_request, Uint8Array.of(1, 9, 0, 0));
  t.is(t.throws(() => a.client.receive(EncryptionLevel.Application, cr, NOW), { instanceOf: TransportError }).errorCode, 0x0a);
  const b = handshake(clientOptions(), serverOptions());
  const nst = encodeNewSessionTicket({
    lifetime: 100,
    ageAdd: 1,
    nonce: Uint8Array.of(0),
    ticket: Uint8Array.of(1, 2, 3),
    extensions: [{ type: ExtensionType.early_data, data: Uint8Array.of(0, 0, 0x40, 0) }],
  });
  t.is(t.throws(() => b.client.receive(EncryptionLevel.Application, nst, NOW), { instanceOf: TransportError }).errorCode, 0x0a);
  const c = handshake(clientOptions(), serverOptions());
  const long = encodeNewSessionTicket({ lifetime: 604801, ageAdd: 1, nonce: Uint8Array.of(0), ticket: Uint8Array.of(1), extensions: [] });
  t.is(alertOf(t, () => c.client.receive(EncryptionLevel.Application, long, NOW)), 47);
});

test('CRYPTO data at the 0-RTT level → PROTOCOL_VIOLATION (RFC 9001 §8.3)', (t) => {
  const s = new TlsServer(serverOptions());
  t.is(t.throws(() => s.receive(EncryptionLevel.EarlyData, Uint8Array.of(1), NOW), { instanceOf: TransportError }).errorCode, 0x0a);
});

test('a failed engine stays failed and rethrows the same error', (t) => {
  const s = new TlsServer(serverOptions());
  const e1 = t.throws(() => s.receive(0, frameMessage(HandshakeType.finished, new Uint8Array(32)), NOW));
  const e2 = t.throws(() => s.receive(0, Uint8Array.of(1), NOW));
  t.is(e1, e2);
  t.is(s.error as unknown, e1);
});

test('API misuse throws TypeError/RangeError naming the argument', (t) => {
  t.throws(() => new TlsClient({ ...clientOptions(), alpn: [] }), { instanceOf: TypeError, message: /alpn/ });
  t.throws(() => new TlsClient({ ...clientOptions(), cipherSuites: [0x1304] }), { instanceOf: RangeError, message: /cipherSuites/ });
  t.throws(() => new TlsServer({ ...serverOptions(), certificates: [] }), { instanceOf: TypeError, message: /certificates/ });
  const c = new TlsClient(clientOptions());
  t.throws(() => c.receive(7 as never, new Uint8Array(1), NOW), { instanceOf: RangeError, message: /level/ });
  const found = findExtension([], 1);
  t.is(found, undefined);
});
