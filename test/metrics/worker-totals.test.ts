// Prometheus counters across worker replacements (review M2; src/metrics/worker-totals.ts): a
// worker's block is replaced by a fresh one whose totals restart at 0. Every counter family fed
// from worker blocks exports the retired blocks' final values + the current block, so no series
// goes down and nothing is lost; a dead thread's open connections count as
// quiver_connections_closed_total{reason="worker_exit"}; gauges are the current block only. The
// fake source below does what MulticoreServer does (M1: a dead worker's gauges are zeroed; the
// dead block is retired in the turn the fresh one takes over).
import test from 'ava';
import { EventEmitter } from 'node:events';
import type { QuicServer } from '../../src/io/quic.js';
import { QuiverMetrics } from '../../src/metrics/quiver-metrics.js';
import { RetiredWorkers, WORKER_GAUGES, workerTotals, type WorkerValues } from '../../src/metrics/worker-totals.js';
import { HANDSHAKE_BUCKETS, MetricsBlock, ROUTER_SCHEMA, WORKER_SCHEMA, collect, type WorkerMetric } from '../../src/multicore/metrics-block.js';
import type { MulticoreMetrics } from '../../src/multicore/server.js';
import { DROP_REASONS } from '../../src/endpoint/index.js';
import { bucketKey, counterSamples, fieldSamples, key, samples } from './prom-samples.js';

class FakeMulticore {
  blocks = [new MetricsBlock(WORKER_SCHEMA), new MetricsBlock(WORKER_SCHEMA)];
  alive = [true, true];
  router = new MetricsBlock(ROUTER_SCHEMA);
  retired = new RetiredWorkers();
  metrics(): MulticoreMetrics {
    return { router: this.router.snapshot(), alive: [...this.alive], workers: collect(this.blocks), retired: this.retired.snapshot(this.blocks.length), rings: [] };
  }
  /** The thread of worker `i` exits (server.ts spawn's exit handler: gauges read 0). */
  exit(i: number): void {
    this.alive[i] = false;
    this.blocks[i]!.set('connections_active', 0);
    this.blocks[i]!.set('http_requests_active', 0);
  }
  /** onWorkerExit: retire the dead block, a fresh one takes over. */
  replace(i: number): void {
    this.retired.retire(i, this.blocks[i]!.snapshot());
    this.blocks[i] = new MetricsBlock(WORKER_SCHEMA);
    this.alive[i] = true;
    this.router.add('workers_respawned');
  }
}

/** Distinct values in every counter field of a block (seeded by `seed`), plus gauges. */
function fill(b: MetricsBlock<WorkerMetric>, seed: number): void {
  WORKER_SCHEMA.names.forEach((n, i) => {
    if (!(WORKER_GAUGES as readonly string[]).includes(n)) b.set(n, seed * 100 + i);
  });
  b.set('connections_accepted', seed * 1000);
  b.set('connections_closed', seed * 1000 - 3 * seed); // 3·seed open now
  b.set('connections_active', 3 * seed);
  b.set('http_requests_active', seed);
  b.set('heartbeat_ms', 1);
}

test('respawn: every worker counter is base + current, monotonic, nothing lost; open connections count as worker_exit', async (t) => {
  const mc = new FakeMulticore();
  const metrics = new QuiverMetrics({ processMetrics: false });
  metrics.watchMulticore(mc);
  fill(mc.blocks[0]!, 1);
  fill(mc.blocks[1]!, 5);
  const final = mc.blocks[0]!.snapshot();
  const s1 = samples(await metrics.metrics());
  for (const [f, k] of fieldSamples('0')) t.is(s1.get(k), final[f], `${k} before the exit`);
  t.is(s1.get(key('quiver_connections_closed_total', { reason: 'worker_exit', worker: '0' })), 0);
  t.is(s1.get(key('quiver_connections_active', { worker: '0' })), 3);

  // The thread exits: counters unchanged, its 3 open connections are closed (worker_exit), gauges 0.
  mc.exit(0);
  const s2 = samples(await metrics.metrics());
  for (const [f, k] of fieldSamples('0')) t.is(s2.get(k), final[f], `${k} after the exit`);
  t.is(s2.get(key('quiver_connections_closed_total', { reason: 'worker_exit', worker: '0' })), 3);
  t.is(s2.get(key('quiver_connections_active', { worker: '0' })), 0);
  t.is(s2.get(key('quiver_http_requests_active', { worker: '0' })), 0);

  // Replaced by a fresh block: every exported value the same as just before.
  mc.replace(0);
  const s3 = samples(await metrics.metrics());
  for (const [k, v] of counterSamples(s2, '0')) t.is(s3.get(k), v, `${k} across the replacement`);
  t.is(s3.get(key('quiver_connections_active', { worker: '0' })), 0);

  // The new incarnation works: exported = dead block's final values + the new block's.
  fill(mc.blocks[0]!, 2);
  const now = mc.blocks[0]!.snapshot();
  const s4 = samples(await metrics.metrics());
  for (const [f, k] of fieldSamples('0')) t.is(s4.get(k), final[f] + now[f], `${k} = both incarnations`);
  for (const [k, v] of counterSamples(s3, '0')) t.true(s4.get(k)! >= v, `${k} never goes down`);
  // Histogram: cumulative buckets of both incarnations.
  let cum = 0;
  HANDSHAKE_BUCKETS.forEach((_, i) => {
    cum += final[`handshake_bucket_${i}` as WorkerMetric] + now[`handshake_bucket_${i}` as WorkerMetric];
    t.is(s4.get(bucketKey('0', i)), cum, `bucket ${i}`);
  });
  // Gauges: the current block only; its live connections are not lost.
  t.is(s4.get(key('quiver_connections_active', { worker: '0' })), 6);
  t.is(s4.get(key('quiver_http_requests_active', { worker: '0' })), 2);
  t.is(s4.get(key('quiver_connections_closed_total', { reason: 'worker_exit', worker: '0' })), 3);
  // The other worker is untouched.
  const other = mc.blocks[1]!.snapshot();
  for (const [f, k] of fieldSamples('1')) t.is(s4.get(k), other[f], k);

  // A second crash of the same index: both dead blocks' counts and open connections carry over.
  mc.exit(0);
  mc.replace(0);
  const s5 = samples(await metrics.metrics());
  for (const [f, k] of fieldSamples('0')) t.is(s5.get(k), final[f] + now[f], `${k} after a second respawn`);
  t.is(s5.get(key('quiver_connections_closed_total', { reason: 'worker_exit', worker: '0' })), 3 + 6);
  t.is(s5.get('quiver_worker_respawns_total{}'), 2);
});

test('the review case: old worker closed 1000, the new one 1500 → 2500 (not 1500), and never a drop', async (t) => {
  const mc = new FakeMulticore();
  const metrics = new QuiverMetrics({ processMetrics: false });
  metrics.watchMulticore(mc);
  const closed = key('quiver_connections_closed_total', { reason: 'idle', worker: '1' });
  const accepted = key('quiver_connections_accepted_total', { worker: '1' });
  mc.blocks[1]!.set('closed_idle', 1000);
  mc.blocks[1]!.set('connections_accepted', 1000);
  mc.blocks[1]!.set('connections_closed', 1000);
  t.is(samples(await metrics.metrics()).get(closed), 1000);
  mc.exit(1);
  mc.replace(1);
  let last = 1000;
  for (const n of [1, 200, 999, 1000, 1500]) {
    mc.blocks[1]!.set('closed_idle', n);
    mc.blocks[1]!.set('connections_accepted', n);
    mc.blocks[1]!.set('connections_closed', n);
    const s = samples(await metrics.metrics());
    t.is(s.get(closed), 1000 + n);
    t.is(s.get(accepted), 1000 + n);
    t.true(s.get(closed)! > last);
    last = s.get(closed)!;
  }
  t.is(samples(await metrics.metrics()).get(key('quiver_connections_closed_total', { reason: 'worker_exit', worker: '1' })), 0);
});

test('workerTotals / RetiredWorkers: gauges never carried over, bases add up, bad indexes refused', (t) => {
  const r = new RetiredWorkers();
  const a = new MetricsBlock(WORKER_SCHEMA);
  a.set('bytes_sent', 10);
  a.set('connections_active', 4);
  a.set('heartbeat_ms', 123);
  a.set('connections_accepted', 5);
  r.retire(1, a.snapshot());
  r.retire(1, a.snapshot());
  t.is(r.retired(1), 2);
  t.is(r.retired(0), 0);
  const snap = r.snapshot(3);
  t.is(snap[0], null);
  t.is(snap[2], null);
  t.is(snap[1]!.bytes_sent, 20);
  t.is(snap[1]!.connections_active, 0);
  t.is(snap[1]!.heartbeat_ms, 0);
  const cur = new MetricsBlock(WORKER_SCHEMA);
  cur.set('bytes_sent', 1);
  cur.set('connections_active', 2);
  cur.set('heartbeat_ms', 7);
  const tot = workerTotals(cur.snapshot(), snap[1], true);
  t.is(tot.values.bytes_sent, 21);
  t.is(tot.values.connections_active, 2);
  t.is(tot.values.heartbeat_ms, 7);
  t.is(tot.lostConnections, 10);
  // No base: the current values as they are.
  const plain: WorkerValues = cur.snapshot();
  t.is(workerTotals(plain, null, true).values, plain);
  t.throws(() => r.retire(-1, a.snapshot()), { instanceOf: RangeError });
  t.throws(() => r.retire(1.5, a.snapshot()), { instanceOf: RangeError });
});

test('single-process path unchanged: unlabelled samples from QuicServer stats, no worker series', async (t) => {
  const stats = {
    endpoint: {
      connectionsActive: 2,
      connectionsAccepted: 7,
      datagramsReceived: 40,
      bytesReceived: 4000,
      retrySent: 1,
      versionNegotiationSent: 0,
      statelessResetSent: 3,
      dropped: Object.fromEntries(DROP_REASONS.map((r, i) => [r, i])),
    },
    io: { datagramsSent: 30, bytesSent: 3000, sendErrors: 1 },
  };
  const server = Object.assign(new EventEmitter(), { stats }) as unknown as QuicServer;
  const metrics = new QuiverMetrics({ processMetrics: false });
  metrics.watchServer(server);
  const read = async (): Promise<Map<string, number>> => samples(await metrics.metrics());
  let s = await read();
  t.is(s.get('quiver_connections_active{}'), 2);
  t.is(s.get('quiver_connections_accepted_total{}'), 7);
  t.is(s.get('quiver_datagrams_received_total{}'), 40);
  t.is(s.get('quiver_bytes_sent_total{}'), 3000);
  t.is(s.get('quiver_send_errors_total{}'), 1);
  t.is(s.get('quiver_stateless_reset_sent_total{}'), 3);
  t.is(s.get(key('quiver_datagrams_dropped_total', { reason: DROP_REASONS[1]! })), 1);
  t.false([...s.keys()].some((k) => k.includes('worker=')), 'no worker label');
  t.false([...s.keys()].some((k) => k.includes('worker_exit')), 'no worker_exit series');
  stats.endpoint.connectionsAccepted = 9;
  stats.io.datagramsSent = 31;
  s = await read();
  t.is(s.get('quiver_connections_accepted_total{}'), 9);
  t.is(s.get('quiver_datagrams_sent_total{}'), 31);
});
