// Server identity (RFC 8446 §4.4.2.2 → RFC 6125 §6, RFC 5280 §4.2.1.6) is checked against a name
// that is never silently absent: options.verifyName (default options.serverName), a DNS name or an
// IP literal. SNI (RFC 6066 §3) carries serverName only when it is not an IP literal; the one
// "is this an IP literal" decision is pki/hostname.ts parseIpLiteral.
import test from 'ava';
import { TlsClient } from '../../src/tls/client.js';
import { TlsAlert } from '../../src/tls/wire/alert.js';
import { TicketKeyring, decodeClientSession, encodeClientSession } from '../../src/tls/session-ticket.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { NOW, clientOptions, events, handshake, serverOptions } from './harness.js';

const NAME_REQUIRED = 'options.serverName: a name to verify the server certificate against is required unless rejectUnauthorized is false';

function alertOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof TlsAlert) return e.alert;
    throw e;
  }
  return undefined;
}

test('requireVerifyName: no serverName and no verifyName with verification on → TypeError', (t) => {
  const e = t.throws(() => new TlsClient(clientOptions({ serverName: undefined, requireVerifyName: true })), { instanceOf: TypeError });
  t.is(e?.message, NAME_REQUIRED);
  // Verification off: no name needed.
  t.notThrows(() => new TlsClient(clientOptions({ serverName: undefined, requireVerifyName: true, rejectUnauthorized: false })));
  t.notThrows(() => new TlsClient(clientOptions({ serverName: undefined, requireVerifyName: true, insecure: true })));
  // Either name is enough.
  t.notThrows(() => new TlsClient(clientOptions({ serverName: 'localhost', requireVerifyName: true })));
  t.notThrows(() => new TlsClient(clientOptions({ serverName: undefined, verifyName: '127.0.0.1', requireVerifyName: true })));
});

test('requireVerifyName defaults to true; with requireVerifyName: false a nameless client still verifies the chain', (t) => {
  const e = t.throws(() => new TlsClient(clientOptions({ serverName: undefined })), { instanceOf: TypeError });
  t.is(e?.message, NAME_REQUIRED);
  const { client, server } = handshake(clientOptions({ serverName: undefined, requireVerifyName: false }), serverOptions());
  t.truthy(client.handshakeInfo);
  t.is(server.serverName, undefined);
  t.is(alertOf(() => handshake(clientOptions({ serverName: undefined, requireVerifyName: false, ca: [] }), serverOptions())), 48);
});

test('verifyName without serverName: no SNI, the certificate must match verifyName', (t) => {
  const ok = handshake(clientOptions({ serverName: undefined, verifyName: 'localhost' }), serverOptions());
  t.truthy(ok.client.handshakeInfo);
  t.is(ok.server.serverName, undefined);
  t.truthy(handshake(clientOptions({ serverName: undefined, verifyName: '127.0.0.1' }), serverOptions()).client.handshakeInfo);
  t.is(alertOf(() => handshake(clientOptions({ serverName: undefined, verifyName: 'example.org' }), serverOptions())), 46);
  t.is(alertOf(() => handshake(clientOptions({ serverName: undefined, verifyName: '10.0.0.1' }), serverOptions())), 46);
});

test('verifyName overrides serverName for the certificate check; SNI stays serverName', (t) => {
  const a = handshake(clientOptions({ serverName: 'localhost', verifyName: '127.0.0.1' }), serverOptions());
  t.truthy(a.client.handshakeInfo);
  t.is(a.server.serverName, 'localhost');
  t.is(alertOf(() => handshake(clientOptions({ serverName: 'localhost', verifyName: 'example.org' }), serverOptions())), 46);
  // rejectUnauthorized: false skips the name check as before.
  t.truthy(handshake(clientOptions({ serverName: 'localhost', verifyName: 'example.org', rejectUnauthorized: false }), serverOptions()).client.handshakeInfo);
});

test('option checks: verifyName must be a non-empty string; serverName neither a DNS name nor an IP literal is refused', (t) => {
  t.throws(() => new TlsClient(clientOptions({ verifyName: '' })), { instanceOf: TypeError, message: /options\.verifyName/ });
  t.throws(() => new TlsClient(clientOptions({ verifyName: 5 as unknown as string })), { instanceOf: TypeError, message: /options\.verifyName/ });
  t.throws(() => new TlsClient(clientOptions({ serverName: 'localhost:443' })), { instanceOf: TypeError, message: /options\.serverName/ });
  t.throws(() => new TlsClient(clientOptions({ verifyName: 'localhost:443' })), { instanceOf: TypeError, message: /options\.verifyName/ });
});

test('IP literals (pki parseIpLiteral) are never sent as SNI; other names are', (t) => {
  for (const ip of ['127.0.0.1', '::1', '[::1]', '::ffff:127.0.0.1']) {
    const { server } = handshake(clientOptions({ serverName: ip, rejectUnauthorized: false }), serverOptions());
    t.is(server.serverName, undefined, ip);
  }
  // Not IP literals by RFC 4291 / strict dotted quad: these are DNS names, sent as SNI.
  for (const name of ['1.2.3.04', '300.1.1.1', 'a.b']) {
    const { server } = handshake(clientOptions({ serverName: name, rejectUnauthorized: false }), serverOptions());
    t.is(server.serverName, name, name);
  }
});

test('a session is only offered for the name it was verified against', (t) => {
  const so = serverOptions({ sessionTickets: { keyring: new TicketKeyring({ random: new SeededRandom(5) }) } });
  const first = handshake(clientOptions({ serverName: undefined, verifyName: 'localhost' }), so);
  const session = events(first.r.clientEvents, 'session-ticket')[0]!.session;
  t.is(session.serverName, 'localhost');
  const same = handshake(clientOptions({ serverName: undefined, verifyName: 'localhost', session }), so, NOW + 1000);
  t.true(same.client.handshakeInfo!.resumed);
  // Another verification name with the same (absent) SNI: full handshake, the certificate is checked.
  const other = handshake(clientOptions({ serverName: undefined, verifyName: '127.0.0.1', session }), so, NOW + 1000);
  t.false(other.client.handshakeInfo!.resumed);
  t.is(other.client.handshakeInfo!.peerCertificates.length, 1);
});

test('a session from a connection that did not verify the server is never resumed by a verifying client', (t) => {
  const so = serverOptions({ sessionTickets: { keyring: new TicketKeyring({ random: new SeededRandom(6) }) } });
  const insecure = handshake(clientOptions({ rejectUnauthorized: false }), so);
  const session = events(insecure.r.clientEvents, 'session-ticket')[0]!.session;
  t.true(session.unverified);
  // A verifying client: full handshake, the certificate is checked.
  const verifying = handshake(clientOptions({ session }), so, NOW + 1000);
  t.false(verifying.client.handshakeInfo!.resumed);
  t.is(verifying.client.handshakeInfo!.peerCertificates.length, 1);
  const verified = events(verifying.r.clientEvents, 'session-ticket')[0]!.session;
  t.is(verified.unverified, undefined);
  // Another non-verifying client may resume it; the tickets it gets stay unverified.
  const again = handshake(clientOptions({ session, insecure: true }), so, NOW + 1000);
  t.true(again.client.handshakeInfo!.resumed);
  t.true(events(again.r.clientEvents, 'session-ticket')[0]!.session.unverified);
  // And a ticket from a resumption of a verified session stays verified.
  const resumed = handshake(clientOptions({ session: verified }), so, NOW + 2000);
  t.true(resumed.client.handshakeInfo!.resumed);
  t.is(events(resumed.r.clientEvents, 'session-ticket')[0]!.session.unverified, undefined);
  // The flag survives serialisation.
  t.deepEqual(decodeClientSession(encodeClientSession(session)), session);
  t.deepEqual(decodeClientSession(encodeClientSession({ ...session, appData: Uint8Array.of(1) })), { ...session, appData: Uint8Array.of(1) });
});
