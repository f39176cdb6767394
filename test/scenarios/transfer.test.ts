// Scenarios (issue 5): bulk transfers on the VirtualNetwork — 10 MB both directions on many
// concurrent streams, a flow-control-limited transfer with small windows (interop "transfer"), and
// 2 000 streams through initial_max_streams_bidi = 100 (interop "multiplexing"). Every byte is
// pattern-checked by the transfer app.
import test from 'ava';
import { World, scenarioSeeds } from '../support/world.js';

const MB = 1_000_000;

for (const seed of scenarioSeeds([1])) {
  test(`10 MB each direction on 32 concurrent streams (seed ${seed})`, (t) => {
    const w = new World({ seed });
    t.true(w.handshake(2000), w.summary());
    const n = 32;
    const per = Math.ceil((10 * MB) / n);
    const [client] = w.transfer(Array.from({ length: n }, () => ({ upload: per, download: per })));
    t.true(w.runTransfers(120_000), w.summary());
    t.deepEqual(w.errors(), []);
    t.true(client!.done);
    t.is(client!.bytesDownloaded, per * n);
    t.is(w.app.bytesUploaded, per * n);
    const s = w.conn.stats;
    t.is(s.packetsLost, 0, 'a clean link loses nothing');
    t.log(`virtual ${w.net.elapsed.toFixed(0)} ms, ${((2 * per * n * 8) / (w.net.elapsed / 1000) / 1e6).toFixed(0)} Mbit/s total, client packets ${s.packetsSent}`);
  });
}

for (const seed of scenarioSeeds([1, 2])) {
  test(`flow control with small windows and send backpressure: 6 MB down on 4 streams, 16 KB stream / 64 KB connection windows (seed ${seed})`, (t) => {
    const small = { initialMaxData: 65536, initialMaxStreamDataBidiLocal: 16384, initialMaxStreamDataBidiRemote: 16384, initialMaxStreamDataUni: 16384 };
    const w = new World({ seed, server: { transport: small }, client: { transport: small }, up: { delay: 10 }, down: { delay: 10 } });
    t.true(w.handshake(2000), w.summary());
    // 1.5 MB per stream: more than the 1 MiB send buffer, so writers must wait for 'stream-writable'.
    const [client] = w.transfer(Array.from({ length: 4 }, () => ({ upload: 100_000, download: 1_500_000 })));
    t.true(w.runTransfers(120_000), w.summary());
    t.deepEqual(w.errors(), []);
    t.is(client!.bytesDownloaded, 6 * MB);
    t.true((w.server.eventCounts['stream-writable'] ?? 0) > 0, 'the server writers saw backpressure and were woken up');
    t.log(`virtual ${w.net.elapsed.toFixed(0)} ms for 6 MB at RTT 20 ms`);
  });
}

for (const seed of scenarioSeeds([1, 2])) {
  test(`multiplexing: 2000 streams through initial_max_streams_bidi = 100 (seed ${seed})`, (t) => {
    const w = new World({ seed, server: { transport: { initialMaxStreamsBidi: 100 } } });
    t.true(w.handshake(2000), w.summary());
    const [client] = w.transfer(Array.from({ length: 2000 }, (_, i) => ({ upload: 50 + (i % 7) * 10, download: 100 + (i % 13) * 37 })));
    t.true(w.runTransfers(120_000), w.summary());
    t.deepEqual(w.errors(), []);
    t.is(client!.completed, 2000);
    t.is(w.app.requestsServed, 2000);
    t.true(client!.blocked > 0, 'the stream limit was reached and MAX_STREAMS raised it');
    t.is(w.conn.stats.streamsOpenedLocal, 2000);
  });
}
