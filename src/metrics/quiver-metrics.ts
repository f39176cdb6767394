// L7: Prometheus metrics (DESIGN §3). The protocol core keeps plain `stats` objects and never
// imports prom-client; this registry reads them at scrape time (collect()) — the endpoint's
// counters (datagrams, bytes, drops by reason, Retry/VN/reset), the driver's send errors, live
// connections' statistics — and records per-connection outcomes as sessions end (closes by reason,
// handshake durations, RTT, loss). Names are what dashboards/*.json query; a test keeps them in sync.
import client from 'prom-client';
import type { QuicServer } from '../io/quic.js';
import type { QuicSession } from '../io/session.js';
import type { Http3Server } from '../server/http3-server.js';
import { DROP_REASONS } from '../endpoint/index.js';

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
    const counterFrom = (name: string, help: string, read: () => number): void => {
      new client.Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };

    new client.Gauge({
      name: `${p}connections_active`,
      help: 'QUIC connections currently open (handshaking, established or closing)',
      registers,
      collect() {
        this.set(endpointStat((s) => s.endpoint.connectionsActive));
      },
    });
    counterFrom(`${p}connections_accepted_total`, 'Server connections created from client Initials', () => endpointStat((s) => s.endpoint.connectionsAccepted));
    this.closed = new client.Counter({
      name: `${p}connections_closed_total`,
      help: 'Connections that ended, by reason (transport, application, idle, reset, version, local; _error suffix when not clean)',
      labelNames: ['reason'],
      registers,
    });
    this.handshakeFailures = new client.Counter({ name: `${p}handshake_failures_total`, help: 'Connections that ended before the handshake completed', registers });
    this.handshake = new client.Histogram({
      name: `${p}handshake_duration_seconds`,
      help: 'Time from the first packet to handshake completion (server side)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.rtt = new client.Summary({
      name: `${p}rtt_seconds`,
      help: 'Smoothed RTT of connections (RFC 9002 §5.3), observed when each connection ends',
      percentiles: [0.5, 0.9, 0.99],
      maxAgeSeconds: 600,
      ageBuckets: 5,
      registers,
    });
    counterFrom(`${p}datagrams_received_total`, 'UDP datagrams received', () => endpointStat((s) => s.endpoint.datagramsReceived));
    counterFrom(`${p}bytes_received_total`, 'UDP payload bytes received', () => endpointStat((s) => s.endpoint.bytesReceived));
    counterFrom(`${p}datagrams_sent_total`, 'UDP datagrams sent', () => endpointStat((s) => s.io.datagramsSent));
    counterFrom(`${p}bytes_sent_total`, 'UDP payload bytes sent', () => endpointStat((s) => s.io.bytesSent));
    counterFrom(`${p}send_errors_total`, 'UDP sends the kernel refused (ENOBUFS, EHOSTUNREACH, …)', () => endpointStat((s) => s.io.sendErrors));
    new client.Counter({
      name: `${p}datagrams_dropped_total`,
      help: 'Received datagrams the endpoint dropped before any connection, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const r of DROP_REASONS) this.labels(r).inc(endpointStat((s) => s.endpoint.dropped[r]));
      },
    });
    counterFrom(`${p}retry_sent_total`, 'Retry packets sent (RFC 9000 §8.1.2)', () => endpointStat((s) => s.endpoint.retrySent));
    counterFrom(`${p}version_negotiation_sent_total`, 'Version Negotiation packets sent (RFC 9000 §6)', () => endpointStat((s) => s.endpoint.versionNegotiationSent));
    counterFrom(`${p}stateless_reset_sent_total`, 'Stateless resets sent (RFC 9000 §10.3)', () => endpointStat((s) => s.endpoint.statelessResetSent));
    const sumLive = (pick: (t: Totals) => number): number => {
      let n = pick(self.closedTotals);
      for (const s of self.live) n += pick(totalsOf(s));
      return n;
    };
    counterFrom(`${p}packets_sent_total`, 'QUIC packets sent by all connections', () => sumLive((t) => t.packetsSent));
    counterFrom(`${p}packets_received_total`, 'QUIC packets received by all connections', () => sumLive((t) => t.packetsReceived));
    counterFrom(`${p}packets_lost_total`, 'QUIC packets declared lost (RFC 9002 §6.1)', () => sumLive((t) => t.packetsLost));
    new client.Counter({
      name: `${p}streams_opened_total`,
      help: 'QUIC streams opened, by initiator',
      labelNames: ['initiator'],
      registers,
      collect() {
        this.reset();
        this.labels('local').inc(sumLive((t) => t.streamsLocal));
        this.labels('remote').inc(sumLive((t) => t.streamsRemote));
      },
    });
    new client.Counter({
      name: `${p}http_requests_total`,
      help: 'HTTP/3 requests answered, by status class',
      labelNames: ['status_class'],
      registers,
      collect() {
        this.reset();
        for (const cls of ['1xx', '2xx', '3xx', '4xx', '5xx']) {
          let n = 0;
          for (const h of self.httpServers) n += h.stats.responses[cls] ?? 0;
          this.labels(cls).inc(n);
        }
      },
    });
    new client.Gauge({
      name: `${p}http_requests_active`,
      help: 'HTTP/3 requests in progress',
      registers,
      collect() {
        let n = 0;
        for (const h of self.httpServers) n += h.stats.activeRequests;
        this.set(n);
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
      this.closed.labels(err === undefined ? kind : `${kind}_error`).inc();
      if (s.handshake === null) this.handshakeFailures.inc();
      else {
        const rtt = s.stats.rtt.smoothed;
        if (rtt > 0 && Number.isFinite(rtt)) this.rtt.observe(rtt / 1000);
      }
    });
  }

  /** Prometheus text exposition. */
  metrics(): Promise<string> {
    return this.registry.metrics();
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
