// L7: session- and HTTP-level counters of a shard worker, written into its metrics block (DESIGN §3
// "Metrics": one writer per block, plain Float64 stores, read by the main thread at scrape time).
// The same outcomes src/metrics/quiver-metrics.ts records for a single-threaded server — closes by
// kind, handshake failures, handshake durations (a histogram as per-bucket counts), packets and
// streams of ended and live connections, HTTP/3 requests by status class — so the main thread can
// serve them per worker with a `worker` label.
import type { QuicSession } from '../io/session.js';
import type { Http3ServerStats } from '../server/http3-server.js';
import { CLOSE_KINDS, HANDSHAKE_BUCKETS, WORKER_SCHEMA, type CloseKind, type MetricsBlock, type WorkerMetric } from './metrics-block.js';

const I = WORKER_SCHEMA.index;
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const RESPONSE_INDEX = CLASSES.map((c) => I[`http_responses_${c}`]);
const BUCKET_INDEX = [...HANDSHAKE_BUCKETS.map((_, i) => I[`handshake_bucket_${i}`]), I.handshake_bucket_inf];

export class WorkerSessionMetrics {
  private readonly v: Float64Array;
  private readonly live = new Set<QuicSession>();
  private readonly http = new Set<Http3ServerStats>();
  /** Totals of ended connections. */
  private packetsSent = 0;
  private packetsReceived = 0;
  private packetsLost = 0;
  private streamsLocal = 0;
  private streamsRemote = 0;

  constructor(block: MetricsBlock<WorkerMetric>) {
    this.v = block.values;
  }

  /** Count an HTTP/3 server's requests (copied into the block at every sync). */
  watchHttp(stats: Http3ServerStats): void {
    this.http.add(stats);
  }

  /** Record a session's handshake duration and, when it ends, its outcome and totals. */
  watch(s: QuicSession): void {
    this.live.add(s);
    s.once('handshake', () => {
      if (s.handshakeAt < 0) return;
      const d = (s.handshakeAt - s.createdAt) / 1000;
      let b: number = HANDSHAKE_BUCKETS.length;
      for (let i = 0; i < HANDSHAKE_BUCKETS.length; i++) {
        if (d <= HANDSHAKE_BUCKETS[i]!) {
          b = i;
          break;
        }
      }
      this.v[BUCKET_INDEX[b]!]!++;
      this.v[I.handshake_seconds_sum]! += d;
      this.v[I.handshake_count]!++;
    });
    s.once('close', (err?: Error) => {
      this.live.delete(s);
      const st = s.stats;
      this.packetsSent += st.packetsSent;
      this.packetsReceived += st.packetsReceived;
      this.packetsLost += st.packetsLost;
      this.streamsLocal += st.streamsOpenedLocal;
      this.streamsRemote += st.streamsOpenedRemote;
      const raw = s.conn.error?.kind ?? 'local';
      const kind: CloseKind = (CLOSE_KINDS as readonly string[]).includes(raw) ? (raw as CloseKind) : 'local';
      const field: WorkerMetric = err === undefined ? `closed_${kind}` : `closed_${kind}_error`;
      this.v[I[field]]!++;
    });
  }

  /** HTTP counters only: a handful of stores, cheap enough for every loop turn. */
  syncHttp(): void {
    const v = this.v;
    let requests = 0;
    let active = 0;
    const r = [0, 0, 0, 0, 0];
    for (const h of this.http) {
      requests += h.requests;
      active += h.activeRequests;
      for (let i = 0; i < 5; i++) r[i]! += h.responses[CLASSES[i]!] ?? 0;
    }
    v[I.http_requests] = requests;
    v[I.http_requests_active] = active;
    for (let i = 0; i < 5; i++) v[RESPONSE_INDEX[i]!] = r[i]!;
  }

  /** Everything, live connections included (scrape time: walks every live session). */
  sync(): void {
    this.syncHttp();
    let ps = this.packetsSent;
    let pr = this.packetsReceived;
    let pl = this.packetsLost;
    let sl = this.streamsLocal;
    let sr = this.streamsRemote;
    for (const s of this.live) {
      const st = s.stats;
      ps += st.packetsSent;
      pr += st.packetsReceived;
      pl += st.packetsLost;
      sl += st.streamsOpenedLocal;
      sr += st.streamsOpenedRemote;
    }
    const v = this.v;
    v[I.packets_sent] = ps;
    v[I.packets_received] = pr;
    v[I.packets_lost] = pl;
    v[I.streams_opened_local] = sl;
    v[I.streams_opened_remote] = sr;
  }
}
