// Test support: a ready-made scenario world — a VirtualNetwork with a server Endpoint (test
// certificate, ALPN 'quiver-test') and N client nodes, each with one client connection, plus the
// transfer application wired to connection events. Scenario tests (test/scenarios/**) and later
// connection/H3 tests build on this.
import { Endpoint, type ClientConnectionOptions, type EndpointOptions, type ServerConnectionOptions } from '../../src/endpoint/index.js';
import type { Connection, ConnectionError } from '../../src/connection/index.js';
import { SeededRandom } from '../../src/crypto/random.js';
import type { SelfSigned } from '../../src/pki/self-signed.js';
import { testCertificate } from './cert.js';
import type { LinkConfig } from './link.js';
import { VirtualNetwork, type NetNode } from './network.js';
import { TransferClient, TransferServer, type TransferRequest } from './transfer.js';

export const TEST_ALPN = 'quiver-test';

export interface WorldOptions {
  seed: number;
  /** Number of client nodes, each with one connection (default 1). */
  clients?: number;
  /** Link impairments of every client (each client's links get their own seeds). */
  up?: LinkConfig;
  down?: LinkConfig;
  /** Extra server connection options (transport parameters, …). */
  server?: Partial<ServerConnectionOptions>;
  /** Extra server endpoint options (retry policy, versions, …). */
  endpoint?: Partial<EndpointOptions<Connection>>;
  /** Extra client endpoint options. */
  clientEndpoint?: Partial<EndpointOptions<Connection>>;
  /** Extra client connection options. */
  client?: Partial<ClientConnectionOptions>;
  certificate?: SelfSigned;
  /** Connect at construction (default true). */
  connect?: boolean;
  /** ALPN of both sides (default 'quiver-test'). */
  alpn?: string;
  /** Wire the transfer app to connection events (default true); H3 tests bring their own handlers. */
  transferApp?: boolean;
}

export class World {
  readonly net: VirtualNetwork<Connection>;
  readonly server: NetNode<Connection>;
  readonly clients: NetNode<Connection>[] = [];
  readonly conns: Connection[] = [];
  readonly app = new TransferServer();
  readonly transfers = new Map<Connection, TransferClient>();
  readonly options: WorldOptions;
  readonly certificate: SelfSigned;

  constructor(o: WorldOptions) {
    this.options = o;
    const cert = o.certificate ?? testCertificate();
    this.certificate = cert;
    this.net = new VirtualNetwork<Connection>({ seed: o.seed });
    const serverEp = new Endpoint<Connection>({
      rng: new SeededRandom(o.seed * 1000 + 1),
      server: { alpn: [o.alpn ?? TEST_ALPN], certificate: cert.certPem, privateKey: cert.keyPem, ...o.server },
      ...o.endpoint,
    });
    this.server = this.net.addServer(serverEp);
    const n = o.clients ?? 1;
    for (let i = 0; i < n; i++) {
      const ep = new Endpoint<Connection>({ rng: new SeededRandom(o.seed * 1000 + 2 + i), ...o.clientEndpoint });
      const cfg: { up?: LinkConfig; down?: LinkConfig } = {};
      if (o.up) cfg.up = o.up;
      if (o.down) cfg.down = o.down;
      this.clients.push(this.net.addClient(ep, cfg));
    }
    if (o.transferApp ?? true) {
      this.net.onConnectionEvent((node, conn, ev) => {
        if (node.isServer) this.app.onEvent(conn, ev);
        else this.transfers.get(conn)?.onEvent(ev);
      });
    }
    if (o.connect ?? true) for (const c of this.clients) this.connect(c);
  }

  connect(node: NetNode<Connection>, extra: Partial<ClientConnectionOptions> = {}): Connection {
    const conn = this.net.connect(node, {
      alpn: [this.options.alpn ?? TEST_ALPN],
      serverName: 'quiver.test',
      ca: this.certificate.certPem,
      ...this.options.client,
      ...extra,
    });
    this.conns.push(conn);
    return conn;
  }

  get conn(): Connection {
    return this.conns[0]!;
  }

  /** Server connections, in accept order. */
  get serverConns(): Connection[] {
    return [...this.server.endpoint.connections()];
  }

  /** Run until every client connection completed its handshake (true) or `maxMs` passes. */
  handshake(maxMs = 10_000): boolean {
    return this.net.runUntil(() => this.conns.every((c) => c.handshakeComplete && c.handshakeConfirmed), maxMs);
  }

  /** Start the transfer app on `conn` (default: every client connection). */
  transfer(requests: TransferRequest[], concurrency = Infinity, conns: Connection[] = this.conns): TransferClient[] {
    const out: TransferClient[] = [];
    for (const c of conns) {
      const t = new TransferClient(c, requests, concurrency);
      this.transfers.set(c, t);
      t.kick();
      out.push(t);
    }
    return out;
  }

  /** Run until every started transfer is done (or failed), or `maxMs` passes. */
  runTransfers(maxMs: number): boolean {
    return this.net.runUntil(() => {
      for (const t of this.transfers.values()) {
        if (t.errors.length > 0) return true;
        if (!t.done) {
          const s = t.conn.state;
          if (s === 'closed' || s === 'draining' || s === 'closing') return true;
          return false;
        }
      }
      return true;
    }, maxMs);
  }

  /** Everything that went wrong in the apps, for assertion messages. */
  errors(): string[] {
    const out = [...this.app.errors];
    for (const t of this.transfers.values()) out.push(...t.errors);
    for (const c of this.conns) if (c.error !== null) out.push(`client closed: ${describe(c.error)}`);
    return out;
  }

  /** A one-line summary for failure messages and notes. */
  summary(): string {
    const c = this.conns[0];
    const parts = [`seed=${this.options.seed}`, `t=${this.net.elapsed}ms`, `steps=${this.net.steps}`];
    if (c) {
      const s = c.stats;
      parts.push(`client=${c.state}`, `sent=${s.packetsSent}`, `lost=${s.packetsLost}`, `pto=${s.ptoCount}`, `rtt=${s.rtt.smoothed.toFixed(1)}`);
      const tr = this.transfers.get(c);
      if (tr) parts.push(`done=${tr.completed}/${tr.requests.length}`, `down=${tr.bytesDownloaded}`);
    }
    parts.push(`up=${this.app.bytesUploaded}`);
    const sc = this.serverConns[0];
    if (sc) parts.push(`server=${sc.state}`);
    return parts.join(' ');
  }
}

export function describe(e: ConnectionError): string {
  return `${e.kind} 0x${e.code.toString(16)} ${e.remote ? 'remote' : 'local'} ${e.reason}`;
}

/** Seeds for a scenario: `defaults`, or QUIVER_SCENARIO_SEEDS (a count N → seeds 1..N, or a list "3,7,11"). */
export function scenarioSeeds(defaults: number[]): number[] {
  const env = process.env['QUIVER_SCENARIO_SEEDS'];
  if (env === undefined || env === '') return defaults;
  if (/^\d+$/.test(env)) return Array.from({ length: Number(env) }, (_, i) => i + 1);
  return env.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n));
}
