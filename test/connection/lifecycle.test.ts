// Connection lifecycle over a live pair: close with each error class (RFC 9000 §10.2, §10.2.3),
// idle timeout and keep-alive (§10.1), stateless reset (§10.3), Retry (§17.2.5), Version
// Negotiation (§6), QUIC v2 and the provisional v2 (RFC 9369), compatible version negotiation
// v1 → v2 (RFC 9368).
import test from 'ava';
import { Connection, QUIC_V1, QUIC_V2, QUIC_V2_DRAFT, type ConnectionEvent } from '../../src/connection/index.js';
import { encodeVersionNegotiation } from '../../src/codec/header.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { Writer } from '../../src/util/bytes.js';
import { StreamApp } from './app.js';
import { Pair, SERVER_ADDR, VIRTUAL_EPOCH, baseClientOptions } from './pair.js';

function closedEvent(events: ConnectionEvent[]) {
  const e = events.find((x) => x.type === 'closed');
  return e?.type === 'closed' ? e.error : undefined;
}

test('application close: the peer drains with the code, both end closed', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  p.client.close(42, 'bye');
  t.is(p.client.state, 'closing');
  t.true(p.runUntil(() => p.client.state === 'closed' && p.server!.state === 'closed', 10_000));
  const se = closedEvent(p.serverEvents)!;
  t.like(se, { kind: 'application', code: 42, reason: 'bye', remote: true, errCode: 'ERR_QUIC_APPLICATION_ERROR' });
  const ce = closedEvent(p.clientEvents)!;
  t.like(ce, { kind: 'application', code: 42, remote: false });
});

test('transport close from the server carries the code and frame type 0', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  p.server!.close(0x0a, 'protocol', false);
  t.true(p.runUntil(() => p.client.state === 'closed', 10_000));
  t.like(closedEvent(p.clientEvents)!, { kind: 'transport', code: 0x0a, remote: true, errCode: 'ERR_QUIC_TRANSPORT_ERROR' });
});

test('an application close during the handshake reaches the peer as APPLICATION_ERROR (§10.2.3)', (t) => {
  const p = new Pair();
  // Let the server create its connection and answer, then close the client before completion.
  p.runUntil(() => p.server !== null, 1000);
  p.client.close(7, 'secret reason');
  t.true(p.runUntil(() => p.server!.state === 'closed' || p.server!.state === 'draining', 5_000));
  const err = p.server!.error!;
  t.is(err.kind, 'transport');
  t.is(err.code, 0x0c);
  t.is(err.reason, '');
});

test('idle timeout: the negotiated minimum closes both sides silently', (t) => {
  const p = new Pair({ client: { transport: { maxIdleTimeout: 5000 } }, server: { transport: { maxIdleTimeout: 2000 } } });
  t.true(p.handshake());
  const start = p.now;
  t.true(p.runUntil(() => p.client.state === 'closed' && p.server!.state === 'closed', 60_000));
  t.like(closedEvent(p.clientEvents)!, { kind: 'idle', errCode: 'ERR_QUIC_IDLE_TIMEOUT' });
  t.like(closedEvent(p.serverEvents)!, { kind: 'idle' });
  const elapsed = p.now - start;
  t.true(elapsed >= 1900 && elapsed < 3000, `closed after ${elapsed} ms`);
});

test('keep-alive PINGs hold an idle connection open', (t) => {
  const p = new Pair({ client: { keepAliveInterval: 500, transport: { maxIdleTimeout: 2000 } }, server: { transport: { maxIdleTimeout: 2000 } } });
  t.true(p.handshake());
  p.runUntil(() => false, 10_000);
  t.is(p.client.state, 'established');
  t.is(p.server!.state, 'established');
});

test('stateless reset: a datagram ending in the server CID reset token drains the client', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  const sst = Pair.internals(p.server!);
  const token = sst.localCids.initial.resetToken;
  const reset = new Uint8Array(40);
  new SeededRandom(9).fillRandom(reset);
  reset[0] = 0x40 | (reset[0]! & 0x3f);
  reset.set(token, reset.length - 16);
  p.client.receive(reset, SERVER_ADDR, p.now);
  t.is(p.client.state, 'draining');
  t.true(p.runUntil(() => p.client.state === 'closed', 5_000));
  t.like(closedEvent(p.clientEvents)!, { kind: 'reset', remote: true, errCode: 'ERR_QUIC_STATELESS_RESET' });
});

test('Retry: the client follows it with the token; transport parameters authenticate the CIDs', (t) => {
  const p = new Pair({ retry: true });
  t.true(p.handshake());
  const cst = Pair.internals(p.client);
  t.true(cst.retryReceived);
  t.deepEqual(p.client.peerTransportParams!.retrySourceConnectionId, p.retryScid);
  t.deepEqual(p.client.peerTransportParams!.originalDestinationConnectionId, p.retryOdcid);
});

test('Version Negotiation without our version closes the client with kind "version"', (t) => {
  const rng = new SeededRandom(4);
  const c = new Connection(baseClientOptions(rng), VIRTUAL_EPOCH);
  const buf = new Uint8Array(1500);
  const info = c.send(buf, VIRTUAL_EPOCH)!;
  t.true(info.length >= 1200);
  const st = Pair.internals(c);
  const w = new Writer(new Uint8Array(100));
  const n = encodeVersionNegotiation(w, st.localCids.initial.cid, st.initialDcid, [0x1a2a3a4a, 0xff00001d], 0);
  c.receive(w.buf.subarray(0, n), SERVER_ADDR, VIRTUAL_EPOCH + 10);
  t.is(c.state, 'closed');
  const e: ConnectionEvent[] = [];
  for (let x = c.pollEvent(); x; x = c.pollEvent()) e.push(x);
  t.like(closedEvent(e)!, { kind: 'version', errCode: 'ERR_QUIC_VERSION_NEGOTIATION' });
});

test('Version Negotiation listing our version is ignored', (t) => {
  const rng = new SeededRandom(4);
  const c = new Connection(baseClientOptions(rng), VIRTUAL_EPOCH);
  c.send(new Uint8Array(1500), VIRTUAL_EPOCH);
  const st = Pair.internals(c);
  const w = new Writer(new Uint8Array(100));
  const n = encodeVersionNegotiation(w, st.localCids.initial.cid, st.initialDcid, [QUIC_V1, 0x1a2a3a4a], 0);
  c.receive(w.buf.subarray(0, n), SERVER_ADDR, VIRTUAL_EPOCH + 10);
  t.is(c.state, 'handshaking');
});

for (const [name, v] of [['v2 (RFC 9369)', QUIC_V2], ['the provisional v2 0x709a50c4', QUIC_V2_DRAFT]] as const) {
  test(`${name} end to end with a stream`, (t) => {
    const p = new Pair({ client: { version: v } });
    t.true(p.handshake());
    t.is(p.client.version, v);
    t.is(p.server!.version, v);
    const capp = new StreamApp(p.client);
    const sapp = new StreamApp(p.server!);
    sapp.onFinished = (id, n) => sapp.send(id, n, true);
    p.onEvent = (side, _c, e) => (side === 'client' ? capp : sapp).handle(e);
    capp.send(p.client.openStream(true)!, 50_000, true);
    t.true(p.runUntil(() => capp.finishedCount() === 1, 10_000));
    t.false(capp.anyCorrupt());
  });
}

test('compatible version negotiation: a v1 client offering v2 is switched to v2 by a server preferring it', (t) => {
  const seen = new Set<number>();
  const p = new Pair({
    client: { version: QUIC_V1, versions: [QUIC_V1, QUIC_V2] },
    server: { versions: [QUIC_V2, QUIC_V1] },
    filter: (_dir, d) => {
      if ((d[0]! & 0x80) !== 0) seen.add(((d[1]! << 24) | (d[2]! << 16) | (d[3]! << 8) | d[4]!) >>> 0);
      return d;
    },
  });
  t.true(p.handshake());
  t.is(p.client.version, QUIC_V2);
  t.is(p.server!.version, QUIC_V2);
  t.true(seen.has(QUIC_V1) && seen.has(QUIC_V2));
  t.truthy(p.clientEvents.find((e) => e.type === 'version-negotiated'));
  t.truthy(p.serverEvents.find((e) => e.type === 'version-negotiated'));
});

test('no switch when the client does not offer the preferred version', (t) => {
  const p = new Pair({ client: { version: QUIC_V1, versions: [QUIC_V1] }, server: { versions: [QUIC_V2, QUIC_V1] } });
  t.true(p.handshake());
  t.is(p.client.version, QUIC_V1);
  t.is(p.server!.version, QUIC_V1);
});

test('TLS failure: a client that does not trust the certificate closes with CRYPTO_ERROR in a 1200-byte datagram', (t) => {
  const sizes: number[] = [];
  const p = new Pair({ client: { ca: [] }, filter: (dir, d) => (dir === 'up' && sizes.push(d.length), d) });
  t.true(p.runUntil(() => p.server !== null && (p.server.state === 'draining' || p.server.state === 'closed'), 5_000));
  const ce = p.client.error!;
  t.is(ce.kind, 'transport');
  t.true(ce.code > 0x100 && ce.code <= 0x1ff, `0x${ce.code.toString(16)}`);
  t.like(p.server!.error!, { code: ce.code, remote: true });
  t.true(sizes.every((n) => n >= 1200), `client datagrams ${sizes.join(',')}`);
});

test('a server drops a client Initial carried in a datagram under 1200 bytes (RFC 9000 §14.1)', (t) => {
  const p = new Pair({ filter: (dir, d, i) => (dir === 'up' && i === 1 ? d.subarray(0, 1100) : d) });
  p.runUntil(() => p.server !== null && Pair.internals(p.server).dropped['initial-datagram-too-small'] !== undefined, 3_000);
  t.true((Pair.internals(p.server!).dropped['initial-datagram-too-small'] ?? 0) >= 1);
});

test('closing period: CONNECTION_CLOSE is repeated at a falling rate; draining sends nothing (RFC 9000 §10.2.1, §10.2.2)', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  // Capture a few server datagrams to replay at the closing client.
  const captured: Uint8Array[] = [];
  const sid = p.server!.openStream(false)!;
  for (let i = 0; i < 12; i++) {
    p.server!.streamWrite(sid, new Uint8Array(500));
    const buf = new Uint8Array(1500);
    const info = p.server!.send(buf, p.now);
    if (info) captured.push(buf.slice(0, info.length));
  }
  p.client.close(9, 'done');
  const out = new Uint8Array(1500);
  t.truthy(p.client.send(out, p.now), 'first CONNECTION_CLOSE');
  t.is(p.client.send(out, p.now), null);
  let closes = 0;
  for (const d of captured) {
    p.client.receive(d, SERVER_ADDR, p.now);
    if (p.client.send(out, p.now) !== null) closes++;
  }
  t.true(closes >= 2 && closes <= 4, `${closes} repeats for ${captured.length} packets`);
  // The server, once it sees the close, drains: no more packets from it.
  const st = Pair.internals(p.server!);
  const info = Pair.internals(p.client);
  info.closeSendPending = true;
  const ci = p.client.send(out, p.now)!;
  p.server!.receive(out.slice(0, ci.length), p.clientAddr, p.now);
  t.is(p.server!.state, 'draining');
  const sentBefore = st.counters.datagramsSent;
  t.is(p.server!.send(out, p.now), null);
  p.runUntil(() => p.server!.state === 'closed', 5_000);
  t.is(p.server!.state, 'closed');
  t.is(st.counters.datagramsSent, sentBefore);
});
