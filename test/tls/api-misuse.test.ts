// API misuse of the TLS engines (DESIGN §5): calls in the wrong state throw TlsStateError with the
// stable code 'ERR_TLS_INVALID_STATE' (it survives structured clone, unlike the subclass); bad
// arguments are TypeError/RangeError naming the argument.
import test from 'ava';
import { SeededRandom } from '../../src/crypto/random.js';
import { TlsClient } from '../../src/tls/client.js';
import { TlsServer } from '../../src/tls/server.js';
import { TlsStateError } from '../../src/tls/errors.js';
import * as tlsIndex from '../../src/tls/index.js';
import { TicketKeyring } from '../../src/tls/session-ticket.js';
import { NOW, clientOptions, handshake, pump, serverOptions } from './harness.js';

function tickets(): { keyring: TicketKeyring } {
  return { keyring: new TicketKeyring({ random: new SeededRandom(3) }) };
}

function isStateError(t: import('ava').ExecutionContext, fn: () => unknown, message: RegExp): void {
  const e = t.throws(fn, { instanceOf: TlsStateError, message });
  t.is((e as unknown as { code: string }).code, 'ERR_TLS_INVALID_STATE');
  t.true(e instanceof Error);
  t.is(e?.name, 'TlsStateError');
}

test('TlsClient.start twice → ERR_TLS_INVALID_STATE', (t) => {
  const c = new TlsClient(clientOptions());
  c.start(NOW);
  isStateError(t, () => c.start(NOW), /TlsClient\.start: already started/);
});

test('TlsClient.start with a bad clock → TypeError naming now', (t) => {
  const c = new TlsClient(clientOptions());
  t.throws(() => c.start(Number.NaN), { instanceOf: TypeError, message: /^now:/ });
  // The failed call did not consume the start.
  t.notThrows(() => c.start(NOW));
});

test('TlsServer.sendSessionTicket before the handshake completes → ERR_TLS_INVALID_STATE', (t) => {
  const s = new TlsServer(serverOptions({ sessionTickets: tickets() }));
  isStateError(t, () => s.sendSessionTicket(NOW), /not complete/);
  // Mid-handshake (server flight sent, client Finished not yet received).
  const c = new TlsClient(clientOptions());
  const s2 = new TlsServer(serverOptions({ sessionTickets: tickets() }));
  c.start(NOW);
  for (let e = c.pollEvent(); e; e = c.pollEvent()) if (e.type === 'handshake-data') s2.receive(e.level, e.data, NOW);
  isStateError(t, () => s2.sendSessionTicket(NOW), /not complete/);
});

test('TlsServer.sendSessionTicket without options.sessionTickets → ERR_TLS_INVALID_STATE', (t) => {
  const { server } = handshake(clientOptions(), serverOptions());
  isStateError(t, () => server.sendSessionTicket(NOW), /options\.sessionTickets/);
});

test('TlsServer.sendSessionTicket after the handshake failed → ERR_TLS_INVALID_STATE carrying the failure', (t) => {
  const c = new TlsClient(clientOptions({ alpn: ['other'] }));
  const s = new TlsServer(serverOptions({ sessionTickets: tickets() }));
  c.start(NOW);
  t.throws(() => pump(c, s));
  const e = t.throws(() => s.sendSessionTicket(NOW), { instanceOf: TlsStateError, message: /failed/ });
  t.is(e?.code, 'ERR_TLS_INVALID_STATE');
  t.is(e?.cause, s.error);
});

test('TlsServer.sendSessionTicket argument checks', (t) => {
  const { server } = handshake(clientOptions(), serverOptions({ sessionTickets: { ...tickets(), count: 0 } }));
  t.throws(() => server.sendSessionTicket(Number.POSITIVE_INFINITY), { instanceOf: TypeError, message: /^now:/ });
  t.throws(() => server.sendSessionTicket(NOW, 'x' as unknown as Uint8Array), { instanceOf: TypeError, message: /^appData:/ });
  t.throws(() => server.sendSessionTicket(NOW, new Uint8Array(0x10000)), { instanceOf: RangeError, message: /^appData:/ });
  // RFC 8446 §4.6.1: the sealed ticket itself is opaque<1..2^16-1>.
  t.throws(() => server.sendSessionTicket(NOW, new Uint8Array(0xffff)), { instanceOf: RangeError, message: /^appData: the sealed ticket/ });
  t.notThrows(() => server.sendSessionTicket(NOW, new Uint8Array(60_000)));
  t.throws(() => new TlsServer(serverOptions({ sessionTickets: { ...tickets(), appData: new Uint8Array(0x10000) } })), {
    instanceOf: RangeError,
    message: /^options\.sessionTickets\.appData:/,
  });
});

test('a default appData too large for a ticket: the handshake completes without a ticket', (t) => {
  const { client, r } = handshake(clientOptions(), serverOptions({ sessionTickets: { ...tickets(), appData: new Uint8Array(0xffff) } }));
  t.truthy(client.handshakeInfo);
  t.is(r.clientEvents.filter((e) => e.type === 'session-ticket').length, 0);
});

test('TlsStateError is exported from the TLS surface', (t) => {
  t.is(tlsIndex.TlsStateError, TlsStateError);
});
