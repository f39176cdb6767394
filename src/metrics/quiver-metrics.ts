// L7: Prometheus metrics (DESIGN §3). The protocol core keeps plain `stats` objects and never
// imports prom-client; this registry reads them at scrape time (collect()) — the endpoint's
// counters (datagrams, bytes, drops by reason, Retry/VN/reset), the driver's send errors, live
// connections' statistics — and records per-connection outcomes as sessions end (closes by reason,
// handshake durations, RTT, loss). Names are what dashboards/*.json query; a test keeps them in sync.
//
// A multi-core server (src/multicore, watchMulticore) is read from its SharedArrayBuffer metrics
// blocks at scrape time: the same quiver_* families with one series per worker (`worker` label;
// sum() over them gives the server), plus quiver_router_* (the main thread's routing and drops)
// and quiver_worker_* (loop health). Before a scrape the workers are asked to bring their blocks up
// to date (live connections' totals); the whole scrape then reads one consistent snapshot.
// A worker that exits is replaced with a fresh block: every counter fed from worker blocks exports
// the dead blocks' final values (the source's `retired` bases) plus the current block, so it stays
// monotonic and loses no counts; the dead thread's open connections count as closed with reason
// "worker_exit" (src/metrics/worker-totals.ts). Gauges are current values only.
import client from 'prom-client';
import type { QuicServer } from '../io/quic.js';
import type { QuicSession } from '../io/session.js';
import type { Http3Server } from '../server/http3-server.js';
import { DROP_REASONS } from '../endpoint/index.js';
import { monotonicNow } from '../io/clock.js';
import { CLOSE_KINDS, HANDSHAKE_BUCKETS, type WorkerMetric } from '../multicore/metrics-block.js';
import type { MulticoreMetrics } from '../multicore/server.js';
import { WORKER_EXIT_REASON, workerTotals, type WorkerTotals, type WorkerValues } from './worker-totals.js';

/** What watchMulticore() reads: MulticoreServer satisfies it. */
export interface MulticoreSource {
  metrics(): MulticoreMetrics;
  /** Ask the workers to update their blocks (bounded wait). */
  refreshMetrics?(timeoutMs?: number): Promise<void>;
}

/** Router drop reasons served as quiver_router_dropped_total{reason}. */
const ROUTER_DROPS = [
  'empty',
  'bad_header',
  'unroutable',
  'unknown_long',
  'initial_too_small',
  'dcid_too_short',
  'unknown_version_small',
  'version_negotiation',
  'rx_ring_full',
  'oversize',
  'bad_address',
  'no_worker',
  'worker_down',
] as const;
const ROUTED_KINDS = ['short', 'long_cid', 'table', 'new', 'stateless'] as const;

interface HistogramInternals {
  hashMap: Record<string, { labels: Record<string, string>; bucketValues: Record<number, number>; sum: number; count: number }>;
  zero(labels: Record<string, string>): void;
}

export const METRIC_PREFIX = 'quiver_';

interface Totals {
  packetsLost: number;
  packetsSent: number;
  packetsReceived: number;
  streamsLocal: number;
  streamsRemote: number;
}

function zero(): Totals {
  return { packetsLost: 0, packetsSent: 0, packetsReceived: 0, streamsLocal: 0, streamsRemote: 0 };
}

export interface QuiverMetricsOptions {
  /** Registry to use (default a new one). */
  registry?: client.Registry;
  /** Also collect Node process metrics (nodejs_*, process_*). Default true. */
  processMetrics?: boolean;
}

export class QuiverMetrics {
  readonly registry: client.Registry;
  private readonly servers = new Set<QuicServer>();
  private readonly httpServers = new Set<Http3Server>();
  private readonly live = new Set<QuicSession>();
  private readonly closedTotals: Totals = zero();
  private readonly handshake: client.Histogram<string>;
  private readonly rtt: client.Summary<string>;
  private readonly closed: client.Counter<'reason'>;
  private readonly handshakeFailures: client.Counter<string>;
  private multicore: MulticoreSource | undefined;
  /** The multicore snapshot of the scrape in progress. */
  private snap: MulticoreMetrics | undefined;
  /** Last value exported per counter series fed from absolute worker totals (inc by the difference). */
  private readonly exported = new Map<string, number>();
  /** Per snapshot: every worker's exported values (base + current), computed once. */
  private readonly combined = new WeakMap<MulticoreMetrics, WorkerTotals[]>();

  constructor(options: QuiverMetricsOptions = {}) {
    this.registry = options.registry ?? new client.Registry();
    const registers = [this.registry];
    const self = this;
    const p = METRIC_PREFIX;
    const endpointStat = (pick: (s: QuicServer['stats']) => number) => {
      let n = 0;
      for (const s of self.servers) n += pick(s.stats);
      return n;
    };
    /** Single-threaded servers' unlabelled sample (absent when only a multi-core server is watched). */
    const plain = (): boolean => self.servers.size > 0 || self.multicore === undefined;
    /**
     * Every worker's values (multi-core), with its `worker` label value: counters are the retired
     * blocks' base + the current block (monotonic across respawns), gauges the current block.
     */
    const workers = (f: (w: WorkerValues, worker: string, lost: number) => void): void => {
      const all = self.workerTotals();
      if (all === undefined) return;
      all.forEach((t, i) => f(t.values, String(i), t.lostConnections));
    };
    const counterFrom = (name: string, help: string, read: () => number, field?: WorkerMetric): void => {
      new client.Counter({
        name,
        help,
        labelNames: ['worker'],
        registers,
        collect() {
          this.reset();
          if (plain()) this.inc(read());
          if (field !== undefined) workers((w, worker) => this.labels({ worker }).inc(w[field]));
        },
      });
    };

    new client.Gauge({
      name: `${p}connections_active`,
      help: 'QUIC connections currently open (handshaking, established or closing)',
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        if (plain()) this.set(endpointStat((s) => s.endpoint.connectionsActive));
        workers((w, worker) => this.labels({ worker }).set(w.connections_active));
      },
    });
    counterFrom(`${p}connections_accepted_total`, 'Server connections created from client Initials', () => endpointStat((s) => s.endpoint.connectionsAccepted), 'connections_accepted');
    this.closed = new client.Counter({
      name: `${p}connections_closed_total`,
      help: `Connections that ended, by reason (transport, application, idle, reset, version, local; _error suffix when not clean; ${WORKER_EXIT_REASON}: open in a worker thread that exited)`,
      labelNames: ['reason', 'worker'],
      registers,
      collect() {
        workers((w, worker, lost) => {
          for (const k of CLOSE_KINDS) {
            self.incTo(this, { reason: k, worker }, w[`closed_${k}`]);
            self.incTo(this, { reason: `${k}_error`, worker }, w[`closed_${k}_error`]);
          }
          self.incTo(this, { reason: WORKER_EXIT_REASON, worker }, lost);
        });
      },
    });
    this.handshakeFailures = new client.Counter({
      name: `${p}handshake_failures_total`,
      help: 'Connections that ended before the handshake completed',
      labelNames: ['worker'],
      registers,
      collect() {
        workers((w, worker) => self.incTo(this, { worker }, w.handshakes_failed));
      },
    });
    this.handshake = new client.Histogram({
      name: `${p}handshake_duration_seconds`,
      help: 'Time from the first packet to handshake completion (server side)',
      buckets: [...HANDSHAKE_BUCKETS],
      labelNames: ['worker'],
      registers,
      collect() {
        // Workers count per bucket in their blocks; the series is set from those counts (prom-client
        // has no public setter for a histogram's buckets, so its per-series record is filled in).
        const h = this as unknown as HistogramInternals;
        workers((w, worker) => {
          const labels = { worker };
          h.zero(labels);
          const entry = Object.values(h.hashMap).find((e) => e.labels['worker'] === worker);
          if (entry === undefined) return;
          HANDSHAKE_BUCKETS.forEach((b, i) => (entry.bucketValues[b] = w[`handshake_bucket_${i}`]));
          entry.sum = w.handshake_seconds_sum;
          entry.count = w.handshake_count;
        });
      },
    });
    this.rtt = new client.Summary({
      name: `${p}rtt_seconds`,
      help: 'Smoothed RTT of connections (RFC 9002 §5.3), observed when each connection ends',
      percentiles: [0.5, 0.9, 0.99],
      maxAgeSeconds: 600,
      ageBuckets: 5,
      registers,
    });
    counterFrom(`${p}datagrams_received_total`, 'UDP datagrams received', () => endpointStat((s) => s.endpoint.datagramsReceived), 'datagrams_received');
    counterFrom(`${p}bytes_received_total`, 'UDP payload bytes received', () => endpointStat((s) => s.endpoint.bytesReceived), 'bytes_received');
    counterFrom(`${p}datagrams_sent_total`, 'UDP datagrams sent', () => endpointStat((s) => s.io.datagramsSent), 'datagrams_sent');
    counterFrom(`${p}bytes_sent_total`, 'UDP payload bytes sent', () => endpointStat((s) => s.io.bytesSent), 'bytes_sent');
    new client.Counter({
      name: `${p}send_errors_total`,
      help: 'UDP sends the kernel refused (ENOBUFS, EHOSTUNREACH, …)',
      registers,
      collect() {
        this.reset();
        // Multi-core: the main thread owns the socket, so its router counts these.
        this.inc(endpointStat((s) => s.io.sendErrors) + (self.current()?.router.send_errors ?? 0));
      },
    });
    new client.Counter({
      name: `${p}datagrams_dropped_total`,
      help: 'Received datagrams the endpoint dropped before any connection, by reason',
      labelNames: ['reason', 'worker'],
      registers,
      collect() {
        this.reset();
        if (plain()) for (const r of DROP_REASONS) this.labels({ reason: r }).inc(endpointStat((s) => s.endpoint.dropped[r]));
        workers((w, worker) => {
          for (const r of DROP_REASONS) this.labels({ reason: r, worker }).inc(w[`dropped_${r}`]);
        });
      },
    });
    counterFrom(`${p}retry_sent_total`, 'Retry packets sent (RFC 9000 §8.1.2)', () => endpointStat((s) => s.endpoint.retrySent), 'retry_sent');
    counterFrom(`${p}version_negotiation_sent_total`, 'Version Negotiation packets sent (RFC 9000 §6)', () => endpointStat((s) => s.endpoint.versionNegotiationSent), 'version_negotiation_sent');
    counterFrom(`${p}stateless_reset_sent_total`, 'Stateless resets sent (RFC 9000 §10.3)', () => endpointStat((s) => s.endpoint.statelessResetSent), 'stateless_reset_sent');
    const sumLive = (pick: (t: Totals) => number): number => {
      let n = pick(self.closedTotals);
      for (const s of self.live) n += pick(totalsOf(s));
      return n;
    };
    counterFrom(`${p}packets_sent_total`, 'QUIC packets sent by all connections', () => sumLive((t) => t.packetsSent), 'packets_sent');
    counterFrom(`${p}packets_received_total`, 'QUIC packets received by all connections', () => sumLive((t) => t.packetsReceived), 'packets_received');
    counterFrom(`${p}packets_lost_total`, 'QUIC packets declared lost (RFC 9002 §6.1)', () => sumLive((t) => t.packetsLost), 'packets_lost');
    new client.Counter({
      name: `${p}streams_opened_total`,
      help: 'QUIC streams opened, by initiator',
      labelNames: ['initiator', 'worker'],
      registers,
      collect() {
        this.reset();
        if (plain()) {
          this.labels({ initiator: 'local' }).inc(sumLive((t) => t.streamsLocal));
          this.labels({ initiator: 'remote' }).inc(sumLive((t) => t.streamsRemote));
        }
        workers((w, worker) => {
          this.labels({ initiator: 'local', worker }).inc(w.streams_opened_local);
          this.labels({ initiator: 'remote', worker }).inc(w.streams_opened_remote);
        });
      },
    });
    const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
    new client.Counter({
      name: `${p}http_requests_total`,
      help: 'HTTP/3 requests answered, by status class',
      labelNames: ['status_class', 'worker'],
      registers,
      collect() {
        this.reset();
        if (plain()) {
          for (const cls of CLASSES) {
            let n = 0;
            for (const h of self.httpServers) n += h.stats.responses[cls] ?? 0;
            this.labels({ status_class: cls }).inc(n);
          }
        }
        workers((w, worker) => {
          for (const cls of CLASSES) this.labels({ status_class: cls, worker }).inc(w[`http_responses_${cls}`]);
        });
      },
    });
    new client.Gauge({
      name: `${p}http_requests_active`,
      help: 'HTTP/3 requests in progress',
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        if (plain()) {
          let n = 0;
          for (const h of self.httpServers) n += h.stats.activeRequests;
          this.set(n);
        }
        workers((w, worker) => this.labels({ worker }).set(w.http_requests_active));
      },
    });
    if (options.processMetrics ?? true) client.collectDefaultMetrics({ register: this.registry });
  }

  /** Count a QUIC server's connections and traffic. */
  watchServer(server: QuicServer): void {
    if (this.servers.has(server)) return;
    this.servers.add(server);
    server.on('connection', (s: QuicSession) => this.watchSession(s));
  }

  /** Count an HTTP/3 server's requests (and its QUIC server). */
  watchHttp(server: Http3Server): void {
    this.httpServers.add(server);
    if (server.quic !== undefined) this.watchServer(server.quic);
    else server.once('listening', () => this.watchServer(server.quic!));
  }

  private watchSession(s: QuicSession): void {
    this.live.add(s);
    s.once('handshake', () => {
      if (s.handshakeAt >= 0) this.handshake.observe((s.handshakeAt - s.createdAt) / 1000);
    });
    s.once('close', (err?: Error) => {
      this.live.delete(s);
      const t = totalsOf(s);
      const c = this.closedTotals;
      c.packetsLost += t.packetsLost;
      c.packetsSent += t.packetsSent;
      c.packetsReceived += t.packetsReceived;
      c.streamsLocal += t.streamsLocal;
      c.streamsRemote += t.streamsRemote;
      const kind = s.conn.error?.kind ?? 'local';
      this.closed.labels({ reason: err === undefined ? kind : `${kind}_error` }).inc();
      if (s.handshake === null) this.handshakeFailures.inc();
      else {
        const rtt = s.stats.rtt.smoothed;
        if (rtt > 0 && Number.isFinite(rtt)) this.rtt.observe(rtt / 1000);
      }
    });
  }

  /**
   * Serve a multi-core server's counters (src/multicore MulticoreServer): per-worker series of the
   * quiver_* families and the quiver_router_* / quiver_worker_* families.
   */
  watchMulticore(source: MulticoreSource): void {
    if (this.multicore !== undefined) {
      if (this.multicore === source) return;
      throw new Error('watchMulticore: this registry already reads a multi-core server');
    }
    this.multicore = source;
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    const self = this;
    const router = (f: (r: MulticoreMetrics['router']) => void): void => {
      const m = self.current();
      if (m !== undefined) f(m.router);
    };
    const perWorker = (name: string, help: string, field: WorkerMetric): void => {
      new client.Counter({
        name,
        help,
        labelNames: ['worker'],
        registers,
        collect() {
          this.reset();
          self.workerTotals()?.forEach((t, i) => this.labels({ worker: String(i) }).inc(t.values[field]));
        },
      });
    };
    new client.Counter({
      name: `${p}router_routed_total`,
      help: 'Datagrams the main thread routed to a worker, by how (short: CID index; long_cid: our CID in a long header; table: client DCID table; new: new connection assigned; stateless: hash without an entry)',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        router((r) => {
          for (const k of ROUTED_KINDS) this.labels({ kind: k }).inc(r[`routed_${k}`]);
        });
      },
    });
    new client.Counter({
      name: `${p}router_dropped_total`,
      help: 'Datagrams the main thread dropped before any worker, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        router((r) => {
          for (const k of ROUTER_DROPS) this.labels({ reason: k }).inc(r[`dropped_${k}`]);
        });
      },
    });
    new client.Gauge({
      name: `${p}router_table_entries`,
      help: 'Client-chosen DCIDs the router maps to workers (connections still in their handshake)',
      registers,
      collect() {
        router((r) => this.set(r.table_entries));
      },
    });
    new client.Gauge({
      name: `${p}worker_up`,
      help: 'Worker thread running (1) or exited (0)',
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        self.current()?.alive.forEach((a, i) => this.labels({ worker: String(i) }).set(a ? 1 : 0));
      },
    });
    new client.Gauge({
      name: `${p}worker_heartbeat_age_seconds`,
      help: "Time since the worker's last loop turn (it sleeps when idle: a large value alone is not a fault)",
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        const now = monotonicNow();
        self.current()?.workers.perBlock.forEach((w, i) => this.labels({ worker: String(i) }).set(w.heartbeat_ms > 0 ? Math.max(0, now - w.heartbeat_ms) / 1000 : 0));
      },
    });
    new client.Counter({
      name: `${p}worker_respawns_total`,
      help: 'Workers started in place of one that exited',
      registers,
      collect() {
        this.reset();
        router((r) => this.inc(r.workers_respawned));
      },
    });
    perWorker(`${p}worker_rx_batches_total`, 'RX ring batches a worker drained (datagrams_received / rx_batches = batch size)', 'rx_batches');
    perWorker(`${p}worker_tx_ring_full_total`, 'Times a worker found its TX ring full and deferred sending (nothing is lost)', 'tx_ring_full');
    perWorker(`${p}worker_wakeups_total`, 'Times a worker woke from sleeping on its RX ring', 'wakeups');
    perWorker(`${p}worker_core_errors_total`, 'Exceptions from the protocol core caught by a worker (bugs; the datagram or event is dropped)', 'core_errors');
  }

  /** The multi-core snapshot for this scrape (taken once per metrics() call). */
  private current(): MulticoreMetrics | undefined {
    if (this.multicore === undefined) return undefined;
    return this.snap ?? this.multicore.metrics();
  }

  /**
   * Every worker's exported values in this scrape's snapshot: base (its retired blocks, from the
   * source's `retired`) + current for counters, current for gauges.
   */
  private workerTotals(): WorkerTotals[] | undefined {
    const m = this.current();
    if (m === undefined) return undefined;
    let all = this.combined.get(m);
    if (all === undefined) {
      all = m.workers.perBlock.map((w, i) => workerTotals(w, m.retired?.[i], m.alive[i] ?? true));
      this.combined.set(m, all);
    }
    return all;
  }

  /**
   * Feed a counter series from an absolute total. Worker totals are base + current, so they never
   * go down; a smaller one (only a stale read could give it) is ignored rather than exported as a
   * counter reset.
   */
  private incTo(counter: client.Counter<string>, labels: Record<string, string>, total: number): void {
    const key = `${(counter as unknown as { name: string }).name}${JSON.stringify(labels)}`;
    const last = this.exported.get(key) ?? 0;
    if (total > last) {
      counter.labels(labels).inc(total - last);
      this.exported.set(key, total);
    } else if (!this.exported.has(key)) {
      counter.labels(labels).inc(0);
      this.exported.set(key, 0);
    }
  }

  /** Prometheus text exposition. */
  async metrics(): Promise<string> {
    const mc = this.multicore;
    if (mc === undefined) return this.registry.metrics();
    await mc.refreshMetrics?.();
    this.snap = mc.metrics();
    try {
      return await this.registry.metrics();
    } finally {
      this.snap = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function totalsOf(s: QuicSession): Totals {
  const st = s.stats;
  return {
    packetsLost: st.packetsLost,
    packetsSent: st.packetsSent,
    packetsReceived: st.packetsReceived,
    streamsLocal: st.streamsOpenedLocal,
    streamsRemote: st.streamsOpenedRemote,
  };
}
