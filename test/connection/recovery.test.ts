// Loss recovery over a live connection (RFC 9002): handshakes under heavy loss (PTO, CRYPTO
// retransmission, the client's anti-deadlock probe), transfers with random loss and reordering,
// a long delay that makes the client retransmit its Initial.
import test from 'ava';
import { StreamApp } from './app.js';
import { Pair, type PairOptions } from './pair.js';
import type { QlogEvent } from '../../src/connection/index.js';
import { largeCertificate } from '../support/cert.js';

function transfer(opts: PairOptions, streams: number, perStream: number, maxMs: number) {
  const p = new Pair(opts);
  const hs = p.handshake(60_000);
  const capp = new StreamApp(p.client);
  let sapp: StreamApp | null = null;
  p.onEvent = (side, conn, e) => {
    if (side === 'server') {
      sapp ??= new StreamApp(conn);
      sapp.onFinished ??= (id, received) => sapp!.send(id, received, true);
      sapp.handle(e);
    } else capp.handle(e);
  };
  if (hs) {
    sapp = new StreamApp(p.server!);
    sapp.onFinished = (id, received) => sapp!.send(id, received, true);
    for (let i = 0; i < streams; i++) capp.send(p.client.openStream(true)!, perStream, true);
  }
  const done = hs && p.runUntil(() => capp.finishedCount() === streams, maxMs);
  return { p, hs, done, capp, sapp: sapp as StreamApp | null };
}

test('30 % loss in both directions during the handshake: 20 seeds all complete', (t) => {
  let ptos = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const p = new Pair({ seed, loss: 0.3 });
    const ok = p.handshake(60_000);
    t.true(ok, `seed ${seed} completed (client ${p.client.state}, server ${p.server?.state})`);
    ptos += p.client.stats.ptoCount + (p.server?.stats.ptoCount ?? 0);
    t.is(Pair.internals(p.client).internalError, undefined);
  }
  t.true(ptos > 0, 'PTOs fired');
});

test('2 % loss: 1 MB each way on 8 streams, several seeds', (t) => {
  for (const seed of [3, 7, 11]) {
    const r = transfer({ seed, loss: 0.02 }, 8, 128 * 1024, 120_000);
    t.true(r.done, `seed ${seed}: ${r.capp.totalReceived()} bytes back`);
    t.false(r.capp.anyCorrupt());
    t.true(r.p.client.stats.packetsLost > 0, 'losses were detected');
  }
});

test('10 % loss with reordering (jitter 15 ms): 512 KB each way', (t) => {
  for (const seed of [5, 6]) {
    const r = transfer({ seed, loss: 0.1, jitter: 15 }, 4, 128 * 1024, 180_000);
    t.true(r.done, `seed ${seed}: ${r.capp.totalReceived()} bytes back`);
    t.false(r.capp.anyCorrupt());
  }
});

test('750 ms one-way delay: the client retransmits its Initial and the handshake completes', (t) => {
  let clientInitials = 0;
  const p = new Pair({
    delay: 750,
    filter: (dir, d) => {
      if (dir === 'up' && (d[0]! & 0xf0) === 0xc0) clientInitials++;
      return d;
    },
  });
  t.true(p.handshake(30_000));
  t.true(clientInitials >= 2, `client sent ${clientInitials} Initial datagrams`);
});

test('client datagrams 2–7 dropped: the handshake still completes', (t) => {
  const p = new Pair({ filter: (dir, d, i) => (dir === 'up' && i >= 1 && i <= 6 ? null : d) });
  t.true(p.handshake(30_000));
});

test('the whole first server flight is lost: PTO recovers', (t) => {
  const p = new Pair({ filter: (dir, d, i) => (dir === 'down' && i < 3 ? null : d) });
  t.true(p.handshake(30_000));
  t.true(p.server!.stats.ptoCount > 0 || p.client.stats.ptoCount > 0);
});

test('anti-amplification: a large certificate chain, client datagrams 2–7 dropped, server never exceeds 3× before validation', (t) => {
  let violations = 0;
  let checks = 0;
  let p: Pair | null = null;
  const cert = largeCertificate();
  p = new Pair({
    server: { certificate: cert.certPem, privateKey: cert.keyPem },
    client: { ca: [cert.certDer] },
    filter: (dir, d, i) => {
      if (dir === 'down' && p!.server !== null) {
        const path = Pair.internals(p!.server!).path;
        if (!path.validated) {
          checks++;
          if (path.bytesSent > 3 * path.bytesReceived) violations++;
        }
      }
      return dir === 'up' && i >= 1 && i <= 6 ? null : d;
    },
  });
  t.true(p.handshake(60_000));
  t.true(checks > 0);
  t.is(violations, 0);
  t.true(Pair.internals(p.server!).counters.bytesSent > 4 * 1200, 'the server flight exceeds the first limit');
});

test('PTO probes in two spaces: a PING-only Initial coalesced before a Handshake packet stays decodable', (t) => {
  const p = new Pair({ filter: (dir, d, i) => (dir === 'down' && i >= 1 ? null : d) });
  // Let the server answer once (its Initial and Handshake keys exist), then force probes in both spaces.
  p.runUntil(() => p.server !== null && Pair.internals(p.server).spaces[1].seal !== null, 1000);
  const st = Pair.internals(p.server!);
  // Nothing to re-send: the probes are PING-only.
  for (let space = 0; space < 2; space++) {
    const tokens: unknown[] = [];
    st.ld.outstandingTokens(space, tokens);
    for (const rec of tokens as { crypto: number[] }[]) rec.crypto.length = 0;
  }
  st.probes[0] = 1;
  st.probes[1] = 1;
  const buf = new Uint8Array(1500);
  const info = p.server!.send(buf, p.now);
  t.truthy(info);
  t.is(st.internalError, undefined);
  t.is(p.server!.state, 'handshaking');
  // The client can open both packets (no coalescing corruption).
  const cst = Pair.internals(p.client);
  const before = cst.counters.packetsReceived;
  p.client.receive(buf.slice(0, info!.length), { remoteAddress: '10.0.0.2', remotePort: 443 }, p.now + 10);
  t.true(cst.counters.packetsReceived - before >= 1);
  t.is(cst.dropped['decrypt-failed'] ?? 0, 0);
});

test('a 2 KB ClientHello split over two Initial datagrams, delivered in reverse order (as Chromium does)', (t) => {
  let held: Uint8Array | null = null;
  let initials = 0;
  const p = new Pair({
    client: { tlsExtra: { extraExtensions: [{ type: 21, data: new Uint8Array(1800) }] } },
    filter: (dir, d, i) => {
      if (dir !== 'up' || i > 1) return d;
      initials++;
      if (i === 0) {
        held = d;
        return null;
      }
      return d;
    },
  });
  // Deliver the held first datagram after the second one.
  p.runUntil(() => p.server !== null, 1000);
  t.is(initials, 2, 'the ClientHello needed two datagrams');
  t.is(p.server!.state, 'handshaking');
  p.server!.receive(held!, p.clientAddr, p.now);
  t.true(p.handshake());
});

test('NewReno congestion control under 3 % loss', (t) => {
  const r = transfer({ seed: 12, loss: 0.03, client: { congestionControl: 'newreno' }, server: { congestionControl: 'newreno' } }, 4, 128 * 1024, 120_000);
  t.true(r.done);
  t.false(r.capp.anyCorrupt());
  t.is(Pair.internals(r.p.client).ld.cc.algorithm, 'newreno');
});

/** Frame types of each packet_sent of one packet type, in order (qlog). */
function sentFrames(events: QlogEvent[], packetType: string, until?: (e: QlogEvent) => boolean): string[][] {
  const out: string[][] = [];
  for (const e of events) {
    if (until?.(e)) break;
    if (e.name !== 'transport:packet_sent') continue;
    const h = e.data.header as { packet_type: string };
    if (h.packet_type !== packetType) continue;
    out.push((e.data.frames as { frame_type: string }[]).map((f) => f.frame_type));
  }
  return out;
}

test('PTO probes carry data (RFC 9002 §6.2.4): both Initial probes of a round re-send the ClientHello, never PING alone', (t) => {
  const events: QlogEvent[] = [];
  // The first Initial and both probes of the first two PTO rounds are lost.
  const p = new Pair({ client: { qlog: (e) => events.push(e) }, filter: (dir, d, i) => (dir === 'up' && i < 5 ? null : d) });
  t.true(p.handshake(30_000));
  const initials = sentFrames(events, 'initial', (e) => e.name === 'transport:packet_received');
  t.true(initials.length >= 5, `client sent ${initials.length} Initials before hearing from the server`);
  for (const frames of initials) t.true(frames.includes('crypto'), `Initial with ${frames.join(',')}`);
});

test('PTO probes carry data in 1-RTT: each probe of a round re-sends the oldest unacknowledged STREAM data', (t) => {
  const events: QlogEvent[] = [];
  let blackhole = false;
  const p = new Pair({ client: { qlog: (e) => events.push(e) }, filter: (dir, d) => (dir === 'up' && blackhole ? null : d) });
  t.true(p.handshake());
  p.runUntil(() => false, 500);
  blackhole = true;
  const from = events.length;
  const id = p.client.openStream(true)!;
  p.client.streamWrite(id, new Uint8Array(3000).fill(7), true);
  p.runUntil(() => false, 1500);
  const st = Pair.internals(p.client);
  t.true(p.client.stats.ptoCount >= 2, `${p.client.stats.ptoCount} PTOs`);
  const sent = sentFrames(events.slice(from), '1RTT').filter((f) => f.includes('ping') || f.includes('stream'));
  t.true(sent.length >= 6);
  for (const frames of sent) t.true(frames.includes('stream'), `1-RTT probe with ${frames.join(',')}`);
  blackhole = false;
  t.true(p.runUntil(() => !st.ld.hasAckElicitingInFlight(2), 10_000));
  t.is(st.internalError, undefined);
});
