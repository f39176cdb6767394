// Scenarios (issue 5): transfers over an impaired link — 2 % loss with bursts, 2 % and 30 %
// corruption, reordering, duplication, and a 5 s-on / 2 s-off blackhole. Every byte is checked by
// the transfer app; the handshake runs through the same impairments.
import test from 'ava';
import { World, scenarioSeeds } from '../support/world.js';
import type { LinkConfig } from '../support/link.js';

const KB = 1000;

interface Case {
  name: string;
  link: LinkConfig;
  seeds: number[];
  upload: number;
  download: number;
  streams: number;
  maxMs: number;
  check?: (w: World, t: import('ava').ExecutionContext) => void;
}

const cases: Case[] = [
  {
    name: '2 % loss with bursts of up to 3',
    link: { delay: 10, loss: 0.02, lossBurst: 3 },
    seeds: scenarioSeeds([1, 2, 3]),
    upload: 300 * KB,
    download: 1000 * KB,
    streams: 8,
    maxMs: 60_000,
    check: (w, t) => {
      const c = w.clients[0]!;
      t.true(c.up!.counters.dropped.loss + c.down!.counters.dropped.loss > 5, 'losses happened');
      t.true(w.conn.stats.packetsLost > 0 || w.serverConns[0]!.stats.packetsLost > 0);
    },
  },
  {
    name: '2 % corruption',
    link: { delay: 10, corrupt: 0.02 },
    seeds: scenarioSeeds([1, 2, 3]),
    upload: 300 * KB,
    download: 1000 * KB,
    streams: 8,
    maxMs: 60_000,
    check: (w, t) => t.true(w.clients[0]!.down!.counters.corrupted > 5),
  },
  {
    name: '30 % corruption',
    link: { delay: 10, corrupt: 0.3 },
    seeds: scenarioSeeds([1, 2, 3]),
    upload: 50 * KB,
    download: 200 * KB,
    streams: 4,
    maxMs: 120_000,
    check: (w, t) => t.true(w.clients[0]!.down!.counters.corrupted > 20),
  },
  {
    name: 'reordering (10 % held back 15 ms, jitter 3 ms)',
    link: { delay: 10, reorder: 0.1, reorderDelay: 15, jitter: 3 },
    seeds: scenarioSeeds([1, 2, 3]),
    upload: 300 * KB,
    download: 1000 * KB,
    streams: 8,
    maxMs: 60_000,
    check: (w, t) => t.true(w.clients[0]!.down!.counters.reordered > 20),
  },
  {
    name: 'duplication (10 %)',
    link: { delay: 10, duplicate: 0.1, duplicateDelay: 3 },
    seeds: scenarioSeeds([1, 2, 3]),
    upload: 300 * KB,
    download: 1000 * KB,
    streams: 8,
    maxMs: 60_000,
    check: (w, t) => t.true(w.clients[0]!.down!.counters.duplicated > 20),
  },
  {
    name: 'blackhole 5 s on / 2 s off at 4 Mbit/s',
    link: { delay: 10, jitter: 2, fifoJitter: true, rate: 500_000, queueBytes: 100_000, blackhole: { on: 5000, off: 2000 } },
    seeds: scenarioSeeds([1, 2]),
    upload: 100 * KB,
    download: 4000 * KB,
    streams: 4,
    maxMs: 120_000,
    check: (w, t) => {
      const c = w.clients[0]!;
      t.true(c.down!.counters.dropped.blackhole > 0, 'the blackhole dropped traffic');
      t.true(w.net.elapsed > 7000, 'the transfer outlived at least one off phase');
    },
  },
];

for (const c of cases) {
  for (const seed of c.seeds) {
    test(`${c.name}: handshake and ${c.download / KB} KB down / ${c.upload / KB} KB up complete (seed ${seed})`, (t) => {
      const w = new World({ seed, up: c.link, down: c.link });
      t.true(w.handshake(30_000), w.summary());
      const per = { upload: Math.ceil(c.upload / c.streams), download: Math.ceil(c.download / c.streams) };
      const [client] = w.transfer(Array.from({ length: c.streams }, () => per));
      t.true(w.runTransfers(c.maxMs), w.summary());
      t.deepEqual(w.errors(), [], w.summary());
      t.is(client!.bytesDownloaded, per.download * c.streams);
      t.is(w.app.bytesUploaded, per.upload * c.streams);
      c.check?.(w, t);
    });
  }
}
