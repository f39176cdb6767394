// HelloRetryRequest (RFC 8446 §4.1.4, §4.2.2 cookie, §4.4.1 message_hash transcript): the server
// asks for a supported group when the client sent no usable share; the client answers once, and
// rejects a second HRR or one asking for a group it did not offer or already sent.
import test from 'ava';
import { TlsClient } from '../../src/tls/client.js';
import { TlsServer, makeHrrCookie, openHrrCookie } from '../../src/tls/server.js';
import { TlsAlert } from '../../src/tls/wire/alert.js';
import { ExtensionType, HRR_RANDOM, HandshakeType, NamedGroup } from '../../src/tls/wire/constants.js';
import { decodeClientHello, encodeClientHello, encodeServerHello } from '../../src/tls/wire/messages.js';
import { encodeCookie, encodeU16 } from '../../src/tls/wire/extensions.js';
import { EncryptionLevel } from '../../src/tls/types.js';
import { NOW, clientOptions, events, handshake, serverOptions } from './harness.js';

test('client shares P-256 only, server takes X25519 only → HRR, then a full handshake on X25519', (t) => {
  const { client, server, r } = handshake(
    clientOptions({ groups: [NamedGroup.secp256r1, NamedGroup.x25519], keyShareGroups: [NamedGroup.secp256r1] }),
    serverOptions({ groups: [NamedGroup.x25519] }),
  );
  t.is(client.handshakeInfo!.group, NamedGroup.x25519);
  t.is(server.handshakeInfo!.group, NamedGroup.x25519);
  const initialsFromServer = r.serverSent.filter((x) => x.level === 0);
  t.is(initialsFromServer.length, 2, 'HRR then ServerHello');
  t.deepEqual(Array.from(initialsFromServer[0]!.data.subarray(6, 38)), Array.from(HRR_RANDOM));
  t.is(r.clientSent.filter((x) => x.level === 0).length, 2);
  // CH2 carries exactly one share (X25519) and the cookie.
  const ch2 = decodeClientHello(r.clientSent[1]!.data.subarray(4));
  t.truthy(ch2.extensions.find((e) => e.type === ExtensionType.cookie));
  const cw = events(r.clientEvents, 'secret').find((e) => e.level === 3 && e.direction === 'write')!;
  const sr = events(r.serverEvents, 'secret').find((e) => e.level === 3 && e.direction === 'read')!;
  t.deepEqual(cw.secret, sr.secret);
});

test('HRR picks by the client supported_groups order among the server groups', (t) => {
  const { client } = handshake(
    clientOptions({ groups: [NamedGroup.secp384r1, NamedGroup.x25519, NamedGroup.secp256r1], keyShareGroups: [NamedGroup.x25519] }),
    serverOptions({ groups: [NamedGroup.secp256r1, NamedGroup.secp384r1] }),
  );
  t.is(client.handshakeInfo!.group, NamedGroup.secp384r1);
});

test('no common group at all → handshake_failure', (t) => {
  const err = t.throws(() => handshake(clientOptions({ groups: [NamedGroup.secp384r1] }), serverOptions({ groups: [NamedGroup.x25519] })), {
    instanceOf: TlsAlert,
  });
  t.is(err.alert, 40);
});

test('the cookie is MAC-protected and carries the ClientHello1 hash', (t) => {
  const key = new Uint8Array(32).fill(7);
  const c = makeHrrCookie(key, 0x1301, 0x1d, new Uint8Array(32).fill(1));
  t.deepEqual(openHrrCookie(key, c), { suite: 0x1301, group: 0x1d, ch1Hash: new Uint8Array(32).fill(1) });
  const bad = c.slice();
  bad[3]! ^= 1;
  t.is(openHrrCookie(key, bad), null);
  t.is(openHrrCookie(new Uint8Array(32), c), null);
  t.is(openHrrCookie(key, c.subarray(0, 10)), null);
});

test('server: a ClientHello2 with an altered cookie or the wrong share is illegal_parameter', (t) => {
  for (const tamper of ['cookie', 'share'] as const) {
    const client = new TlsClient(clientOptions({ groups: [NamedGroup.secp256r1, NamedGroup.x25519], keyShareGroups: [NamedGroup.secp256r1] }));
    const server = new TlsServer(serverOptions({ groups: [NamedGroup.x25519] }));
    client.start(NOW);
    const ch1 = client.pollEvent()!;
    if (ch1.type !== 'handshake-data') throw new Error('no CH');
    server.receive(0, ch1.data, NOW);
    const hrr = server.pollEvent()!;
    if (hrr.type !== 'handshake-data') throw new Error('no HRR');
    client.receive(0, hrr.data, NOW);
    const ch2ev = client.pollEvent()!;
    if (ch2ev.type !== 'handshake-data') throw new Error('no CH2');
    const ch2 = decodeClientHello(ch2ev.data.subarray(4));
    const exts = ch2.extensions.map((e) => {
      if (tamper === 'cookie' && e.type === ExtensionType.cookie) {
        const d = e.data.slice();
        d[d.length - 1]! ^= 1;
        return { type: e.type, data: d };
      }
      return e;
    });
    const mutated =
      tamper === 'cookie'
        ? { ...ch2, extensions: exts }
        : { ...ch2, extensions: exts.map((e) => (e.type === ExtensionType.key_share ? { type: e.type, data: Uint8Array.of(0, 0) } : e)) };
    const err = t.throws(() => server.receive(0, encodeClientHello(mutated), NOW), { instanceOf: TlsAlert });
    t.is(err.alert, 47, tamper);
  }
});

/** Start a client offering X25519 (share) and P-256/P-384 (no share), return it after its ClientHello. */
function startedClient(): TlsClient {
  const c = new TlsClient(clientOptions({ groups: [NamedGroup.x25519, NamedGroup.secp256r1] }));
  c.start(NOW);
  while (c.pollEvent());
  return c;
}

function hrrMessage(exts: { type: number; data: Uint8Array }[], suite = 0x1301): Uint8Array {
  return encodeServerHello({
    legacyVersion: 0x0303,
    random: HRR_RANDOM,
    sessionIdEcho: new Uint8Array(0),
    cipherSuite: suite,
    compressionMethod: 0,
    extensions: [{ type: ExtensionType.supported_versions, data: encodeU16(0x0304) }, ...exts],
  });
}

test('client: HRR for a group not offered, for the group already shared, or changing nothing → illegal_parameter', (t) => {
  const cases: [string, Uint8Array][] = [
    ['unoffered group', hrrMessage([{ type: ExtensionType.key_share, data: encodeU16(NamedGroup.secp384r1) }])],
    ['already shared', hrrMessage([{ type: ExtensionType.key_share, data: encodeU16(NamedGroup.x25519) }])],
    ['no change', hrrMessage([])],
    ['unoffered suite', hrrMessage([{ type: ExtensionType.key_share, data: encodeU16(NamedGroup.secp256r1) }], 0x1304)],
  ];
  for (const [name, msg] of cases) {
    const c = startedClient();
    const err = t.throws(() => c.receive(EncryptionLevel.Initial, msg, NOW), { instanceOf: TlsAlert }, name);
    t.is(err.alert, 47, name);
  }
});

test('client: a second HelloRetryRequest → unexpected_message', (t) => {
  const c = startedClient();
  c.receive(0, hrrMessage([{ type: ExtensionType.key_share, data: encodeU16(NamedGroup.secp256r1) }]), NOW);
  const ev = c.pollEvent();
  t.is(ev?.type, 'handshake-data', 'CH2 sent');
  const err = t.throws(() => c.receive(0, hrrMessage([{ type: ExtensionType.cookie, data: encodeCookie(Uint8Array.of(1)) }]), NOW), {
    instanceOf: TlsAlert,
  });
  t.is(err.alert, 10);
});

test('client: HRR with a cookie only → CH2 echoes the cookie and keeps its share', (t) => {
  const c = startedClient();
  c.receive(0, hrrMessage([{ type: ExtensionType.cookie, data: encodeCookie(Uint8Array.of(5, 6, 7)) }]), NOW);
  const ev = c.pollEvent();
  if (ev?.type !== 'handshake-data') return t.fail();
  t.is(ev.data[0], HandshakeType.client_hello);
  const ch2 = decodeClientHello(ev.data.subarray(4));
  t.deepEqual(ch2.extensions.find((e) => e.type === ExtensionType.cookie)!.data, encodeCookie(Uint8Array.of(5, 6, 7)));
});
