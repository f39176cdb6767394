// Test support: HTTP/3 over the real sans-IO QUIC stack — a VirtualNetwork (test/support) with a
// server Endpoint (ALPN h3) and one client connection, an H3Connection on each QUIC connection,
// every connection event handed to its H3Connection and every H3 event to the test's handlers.
import { Endpoint } from '../../../src/endpoint/index.js';
import type { Connection, LocalTransportParams } from '../../../src/connection/index.js';
import { SeededRandom } from '../../../src/crypto/random.js';
import { H3Connection } from '../../../src/h3/connection.js';
import type { H3ConnectionOptions, H3Event } from '../../../src/h3/types.js';
import { testCertificate } from '../../support/cert.js';
import type { LinkConfig } from '../../support/link.js';
import { VirtualNetwork, type NetNode } from '../../support/network.js';

export interface QuicH3Options {
  seed?: number;
  up?: LinkConfig;
  down?: LinkConfig;
  client?: Partial<H3ConnectionOptions>;
  server?: Partial<H3ConnectionOptions>;
  /** QUIC transport parameters of both sides (e.g. maxDatagramFrameSize). */
  transport?: Partial<LocalTransportParams>;
}

export type QuicH3Handler = (ev: H3Event, h3: H3Connection) => void;

export class QuicH3 {
  readonly net: VirtualNetwork<Connection>;
  readonly serverNode: NetNode<Connection>;
  readonly clientNode: NetNode<Connection>;
  readonly conn: Connection;
  readonly client: H3Connection;
  /** The server side's H3Connection (created with the server's QUIC connection). */
  server: H3Connection | null = null;
  serverConn: Connection | null = null;
  readonly clientEvents: H3Event[] = [];
  readonly serverEvents: H3Event[] = [];
  onClient: QuicH3Handler | null = null;
  onServer: QuicH3Handler | null = null;

  constructor(o: QuicH3Options = {}) {
    const seed = o.seed ?? 1;
    const cert = testCertificate();
    this.net = new VirtualNetwork<Connection>({ seed });
    const serverEp = new Endpoint<Connection>({
      rng: new SeededRandom(seed * 1000 + 1),
      server: { alpn: ['h3'], certificate: cert.certPem, privateKey: cert.keyPem, ...(o.transport ? { transport: o.transport } : {}) },
    });
    this.serverNode = this.net.addServer(serverEp);
    const clientEp = new Endpoint<Connection>({ rng: new SeededRandom(seed * 1000 + 2) });
    this.clientNode = this.net.addClient(clientEp, { ...(o.up ? { up: o.up } : {}), ...(o.down ? { down: o.down } : {}) });
    const serverOpts = o.server ?? {};
    this.net.onConnectionEvent((node, conn, ev) => {
      if (node.isServer) {
        if (this.server === null) {
          this.serverConn = conn;
          this.server = new H3Connection(conn, { role: 'server', rng: new SeededRandom(seed * 1000 + 3), ...serverOpts });
        }
        if (conn !== this.serverConn) return;
        this.server.handleTransportEvent(ev);
        this.pump(this.server, this.serverEvents, this.onServer);
      } else {
        this.client.handleTransportEvent(ev);
        this.pump(this.client, this.clientEvents, this.onClient);
      }
    });
    this.conn = this.net.connect(this.clientNode, {
      alpn: ['h3'],
      serverName: 'quiver.test',
      ca: cert.certPem,
      ...(o.transport ? { transport: o.transport } : {}),
    });
    this.client = new H3Connection(this.conn, { role: 'client', rng: new SeededRandom(seed * 1000 + 4), ...o.client });
  }

  private pump(h3: H3Connection, log: H3Event[], handler: QuicH3Handler | null): void {
    for (let ev = h3.pollEvent(); ev; ev = h3.pollEvent()) {
      log.push(ev);
      if (handler) handler(ev, h3);
    }
  }

  /** Drain events produced by API calls made outside handlers. */
  pumpAll(): void {
    this.pump(this.client, this.clientEvents, this.onClient);
    if (this.server) this.pump(this.server, this.serverEvents, this.onServer);
  }

  /** Run the network until `pred` holds (true) or `ms` of virtual time pass (false). */
  runUntil(pred: () => boolean, ms = 20_000): boolean {
    return this.net.runUntil(() => {
      this.pumpAll();
      return pred();
    }, ms);
  }

  /** Handshake done and both SETTINGS exchanged. */
  ready(ms = 10_000): boolean {
    return this.runUntil(() => this.client.peerSettings !== null && this.server !== null && this.server.peerSettings !== null, ms);
  }
}
