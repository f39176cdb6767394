// dashboards/*.json use exactly the metric names /metrics serves (DESIGN §3): every quiver_* name
// a dashboard queries exists, and every quiver_* family served is on some dashboard. The registry
// watches a multi-core source too (SharedArrayBuffer blocks of 2 workers and a router, as
// MulticoreServer.metrics() returns them), so the per-worker, router and worker families count.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QuiverMetrics } from '../../src/metrics/quiver-metrics.js';
import { MetricsBlock, ROUTER_SCHEMA, WORKER_SCHEMA, collect } from '../../src/multicore/metrics-block.js';

function multicoreSource() {
  const workers = [new MetricsBlock(WORKER_SCHEMA), new MetricsBlock(WORKER_SCHEMA)];
  const router = new MetricsBlock(ROUTER_SCHEMA);
  workers[1]!.add('connections_active', 3);
  router.add('dropped_unroutable', 2);
  return {
    metrics: () => ({ router: router.snapshot(), alive: [true, true], workers: collect(workers), rings: [] }),
  };
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dashDir = join(root, 'dashboards');

/** Sample names a family of each type exposes. */
function servedNames(text: string): { names: Set<string>; families: Map<string, string> } {
  const names = new Set<string>();
  const families = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (!m) continue;
    const [, name, type] = m as unknown as [string, string, string];
    families.set(name, type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) names.add(name + s);
    else names.add(name);
  }
  return { names, families };
}

function dashboardExprs(): Array<{ file: string; expr: string }> {
  const out: Array<{ file: string; expr: string }> = [];
  const walk = (v: unknown, file: string): void => {
    if (Array.isArray(v)) for (const x of v) walk(x, file);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if ((k === 'expr' || k === 'query') && typeof x === 'string') out.push({ file, expr: x });
        else walk(x, file);
      }
    }
  };
  for (const f of readdirSync(dashDir).filter((n) => n.endsWith('.json'))) walk(JSON.parse(readFileSync(join(dashDir, f), 'utf8')), f);
  return out;
}

test('every quiver_* metric a dashboard queries is served, and every served family is on a dashboard', async (t) => {
  const metrics = new QuiverMetrics({ processMetrics: false });
  metrics.watchMulticore(multicoreSource());
  const text = await metrics.metrics();
  t.regex(text, /quiver_connections_active\{worker="1"\} 3/);
  t.regex(text, /quiver_router_dropped_total\{reason="unroutable"\} 2/);
  const { names, families } = servedNames(text);
  const exprs = dashboardExprs();
  t.true(exprs.length > 10, 'dashboards have queries');
  const used = new Set<string>();
  for (const { file, expr } of exprs) {
    for (const m of expr.matchAll(/\bquiver_[a-z0-9_]+/g)) {
      used.add(m[0]);
      t.true(names.has(m[0]), `${file}: ${m[0]} is not served by /metrics`);
    }
  }
  for (const [family, type] of families) {
    if (!family.startsWith('quiver_')) continue;
    const variants = type === 'histogram' ? [`${family}_bucket`, `${family}_sum`, `${family}_count`] : type === 'summary' ? [family, `${family}_sum`, `${family}_count`] : [family];
    t.true(
      variants.some((v) => used.has(v)),
      `${family} (${type}) is served but on no dashboard`,
    );
  }
});

test('dashboards are valid Grafana JSON with unique panel ids', (t) => {
  for (const f of readdirSync(dashDir).filter((n) => n.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(join(dashDir, f), 'utf8')) as { title?: string; panels?: Array<{ id: number; type?: string; targets?: unknown[] }> };
    t.truthy(d.title, f);
    const ids = (d.panels ?? []).map((p) => p.id);
    t.is(new Set(ids).size, ids.length, `${f}: duplicate panel ids`);
    for (const p of d.panels ?? []) if (p.type !== 'row') t.true((p.targets ?? []).length > 0, `${f}: panel ${p.id} has no query`);
  }
});
