// Prometheus counters of a real multi-core server across a worker crash (review M2): the worker's
// replacement starts with a fresh metrics block, yet every quiver_* counter series of that worker
// index stays ≥ its value before the exit, and after new work each equals what both incarnations
// counted (the dead block's final values + the new block's); the connection that was open in the
// dead thread counts as quiver_connections_closed_total{reason="worker_exit"}.
import test from 'ava';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Http3Client } from '../../src/server/client.js';
import { listenMulticore, type MulticoreServer } from '../../src/multicore/server.js';
import type { WorkerMetric } from '../../src/multicore/metrics-block.js';
import { liveCertificate, withTimeout } from '../io/helpers.js';
import { counterSamples, fieldSamples, key, samples } from '../metrics/prom-samples.js';

const dir = mkdtempSync(join(tmpdir(), 'quiver-mc-metrics-'));
const servers: MulticoreServer[] = [];
test.after.always(async () => {
  await Promise.all(servers.map((s) => s.close({ timeout: 500 })));
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test.serial('a worker that crashes mid-run: its counters never go down and count both incarnations', async (t) => {
  const mod = join(dir, 'crashy.mjs');
  writeFileSync(
    mod,
    [
      'export default function (server, ctx) {',
      '  server.on("request", (req, res) => {',
      '    if (req.url === "/crash") { res.end("bye"); setTimeout(() => process.exit(3), 50); return; }',
      '    res.end(`worker ${ctx.worker}`);',
      '  });',
      '}',
    ].join('\n'),
  );
  const cert = liveCertificate();
  const server = await listenMulticore({ workers: 2, host: '127.0.0.1', port: 0, cert: cert.certPem, key: cert.keyPem, idleTimeout: 5000, app: { module: mod }, balance: 'hash' });
  servers.push(server);
  const base = `https://127.0.0.1:${server.address().port}`;
  const workerOf = async (c: Http3Client, path = '/'): Promise<number> => Number(/worker (\d)/.exec(await (await c.fetch(`${base}${path}`)).text())![1]);
  const clients: Http3Client[] = [];
  const open = (): Http3Client => {
    const c = new Http3Client({ rejectUnauthorized: false });
    clients.push(c);
    return c;
  };
  try {
    // First incarnation: a victim that stays open, and clients that do work and close.
    const victim = open();
    const x = await workerOf(victim);
    const w = String(x);
    let onX = 0;
    // balance: 'hash' — with least-loaded placement the victim's worker is never the emptier one, so
    // short-lived clients would rarely land there; by keyed hash each does with probability ½
    // (32 tries: all miss with probability 2^-32).
    for (let i = 0; i < 32 && onX < 2; i++) {
      const c = open();
      if ((await workerOf(c)) === x) {
        onX++;
        for (let k = 0; k < 3; k++) await workerOf(c, `/?k=${k}`);
      }
      await c.close();
    }
    t.true(onX >= 1, 'other connections on the crashing worker');
    await sleep(300);
    const before = samples(await server.prometheus.metrics());
    t.true(before.get(key('quiver_connections_accepted_total', { worker: w }))! >= 1 + onX);
    t.is(before.get(key('quiver_connections_closed_total', { reason: 'worker_exit', worker: w })), 0);

    // The crash: the dead block's final values, read when the supervisor learns of the exit.
    let final: Record<WorkerMetric, number> | undefined;
    server.once('worker-exit', (i: number) => {
      if (i === x) final = server.metrics().workers.perBlock[x];
    });
    const respawned = once(server, 'worker-respawn');
    t.is(await (await victim.fetch(`${base}/crash`)).text(), 'bye');
    t.deepEqual(await withTimeout(respawned, 10_000, 'worker-respawn'), [x]);
    t.truthy(final, 'final values read at the exit');
    const lost = final!.connections_accepted - final!.connections_closed;
    t.true(lost >= 1, `the victim's connection was open in the dead thread (${lost})`);
    t.true(final!.http_responses_2xx >= 1 + 3 * onX + 1, 'responses of the first incarnation (incl. the crash reply)');

    const after = samples(await server.prometheus.metrics());
    for (const [k, v] of counterSamples(before, w)) t.true(after.get(k)! >= v, `${k}: ${after.get(k)} ≥ ${v} after the respawn`);
    t.is(after.get(key('quiver_connections_closed_total', { reason: 'worker_exit', worker: w })), lost);
    t.is(after.get(key('quiver_connections_active', { worker: w })), server.metrics().workers.perBlock[x]!.connections_active);

    // Second incarnation: new connections on the replacement.
    let onNew = 0;
    for (let i = 0; i < 12 && onNew < 2; i++) {
      const c = open();
      if ((await workerOf(c)) === x) {
        onNew++;
        for (let k = 0; k < 2; k++) await workerOf(c, `/?n=${k}`);
      }
      await c.close();
    }
    t.true(onNew >= 1, 'connections on the replacement');
    await victim.close().catch(() => {});
    await sleep(300);

    // Exported = dead block + new block, field by field (the new block may move between reads:
    // bounded by a read before and one after the scrape).
    const lo = server.metrics().workers.perBlock[x]!;
    const end = samples(await server.prometheus.metrics());
    const hi = server.metrics().workers.perBlock[x]!;
    for (const [f, k] of fieldSamples(w)) {
      const v = end.get(k)!;
      t.true(v >= final![f] + lo[f] && v <= final![f] + hi[f], `${k} = ${v}, expected ${final![f]} + ${lo[f]}..${hi[f]}`);
    }
    t.is(end.get(key('quiver_http_requests_total', { status_class: '2xx', worker: w })), final!.http_responses_2xx + lo.http_responses_2xx);
    t.is(lo.http_responses_2xx, 3 * onNew, 'the new block counted only its own responses');
    for (const [k, v] of counterSamples(after, w)) t.true(end.get(k)! >= v, `${k} never goes down`);
    t.is(end.get(key('quiver_connections_closed_total', { reason: 'worker_exit', worker: w })), lost);
    t.regex(await server.prometheus.metrics(), /quiver_worker_respawns_total 1/);
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
});
