// L7: Prometheus counters across worker replacements (DESIGN §3 "Metrics"; review M2). A shard
// worker that exits is replaced by a new thread with the same index and a FRESH metrics block
// (src/multicore/server.ts), whose totals restart at 0. Prometheus counters must never go down
// and must not lose what the dead thread counted, so for every worker index we keep a base: the
// summed final values of the blocks that index had before its current one, captured by the
// supervisor when it replaces the worker (nothing writes a dead block any more). Every counter
// family fed from worker blocks exports base + current; gauges (live connections, requests in
// progress, heartbeat) are current values only.
//
// Connections that were open in a thread when it exited never close in its block: they are
// counted as closed with reason "worker_exit" — accepted − closed of every retired block, and of
// the current block too while its thread is dead and not (yet) replaced. Moving a dead block into
// the base changes no exported value.
//
// What a dead thread counted after its last sync is lost (live connections' packet/stream totals
// are copied into the block when the main thread asks, at every scrape; the rest is written as it
// happens).
import { WORKER_SCHEMA, type WorkerMetric } from '../multicore/metrics-block.js';

export type WorkerValues = Record<WorkerMetric, number>;

/** Worker fields that are current values, not totals: never carried over from a dead block. */
export const WORKER_GAUGES: readonly WorkerMetric[] = ['connections_active', 'http_requests_active', 'heartbeat_ms'];

/** The reason label under which a dead worker's open connections count as closed. */
export const WORKER_EXIT_REASON = 'worker_exit';

const GAUGE = new Set<string>(WORKER_GAUGES);
const COUNTERS: readonly WorkerMetric[] = WORKER_SCHEMA.names.filter((n) => !GAUGE.has(n));

function zeroValues(): WorkerValues {
  const out = {} as WorkerValues;
  for (const n of WORKER_SCHEMA.names) out[n] = 0;
  return out;
}

/**
 * Per worker index, the counters of its replaced incarnations (the supervisor owns one and hands
 * each replaced block's final values to retire()).
 */
export class RetiredWorkers {
  private readonly bases: Array<WorkerValues | undefined> = [];
  private readonly retiredCount: number[] = [];

  /** Add the final values of worker `index`'s block, which a new block replaces now. */
  retire(index: number, final: Readonly<WorkerValues>): void {
    if (!Number.isInteger(index) || index < 0) throw new RangeError(`index: expected a worker index, got ${index}`);
    let b = this.bases[index];
    if (b === undefined) b = this.bases[index] = zeroValues();
    for (const n of COUNTERS) {
      const v = final[n];
      if (typeof v === 'number' && Number.isFinite(v) && v > 0) b[n] += v;
    }
    this.retiredCount[index] = (this.retiredCount[index] ?? 0) + 1;
  }

  /** Blocks retired for worker `index` so far. */
  retired(index: number): number {
    return this.retiredCount[index] ?? 0;
  }

  /** Copies of the bases, by worker index (null: never replaced). Gauge fields are 0. */
  snapshot(workers: number): Array<WorkerValues | null> {
    const out: Array<WorkerValues | null> = [];
    for (let i = 0; i < workers; i++) {
      const b = this.bases[i];
      out.push(b === undefined ? null : { ...b });
    }
    return out;
  }
}

/** One worker's exported values: base + current for counters, current for gauges. */
export interface WorkerTotals {
  values: WorkerValues;
  /** Connections open in a thread when it exited (exported as closed{reason="worker_exit"}). */
  lostConnections: number;
}

/**
 * Combine worker `current` (its block now) with its `base` (retired blocks' counters, or null).
 * `alive` false: the current block's thread is gone, so its open connections count as lost too.
 */
export function workerTotals(current: Readonly<WorkerValues>, base: Readonly<WorkerValues> | null | undefined, alive: boolean): WorkerTotals {
  let lost = 0;
  let values: WorkerValues;
  if (base === null || base === undefined) {
    values = current as WorkerValues;
  } else {
    values = { ...current };
    for (const n of COUNTERS) values[n] = (current[n] ?? 0) + (base[n] ?? 0);
    lost += Math.max(0, base.connections_accepted - base.connections_closed);
  }
  if (!alive) lost += Math.max(0, current.connections_accepted - current.connections_closed);
  return { values, lostConnections: lost };
}
