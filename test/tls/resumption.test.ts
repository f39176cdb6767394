// Session tickets, PSK resumption with psk_dhe_ke (RFC 8446 §4.6.1, §4.2.11) and 0-RTT
// (RFC 8446 §4.2.10, §8; RFC 9001 §4.6): accepted, and rejected for replay, ALPN change, age,
// the application's veto and HelloRetryRequest.
import test from 'ava';
import { SeededRandom } from '../../src/crypto/random.js';
import { toHex } from '../../src/util/bytes.js';
import { AntiReplay } from '../../src/tls/anti-replay.js';
import { TicketKeyring, decodeClientSession, encodeClientSession, type ClientSession } from '../../src/tls/session-ticket.js';
import { EncryptionLevel } from '../../src/tls/types.js';
import { TlsAlert } from '../../src/tls/wire/alert.js';
import { NamedGroup } from '../../src/tls/wire/constants.js';
import { TlsServer, type TlsServerOptions } from '../../src/tls/server.js';
import { NOW, CLIENT_TP, clientOptions, events, handshake, serverOptions, SERVER_TP } from './harness.js';

const APP = Uint8Array.of(9, 9, 9);

function ticketServer(o: Partial<TlsServerOptions> = {}, keyring?: TicketKeyring, anti?: AntiReplay): TlsServerOptions {
  return serverOptions({
    sessionTickets: { keyring: keyring ?? new TicketKeyring({ random: new SeededRandom(99) }), appData: APP },
    earlyData: { antiReplay: anti ?? new AntiReplay() },
    ...o,
  });
}

/** A first full handshake that leaves the client with a session. */
function firstSession(so: TlsServerOptions, now = NOW): ClientSession {
  const { r } = handshake(clientOptions(), so, now);
  const tickets = events(r.clientEvents, 'session-ticket');
  if (tickets.length !== 1) throw new Error(`expected one ticket, got ${tickets.length}`);
  return tickets[0]!.session;
}

test('the server issues a ticket after the handshake; the client turns it into a session', (t) => {
  const so = ticketServer();
  const { r } = handshake(clientOptions(), so);
  const nst = r.serverSent.filter((x) => x.level === EncryptionLevel.Application);
  t.is(nst.length, 1);
  const s = events(r.clientEvents, 'session-ticket')[0]!.session;
  t.is(s.maxEarlyData, 0xffffffff);
  t.is(s.alpn, 'h3');
  t.is(s.serverName, 'localhost');
  t.deepEqual(s.transportParameters, SERVER_TP);
  t.is(s.lifetime, 86400);
  t.deepEqual(decodeClientSession(encodeClientSession(s)), s);
});

test('resumption: PSK accepted, no certificate exchanged, secrets agree', (t) => {
  const so = ticketServer();
  const session = firstSession(so);
  const { client, server, r } = handshake(clientOptions({ session }), so, NOW + 5000);
  t.true(client.handshakeInfo!.resumed);
  t.true(server.handshakeInfo!.resumed);
  t.is(client.handshakeInfo!.peerCertificates.length, 0);
  const cw = events(r.clientEvents, 'secret').find((e) => e.level === 3 && e.direction === 'write')!;
  const sr = events(r.serverEvents, 'secret').find((e) => e.level === 3 && e.direction === 'read')!;
  t.is(toHex(cw.secret), toHex(sr.secret));
  // A resumed server flight is EE + Finished only (no Certificate / CertificateVerify).
  const flight = r.serverSent.find((x) => x.level === EncryptionLevel.Handshake)!.data;
  t.true(flight.length < 120, `flight of ${flight.length} bytes`);
  // And it issues a fresh ticket again.
  t.is(events(r.clientEvents, 'session-ticket').length, 1);
});

test('resumption from a serialised session (session file round trip)', (t) => {
  const so = ticketServer();
  const session = decodeClientSession(encodeClientSession(firstSession(so)));
  const { client } = handshake(clientOptions({ session }), so, NOW + 1000);
  t.true(client.handshakeInfo!.resumed);
});

test('expired or foreign tickets fall back to a full handshake', (t) => {
  const so = ticketServer();
  const session = firstSession(so);
  // The server no longer accepts it after its lifetime (the client still offers it: its clock differs).
  const late = handshake(clientOptions({ session: { ...session, receivedAt: NOW + 2 * 86400_000 - 1000 } }), so, NOW + 2 * 86400_000);
  t.false(late.client.handshakeInfo!.resumed);
  // A server with another keyring cannot open it.
  const other = handshake(clientOptions({ session }), ticketServer({}, new TicketKeyring({ random: new SeededRandom(5) })), NOW + 1000);
  t.false(other.client.handshakeInfo!.resumed);
  t.truthy(other.client.handshakeInfo!.peerCertificates.length);
});

test('the client does not offer a session for another server name or past its lifetime', (t) => {
  const so = ticketServer();
  const session = firstSession(so);
  const a = handshake(clientOptions({ session, serverName: '127.0.0.1' }), so, NOW + 1000);
  t.false(a.client.handshakeInfo!.resumed);
  const b = handshake(clientOptions({ session }), so, NOW + 86400_000 + 1);
  t.false(b.client.handshakeInfo!.resumed);
});

test('a corrupted PSK binder is fatal: decrypt_error', (t) => {
  const so = ticketServer();
  const session = firstSession(so);
  const err = t.throws(
    () =>
      handshake(clientOptions({ session }), so, NOW + 1000, (from, level, data) => {
        if (from !== 'client' || level !== 0) return data;
        const d = data.slice();
        d[d.length - 1]! ^= 1;
        return d;
      }),
    { instanceOf: TlsAlert },
  );
  t.is(err.alert, 51);
});

test('0-RTT accepted: early secrets match and both sides report acceptance', (t) => {
  const so = ticketServer();
  const session = firstSession(so);
  const lines: string[] = [];
  const { client, server, r } = handshake(clientOptions({ session, earlyData: true, keylog: (l) => lines.push(l) }), so, NOW + 2000);
  const cw = events(r.clientEvents, 'secret').find((e) => e.level === EncryptionLevel.EarlyData)!;
  const sr = events(r.serverEvents, 'secret').find((e) => e.level === EncryptionLevel.EarlyData)!;
  t.is(cw.direction, 'write');
  t.is(sr.direction, 'read');
  t.is(toHex(cw.secret), toHex(sr.secret));
  t.deepEqual(events(r.clientEvents, 'early-data'), [{ type: 'early-data', accepted: true }]);
  t.deepEqual(events(r.serverEvents, 'early-data'), [{ type: 'early-data', accepted: true }]);
  t.true(client.handshakeInfo!.earlyDataAccepted);
  t.true(server.handshakeInfo!.earlyDataAccepted);
  t.true(lines.some((l) => l.startsWith('CLIENT_EARLY_TRAFFIC_SECRET ')));
  // The early write secret comes right after the ClientHello.
  t.deepEqual(
    r.clientEvents.slice(0, 2).map((e) => e.type),
    ['handshake-data', 'secret'],
  );
});

test('0-RTT: the application hook sees the ticket appData and can refuse', (t) => {
  const seen: Uint8Array[] = [];
  const so = ticketServer();
  const session = firstSession(so);
  const so2: TlsServerOptions = {
    ...so,
    earlyData: {
      antiReplay: new AntiReplay(),
      accept: (ctx) => {
        seen.push(ctx.appData);
        seen.push(ctx.clientTransportParameters);
        return false;
      },
    },
  };
  const { client, r } = handshake(clientOptions({ session, earlyData: true }), so2, NOW + 2000);
  t.deepEqual(seen, [APP, CLIENT_TP]);
  t.deepEqual(events(r.clientEvents, 'early-data'), [{ type: 'early-data', accepted: false }]);
  t.true(client.handshakeInfo!.resumed, 'still resumed in 1-RTT');
  t.false(client.handshakeInfo!.earlyDataAccepted);
  t.is(events(r.serverEvents, 'secret').filter((e) => e.level === EncryptionLevel.EarlyData).length, 0);
});

test('0-RTT rejected on ticket reuse (single-use anti-replay), handshake continues', (t) => {
  const so = ticketServer();
  const session = firstSession(so);
  const a = handshake(clientOptions({ session, earlyData: true }), so, NOW + 2000);
  t.true(a.client.handshakeInfo!.earlyDataAccepted);
  const b = handshake(clientOptions({ session, earlyData: true }, 3), so, NOW + 3000);
  t.false(b.client.handshakeInfo!.earlyDataAccepted);
  t.true(b.client.handshakeInfo!.resumed);
  t.deepEqual(events(b.r.serverEvents, 'early-data'), [{ type: 'early-data', accepted: false }]);
});

test('0-RTT replay of the identical ClientHello to a second server instance is rejected (window mode)', (t) => {
  const keyring = new TicketKeyring({ random: new SeededRandom(99) });
  const anti = new AntiReplay({ mode: 'window', windowMs: 10_000 });
  const so = ticketServer({}, keyring, anti);
  const session = firstSession(so);
  const a = handshake(clientOptions({ session, earlyData: true }), so, NOW + 2000);
  t.true(a.client.handshakeInfo!.earlyDataAccepted);
  // Window mode: the same ticket in a new ClientHello is fine...
  const b = handshake(clientOptions({ session, earlyData: true }, 11), so, NOW + 2500);
  t.true(b.client.handshakeInfo!.earlyDataAccepted);
  // ...the captured ClientHello replayed is not.
  const ch = a.r.clientSent[0]!.data;
  const replayServer = new TlsServer(ticketServer({}, keyring, anti));
  replayServer.receive(EncryptionLevel.Initial, ch, NOW + 2600);
  const verdicts = [];
  for (let e = replayServer.pollEvent(); e; e = replayServer.pollEvent()) if (e.type === 'early-data') verdicts.push(e.accepted);
  t.deepEqual(verdicts, [false]);
});

test('window mode: a replay stays rejected for as long as its ticket age still passes the freshness check', (t) => {
  // RFC 8446 §8.2: a ClientHello must be remembered for as long as a replay of it could still be
  // fresh. Here the client's clock runs 5 s ahead of the server's (its ticket age is 5 s larger,
  // inside the 10 s tolerance), so a replay 12 s later still passes the age check although the
  // 10 s window has passed.
  const keyring = new TicketKeyring({ random: new SeededRandom(99) });
  const anti = new AntiReplay({ mode: 'window', windowMs: 10_000 });
  const so = ticketServer({}, keyring, anti);
  const session = firstSession(so);
  const skewed = { ...session, receivedAt: session.receivedAt - 5_000 };
  const a = handshake(clientOptions({ session: skewed, earlyData: true }), so, NOW + 2000);
  t.true(a.client.handshakeInfo!.earlyDataAccepted);
  const ch = a.r.clientSent[0]!.data;
  const verdict = (at: number): boolean[] => {
    const replay = new TlsServer(ticketServer({}, keyring, anti));
    replay.receive(EncryptionLevel.Initial, ch, at);
    const out: boolean[] = [];
    for (let e = replay.pollEvent(); e; e = replay.pollEvent()) if (e.type === 'early-data') out.push(e.accepted);
    return out;
  };
  t.deepEqual(verdict(NOW + 2000 + 12_000), [false], 'replay inside the freshness tolerance');
  t.deepEqual(verdict(NOW + 2000 + 16_000), [false], 'replay past the tolerance: stale');
});

test('0-RTT rejected when the server would pick another ALPN', (t) => {
  const so = ticketServer();
  const session = firstSession(so);
  const { client, r } = handshake(
    clientOptions({ session, earlyData: true, alpn: ['hq-interop', 'h3'] }),
    { ...so, alpn: ['hq-interop', 'h3'] },
    NOW + 2000,
  );
  t.is(client.handshakeInfo!.alpn, 'hq-interop');
  t.true(client.handshakeInfo!.resumed);
  t.deepEqual(events(r.clientEvents, 'early-data'), [{ type: 'early-data', accepted: false }]);
});

test('0-RTT rejected when the client ticket age disagrees with the server (RFC 8446 §8.3)', (t) => {
  const so = ticketServer();
  const session = firstSession(so);
  const skewed = { ...session, receivedAt: session.receivedAt - 60_000 };
  const { client } = handshake(clientOptions({ session: skewed, earlyData: true }), so, NOW + 2000);
  t.false(client.handshakeInfo!.earlyDataAccepted);
  t.true(client.handshakeInfo!.resumed);
});

test('0-RTT is not offered without the ticket permission and rejected after HelloRetryRequest', (t) => {
  const noEarly = serverOptions({ sessionTickets: { keyring: new TicketKeyring({ random: new SeededRandom(1) }) } });
  const s1 = firstSession(noEarly);
  t.is(s1.maxEarlyData, 0);
  const a = handshake(clientOptions({ session: s1, earlyData: true }), noEarly, NOW + 1000);
  t.is(events(a.r.clientEvents, 'early-data').length, 0, 'not offered');
  t.true(a.client.handshakeInfo!.resumed);

  const so = ticketServer({ groups: [NamedGroup.x25519] });
  const s2 = firstSession(so);
  const b = handshake(clientOptions({ session: s2, earlyData: true, groups: [NamedGroup.secp256r1, NamedGroup.x25519] }), so, NOW + 1000);
  t.deepEqual(events(b.r.clientEvents, 'early-data'), [{ type: 'early-data', accepted: false }]);
  t.deepEqual(events(b.r.serverEvents, 'early-data'), [{ type: 'early-data', accepted: false }]);
  t.true(b.client.handshakeInfo!.resumed, 'PSK survives the HRR');
  t.is(b.r.clientSent.filter((x) => x.level === 0).length, 2);
});

test('ticket keyring rotation: old tickets still open until rotation + lifetime, then not', (t) => {
  const keyring = new TicketKeyring({ random: new SeededRandom(4), rotationMs: 1000, ticketLifetimeMs: 5000 });
  const sealed = keyring.seal(Uint8Array.of(1, 2, 3), NOW);
  keyring.seal(Uint8Array.of(4), NOW + 2000); // rotates
  t.deepEqual(keyring.open(sealed, NOW + 2000), Uint8Array.of(1, 2, 3));
  keyring.seal(Uint8Array.of(5), NOW + 7000); // rotates again, prunes the first key
  t.is(keyring.open(sealed, NOW + 7000), null);
  const tampered = sealed.slice();
  tampered[tampered.length - 1]! ^= 1;
  t.is(keyring.open(tampered, NOW), null);
  // Shared material: a second keyring with the exported keys opens the same tickets.
  const k2 = new TicketKeyring({ random: new SeededRandom(8), keys: keyring.exportKeys() });
  const s3 = keyring.seal(Uint8Array.of(7), NOW + 7001);
  t.deepEqual(k2.open(s3, NOW + 7001), Uint8Array.of(7));
});

test('anti-replay: bounded, fails closed when full, forgets expired entries', (t) => {
  const a = new AntiReplay({ capacity: 2 });
  const id = (n: number) => Uint8Array.of(n);
  t.true(a.check(id(1), NOW + 100, id(0), NOW));
  t.false(a.check(id(1), NOW + 100, id(0), NOW + 50));
  t.true(a.check(id(2), NOW + 100, id(0), NOW));
  t.false(a.check(id(3), NOW + 100, id(0), NOW), 'full');
  t.true(a.check(id(3), NOW + 300, id(0), NOW + 200), 'expired entries pruned');
  t.is(a.size, 1);
});
