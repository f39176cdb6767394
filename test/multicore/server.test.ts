// listenMulticore() end to end over real UDP (src/multicore/server.ts): one socket in the main
// thread, 2 shard worker threads running the built-in echo app. 20 clients made with the package's
// own connect() each echo 256 KB; every byte comes back, the connections spread over both workers,
// each client's DCID (a CID the server issued, RFC 9000 §5.1) names the worker that holds its
// connection, and the router's table is empty once handshakes are done. Then a client behind a
// NAT-like relay has its source port changed mid-transfer (RFC 9000 §9.3 rebinding): the short
// headers still reach the same worker because the CID carries it, and the transfer completes.
// Finally one worker is drained: new connections land on the other only.
import test from 'ava';
import { connect } from '../../src/io/quic.js';
import type { QuicSession } from '../../src/io/session.js';
import type { QuicStream } from '../../src/io/stream.js';
import { listenMulticore, type MulticoreServer } from '../../src/multicore/server.js';
import { drain, liveCertificate, pattern, sha256, withTimeout } from '../io/helpers.js';
import { NatRelay } from './nat-relay.js';

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

async function echoOnce(session: QuicSession, data: Buffer): Promise<boolean> {
  await session.opened;
  const st = (await session.openStream()) as QuicStream;
  const result = drain(st);
  st.end(data);
  const r = await result;
  return r.bytes === data.length && r.sha256 === sha256(data);
}

let server: MulticoreServer | undefined;
test.after.always(async () => {
  await server?.close({ timeout: 500 });
});

test('listenMulticore checks its options before starting anything', async (t) => {
  const cert = liveCertificate();
  const base = { host: '127.0.0.1', alpn: 'echo', cert: cert.certPem, key: cert.keyPem };
  await t.throwsAsync(listenMulticore({ ...base, workers: 0 }), { instanceOf: RangeError, message: /options\.workers/ });
  await t.throwsAsync(listenMulticore({ ...base, workers: 1.5 }), { instanceOf: TypeError, message: /options\.workers/ });
  await t.throwsAsync(listenMulticore({ ...base, app: 'h3' as 'echo' }), { instanceOf: TypeError, message: /options\.app/ });
  await t.throwsAsync(listenMulticore({ ...base, balance: 'random' as 'hash' }), { instanceOf: TypeError, message: /options\.balance/ });
  await t.throwsAsync(listenMulticore({ ...base, ringSlots: 1000 }), { instanceOf: RangeError, message: /options\.ringSlots/ });
  await t.throwsAsync(listenMulticore({ ...base, maxDatagramSize: 1452, slotPayload: 1300 }), { instanceOf: RangeError, message: /options\.slotPayload/ });
  await t.throwsAsync(listenMulticore({ ...base, cidLength: 4 }), { instanceOf: RangeError, message: /options\.cidLength/ });
  await t.throwsAsync(listenMulticore({ ...base, cidKey: new Uint8Array(8) }), { instanceOf: TypeError, message: /options\.cidKey/ });
  await t.throwsAsync(listenMulticore({ ...base, keylog: () => {} }), { instanceOf: TypeError, message: /options\.keylog/ });
  await t.throwsAsync(listenMulticore({ ...base, enableEarlyData: true, sessionTickets: false }), { instanceOf: TypeError, message: /options\.enableEarlyData/ });
  await t.throwsAsync(listenMulticore({ ...base, enableEarlyData: true, antiReplay: { mode: 'once' as 'window' } }), { instanceOf: TypeError, message: /antiReplay\.mode/ });
  await t.throwsAsync(listenMulticore({ ...base, enableEarlyData: true, antiReplay: { capacity: 1 } }), { instanceOf: RangeError, message: /antiReplay\.capacity/ });
  await t.throwsAsync(listenMulticore({ ...base, bogus: 1 } as Parameters<typeof listenMulticore>[0]), { instanceOf: TypeError, message: /options\.bogus/ });
  await t.throwsAsync(listenMulticore({ host: '127.0.0.1', alpn: 'echo' }), { instanceOf: TypeError, message: /options\.cert/ });
});

test.serial('2 workers: 20 connections × 256 KB echo, spread over both workers; a NAT rebinding stays on its worker', async (t) => {
  const cert = liveCertificate();
  server = await listenMulticore({ workers: 2, host: '127.0.0.1', alpn: 'echo', cert: cert.certPem, key: cert.keyPem, idleTimeout: 10_000 });
  const port = server.address().port;
  const t0 = Date.now();
  const clientOptions = { alpn: 'echo', ca: cert.certPem, servername: 'localhost' };

  // --- 20 clients, 256 KB each, concurrently.
  const sessions = await Promise.all(Array.from({ length: 20 }, () => connect(`127.0.0.1:${port}`, clientOptions)));
  const ok = await withTimeout(
    Promise.all(sessions.map((s, i) => echoOnce(s, pattern(256 * 1024, i + 1)))),
    15_000,
    '20 echoes',
  );
  t.deepEqual(ok, new Array(20).fill(true), 'every echo came back intact');

  const stats = await server.stats();
  const accepted = stats.map((s) => s!.metrics.connections_accepted);
  t.is(accepted[0]! + accepted[1]!, 20);
  t.true(accepted[0]! > 0 && accepted[1]! > 0, `spread over both workers: ${accepted}`);
  // Each client sends to a CID that names the worker holding its connection.
  for (const s of sessions) {
    const peer = hex(s.conn.peerCid);
    const w = server.codec.workerOf(s.conn.peerCid);
    t.true(w === 0 || w === 1);
    t.true(stats[w]!.connections.some((c) => c.localCids.includes(peer)), `worker ${w} holds the connection of CID ${peer}`);
  }
  const m = server.metrics();
  t.is(m.router.routed_new, 20);
  t.is(m.router.table_entries, 0, 'every client DCID was released after its handshake');
  t.is(m.router.table_released, 20);
  t.is(m.router.dropped_unroutable, 0);
  // A worker slower than the socket overflows its RX ring: dropped and counted (QUIC recovers).
  t.log(`RX ring full drops: ${m.router.dropped_rx_ring_full}; TX deferrals: ${m.workers.total.tx_ring_full}`);
  t.true(m.router.routed_short > 1000);
  t.is(m.workers.total.handshakes_completed, 20);
  t.is(m.workers.total.core_errors, 0);
  const routed = m.router.routed_short + m.router.routed_long_cid + m.router.routed_table + m.router.routed_new + m.router.routed_stateless;
  const lostBetween = m.router.dropped_rx_ring_full + m.router.dropped_oversize + m.router.dropped_bad_address;
  // Clients still send ACKs while we read: a few datagrams may sit in a ring right now.
  const reached = m.workers.total.datagrams_received + lostBetween;
  t.true(reached <= routed && routed - reached <= 64, `every routed datagram reached its worker or was counted (${reached} of ${routed})`);
  t.is(m.rings[0]!.rx.dropsFull + m.rings[1]!.rx.dropsFull, m.router.dropped_rx_ring_full);
  await Promise.all(sessions.map((s) => s.close()));
  t.log(`20 × 256 KB echoed in ${Date.now() - t0} ms`);

  // --- NAT rebinding mid-transfer.
  const relay = new NatRelay(port);
  const relayPort = await relay.start();
  t.teardown(() => relay.close());
  const session = await connect(`127.0.0.1:${relayPort}`, clientOptions);
  await withTimeout(session.opened, 5000, 'handshake via relay');
  const before = await server.stats();
  const oldPort = relay.upstreamPort;
  const owner = before.findIndex((s) => s!.connections.some((c) => c.remotePort === oldPort));
  t.true(owner === 0 || owner === 1, `one worker holds the relayed connection (port ${oldPort}): ${JSON.stringify(before.map((b) => b!.connections.map((c) => [c.remotePort, c.state])))}`);
  t.is(server.codec.workerOf(session.conn.peerCid), owner);

  const data = pattern(512 * 1024, 99);
  const st = (await session.openStream()) as QuicStream;
  let received = 0;
  const chunks: Buffer[] = [];
  let halfway!: () => void;
  const half = new Promise<void>((r) => (halfway = r));
  const done = new Promise<void>((resolve, reject) => {
    st.on('data', (c: Buffer) => {
      chunks.push(c);
      received += c.length;
      if (received >= data.length / 2) halfway();
    });
    st.on('end', resolve);
    st.on('error', reject);
  });
  st.write(data.subarray(0, data.length / 2));
  await withTimeout(half, 10_000, 'first half echoed');
  const newPort = await relay.rebind();
  t.not(newPort, oldPort);
  st.end(data.subarray(data.length / 2));
  await withTimeout(done, 10_000, 'second half echoed after the rebinding');
  t.is(sha256(Buffer.concat(chunks)), sha256(data), 'all 512 KB echoed across the rebinding');

  const after = await server.stats();
  const moved = after[owner]!.connections.find((c) => c.remotePort === newPort);
  t.truthy(moved, `worker ${owner} holds the connection at the new port ${newPort}`);
  t.true((moved?.pathChanges ?? 0) >= 1, 'the connection migrated to the new path');
  t.false(after[1 - owner]!.connections.some((c) => c.remotePort === newPort), 'the other worker never saw it');
  t.is(server.codec.workerOf(session.conn.peerCid), owner);
  t.is(server.metrics().router.dropped_unroutable, 0);
  t.log(`rebinding part done at ${Date.now() - t0} ms`);
  await session.close();

  // --- Draining one worker: new connections all go to the other; its CIDs keep routing.
  const drained = 1 - owner;
  t.is(await server.drainWorker(drained, 2000), 0, 'the drained worker has no connections left');
  const more = await Promise.all(Array.from({ length: 4 }, () => connect(`127.0.0.1:${port}`, clientOptions)));
  t.deepEqual(await withTimeout(Promise.all(more.map((s, i) => echoOnce(s, pattern(16 * 1024, 50 + i)))), 10_000, 'echo after drain'), [true, true, true, true]);
  for (const s of more) t.is(server.codec.workerOf(s.conn.peerCid), owner, 'new connections avoid the draining worker');
  await Promise.all(more.map((s) => s.close()));
  await server.resumeWorker(drained);
  await server.close();
  t.false(server.listening);
});
