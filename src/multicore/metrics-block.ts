// L7: per-thread counter blocks in SharedArrayBuffers (DESIGN §3 "Metrics"): every shard worker —
// and the router in the main thread — writes its hot counters as plain Float64 stores into its own
// block (one writer per block, so no Atomics, no contention, no message per update); the main
// thread reads every block at scrape time. collect() returns plain numbers, so a prom-client
// registry (src/metrics, the I/O layer's) can adopt them in its own collect() callbacks later
// without this module importing prom-client.
//
// Layout: Float64[0] magic, [1] schema id, [2] field count, [3..7] reserved, fields from index 8
// (64 bytes in, so a block's values never share a cache line with its header). Float64 counts
// exactly up to 2^53; a reader may see a value one update old (aligned 8-byte stores do not tear).
import { DROP_REASONS } from '../endpoint/index.js';

const MAGIC = 0x5156_4d42; // 'QVMB'
const FIELDS_AT = 8;

export interface MetricsSchema<N extends string> {
  /** Stable id (a block made for another schema is refused). */
  readonly id: number;
  readonly names: readonly N[];
  /** Field name → index into MetricsBlock.values (constant: writers cache it). */
  readonly index: Readonly<Record<N, number>>;
}

export function defineSchema<N extends string>(id: number, names: readonly N[]): MetricsSchema<N> {
  const index = {} as Record<N, number>;
  names.forEach((n, i) => {
    if (n in index) throw new RangeError(`names: duplicate field ${n}`);
    index[n] = FIELDS_AT + i;
  });
  return { id, names: [...names], index };
}

/** Endpoint drop reasons as worker fields (`dropped_<reason>`), in DROP_REASONS order. */
const ENDPOINT_DROPS = DROP_REASONS.map((r) => `dropped_${r}` as const);

/** Handshake duration histogram bounds in seconds (the quiver_handshake_duration_seconds buckets). */
export const HANDSHAKE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;
/** CloseInfo kinds (src/io/errors.ts) counted per worker as closed_<kind> and closed_<kind>_error. */
export const CLOSE_KINDS = ['transport', 'application', 'idle', 'reset', 'version', 'local'] as const;
export type CloseKind = (typeof CLOSE_KINDS)[number];
const CLOSE_FIELDS = CLOSE_KINDS.flatMap((k) => [`closed_${k}` as const, `closed_${k}_error` as const]);
/** Non-cumulative bucket counts: bucket i counts durations in (bound[i-1], bound[i]]; the last one > 5 s. */
const HANDSHAKE_FIELDS = [...HANDSHAKE_BUCKETS.map((_, i) => `handshake_bucket_${i}` as `handshake_bucket_${number}`), 'handshake_bucket_inf' as const];

/** What each shard worker counts (written only by that worker). */
export const WORKER_SCHEMA = defineSchema(1, [
  'datagrams_received',
  'bytes_received',
  'datagrams_sent',
  'bytes_sent',
  /** RX slots processed per drain: batches and total (datagrams_received / rx_batches = batch size). */
  'rx_batches',
  /** Sends deferred because the TX ring was full (the connection keeps the data; nothing is lost). */
  'tx_ring_full',
  /** Datagrams larger than a TX slot (dropped; QUIC recovers). */
  'tx_oversize',
  /** Datagrams to an address the ring cannot carry. */
  'tx_bad_address',
  'timer_fires',
  /** Times the worker woke from Atomics.waitAsync. */
  'wakeups',
  'connections_active',
  'connections_accepted',
  'connections_closed',
  'handshakes_completed',
  /** Connections that closed before completing their handshake. */
  'handshakes_failed',
  /** Client DCIDs reported back to the router (its table entry can go). */
  'dcids_released',
  'version_negotiation_sent',
  'retry_sent',
  'stateless_reset_sent',
  /** Exceptions thrown by the core and caught by the shard (bugs; the datagram or event is dropped). */
  'core_errors',
  /** Last loop turn, ms since the epoch (liveness). */
  'heartbeat_ms',
  ...ENDPOINT_DROPS,
  // Session and HTTP/3 level (apps that run QuicSessions / an Http3Server; src/multicore/worker-metrics.ts).
  'http_requests',
  'http_requests_active',
  'http_responses_1xx',
  'http_responses_2xx',
  'http_responses_3xx',
  'http_responses_4xx',
  'http_responses_5xx',
  /** Connection totals: ended connections plus the live ones at the last sync. */
  'packets_sent',
  'packets_received',
  'packets_lost',
  'streams_opened_local',
  'streams_opened_remote',
  ...CLOSE_FIELDS,
  ...HANDSHAKE_FIELDS,
  'handshake_seconds_sum',
  'handshake_count',
]);
export type WorkerMetric = (typeof WORKER_SCHEMA.names)[number];

/** What the router in the main thread counts (written only by the main thread). */
export const ROUTER_SCHEMA = defineSchema(2, [
  'datagrams_received',
  'bytes_received',
  'datagrams_sent',
  'bytes_sent',
  'send_errors',
  /** Short header, worker from the DCID's index. */
  'routed_short',
  /** Long header whose DCID is one of ours (after Retry, Handshake packets…). */
  'routed_long_cid',
  /** Long header found in the table of client-chosen DCIDs. */
  'routed_table',
  /** New client DCID assigned to a worker (entry added). */
  'routed_new',
  /** Long header sent to a worker by hash without an entry (unknown version → VN; table full). */
  'routed_stateless',
  'dropped_empty',
  'dropped_bad_header',
  /** Short header whose DCID is not one of ours (wrong key/length, forged, or garbage). */
  'dropped_unroutable',
  /** Handshake/Retry long header with a DCID neither ours nor in the table. */
  'dropped_unknown_long',
  /** Initial in a datagram < 1200 bytes (RFC 9000 §14.1). */
  'dropped_initial_too_small',
  /** Client Initial/0-RTT DCID shorter than 8 bytes (RFC 9000 §7.2). */
  'dropped_dcid_too_short',
  /** Unknown version in a datagram < 1200 bytes (no VN, RFC 9000 §6.1). */
  'dropped_unknown_version_small',
  'dropped_version_negotiation',
  /** The worker's RX ring was full. */
  'dropped_rx_ring_full',
  /** Larger than an RX slot. */
  'dropped_oversize',
  /** Source address not representable (should not happen with dgram). */
  'dropped_bad_address',
  /** Every worker is draining: no one takes new connections. */
  'dropped_no_worker',
  /** For a worker that exited (its connections are gone; a replacement starts with fresh rings). */
  'dropped_worker_down',
  /** Workers started in place of one that exited. */
  'workers_respawned',
  /**
   * Short header for a worker that exited and has no replacement, handed to a live worker instead:
   * it holds no such CID and answers with a stateless reset (RFC 9000 §10.3; the key is shared).
   */
  'routed_dead_worker',
  /** Client-DCID table: entries now, released by workers, expired, refused because full. */
  'table_entries',
  'table_released',
  'table_expired',
  'table_full',
]);
export type RouterMetric = (typeof ROUTER_SCHEMA.names)[number];

export class MetricsBlock<N extends string> {
  readonly buffer: SharedArrayBuffer;
  readonly schema: MetricsSchema<N>;
  /** Field values at schema.index[name]. Write only from the owning thread. */
  readonly values: Float64Array;

  constructor(schema: MetricsSchema<N>, buffer?: SharedArrayBuffer) {
    const length = FIELDS_AT + schema.names.length;
    if (buffer === undefined) {
      buffer = new SharedArrayBuffer(length * 8);
      const v = new Float64Array(buffer);
      v[0] = MAGIC;
      v[1] = schema.id;
      v[2] = schema.names.length;
    } else {
      if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < length * 8) throw new TypeError('buffer: not a metrics block of this schema');
      const v = new Float64Array(buffer, 0, 3);
      if (v[0] !== MAGIC || v[1] !== schema.id || v[2] !== schema.names.length) throw new TypeError('buffer: not a metrics block of this schema');
    }
    this.buffer = buffer;
    this.schema = schema;
    this.values = new Float64Array(buffer, 0, length);
  }

  add(field: N, n = 1): void {
    this.values[this.schema.index[field]]! += n;
  }

  set(field: N, value: number): void {
    this.values[this.schema.index[field]] = value;
  }

  get(field: N): number {
    return this.values[this.schema.index[field]]!;
  }

  /** Every field as a plain number. */
  snapshot(): Record<N, number> {
    const out = {} as Record<N, number>;
    const v = this.values;
    const idx = this.schema.index;
    for (const n of this.schema.names) out[n] = v[idx[n]]!;
    return out;
  }
}

export interface CollectedMetrics<N extends string> {
  /** Sum over blocks (heartbeat_ms and other gauges are summed too; read perBlock for those). */
  total: Record<N, number>;
  /** One snapshot per block, in the order given (worker index). */
  perBlock: Array<Record<N, number>>;
}

/** Read every block now (scrape time): plain numbers, per block and summed. */
export function collect<N extends string>(blocks: readonly MetricsBlock<N>[]): CollectedMetrics<N> {
  if (blocks.length === 0) throw new RangeError('blocks: expected at least one metrics block');
  const schema = blocks[0]!.schema;
  const total = {} as Record<N, number>;
  for (const n of schema.names) total[n] = 0;
  const perBlock: Array<Record<N, number>> = [];
  for (const b of blocks) {
    if (b.schema.id !== schema.id) throw new TypeError('blocks: mixed schemas');
    const s = b.snapshot();
    perBlock.push(s);
    for (const n of schema.names) total[n] += s[n];
  }
  return { total, perBlock };
}
