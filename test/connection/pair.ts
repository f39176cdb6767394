// Test helper (not a test file): a client and a server Connection joined by an in-memory,
// seeded, lossy link with a virtual clock. Deterministic for a given seed.
import {
  Connection,
  createServerConnection,
  type ConnectionEvent,
  type ConnectionOptions,
  type PathInfo,
} from '../../src/connection/index.js';
import { connectionInternals, parseInitial } from '../../src/connection/connection.js';
import { buildRetryPacket } from '../../src/crypto/retry.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { testCertificate, VIRTUAL_EPOCH } from '../support/cert.js';

export { VIRTUAL_EPOCH };

export const CLIENT_ADDR: PathInfo = { remoteAddress: '10.0.0.1', remotePort: 40000 };
export const SERVER_ADDR: PathInfo = { remoteAddress: '10.0.0.2', remotePort: 443 };
/** What server datagrams arrive "from" (never modified by the connection). */
const SERVER_FROM: PathInfo = Object.freeze({ ...SERVER_ADDR });

export interface PairOptions {
  seed?: number;
  /** One-way delay in ms (default 10). */
  delay?: number;
  /** Loss probability per datagram, both directions (default 0). */
  loss?: number;
  /** Loss probability client → server / server → client (override `loss`). */
  lossUp?: number;
  lossDown?: number;
  client?: Partial<ConnectionOptions>;
  server?: Partial<ConnectionOptions>;
  /** Inspect / drop / replace datagrams: return null to drop. */
  filter?: (dir: 'up' | 'down', data: Uint8Array, index: number, now: number) => Uint8Array | null;
  /** Honour pacing release times (default true). */
  pacing?: boolean;
  /** Extra random delay in ms (reordering). */
  jitter?: number;
  /** Answer the client's first Initial with a Retry (as an endpoint would), then accept its retried Initial. */
  retry?: boolean;
  /** Virtual time at the start (default VIRTUAL_EPOCH). */
  start?: number;
}

interface InFlight {
  at: number;
  seq: number;
  dir: 'up' | 'down';
  data: Uint8Array;
  from: PathInfo;
  /** The pooled buffer `data` lives in, returned to the pool after delivery. */
  pooled: Uint8Array | null;
}

/** Datagram buffers reused by the link (the connection never keeps a received datagram). */
const POOL_SIZE = 1500;

function before(a: InFlight, b: InFlight): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export function baseClientOptions(rng: SeededRandom): ConnectionOptions {
  const cert = testCertificate();
  return {
    role: 'client',
    alpn: ['test'],
    serverName: 'localhost',
    ca: [cert.certDer],
    rng,
    remote: SERVER_ADDR,
  };
}

export function baseServerOptions(rng: SeededRandom): Omit<ConnectionOptions, 'role' | 'version' | 'initialDcid'> {
  const cert = testCertificate();
  return {
    alpn: ['test'],
    certificate: cert.certPem,
    privateKey: cert.keyPem,
    rng,
  };
}

export class Pair {
  now = VIRTUAL_EPOCH;
  readonly client: Connection;
  server: Connection | null = null;
  readonly clientEvents: ConnectionEvent[] = [];
  readonly serverEvents: ConnectionEvent[] = [];
  readonly rng: SeededRandom;
  private readonly linkRng: SeededRandom;
  private readonly net: InFlight[] = [];
  private readonly pool: Uint8Array[] = [];
  private seq = 0;
  readonly o: Required<Pick<PairOptions, 'delay' | 'jitter' | 'pacing'>> & PairOptions;
  private readonly serverOptions: Omit<ConnectionOptions, 'role' | 'version' | 'initialDcid'>;
  readonly buf = new Uint8Array(1500);
  /** Datagram counters per direction. */
  sentUp = 0;
  sentDown = 0;
  bytesUp = 0;
  bytesDown = 0;
  droppedUp = 0;
  droppedDown = 0;
  /** Address the client appears at (changes on rebind). */
  clientAddr: PathInfo = { ...CLIENT_ADDR };
  private clientAddrSnapshot: PathInfo = { ...CLIENT_ADDR };

  /** A stable copy of clientAddr (a new one only after the test changed it). */
  private clientAddrCopy(): PathInfo {
    const a = this.clientAddr;
    const c = this.clientAddrSnapshot;
    if (a.remoteAddress !== c.remoteAddress || a.remotePort !== c.remotePort || a.localAddress !== c.localAddress || a.localPort !== c.localPort) {
      this.clientAddrSnapshot = { ...a };
    }
    return this.clientAddrSnapshot;
  }
  /** Hook run for each connection event (after it is logged). */
  onEvent: ((side: 'client' | 'server', conn: Connection, e: ConnectionEvent) => void) | null = null;

  constructor(opts: PairOptions = {}) {
    this.o = { delay: 10, jitter: 0, pacing: true, ...opts };
    if (opts.start !== undefined) this.now = opts.start;
    const seed = opts.seed ?? 1;
    this.rng = new SeededRandom(seed);
    this.linkRng = new SeededRandom(seed ^ 0x5eed);
    this.client = new Connection({ ...baseClientOptions(this.rng), ...opts.client } as ConnectionOptions, this.now);
    this.serverOptions = { ...baseServerOptions(this.rng), ...opts.server } as Omit<ConnectionOptions, 'role' | 'version' | 'initialDcid'>;
  }

  private lossFor(dir: 'up' | 'down'): number {
    if (dir === 'up') return this.o.lossUp ?? this.o.loss ?? 0;
    return this.o.lossDown ?? this.o.loss ?? 0;
  }

  private transmit(dir: 'up' | 'down', data: Uint8Array, release: number): void {
    const index = dir === 'up' ? this.sentUp++ : this.sentDown++;
    if (dir === 'up') this.bytesUp += data.length;
    else this.bytesDown += data.length;
    let pooled: Uint8Array | null = null;
    let d: Uint8Array | null;
    // A filter may keep the datagram it is shown: pool only without one.
    if (data.length <= POOL_SIZE && this.o.filter === undefined) {
      pooled = this.pool.pop() ?? new Uint8Array(POOL_SIZE);
      pooled.set(data);
      d = pooled.subarray(0, data.length);
    } else d = data.slice();
    if (this.o.filter) d = this.o.filter(dir, d, index, this.now);
    if (d === null || (pooled !== null && d.buffer !== pooled.buffer)) {
      if (pooled !== null) this.pool.push(pooled);
      pooled = null;
    }
    if (d === null || this.linkRng.below(1_000_000) < this.lossFor(dir) * 1_000_000) {
      if (dir === 'up') this.droppedUp++;
      else this.droppedDown++;
      return;
    }
    const jitter = this.o.jitter > 0 ? this.linkRng.below(this.o.jitter * 1000) / 1000 : 0;
    const at = Math.max(this.now, this.o.pacing ? release : this.now) + this.o.delay + jitter;
    this.enqueue({ at, seq: this.seq++, dir, data: d, from: dir === 'up' ? this.clientAddrCopy() : SERVER_FROM, pooled });
  }

  /** Binary min-heap on (arrival time, send order). */
  private enqueue(item: InFlight): void {
    const h = this.net;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = item;
  }

  private dequeue(): InFlight {
    const h = this.net;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** Pull every datagram both sides want to send now. */
  flush(): void {
    for (let guard = 0; guard < 100000; guard++) {
      const info = this.client.send(this.buf, this.now);
      if (info === null) break;
      this.transmit('up', this.buf.subarray(0, info.length), info.releaseTime);
    }
    if (this.server !== null) {
      for (let guard = 0; guard < 100000; guard++) {
        const info = this.server.send(this.buf, this.now);
        if (info === null) break;
        this.transmit('down', this.buf.subarray(0, info.length), info.releaseTime);
      }
    }
    this.drainEvents();
  }

  drainEvents(): void {
    for (let e = this.client.pollEvent(); e !== undefined; e = this.client.pollEvent()) {
      this.clientEvents.push(e);
      this.onEvent?.('client', this.client, e);
    }
    if (this.server !== null) {
      for (let e = this.server.pollEvent(); e !== undefined; e = this.server.pollEvent()) {
        this.serverEvents.push(e);
        this.onEvent?.('server', this.server, e);
      }
    }
  }

  /** Retry state: the client's original DCID and the SCID we put in the Retry. */
  retryOdcid: Uint8Array | null = null;
  retryScid: Uint8Array | null = null;

  private deliver(p: InFlight): void {
    if (p.dir === 'up') {
      if (this.server === null && this.o.retry === true) {
        const info = parseInitial(p.data);
        if (info === null) return;
        if (this.retryOdcid === null) {
          this.retryOdcid = info.dcid;
          this.retryScid = this.rng.randomBytes(8);
          const retry = buildRetryPacket(info.version, info.dcid, info.scid, this.retryScid, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
          this.enqueue({ at: this.now + this.o.delay, seq: this.seq++, dir: 'down', data: retry, from: SERVER_FROM, pooled: null });
          return;
        }
        if (info.token.length === 0) return;
        this.server = createServerConnection(
          { ...this.serverOptions, originalDcid: this.retryOdcid, retrySourceCid: this.retryScid!, addressValidated: true },
          p.data,
          p.from,
          this.now,
        );
        return;
      }
      if (this.server === null) {
        this.server = createServerConnection(this.serverOptions, p.data, p.from, this.now);
      } else {
        this.server.receive(p.data, p.from, this.now);
      }
    } else {
      this.client.receive(p.data, SERVER_ADDR, this.now);
    }
  }

  /** One step: deliver due datagrams, run due timers, flush, advance the clock. False when idle forever. */
  step(maxTime: number): boolean {
    this.flush();
    let next = Math.min(this.client.nextTimeout(), this.server?.nextTimeout() ?? Infinity);
    if (this.net.length > 0 && this.net[0]!.at < next) next = this.net[0]!.at;
    if (next === Infinity) return false;
    if (next > maxTime) {
      this.now = maxTime;
      return false;
    }
    if (next > this.now) this.now = next;
    // Deliver in order of arrival time, then send order.
    while (this.net.length > 0 && this.net[0]!.at <= this.now) {
      const item = this.dequeue();
      this.deliver(item);
      if (item.pooled !== null) this.pool.push(item.pooled);
    }
    if (this.client.nextTimeout() <= this.now) this.client.onTimeout(this.now);
    if (this.server !== null && this.server.nextTimeout() <= this.now) this.server.onTimeout(this.now);
    this.flush();
    return true;
  }

  /** Run until `pred` holds or `maxMs` of virtual time pass. Returns whether `pred` held. */
  runUntil(pred: () => boolean, maxMs = 60_000): boolean {
    const end = this.now + maxMs;
    for (let i = 0; i < 10_000_000; i++) {
      if (pred()) return true;
      if (!this.step(end)) return pred();
      if (this.now >= end) return pred();
    }
    return pred();
  }

  handshake(maxMs = 10_000): boolean {
    return this.runUntil(() => this.client.handshakeConfirmed && this.server !== null && this.server.handshakeConfirmed, maxMs);
  }

  /** Internal state (for assertions on counters and invariants). */
  static internals(c: Connection): ReturnType<typeof connectionInternals> {
    return connectionInternals(c);
  }
}
