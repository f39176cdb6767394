// Scenarios (issue 5): handshakes on the VirtualNetwork — plain, Retry, Version Negotiation,
// compatible VN v1 → v2 (RFC 9368), v2 and provisional v2 end to end, 750 ms one-way delay,
// 30 % loss during 50 handshakes, anti-amplification with a large certificate (interop
// "amplificationlimit"). Seeds: QUIVER_SCENARIO_SEEDS overrides the defaults.
import test from 'ava';
import { QUIC_V1, QUIC_V2, QUIC_V2_DRAFT, PacketType, longPacketType, versionInfo } from '../../src/codec/version.js';
import { splitCoalesced } from '../../src/codec/header.js';
import { World, describe, scenarioSeeds } from '../support/world.js';
import { largeCertificate } from '../support/cert.js';

const seeds3 = scenarioSeeds([1, 2, 3]);

function longTypeOf(d: Uint8Array): number {
  if ((d[0]! & 0x80) === 0 || d.length < 5) return -1;
  const v = ((d[1]! << 24) | (d[2]! << 16) | (d[3]! << 8) | d[4]!) >>> 0;
  const info = versionInfo(v);
  return info === undefined ? -1 : longPacketType(info, d[0]!);
}

/** Packet types in a datagram (coalesced long headers, then maybe a short header). */
function packetTypes(d: Uint8Array): number[] {
  try {
    const split = splitCoalesced(d, 8);
    return split.packets.map((p) => ((p[0]! & 0x80) === 0 ? PacketType.OneRtt : longTypeOf(p)));
  } catch {
    return [];
  }
}

for (const seed of seeds3) {
  test(`handshake completes, confirmed on both sides, ALPN agreed (seed ${seed})`, (t) => {
    const w = new World({ seed });
    t.true(w.handshake(2000), w.summary());
    const s = w.serverConns[0]!;
    t.is(w.conn.alpn, 'quiver-test');
    t.is(s.alpn, 'quiver-test');
    t.true(s.handshakeConfirmed);
    t.is(w.conn.version, QUIC_V1);
    t.is(w.server.endpoint.stats.connectionsAccepted, 1);
    // the client-chosen Initial DCID left the table once the handshake was done
    t.is(w.server.endpoint.lookup(w.conn.originalDcid), undefined);
    t.deepEqual(w.errors(), []);
    // a short transfer proves 1-RTT works
    w.transfer([{ upload: 5000, download: 20000 }]);
    t.true(w.runTransfers(5000), w.summary());
    t.deepEqual(w.errors(), []);
  });
}

for (const seed of seeds3) {
  test(`Retry: the server validates the address first; the handshake and a transfer complete (seed ${seed})`, (t) => {
    const w = new World({ seed, endpoint: { retry: 'always' } });
    t.true(w.handshake(3000), w.summary());
    const st = w.server.endpoint.stats;
    t.is(st.retrySent, 1);
    t.is(st.tokens.retryAccepted, 1);
    t.is(st.connectionsAccepted, 1);
    w.transfer([{ upload: 10000, download: 10000 }]);
    t.true(w.runTransfers(5000), w.summary());
    t.deepEqual(w.errors(), []);
  });
}

test('Retry under load: automatic Retry once more than 3 handshakes are in progress, all 10 complete', (t) => {
  const w = new World({ seed: 4, clients: 10, endpoint: { retry: { whenHandshakesExceed: 3 } } });
  t.true(w.handshake(5000), w.summary());
  const st = w.server.endpoint.stats;
  t.true(st.retrySent >= 1 && st.retrySent <= 7, `retries ${st.retrySent}`);
  t.is(st.connectionsAccepted, 10);
});

test('NEW_TOKEN: a second connection presents the token and skips Retry', (t) => {
  const w = new World({ seed: 5, endpoint: { retry: 'always' } });
  t.true(w.handshake(3000));
  t.true(w.net.runUntil(() => w.clients[0]!.events('new-token').length > 0, 2000));
  const token = w.clients[0]!.events('new-token')[0]!.token;
  const second = w.connect(w.clients[0]!, { token });
  t.true(w.net.runUntil(() => second.handshakeConfirmed, 3000), w.summary());
  const st = w.server.endpoint.stats;
  t.is(st.retrySent, 1);
  t.is(st.tokens.newTokenAccepted, 1);
});

test('Version Negotiation: a v2-only client meets a v1-only server → closed with kind "version"; retrying with v1 works', (t) => {
  const w = new World({ seed: 6, endpoint: { versions: [QUIC_V1] }, client: { version: QUIC_V2, versions: [QUIC_V2] } });
  t.true(w.net.runUntil(() => w.conn.state === 'closed' || w.conn.state === 'draining', 3000), w.summary());
  t.is(w.conn.error?.kind, 'version', describe(w.conn.error!));
  t.is(w.server.endpoint.stats.versionNegotiationSent, 1);
  t.is(w.server.endpoint.stats.connectionsAccepted, 0);
  const retry = w.connect(w.clients[0]!, { version: QUIC_V1, versions: [QUIC_V1] });
  t.true(w.net.runUntil(() => retry.handshakeConfirmed, 3000), w.summary());
  t.is(retry.version, QUIC_V1);
});

test('compatible version negotiation (RFC 9368): a v1 client offering v2 ends up on v2 with a v2-preferring server', (t) => {
  const w = new World({ seed: 7, server: { versions: [QUIC_V2, QUIC_V1] }, client: { version: QUIC_V1, versions: [QUIC_V1, QUIC_V2] } });
  t.true(w.handshake(3000), w.summary());
  t.is(w.conn.version, QUIC_V2);
  t.is(w.serverConns[0]!.version, QUIC_V2);
  t.is(w.server.endpoint.stats.versionNegotiationSent, 0);
  w.transfer([{ upload: 3000, download: 30000 }]);
  t.true(w.runTransfers(5000), w.summary());
  t.deepEqual(w.errors(), []);
});

for (const [name, version] of [
  ['v2 (RFC 9369)', QUIC_V2],
  ['provisional v2 0x709a50c4', QUIC_V2_DRAFT],
] as const) {
  test(`${name} end to end: handshake and transfer`, (t) => {
    const w = new World({ seed: 8, client: { version, versions: [version] } });
    const seen = new Set<number>();
    w.net.tap((kind, d) => {
      if (kind === 'transmit' && (d[0]! & 0x80) !== 0) seen.add(((d[1]! << 24) | (d[2]! << 16) | (d[3]! << 8) | d[4]!) >>> 0);
    });
    t.true(w.handshake(3000), w.summary());
    t.is(w.conn.version, version);
    t.is(w.serverConns[0]!.version, version);
    t.deepEqual([...seen], [version]);
    w.transfer([{ upload: 20000, download: 20000 }]);
    t.true(w.runTransfers(5000), w.summary());
    t.deepEqual(w.errors(), []);
  });
}

for (const seed of scenarioSeeds([1, 2])) {
  test(`750 ms one-way delay: the client retransmits its Initial and the handshake completes (seed ${seed})`, (t) => {
    const w = new World({ seed, up: { delay: 750 }, down: { delay: 750 } });
    let clientInitials = 0;
    let firstServerDatagramAt = Infinity;
    w.net.tap((kind, d, from, _to, time) => {
      const fromServer = from.port === 443;
      if (kind === 'transmit' && !fromServer && packetTypes(d).includes(PacketType.Initial) && time < firstServerDatagramAt) clientInitials++;
      if (kind === 'deliver' && fromServer && firstServerDatagramAt === Infinity) firstServerDatagramAt = time;
    });
    t.true(w.handshake(30_000), w.summary());
    t.true(clientInitials >= 2, `client sent ${clientInitials} Initial datagram(s) before hearing from the server`);
    t.true(w.net.elapsed >= 3000);
    w.transfer([{ upload: 50_000, download: 50_000 }]);
    t.true(w.runTransfers(60_000), w.summary());
    t.deepEqual(w.errors(), []);
  });
}

for (const seed of scenarioSeeds([1, 2])) {
  test(`30 % loss in both directions: 50 concurrent handshakes all complete (seed ${seed})`, (t) => {
    const w = new World({ seed, clients: 50, up: { loss: 0.3 }, down: { loss: 0.3 } });
    const ok = w.handshake(120_000);
    const pending = w.conns.filter((c) => !(c.handshakeComplete && c.handshakeConfirmed));
    t.true(ok, `${pending.length} handshakes pending: ${pending.map((c) => c.state + (c.error ? ' ' + describe(c.error) : '')).slice(0, 5).join('; ')} ${w.summary()}`);
    let lost = 0;
    for (const c of w.clients) lost += c.up!.counters.dropped.loss + c.down!.counters.dropped.loss;
    t.true(lost > 100, `only ${lost} datagrams lost`);
  });
}

for (const seed of scenarioSeeds([1, 2])) {
  test(`anti-amplification: ≤ 3× before validation, client datagrams 2–7 dropped, large certificate (seed ${seed})`, (t) => {
    const cert = largeCertificate();
    t.true(cert.certDer.length > 6000, `certificate is ${cert.certDer.length} bytes`);
    const w = new World({ seed, certificate: cert, up: { dropList: [2, 3, 4, 5, 6, 7] } });
    let received = 0;
    let sent = 0;
    let validated = false;
    let worst = 0;
    w.net.tap((kind, d, from, to) => {
      if (validated) return;
      if (kind === 'deliver' && to.port === 443) {
        received += d.length;
        if (packetTypes(d).includes(PacketType.Handshake)) validated = true;
      }
      if (kind === 'transmit' && from.port === 443) {
        sent += d.length;
        worst = Math.max(worst, sent / received);
        t.true(sent <= 3 * received, `server sent ${sent} bytes after receiving ${received}`);
      }
    });
    t.true(w.handshake(30_000), w.summary());
    t.true(validated);
    t.true(worst > 1, `the limit was never approached (worst ratio ${worst.toFixed(2)})`);
    t.is(w.clients[0]!.up!.counters.dropped.droplist, 6);
    w.transfer([{ upload: 1000, download: 1000 }]);
    t.true(w.runTransfers(10_000), w.summary());
  });
}

test('an expired Retry token draws CONNECTION_CLOSE INVALID_TOKEN and the client gives up at once (RFC 9000 §8.1.2)', (t) => {
  const w = new World({ seed: 11, endpoint: { retry: 'always', retryTokenLifetime: 1 } });
  t.true(w.net.runUntil(() => w.conn.state === 'closed' || w.conn.state === 'draining', 5000), w.summary());
  const e = w.conn.error!;
  t.is(e.kind, 'transport', describe(e));
  t.is(e.code, 0x0b);
  t.true(e.remote);
  const st = w.server.endpoint.stats;
  t.is(st.retrySent, 1);
  t.is(st.invalidTokenCloseSent, 1);
  t.is(st.connectionsAccepted, 0);
  t.true(w.net.elapsed < 1000, 'no waiting for a timeout');
});

test('connection limit: the endpoint refuses a second client with CONNECTION_REFUSED (RFC 9000 §5.2.2)', (t) => {
  const w = new World({ seed: 12, clients: 2, endpoint: { maxConnections: 1 }, connect: false });
  const first = w.connect(w.clients[0]!);
  t.true(w.net.runUntil(() => first.handshakeConfirmed, 3000));
  const second = w.connect(w.clients[1]!);
  t.true(w.net.runUntil(() => second.state === 'closed' || second.state === 'draining', 3000), w.summary());
  t.is(second.error?.code, 0x02, second.error ? describe(second.error) : '');
  t.true(second.error?.remote);
  t.is(first.state, 'established');
  t.is(w.server.endpoint.stats.refusedCloseSent, 1);
});
