// Test helpers: Prometheus text exposition parsed into samples, and which sample exports each
// worker metrics-block field (src/metrics/quiver-metrics.ts, multi-core series).
import { DROP_REASONS } from '../../src/endpoint/index.js';
import { CLOSE_KINDS, HANDSHAKE_BUCKETS, type WorkerMetric } from '../../src/multicore/metrics-block.js';

/** Prometheus text → sample (name{labels sorted}) → value. */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-z_:][a-z0-9_:]*)(?:\{(.*)\})? (\S+)$/i.exec(line);
    if (m === null) continue;
    const labels = (m[2] ?? '')
      .split(',')
      .filter((x) => x !== '')
      .sort()
      .join(',');
    out.set(`${m[1]}{${labels}}`, Number(m[3]));
  }
  return out;
}

export const key = (name: string, labels: Record<string, string>): string =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',')}}`;

/** Each worker counter field and the sample that exports it (for worker `w`). */
export function fieldSamples(w: string): Array<[WorkerMetric, string]> {
  const out: Array<[WorkerMetric, string]> = [];
  const plain = (f: WorkerMetric, name: string): void => void out.push([f, key(name, { worker: w })]);
  plain('connections_accepted', 'quiver_connections_accepted_total');
  plain('datagrams_received', 'quiver_datagrams_received_total');
  plain('bytes_received', 'quiver_bytes_received_total');
  plain('datagrams_sent', 'quiver_datagrams_sent_total');
  plain('bytes_sent', 'quiver_bytes_sent_total');
  plain('retry_sent', 'quiver_retry_sent_total');
  plain('version_negotiation_sent', 'quiver_version_negotiation_sent_total');
  plain('stateless_reset_sent', 'quiver_stateless_reset_sent_total');
  plain('packets_sent', 'quiver_packets_sent_total');
  plain('packets_received', 'quiver_packets_received_total');
  plain('packets_lost', 'quiver_packets_lost_total');
  plain('handshakes_failed', 'quiver_handshake_failures_total');
  plain('rx_batches', 'quiver_worker_rx_batches_total');
  plain('tx_ring_full', 'quiver_worker_tx_ring_full_total');
  plain('wakeups', 'quiver_worker_wakeups_total');
  plain('core_errors', 'quiver_worker_core_errors_total');
  plain('handshake_count', 'quiver_handshake_duration_seconds_count');
  plain('handshake_seconds_sum', 'quiver_handshake_duration_seconds_sum');
  out.push(['streams_opened_local', key('quiver_streams_opened_total', { initiator: 'local', worker: w })]);
  out.push(['streams_opened_remote', key('quiver_streams_opened_total', { initiator: 'remote', worker: w })]);
  for (const c of ['1xx', '2xx', '3xx', '4xx', '5xx'] as const) out.push([`http_responses_${c}`, key('quiver_http_requests_total', { status_class: c, worker: w })]);
  for (const k of CLOSE_KINDS) {
    out.push([`closed_${k}`, key('quiver_connections_closed_total', { reason: k, worker: w })]);
    out.push([`closed_${k}_error`, key('quiver_connections_closed_total', { reason: `${k}_error`, worker: w })]);
  }
  for (const r of DROP_REASONS) out.push([`dropped_${r}`, key('quiver_datagrams_dropped_total', { reason: r, worker: w })]);
  return out;
}

/** Cumulative handshake bucket `i` as served (le label) from per-bucket counts. */
export function bucketKey(w: string, i: number): string {
  return key('quiver_handshake_duration_seconds_bucket', { le: String(HANDSHAKE_BUCKETS[i]), worker: w });
}

/** Every counter-like sample (counters, histogram parts) of worker `w`. */
export function counterSamples(s: Map<string, number>, w: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of s) {
    if (!k.includes(`worker="${w}"`)) continue;
    if (/_total\{|_bucket\{|_sum\{|_count\{/.test(k)) out.set(k, v);
  }
  return out;
}

