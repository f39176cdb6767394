// Connection handshake in memory (RFC 9000 §7, RFC 9001 §4): client and server Connection objects,
// a virtual clock, real TLS 1.3.
import test from 'ava';
import { Pair } from './pair.js';

test('handshake completes and is confirmed on both sides', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  t.is(p.client.state, 'established');
  t.is(p.server!.state, 'established');
  t.is(p.client.alpn, 'test');
  t.is(p.server!.alpn, 'test');
  t.truthy(p.clientEvents.find((e) => e.type === 'handshake-completed'));
  t.truthy(p.serverEvents.find((e) => e.type === 'handshake-confirmed'));
  t.is(Pair.internals(p.client).internalError, undefined);
  t.is(Pair.internals(p.server!).internalError, undefined);
});
