// Application data stored with a client session (RFC 9114 §7.2.4.2: a client stores the server's
// SETTINGS with the ticket to comply with them in 0-RTT). TLS carries it opaquely in the session
// blob; sessions written before it existed (format 1) still decode and resume.
import test from 'ava';
import { SeededRandom } from '../../src/crypto/random.js';
import { fromHex } from '../../src/util/bytes.js';
import { AntiReplay } from '../../src/tls/anti-replay.js';
import {
  TicketKeyring,
  clientSessionAppData,
  decodeClientSession,
  encodeClientSession,
  withClientSessionAppData,
  type ClientSession,
} from '../../src/tls/session-ticket.js';
import * as tlsIndex from '../../src/tls/index.js';
import { NOW, clientOptions, events, handshake, serverOptions } from './harness.js';

const SETTINGS_BLOB = fromHex('01 0140 00 0710 0644 00');

function session(): ClientSession {
  const so = serverOptions({ sessionTickets: { keyring: new TicketKeyring({ random: new SeededRandom(21) }) }, earlyData: { antiReplay: new AntiReplay() } });
  const { r } = handshake(clientOptions(), so);
  return events(r.clientEvents, 'session-ticket')[0]!.session;
}

test('a session without appData encodes as before (format 1) and round-trips without an appData key', (t) => {
  const s = session();
  const blob = encodeClientSession(s);
  t.is(blob[0], 1);
  const back = decodeClientSession(blob);
  t.deepEqual(back, s);
  t.false('appData' in back);
  t.is(clientSessionAppData(blob), undefined);
});

test('appData round-trips (format 2); withClientSessionAppData attaches it to a stored blob', (t) => {
  const s = session();
  const blob2 = encodeClientSession({ ...s, appData: SETTINGS_BLOB });
  t.is(blob2[0], 2);
  t.deepEqual(decodeClientSession(blob2), { ...s, appData: SETTINGS_BLOB });
  const attached = withClientSessionAppData(encodeClientSession(s), SETTINGS_BLOB);
  t.deepEqual(attached, blob2);
  t.deepEqual(clientSessionAppData(attached), SETTINGS_BLOB);
  // Replacing it keeps everything else.
  const replaced = withClientSessionAppData(attached, Uint8Array.of(7));
  t.deepEqual(decodeClientSession(replaced), { ...s, appData: Uint8Array.of(7) });
  t.deepEqual(clientSessionAppData(withClientSessionAppData(attached, new Uint8Array(0))), new Uint8Array(0));
});

test('every truncation of a format-2 session, and a trailing byte, are TypeErrors', (t) => {
  const blob = encodeClientSession({ ...session(), appData: SETTINGS_BLOB });
  for (let cut = 0; cut < blob.length; cut++) t.throws(() => decodeClientSession(blob.subarray(0, cut)), { instanceOf: TypeError });
  const longer = new Uint8Array(blob.length + 1);
  longer.set(blob);
  t.throws(() => decodeClientSession(longer), { instanceOf: TypeError, message: /trailing/ });
  t.throws(() => decodeClientSession(Uint8Array.of(3)), { instanceOf: TypeError, message: /version/ });
  t.throws(() => clientSessionAppData(Uint8Array.of(3)), { instanceOf: TypeError });
  t.throws(() => withClientSessionAppData(blob, 'x' as unknown as Uint8Array), { instanceOf: TypeError, message: /^appData/ });
  t.throws(() => withClientSessionAppData(blob, new Uint8Array(0x10000)), { instanceOf: RangeError, message: /^appData/ });
});

test('a session carrying appData resumes with 0-RTT like any other (TLS ignores it)', (t) => {
  const keyring = new TicketKeyring({ random: new SeededRandom(22) });
  const so = serverOptions({ sessionTickets: { keyring }, earlyData: { antiReplay: new AntiReplay() } });
  const first = handshake(clientOptions(), so);
  const s = events(first.r.clientEvents, 'session-ticket')[0]!.session;
  const withApp = decodeClientSession(withClientSessionAppData(encodeClientSession(s), SETTINGS_BLOB));
  const again = handshake(clientOptions({ session: withApp, earlyData: true }), so, NOW + 1000);
  t.true(again.client.handshakeInfo!.resumed);
  t.true(again.client.handshakeInfo!.earlyDataAccepted);
});

test('the helpers are on the TLS surface', (t) => {
  t.is(tlsIndex.clientSessionAppData, clientSessionAppData);
  t.is(tlsIndex.withClientSessionAppData, withClientSessionAppData);
});
