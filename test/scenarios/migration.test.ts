// Scenarios (issue 5): NAT rebinding mid-transfer — the client's port, then its address, change
// while a download runs (RFC 9000 §9.3: the server validates the new path, keeps the 3× limit on
// it until then, and the transfer completes; §10.1.2: a receiving-only client still elicits ACKs).
import test from 'ava';
import { World, scenarioSeeds } from '../support/world.js';

const link = { delay: 15, jitter: 2, fifoJitter: true, rate: 1_000_000, queueBytes: 150_000 };

for (const [what, to] of [
  ['port', { port: 61001 }],
  ['address', { address: '10.77.0.9' }],
  ['address and port', { address: '10.77.0.10', port: 4433 }],
] as const) {
  for (const seed of scenarioSeeds([1, 2])) {
    test(`NAT rebinding of the ${what} mid-download: path validated, transfer completes (seed ${seed})`, (t) => {
      const w = new World({ seed, up: link, down: link });
      t.true(w.handshake(3000), w.summary());
      const [client] = w.transfer(Array.from({ length: 3 }, () => ({ upload: 20_000, download: 700_000 })));
      const node = w.clients[0]!;
      w.net.after(800, () => w.net.rebind(node, to));
      // RFC 9000 §9.3, §8: until the new path is validated the server sends at most 3× what it received on it.
      const newKey = `${to.address ?? node.local.address}|${to.port ?? node.local.port}`;
      let got = 0;
      let sentTo = 0;
      const samples: Array<{ time: number; sent: number; got: number }> = [];
      w.net.tap((kind, d, from, dest, time) => {
        if (kind === 'deliver' && dest.port === 443 && `${from.address}|${from.port}` === newKey) got += d.length;
        if (kind === 'transmit' && from.port === 443 && `${dest.address}|${dest.port}` === newKey) {
          sentTo += d.length;
          samples.push({ time, sent: sentTo, got });
        }
      });
      t.true(w.runTransfers(60_000), w.summary());
      t.deepEqual(w.errors(), [], w.summary());
      t.is(client!.bytesDownloaded, 2_100_000);
      const sc = w.serverConns[0]!;
      const path = sc.path;
      t.is(path.remoteAddress, node.external.address);
      t.is(path.remotePort, node.external.port);
      const validated = w.server.events('path-validated', sc);
      const migrated = w.server.events('path-migrated', sc);
      t.true(validated.length >= 1, `server events: ${JSON.stringify(w.server.eventCounts)}`);
      const validatedAt = w.server.log.find((e) => e.event.type === 'path-validated' && e.conn === sc)!.time;
      const before = samples.filter((x) => x.time < validatedAt);
      t.true(before.length > 0, 'the server probed the new path before validating it');
      for (const x of before) t.true(x.sent <= 3 * x.got, `server sent ${x.sent} bytes to the unvalidated path after receiving ${x.got}`);
      t.true(migrated.some((e) => e.path.remotePort === node.external.port && e.path.remoteAddress === node.external.address));
      t.true(w.net.elapsed > 800, 'the rebinding happened during the transfer');

    });
  }
}

test('two rebindings in one transfer (port, then address)', (t) => {
  const w = new World({ seed: 9, up: link, down: link });
  t.true(w.handshake(3000));
  const [client] = w.transfer(Array.from({ length: 4 }, () => ({ upload: 10_000, download: 800_000 })));
  const node = w.clients[0]!;
  w.net.after(700, () => w.net.rebind(node, { port: 62000 }));
  w.net.after(1800, () => w.net.rebind(node, { address: '10.88.0.1' }));
  t.true(w.runTransfers(60_000), w.summary());
  t.deepEqual(w.errors(), []);
  t.is(client!.bytesDownloaded, 3_200_000);
  t.true(w.server.events('path-validated').length >= 2, JSON.stringify(w.server.eventCounts));
});

test('CID rotation mid-transfer: the client moves to new server CIDs; retired ones leave the routing table', (t) => {
  const w = new World({ seed: 10, up: link, down: link });
  t.true(w.handshake(3000));
  const [client] = w.transfer(Array.from({ length: 2 }, () => ({ upload: 10_000, download: 600_000 })));
  const retired: Uint8Array[] = [];
  for (const at of [200_000, 500_000, 800_000]) {
    t.true(w.net.runUntil(() => client!.bytesDownloaded >= at, 20_000), w.summary());
    const old = w.conn.peerCid.slice();
    t.true(w.conn.rotatePeerCid(), 'a spare server CID was available');
    retired.push(old);
  }
  t.true(w.runTransfers(60_000), w.summary());
  t.deepEqual(w.errors(), []);
  t.true(w.net.runUntil(() => retired.every((c) => w.server.endpoint.lookup(c) === undefined), 5000), 'retired CIDs still route');
  const sc = w.serverConns[0]!;
  t.is(w.server.endpoint.lookup(w.conn.peerCid), sc);
  // the table holds exactly the server connection's active CIDs
  t.is(w.server.endpoint.routingEntries, sc.localCids.length);
});
