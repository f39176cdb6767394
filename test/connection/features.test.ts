// Connection features over a live pair: key update by either side and automatically (RFC 9001 §6),
// DATAGRAM frames (RFC 9221), connection ID rotation (RFC 9000 §5.1), NAT rebinding of port and
// address with path validation (§9.3, §8.2), session resumption and 0-RTT (RFC 9001 §4.6), NEW_TOKEN,
// qlog events.
import test from 'ava';
import { AntiReplay } from '../../src/tls/anti-replay.js';
import { TicketKeyring } from '../../src/tls/session-ticket.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { DEFAULT_MAX_DATAGRAM_SIZE, ETHERNET_MAX_DATAGRAM_SIZE, type QlogEvent } from '../../src/connection/index.js';
import { StreamApp } from './app.js';
import { Pair } from './pair.js';

/** Long-header packets of v1 type bits `type` in a datagram. */
function countLongType(d: Uint8Array, type: number): number {
  let n = 0;
  let off = 0;
  while (off < d.length && (d[off]! & 0x80) !== 0) {
    if (((d[off]! >> 4) & 3) === type) n++;
    let p = off + 5;
    p += 1 + d[p]!;
    p += 1 + d[p]!;
    const readVar = (): number => {
      const b = d[p]!;
      const len = 1 << (b >> 6);
      let v = b & 0x3f;
      for (let i = 1; i < len; i++) v = v * 256 + d[p + i]!;
      p += len;
      return v;
    };
    if (((d[off]! >> 4) & 3) === 0) p += readVar();
    const len = readVar();
    off = p + len;
  }
  return n;
}

function echo(p: Pair): { capp: StreamApp; sapp: StreamApp } {
  const capp = new StreamApp(p.client);
  const sapp = new StreamApp(p.server!);
  sapp.onFinished = (id, n) => sapp.send(id, n, true);
  p.onEvent = (side, _c, e) => (side === 'client' ? capp : sapp).handle(e);
  return { capp, sapp };
}

test('key update initiated by the client, then by the server, mid-transfer', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  const { capp } = echo(p);
  for (let i = 0; i < 4; i++) capp.send(p.client.openStream(true)!, 256 * 1024, true);
  p.runUntil(() => capp.totalReceived() > 100_000, 10_000);
  t.true(p.client.updateKeys(), 'client may update');
  t.false(p.client.updateKeys(), 'no second update before the peer follows');
  p.runUntil(() => Pair.internals(p.server!).oneRtt!.seal.generation === 1 && Pair.internals(p.server!).oneRtt!.ackedInPhase, 10_000);
  t.true(p.server!.updateKeys(), 'server may update after the first one completed');
  t.true(p.runUntil(() => capp.finishedCount() === 4, 60_000));
  t.false(capp.anyCorrupt());
  const ck = Pair.internals(p.client).oneRtt!;
  const sk = Pair.internals(p.server!).oneRtt!;
  t.is(ck.seal.generation, 2);
  t.is(sk.seal.generation, 2);
  t.true(p.clientEvents.filter((e) => e.type === 'key-updated').length >= 2);
  t.true(p.serverEvents.filter((e) => e.type === 'key-updated').length >= 2);
});

test('automatic key updates every 200 packets during a 2 MB transfer', (t) => {
  const p = new Pair({ client: { keyUpdateInterval: 200 }, server: { keyUpdateInterval: 200 } });
  t.true(p.handshake());
  const { capp } = echo(p);
  for (let i = 0; i < 4; i++) capp.send(p.client.openStream(true)!, 256 * 1024, true);
  t.true(p.runUntil(() => capp.finishedCount() === 4, 60_000));
  t.false(capp.anyCorrupt());
  t.true(p.client.stats.keyUpdates >= 4, `client key updates: ${p.client.stats.keyUpdates}`);
  t.is(Pair.internals(p.client).internalError, undefined);
});

test('AEAD integrity limit: forged 1-RTT packets close with AEAD_LIMIT_REACHED', (t) => {
  const p = new Pair({ server: { aeadIntegrityLimit: 5 } });
  t.true(p.handshake());
  const cid = p.server!.localCids[0]!;
  for (let i = 0; i < 6; i++) {
    const forged = new Uint8Array(60);
    new SeededRandom(i).fillRandom(forged);
    forged[0] = 0x40 | (forged[0]! & 0x07);
    forged.set(cid, 1);
    p.server!.receive(forged, p.clientAddr, p.now);
  }
  t.is(p.server!.state, 'closing');
  t.like(p.server!.error!, { kind: 'transport', code: 0x0f });
});

test('DATAGRAM frames: sent, received, acknowledged; too large and unnegotiated refused', (t) => {
  const p = new Pair({ client: { transport: { maxDatagramFrameSize: 1200 } }, server: { transport: { maxDatagramFrameSize: 1200 } } });
  t.true(p.handshake());
  t.true(p.client.maxDatagramSize > 1000);
  const ids: number[] = [];
  for (let i = 0; i < 10; i++) ids.push(p.client.sendDatagram(Uint8Array.of(i, 1, 2, 3))!);
  t.is(p.client.sendDatagram(new Uint8Array(p.client.maxDatagramSize + 1)), null);
  p.runUntil(() => p.clientEvents.filter((e) => e.type === 'datagram-acked').length === 10, 5_000);
  const got = p.serverEvents.filter((e) => e.type === 'datagram');
  t.is(got.length, 10);
  t.deepEqual(got.map((e) => (e.type === 'datagram' ? e.data[0] : -1)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.deepEqual(
    p.clientEvents.filter((e) => e.type === 'datagram-acked').map((e) => (e.type === 'datagram-acked' ? e.id : -1)),
    ids,
  );
  const q = new Pair();
  t.true(q.handshake());
  t.is(q.client.maxDatagramSize, 0);
  t.is(q.client.sendDatagram(Uint8Array.of(1)), null);
});

test('DATAGRAM send queue drops the oldest beyond its bound and reports it lost', (t) => {
  const p = new Pair({ client: { datagramSendQueue: 2, transport: { maxDatagramFrameSize: 100 } }, server: { transport: { maxDatagramFrameSize: 100 } } });
  t.true(p.handshake());
  const a = p.client.sendDatagram(Uint8Array.of(1))!;
  p.client.sendDatagram(Uint8Array.of(2));
  p.client.sendDatagram(Uint8Array.of(3));
  p.drainEvents();
  t.truthy(p.clientEvents.find((e) => e.type === 'datagram-lost' && e.id === a));
});

test('CID rotation: the client switches DCID, the server retires the old CID and issues a new one', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  p.runUntil(() => false, 200);
  const before = p.client.peerCid;
  const serverCids = p.server!.localCids.length;
  t.true(serverCids >= 2, 'the server issued spare CIDs');
  t.true(p.client.rotatePeerCid());
  t.notDeepEqual(p.client.peerCid, before);
  const { capp } = echo(p);
  capp.send(p.client.openStream(true)!, 10_000, true);
  t.true(p.runUntil(() => capp.finishedCount() === 1, 5_000));
  p.runUntil(() => p.serverEvents.some((e) => e.type === 'cid-retired'), 2_000);
  const retired = p.serverEvents.find((e) => e.type === 'cid-retired');
  t.truthy(retired);
  t.deepEqual(retired!.type === 'cid-retired' ? retired!.cid : null, before);
  t.true(p.serverEvents.filter((e) => e.type === 'cid-issued').length > serverCids - 1);
  t.false(p.server!.localCids.some((c) => c.length === before.length && c.every((b, i) => b === before[i])));
});

for (const kind of ['port', 'address'] as const) {
  test(`NAT rebinding of the client ${kind} mid-transfer: the server validates the new path and the transfer completes`, (t) => {
    const p = new Pair();
    t.true(p.handshake());
    const { capp } = echo(p);
    for (let i = 0; i < 4; i++) capp.send(p.client.openStream(true)!, 256 * 1024, true);
    p.runUntil(() => capp.totalReceived() > 200_000, 10_000);
    if (kind === 'port') p.clientAddr = { ...p.clientAddr, remotePort: p.clientAddr.remotePort + 1 };
    else p.clientAddr = { remoteAddress: '10.9.9.9', remotePort: 50000 };
    t.true(p.runUntil(() => capp.finishedCount() === 4, 60_000), `received ${capp.totalReceived()}`);
    t.false(capp.anyCorrupt());
    t.truthy(p.serverEvents.find((e) => e.type === 'path-migrated'));
    t.truthy(p.serverEvents.find((e) => e.type === 'path-validated'));
    t.deepEqual(p.server!.path, { ...p.clientAddr });
  });
}

test('session resumption with 0-RTT: data sent before the handshake completes is accepted', (t) => {
  const keyring = new TicketKeyring({ random: new SeededRandom(77) });
  const antiReplay = new AntiReplay();
  const server = { ticketKeys: keyring, antiReplay, enableEarlyData: true };
  const p1 = new Pair({ server });
  t.true(p1.handshake());
  p1.runUntil(() => p1.clientEvents.some((e) => e.type === 'session-ticket'), 2_000);
  const ev = p1.clientEvents.find((e) => e.type === 'session-ticket');
  t.truthy(ev);
  const ticket = ev!.type === 'session-ticket' ? ev!.ticket : new Uint8Array(0);

  const p2 = new Pair({ seed: 2, start: p1.now + 1000, server, client: { session: ticket, enableEarlyData: true } });
  // 0-RTT: open a stream and write before any packet was exchanged.
  const id = p2.client.openStream(true);
  t.not(id, null, 'remembered limits allow a stream in 0-RTT');
  const capp = new StreamApp(p2.client);
  let sapp: StreamApp | null = null;
  p2.onEvent = (side, conn, e) => {
    if (side === 'client') return capp.handle(e);
    if (sapp === null) {
      sapp = new StreamApp(conn);
      sapp.onFinished = (sid, n) => sapp!.send(sid, n, true);
    }
    sapp.handle(e);
  };
  capp.send(id!, 3000, true);
  let zeroRttPackets = 0;
  (p2.o as { filter?: (dir: 'up' | 'down', d: Uint8Array) => Uint8Array }).filter = (dir, d) => {
    // A 0-RTT packet may be coalesced after the Initial: walk the long headers.
    if (dir === 'up') zeroRttPackets += countLongType(d, 1);
    return d;
  };
  t.true(p2.handshake());
  t.true(p2.client.resumed);
  t.true(p2.client.earlyDataAccepted);
  t.true(p2.server!.earlyDataAccepted);
  t.true(p2.runUntil(() => capp.finishedCount() === 1, 5_000));
  t.false(capp.anyCorrupt());
  t.true(Pair.internals(p2.client).earlyDataOffered);
  t.true(zeroRttPackets > 0, 'the client sent 0-RTT packets');
  const opened = p2.serverEvents.findIndex((e) => e.type === 'stream-opened');
  const done = p2.serverEvents.findIndex((e) => e.type === 'handshake-completed');
  t.true(opened >= 0 && opened < done, 'the server saw the stream before the handshake completed (0-RTT)');
});

test('0-RTT rejected (anti-replay: the ticket was used once) falls back to 1-RTT with the same data', (t) => {
  const keyring = new TicketKeyring({ random: new SeededRandom(78) });
  const antiReplay = new AntiReplay();
  const server = { ticketKeys: keyring, antiReplay, enableEarlyData: true };
  const p1 = new Pair({ server });
  t.true(p1.handshake());
  p1.runUntil(() => p1.clientEvents.some((e) => e.type === 'session-ticket'), 2_000);
  const ev = p1.clientEvents.find((e) => e.type === 'session-ticket')!;
  const ticket = ev.type === 'session-ticket' ? ev.ticket : new Uint8Array(0);
  for (const seed of [3, 4]) {
    const p = new Pair({ seed, start: p1.now + seed * 1000, server, client: { session: ticket, enableEarlyData: true } });
    const capp = new StreamApp(p.client);
    let sapp: StreamApp | null = null;
    p.onEvent = (side, conn, e) => {
      if (side === 'client') return capp.handle(e);
      if (sapp === null) {
        sapp = new StreamApp(conn);
        sapp.onFinished = (sid, n) => sapp!.send(sid, n, true);
      }
      sapp.handle(e);
    };
    capp.send(p.client.openStream(true)!, 5000, true);
    t.true(p.handshake());
    t.true(p.client.resumed);
    if (seed === 4) t.false(p.client.earlyDataAccepted, 'second use of the ticket: 0-RTT refused');
    t.true(p.runUntil(() => capp.finishedCount() === 1, 5_000));
    t.false(capp.anyCorrupt());
  }
});

test('NEW_TOKEN: the server mints a token, the client surfaces it', (t) => {
  const p = new Pair({ server: { newTokenMinter: (path) => new TextEncoder().encode(`tok:${path.remoteAddress}`) } });
  t.true(p.handshake());
  p.runUntil(() => p.clientEvents.some((e) => e.type === 'new-token'), 2_000);
  const e = p.clientEvents.find((x) => x.type === 'new-token');
  t.is(e?.type === 'new-token' ? new TextDecoder().decode(e.token) : '', 'tok:10.0.0.1');
});

test('qlog: connection_started, parameters_set, packet_sent/received with frames, metrics_updated', (t) => {
  const events: QlogEvent[] = [];
  const p = new Pair({ client: { qlog: (e) => events.push(e) } });
  t.true(p.handshake());
  const names = new Set(events.map((e) => e.name));
  for (const n of ['connectivity:connection_started', 'transport:parameters_set', 'transport:packet_sent', 'transport:packet_received', 'recovery:metrics_updated', 'security:key_updated', 'connectivity:connection_state_updated']) {
    t.true(names.has(n), n);
  }
  const rx = events.find((e) => e.name === 'transport:packet_received')!;
  t.true(Array.isArray(rx.data.frames));
  t.notThrows(() => JSON.stringify(events));
});

test('NAT rebinding during a download where the client only sends ACKs: the server validates and the download completes', (t) => {
  const p = new Pair({ seed: 8 });
  t.true(p.handshake());
  const capp = new StreamApp(p.client);
  const sapp = new StreamApp(p.server!);
  // The client asks with 10 bytes; the server answers with 3 MB: the client then only ACKs.
  sapp.onFinished = (id) => sapp.send(id, 3_000_000, true);
  p.onEvent = (side, _c, e) => (side === 'client' ? capp : sapp).handle(e);
  const id = p.client.openStream(true)!;
  capp.send(id, 10, true);
  p.runUntil(() => capp.totalReceived() > 500_000, 10_000);
  p.clientAddr = { remoteAddress: '10.7.7.7', remotePort: 41000 };
  t.true(p.runUntil(() => capp.finishedCount() === 1, 60_000), `received ${capp.totalReceived()}`);
  t.false(capp.anyCorrupt());
  t.truthy(p.serverEvents.find((e) => e.type === 'path-validated'));
  t.deepEqual(p.server!.path, p.clientAddr);
});

test('NAT rebinding during a download with the server flight lost on the new path: the client un-stalls it', (t) => {
  let lossOn = false;
  const p = new Pair({ seed: 21, filter: (dir, d) => (lossOn && dir === 'down' ? null : d) });
  t.true(p.handshake());
  const capp = new StreamApp(p.client);
  const sapp = new StreamApp(p.server!);
  sapp.onFinished = (id) => sapp.send(id, 2_000_000, true);
  p.onEvent = (side, _c, e) => (side === 'client' ? capp : sapp).handle(e);
  capp.send(p.client.openStream(true)!, 10, true);
  p.runUntil(() => capp.totalReceived() > 300_000, 10_000);
  // Rebind, and lose everything the server sends for 300 ms: its new path runs out of budget.
  p.clientAddr = { remoteAddress: '10.8.8.8', remotePort: 42000 };
  lossOn = true;
  p.runUntil(() => false, 300);
  lossOn = false;
  t.true(p.runUntil(() => capp.finishedCount() === 1, 30_000), `received ${capp.totalReceived()}, client ${p.client.state}`);
  t.false(capp.anyCorrupt());
  t.deepEqual(p.server!.path, p.clientAddr);
});

test('active migration: the client moves with a new CID; the server follows and answers with a new CID too (§9.5)', (t) => {
  const p = new Pair({ seed: 31 });
  t.true(p.handshake());
  p.runUntil(() => false, 100);
  const { capp } = echo(p);
  for (let i = 0; i < 2; i++) capp.send(p.client.openStream(true)!, 200_000, true);
  p.runUntil(() => capp.totalReceived() > 50_000, 10_000);
  const serverDcidBefore = p.server!.peerCid;
  t.true(p.client.rotatePeerCid());
  p.clientAddr = { remoteAddress: '10.6.6.6', remotePort: 43000 };
  t.true(p.runUntil(() => capp.finishedCount() === 2, 30_000));
  t.false(capp.anyCorrupt());
  t.deepEqual(p.server!.path, p.clientAddr);
  t.notDeepEqual(p.server!.peerCid, serverDcidBefore);
});

test('PMTU discovery: probes find 1452 on a clean path and the transfer uses larger datagrams', (t) => {
  const sizes = new Map<number, number>();
  const p = new Pair({ client: { pmtud: true }, server: { pmtud: true }, filter: (_dir, d) => (sizes.set(d.length, (sizes.get(d.length) ?? 0) + 1), d) });
  t.true(p.handshake());
  const { capp } = echo(p);
  capp.send(p.client.openStream(true)!, 500_000, true);
  t.true(p.runUntil(() => capp.finishedCount() === 1, 20_000));
  t.false(capp.anyCorrupt());
  t.is(Pair.internals(p.client).mtu, 1452);
  t.is(Pair.internals(p.server!).mtu, 1452);
  t.true((sizes.get(1452) ?? 0) > 100, `${sizes.get(1452)} datagrams of 1452 bytes`);
});

test('PMTU discovery on a path that drops datagrams over 1300 bytes settles below it; nothing counts as congestion', (t) => {
  const p = new Pair({ client: { pmtud: true }, server: { pmtud: true }, filter: (_dir, d) => (d.length > 1300 ? null : d) });
  t.true(p.handshake());
  const { capp } = echo(p);
  capp.send(p.client.openStream(true)!, 300_000, true);
  t.true(p.runUntil(() => capp.finishedCount() === 1, 30_000));
  const mtu = Pair.internals(p.client).mtu;
  t.true(mtu > 1200 && mtu <= 1300, `mtu ${mtu}`);
  t.is(p.client.stats.congestionEvents, 0);
});

test('datagram size: 1200 by default (DEFAULT_MAX_DATAGRAM_SIZE), maxDatagramSize: ETHERNET_MAX_DATAGRAM_SIZE builds 1452-byte datagrams at once', (t) => {
  t.is(DEFAULT_MAX_DATAGRAM_SIZE, 1200);
  t.is(ETHERNET_MAX_DATAGRAM_SIZE, 1452);
  for (const [opts, want] of [
    [{}, DEFAULT_MAX_DATAGRAM_SIZE],
    [{ maxDatagramSize: ETHERNET_MAX_DATAGRAM_SIZE }, ETHERNET_MAX_DATAGRAM_SIZE],
  ] as const) {
    let largest = 0;
    const p = new Pair({ client: opts, server: opts, filter: (_dir, d) => ((largest = Math.max(largest, d.length)), d) });
    t.true(p.handshake());
    const { capp } = echo(p);
    capp.send(p.client.openStream(true)!, 100_000, true);
    t.true(p.runUntil(() => capp.finishedCount() === 1, 20_000));
    t.is(largest, want);
    t.is(Pair.internals(p.client).pmtud, null, 'no PMTU search unless asked');
  }
  t.throws(() => new Pair({ client: { maxDatagramSize: 1199 } }), { instanceOf: RangeError, message: /maxDatagramSize/ });
});
