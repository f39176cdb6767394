// L7: listenMulticore() — a QUIC server over ONE node:dgram socket in the main thread and N shard
// worker threads (DESIGN §3; src/multicore/router.ts has the design note). The main thread:
// - receives every datagram, asks the Router for its worker (invariant header only, RFC 8999),
//   copies it into that worker's RX ring and publishes each ring once per event-loop turn
//   (setImmediate after the poll phase delivered the turn's datagrams);
// - drains every worker's TX ring when woken (Atomics.waitAsync on each TX ring while idle) and
//   sends each datagram from a Buffer VIEW of its slot — no copy out of the SharedArrayBuffer;
//   the slot returns to the worker when dgram's send callback fires (out-of-order safe);
//   Control slots carry "release this client DCID" for the router's table;
// - reads the per-worker metrics blocks at scrape time (metrics()), and talks to workers over
//   comlink only for the control plane (stats(), drain, shutdown, ticket keys);
// - owns the session ticket keyring: rotates it and pushes the keys to every worker, so a ticket
//   any worker sealed resumes on every other one, also after rotations;
// - with 0-RTT (enableEarlyData), makes the anti-replay store every worker shares (one
//   SharedArrayBuffer, src/multicore/anti-replay.ts), so a replayed ClientHello is accepted at
//   most once whichever worker it reaches;
// - supervises the workers: one that exits is replaced (fresh rings and metrics block, same index
//   and keys) and takes new connections again; its clients' next packets reach the replacement,
//   which answers with stateless resets (or, with no replacement, another worker does).
// The application runs in the workers: 'echo' (raw QUIC, src/multicore/app.ts), 'static' (what
// `quiver serve` serves) or any module whose export gets an Http3Server in each worker
// (src/multicore/http3-app.ts). Sessions never cross to the main thread. Metrics: the main thread
// owns one prom-client registry (`prometheus`, src/metrics) that reads every worker's block at
// scrape time after asking the workers to bring their blocks up to date; a worker asked for
// /metrics over HTTP/3 asks the main thread for that same text (comlink on a second port), so the
// answer is identical whichever worker a scraper's connection landed on.
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import { expose, wrap, releaseProxy, type Remote } from 'comlink';
import { secureRandom } from '../crypto/random.js';
import { TicketKeyring } from '../tls/session-ticket.js';
import { monotonicNow } from '../io/clock.js';
import { resolveServerOptions, type ServerOptions } from '../io/options.js';
import { bindUdpSocket, listenAddresses, type BoundSocket } from '../io/udp-socket.js';
import { QuiverMetrics } from '../metrics/quiver-metrics.js';
import { RetiredWorkers } from '../metrics/worker-totals.js';
import { resolveApp, type MulticoreApp } from './http3-app.js';
import { AddressFormatter, encodeAddress } from './address.js';
import { SharedAntiReplay, createAntiReplayBuffer, type SharedAntiReplayOptions, type SharedAntiReplayStats } from './anti-replay.js';
import { WorkerCidCodec } from './cid.js';
import { MetricsBlock, ROUTER_SCHEMA, WORKER_SCHEMA, collect, type CollectedMetrics, type RouterMetric, type WorkerMetric } from './metrics-block.js';
import { DEFAULT_SLOT_PAYLOAD, RingConsumer, RingProducer, SlotKind, createRing, type RingCounters } from './ring.js';
import { Router, type BalancePolicy } from './router.js';
import type { MainControl, ShardControl, ShardWorkerData } from './shard-worker.js';
import type { ShardSnapshot } from './shard.js';

export interface MulticoreOptions extends ServerOptions {
  /** Worker threads (default: available parallelism − 1, at least 1; at most 256). */
  workers?: number;
  /**
   * Application run inside the workers (default 'echo'): 'echo' (raw QUIC streams echoed),
   * 'static' (the demo site, /echo, /metrics; { module: 'static', options: { root } } for a
   * directory), or { module, export?, options? } — a module every worker imports, whose export
   * (server: Http3Server, context) => void | FetchHandler sets up HTTP/3 handlers.
   */
  app?: MulticoreApp;
  /** HTTP/3 apps: SETTINGS_MAX_FIELD_SECTION_SIZE we accept (default 65536). */
  maxHeaderSize?: number;
  /** HTTP/3 apps: QPACK dynamic table capacity we allow the client's encoder (default 16384). */
  qpackTableCapacity?: number;
  /** How new connections pick a worker (default 'least-loaded'). */
  balance?: BalancePolicy;
  /** Slots per ring, a power of two (default 1024; one RX and one TX ring per worker). */
  ringSlots?: number;
  /** Payload bytes per slot (default 1504; larger datagrams are dropped and counted). */
  slotPayload?: number;
  /** Length of the CIDs the workers issue (8..20, default 8). */
  cidLength?: number;
  /** 16-byte CID key (default random). Keep it across restarts so old CIDs still route. */
  cidKey?: Uint8Array;
  /** 32-byte stateless reset key shared by the workers (default random). */
  statelessResetKey?: Uint8Array;
  /** 32-byte address-validation token key shared by the workers (default random). */
  tokenKey?: Uint8Array;
  /** RX datagrams a worker processes per turn (default 256). */
  batchSize?: number;
  /** Empty turns a worker spins (setImmediate) before sleeping on its ring (default 1). */
  spinTurns?: number;
  /**
   * Start a new worker in place of one that exited (default true): it takes new connections (the
   * dead worker's are lost; their CIDs now reach the new worker, which answers with stateless
   * resets). At most 5 restarts per worker per minute.
   */
  respawn?: boolean;
  /** Session ticket keys: a new sealing key this often, pushed from this thread to every worker (default 12 h). */
  ticketRotationMs?: number;
  /**
   * With enableEarlyData: the 0-RTT anti-replay store shared by all workers (mode 'single-use' by
   * default, as listen(); capacity 131 072 entries = 1 MiB; when full, 0-RTT is rejected).
   */
  antiReplay?: SharedAntiReplayOptions;
}

const EXTRA_KEYS = [
  'workers',
  'app',
  'balance',
  'ringSlots',
  'slotPayload',
  'cidLength',
  'cidKey',
  'statelessResetKey',
  'tokenKey',
  'batchSize',
  'spinTurns',
  'maxHeaderSize',
  'qpackTableCapacity',
  'respawn',
  'ticketRotationMs',
  'antiReplay',
];

export interface MulticoreMetrics {
  router: Record<RouterMetric, number>;
  /** Per worker: its thread is running (false after it exited). */
  alive: boolean[];
  workers: CollectedMetrics<WorkerMetric>;
  /**
   * Per worker index: the summed final counters of the blocks it had before its current one (its
   * replaced threads; gauge fields 0), null if never replaced. Prometheus exports base + current.
   */
  retired?: Array<Record<WorkerMetric, number> | null>;
  rings: Array<{ rx: RingCounters; tx: RingCounters }>;
  /** The shared 0-RTT anti-replay store's counters (undefined without enableEarlyData). */
  antiReplay?: SharedAntiReplayStats;
}

interface WorkerHandle {
  index: number;
  worker: Worker;
  control: Remote<ShardControl>;
  port: import('node:worker_threads').MessagePort;
  /** Where the worker asks the main thread (metrics text). */
  mainPort: import('node:worker_threads').MessagePort;
  rx: RingProducer;
  tx: RingConsumer;
  metrics: MetricsBlock<WorkerMetric>;
  /** Per TX slot: a Buffer view of its payload, and the send callback that releases it. */
  txBuffers: Buffer[];
  txCallbacks: Array<(err: Error | null) => void>;
  txScheduled: boolean;
  txSleeping: boolean;
  exited: boolean;
}

function checkKey(name: string, v: unknown, length: number): Uint8Array | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof Uint8Array) || v.length !== length) throw new TypeError(`${name}: expected ${length} bytes`);
  return new Uint8Array(v);
}

function checkOptionalInt(name: string, v: unknown, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name}: expected an integer`);
  if (v < min || v > max) throw new RangeError(`${name}: must be in ${min}..${max}, got ${v}`);
  return v;
}

/** @internal How the server starts (and restarts) a worker. */
export interface WorkerSpawner {
  spawn(index: number): WorkerHandle;
  /** Resolves when the worker answered (its app is set up). */
  ready(h: WorkerHandle): Promise<void>;
  respawn: boolean;
  ticketRing: TicketKeyring | undefined;
  ticketRotationMs: number;
  /** The main thread's view of the shared anti-replay store (0-RTT on). */
  antiReplay?: SharedAntiReplay | undefined;
}

const RESPAWN_WINDOW_MS = 60_000;
const RESPAWN_LIMIT = 5;

/**
 * The main thread of a multi-core QUIC server. Use listenMulticore(). Events: 'worker-exit'
 * (index, exitCode), 'worker-respawn' (index), 'error'.
 */
export class MulticoreServer extends EventEmitter {
  readonly workers: number;
  readonly codec: WorkerCidCodec;
  readonly router: Router;
  private readonly bound: BoundSocket;
  private readonly handles: WorkerHandle[];
  private readonly formatter = new AddressFormatter();
  private readonly rv: Float64Array;
  private readonly RI = ROUTER_SCHEMA.index;
  /** Bit per worker: RX slots committed but not yet published this turn. */
  private readonly rxPending: Uint8Array;
  private rxPendingAny = false;
  private publishScheduled = false;
  private readonly sweepTimer: NodeJS.Timeout;
  private closing: Promise<void> | null = null;
  private registry: QuiverMetrics | undefined;
  private readonly spawner: WorkerSpawner | undefined;
  /** Workers the user drained: a respawned one stays out of rotation too. */
  private readonly drained = new Set<number>();
  /** Counters of replaced workers' blocks (Prometheus counters stay monotonic across respawns). */
  private readonly retired = new RetiredWorkers();
  private readonly restarts: number[][];
  private readonly rotationTimer: NodeJS.Timeout | undefined;
  private readonly publishCallback = (): void => this.publishRx();

  /** @internal Use listenMulticore(). */
  constructor(bound: BoundSocket, router: Router, handles: WorkerHandle[], spawner?: WorkerSpawner) {
    super();
    this.spawner = spawner;
    this.restarts = handles.map(() => []);
    this.bound = bound;
    this.router = router;
    this.codec = router.codec;
    this.workers = handles.length;
    this.handles = handles;
    this.rv = router.metrics.values;
    this.rxPending = new Uint8Array(handles.length);
    bound.socket.on('message', (msg: Buffer, rinfo: { address: string; port: number }) => this.onDatagram(msg, rinfo.address, rinfo.port));
    bound.socket.on('error', (err: Error) => {
      this.rv[this.RI.send_errors]!++;
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    for (const h of handles) this.attach(h);
    this.sweepTimer = setInterval(() => this.router.sweep(monotonicNow()), 1000);
    this.sweepTimer.unref();
    const ring = spawner?.ticketRing;
    if (ring !== undefined) {
      this.rotationTimer = setInterval(() => this.rotateTicketKeys(), spawner!.ticketRotationMs);
      this.rotationTimer.unref();
    }
  }

  /** TX views and callbacks of a (new) worker's ring, its drain loop and exit handling. */
  private attach(h: WorkerHandle): void {
    for (let s = 0; s < h.tx.capacity; s++) {
      const view = h.tx.payloadView(s);
      h.txBuffers.push(Buffer.from(view.buffer, view.byteOffset, view.length));
      h.txCallbacks.push((err: Error | null) => {
        if (err !== null) this.rv[this.RI.send_errors]!++;
        h.tx.releaseSlot(s);
      });
    }
    h.worker.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
      else process.emitWarning(`quiver: shard worker ${h.index} failed: ${err.stack ?? String(err)}`, { code: 'QUIVER_SHARD' });
    });
    h.worker.once('exit', (code) => this.onWorkerExit(h, code));
    this.drainTx(h);
  }

  private onWorkerExit(h: WorkerHandle, code: number): void {
    if (this.closing !== null || this.handles[h.index] !== h) return;
    this.emit('worker-exit', h.index, code);
    const sp = this.spawner;
    if (sp === undefined || !sp.respawn) return;
    const now = monotonicNow();
    const recent = this.restarts[h.index]!.filter((t) => now - t < RESPAWN_WINDOW_MS);
    if (recent.length >= RESPAWN_LIMIT) {
      this.restarts[h.index] = recent;
      process.emitWarning(`quiver: shard worker ${h.index} exited ${RESPAWN_LIMIT} times in a minute; not restarting it`, { code: 'QUIVER_SHARD' });
      return;
    }
    recent.push(now);
    this.restarts[h.index] = recent;
    this.rv[this.RI.workers_respawned]!++;
    let fresh: WorkerHandle;
    try {
      fresh = sp.spawn(h.index);
    } catch (e) {
      process.emitWarning(`quiver: cannot restart shard worker ${h.index}: ${(e as Error).message}`, { code: 'QUIVER_SHARD' });
      return;
    }
    // The dead block's final values become the index's base in the same turn its fresh block
    // takes over, so no scrape sees either twice or neither.
    this.retired.retire(h.index, h.metrics.snapshot());
    this.handles[h.index] = fresh;
    this.attach(fresh);
    sp.ready(fresh).then(
      () => {
        if (this.closing !== null || fresh.exited) return;
        if (!this.drained.has(h.index)) this.router.setAccepting(h.index, true);
        this.emit('worker-respawn', h.index);
      },
      (e: unknown) => process.emitWarning(`quiver: restarted shard worker ${h.index} did not start: ${(e as Error)?.message}`, { code: 'QUIVER_SHARD' }),
    );
  }

  /**
   * A control-plane call to worker `h` that settles with `ifGone` when the worker exits first
   * (comlink never settles a call whose port closed).
   */
  private ask<T>(h: WorkerHandle, call: (c: Remote<ShardControl>) => Promise<T>, ifGone: T): Promise<T> {
    if (h.exited) return Promise.resolve(ifGone);
    return new Promise<T>((resolve, reject) => {
      const onExit = (): void => resolve(ifGone);
      h.worker.once('exit', onExit);
      call(h.control).then(
        (v) => {
          h.worker.off('exit', onExit);
          resolve(v);
        },
        (e: unknown) => {
          h.worker.off('exit', onExit);
          if (h.exited) resolve(ifGone);
          else reject(e);
        },
      );
    });
  }

  /** A new sealing key now, pushed to every live worker (also runs every ticketRotationMs). */
  async rotateTicketKeys(): Promise<void> {
    const ring = this.spawner?.ticketRing;
    if (ring === undefined || this.closing !== null) return;
    ring.rotate(monotonicNow());
    const keys = ring.exportKeys();
    await Promise.all(this.handles.map((h) => this.ask(h, (c) => c.setTicketKeys(keys), undefined).catch(() => undefined)));
  }

  address(): { address: string; port: number; family: 'IPv4' | 'IPv6' } {
    return { address: this.bound.address, port: this.bound.port, family: this.bound.family };
  }

  get listening(): boolean {
    return this.closing === null;
  }

  // ------------------------------------------------------------------ RX: socket → router → ring

  private onDatagram(msg: Buffer, address: string, port: number): void {
    let w = this.router.route(msg, monotonicNow());
    if (w < 0) return;
    let h = this.handles[w]!;
    const v = this.rv;
    const I = this.RI;
    if (h.exited) {
      // Its connections are gone and no replacement runs (respawn off, or the restart limit hit; a
      // replacement takes the index at once). A short header goes to a live worker instead, which
      // holds no CID of the dead one and answers with a stateless reset, so its clients learn at
      // their next packet rather than at their idle timeout (RFC 9000 §10.3).
      const alt = (msg[0]! & 0x80) === 0 ? this.liveWorkerAfter(w) : -1;
      if (alt < 0) {
        v[I.dropped_worker_down]!++;
        return;
      }
      v[I.routed_dead_worker]!++;
      w = alt;
      h = this.handles[alt]!;
    }
    const rx = h.rx;
    if (msg.length > rx.payloadCapacity) {
      rx.countOversize();
      v[I.dropped_oversize]!++;
      return;
    }
    const slot = rx.acquire();
    if (slot < 0) {
      v[I.dropped_rx_ring_full]!++;
      return;
    }
    const family = encodeAddress(address, rx.addressView(slot));
    if (family === 0) {
      v[I.dropped_bad_address]!++;
      return;
    }
    rx.payloadView(slot).set(msg, 0);
    rx.commit(slot, msg.length, SlotKind.Datagram, family, port);
    this.rxPending[w] = 1;
    this.rxPendingAny = true;
    if (!this.publishScheduled) {
      this.publishScheduled = true;
      setImmediate(this.publishCallback);
    }
  }

  /** The next worker after `w` whose thread runs, or −1. */
  private liveWorkerAfter(w: number): number {
    for (let k = 1; k < this.handles.length; k++) {
      const i = (w + k) % this.handles.length;
      if (!this.handles[i]!.exited) return i;
    }
    return -1;
  }

  /** One publish per ring per event-loop turn. */
  private publishRx(): void {
    this.publishScheduled = false;
    if (!this.rxPendingAny) return;
    this.rxPendingAny = false;
    const p = this.rxPending;
    for (let w = 0; w < p.length; w++) {
      if (p[w] === 1) {
        p[w] = 0;
        this.handles[w]!.rx.publish();
      }
    }
  }

  // ------------------------------------------------------------------ TX: ring → socket

  private drainTx(h: WorkerHandle): void {
    h.txScheduled = false;
    if (h.exited) return;
    const tx = h.tx;
    const socket = this.bound.socket;
    const v = this.rv;
    const I = this.RI;
    let n = 0;
    for (; n < 512; n++) {
      const slot = tx.take();
      if (slot < 0) break;
      const len = tx.length(slot);
      if (tx.kind(slot) === SlotKind.Control) {
        this.router.release(tx.payloadView(slot).subarray(0, len), h.index);
        tx.releaseSlot(slot);
        continue;
      }
      const family = tx.family(slot);
      if (family !== 4 && family !== 6) {
        // Not trusted: bytes from another thread (a worker bug must not end this process).
        v[I.send_errors]!++;
        tx.releaseSlot(slot);
        continue;
      }
      const address = this.formatter.format(family, tx.addressView(slot));
      v[I.datagrams_sent]!++;
      v[I.bytes_sent]! += len;
      try {
        socket.send(h.txBuffers[slot]!, 0, len, tx.port(slot), address, h.txCallbacks[slot]);
      } catch {
        // Socket closed underneath us: the datagram is lost (QUIC recovers).
        v[I.send_errors]!++;
        tx.releaseSlot(slot);
      }
    }
    if (n === 512) {
      this.scheduleTx(h);
      return;
    }
    if (h.txSleeping || h.exited) return;
    const p = tx.waitForData();
    if (p === null) {
      this.scheduleTx(h);
      return;
    }
    h.txSleeping = true;
    void p.then(() => {
      h.txSleeping = false;
      this.drainTx(h);
    });
  }

  private scheduleTx(h: WorkerHandle): void {
    if (h.txScheduled) return;
    h.txScheduled = true;
    setImmediate(() => this.drainTx(h));
  }

  // ------------------------------------------------------------------ metrics and control

  /** Counters of the router, every worker and every ring, read now (plain numbers; scrape time). */
  metrics(): MulticoreMetrics {
    return {
      router: this.router.metrics.snapshot(),
      alive: this.handles.map((h) => !h.exited),
      workers: collect(this.handles.map((h) => h.metrics)),
      retired: this.retired.snapshot(this.handles.length),
      rings: this.handles.map((h) => ({ rx: h.rx.counters(), tx: h.tx.counters() })),
      ...(this.spawner?.antiReplay === undefined ? {} : { antiReplay: this.spawner.antiReplay.stats() }),
    };
  }

  /**
   * Ask every live worker to bring its metrics block up to date (live connections' totals, HTTP
   * counters); a worker that does not answer within `timeoutMs` is read as it is.
   */
  async refreshMetrics(timeoutMs = 250): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.handles.map((h) => this.ask(h, (c) => c.syncMetrics(), undefined).catch(() => undefined))),
      new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  /**
   * The Prometheus registry of this server (src/metrics, prom-client), made on first use: every
   * quiver_* family with a `worker` label per worker, plus quiver_router_* and quiver_worker_*.
   * Serve it with serveMetrics(server.prometheus, port); workers answer /metrics with it too.
   */
  get prometheus(): QuiverMetrics {
    if (this.registry === undefined) {
      this.registry = new QuiverMetrics();
      this.registry.watchMulticore(this);
    }
    return this.registry;
  }

  /** @internal A worker asked for /metrics. */
  async renderMetrics(): Promise<{ contentType: string; text: string }> {
    const m = this.prometheus;
    return { contentType: m.contentType, text: await m.metrics() };
  }

  /** A snapshot from every worker (comlink: connections, endpoint stats, metrics); null for a worker that exited. */
  stats(): Promise<Array<ShardSnapshot | null>> {
    return Promise.all(this.handles.map((h) => this.ask<ShardSnapshot | null>(h, (c) => c.stats(), null)));
  }

  /**
   * Drain worker `index`: the router stops giving it new connections, the worker refuses any
   * still on their way, and this resolves with the number of connections left after `timeoutMs`.
   */
  async drainWorker(index: number, timeoutMs = 10_000): Promise<number> {
    const h = this.handles[index];
    if (h === undefined) throw new RangeError(`index: expected 0..${this.workers - 1}, got ${index}`);
    this.router.setAccepting(index, false);
    this.drained.add(index);
    return this.ask(h, (c) => c.drain(timeoutMs), 0);
  }

  /** Resume giving worker `index` new connections. */
  async resumeWorker(index: number): Promise<void> {
    const h = this.handles[index];
    if (h === undefined) throw new RangeError(`index: expected 0..${this.workers - 1}, got ${index}`);
    if (h.exited) throw new RangeError(`index: worker ${index} has exited`);
    this.drained.delete(index);
    this.router.setAccepting(index, true);
    await h.control.setAccepting(true);
  }

  /**
   * Close every connection (application `code`, default 0), give workers `timeout` ms (default
   * 2000) to finish, then stop the workers and the socket.
   */
  close(options: { code?: number; timeout?: number } = {}): Promise<void> {
    if (this.closing !== null) return this.closing;
    const code = options.code ?? 0;
    const timeout = options.timeout ?? 2000;
    for (let w = 0; w < this.workers; w++) this.router.setAccepting(w, false);
    this.closing = (async () => {
      await Promise.race([
        Promise.all(this.handles.map((h) => this.ask(h, (c) => c.shutdown(code, timeout), 0).catch(() => 0))),
        new Promise((r) => setTimeout(r, timeout + 500).unref()),
      ]);
      // Let the last CONNECTION_CLOSE datagrams leave the TX rings.
      const until = monotonicNow() + 200;
      while (monotonicNow() < until && this.handles.some((h) => !h.exited && (h.tx.available() > 0 || h.tx.taken > 0))) {
        await new Promise((r) => setTimeout(r, 5));
      }
      clearInterval(this.sweepTimer);
      if (this.rotationTimer !== undefined) clearInterval(this.rotationTimer);
      for (const h of this.handles) {
        h.exited = true;
        h.control[releaseProxy]();
        h.port.close();
        h.mainPort.close();
        await h.worker.terminate();
      }
      await new Promise<void>((resolve) => {
        try {
          this.bound.socket.close(() => resolve());
        } catch {
          resolve();
        }
      });
      this.emit('close');
    })();
    return this.closing;
  }
}

/**
 * Start a multi-core QUIC server: one UDP socket in this thread, `workers` shard threads running
 * the connections and the app. Resolves once the socket is bound and every worker answered.
 */
export async function listenMulticore(options: MulticoreOptions): Promise<MulticoreServer> {
  const raw = (options ?? {}) as Record<string, unknown>;
  const app = resolveApp(raw['app']);
  const o = resolveServerOptions(options, app.kind === 'http3' ? { alpn: ['h3'] } : {}, EXTRA_KEYS);
  const workers = checkOptionalInt('options.workers', raw['workers'], 1, 256, Math.max(1, availableParallelism() - 1));
  const http3Options: Record<string, unknown> = {};
  for (const k of ['maxHeaderSize', 'qpackTableCapacity']) {
    const v = raw[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new TypeError(`options.${k}: expected a non-negative integer`);
    http3Options[k] = v;
  }
  const balance = raw['balance'] ?? 'least-loaded';
  if (balance !== 'least-loaded' && balance !== 'hash') throw new TypeError(`options.balance: expected 'least-loaded' or 'hash'`);
  const ringSlots = checkOptionalInt('options.ringSlots', raw['ringSlots'], 2, 65536, 1024);
  if ((ringSlots & (ringSlots - 1)) !== 0) throw new RangeError('options.ringSlots: expected a power of two');
  const slotPayload = checkOptionalInt('options.slotPayload', raw['slotPayload'], 1200, 65536, Math.max(DEFAULT_SLOT_PAYLOAD, o.largestDatagram));
  if (slotPayload < o.largestDatagram) throw new RangeError(`options.slotPayload: must hold the largest datagram (maxDatagramSize or the pmtud ceiling, ${o.largestDatagram})`);
  const cidLength = checkOptionalInt('options.cidLength', raw['cidLength'], 8, 20, 8);
  const batchSize = checkOptionalInt('options.batchSize', raw['batchSize'], 1, 65536, 256);
  const spinTurns = checkOptionalInt('options.spinTurns', raw['spinTurns'], 0, 1000, 1);
  if (typeof o.keylog === 'function') throw new TypeError('options.keylog: a function cannot run in worker threads; give a file name');
  // 0-RTT: one anti-replay store for every worker (RFC 8446 §8; a per-worker one would accept a
  // ClientHello replayed to another worker).
  const rawAntiReplay = raw['antiReplay'];
  if (rawAntiReplay !== undefined && (rawAntiReplay === null || typeof rawAntiReplay !== 'object')) throw new TypeError('options.antiReplay: expected { mode?, capacity?, windowMs? }');
  const antiReplayBuffer = o.enableEarlyData ? createAntiReplayBuffer((rawAntiReplay ?? {}) as SharedAntiReplayOptions, secureRandom.randomBytes(16), monotonicNow()) : undefined;
  const cidKey = checkKey('options.cidKey', raw['cidKey'], 16) ?? secureRandom.randomBytes(16);
  const statelessResetKey = checkKey('options.statelessResetKey', raw['statelessResetKey'], 32) ?? secureRandom.randomBytes(32);
  const tokenKey = checkKey('options.tokenKey', raw['tokenKey'], 32) ?? secureRandom.randomBytes(32);
  const respawn = raw['respawn'] ?? true;
  if (typeof respawn !== 'boolean') throw new TypeError('options.respawn: expected a boolean');
  const ticketRotationMs = checkOptionalInt('options.ticketRotationMs', raw['ticketRotationMs'], 100, 7 * 24 * 3600_000, 12 * 3600_000);
  let ticketRing: TicketKeyring | undefined;
  if (o.sessionTickets) {
    ticketRing = new TicketKeyring({ random: secureRandom, rotationMs: ticketRotationMs });
    ticketRing.rotate(monotonicNow());
  }
  const codec = new WorkerCidCodec({ key: cidKey, workers, length: cidLength });
  const blocks = Array.from({ length: workers }, () => new MetricsBlock(WORKER_SCHEMA));
  const activeIndex = WORKER_SCHEMA.index.connections_active;
  const router = new Router({
    codec,
    hashKey: secureRandom.randomBytes(16),
    balance,
    load: (w) => blocks[w]!.values[activeIndex]!,
    metrics: new MetricsBlock(ROUTER_SCHEMA),
  });

  // One socket: an IP literal, or the first address of 'localhost'.
  const addrs = await listenAddresses(o.host);
  const bound = await bindUdpSocket(addrs[0]!, o.port, {
    ...(o.recvBufferSize === undefined ? {} : { recvBufferSize: o.recvBufferSize }),
    ...(o.sendBufferSize === undefined ? {} : { sendBufferSize: o.sendBufferSize }),
  });

  // Options that cross to the workers: everything listen() takes, minus what only the main thread uses.
  const workerOptions: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(raw)) {
    if (val === undefined || EXTRA_KEYS.includes(k) || k === 'host' || k === 'port') continue;
    workerOptions[k] = val;
  }
  const maxConnections = Math.ceil(o.maxConnections / workers);
  const handles: WorkerHandle[] = [];
  // The server exists only once every worker answered; until then a worker's question waits here.
  let serverRef: MulticoreServer | undefined;
  const mainControl: MainControl = {
    metrics: () => (serverRef === undefined ? Promise.reject(new Error('server starting')) : serverRef.renderMetrics()),
  };
  const entry = new URL('../../workers/shard.js', import.meta.url);
  /** Start worker `index` with fresh rings and a fresh metrics block (also a replacement for one that exited). */
  const spawn = (index: number): WorkerHandle => {
    const rxBuf = createRing(ringSlots, slotPayload);
    const txBuf = createRing(ringSlots, slotPayload);
    const block = new MetricsBlock(WORKER_SCHEMA);
    blocks[index] = block;
    const { port1, port2 } = new MessageChannel();
    const main = new MessageChannel();
    expose(mainControl, main.port1 as unknown as Parameters<typeof expose>[1]);
    const data: ShardWorkerData = {
      index,
      workers,
      rx: rxBuf,
      tx: txBuf,
      metrics: block.buffer,
      cidKey,
      cidLength,
      configId: codec.configId,
      statelessResetKey,
      tokenKey,
      ticketKeys: ticketRing?.exportKeys(),
      ticketRotationMs,
      antiReplay: antiReplayBuffer,
      options: workerOptions,
      extraOptionNames: EXTRA_KEYS,
      maxConnections,
      app,
      http3Options,
      batchSize,
      spinTurns,
      control: port2,
      main: main.port2,
    };
    const worker = new Worker(entry, { workerData: data, transferList: [port2, main.port2] });
    const handle: WorkerHandle = {
      index,
      worker,
      control: wrap<ShardControl>(port1 as unknown as Parameters<typeof wrap>[0]),
      port: port1,
      mainPort: main.port1,
      rx: new RingProducer(rxBuf),
      tx: new RingConsumer(txBuf),
      metrics: block,
      txBuffers: [],
      txCallbacks: [],
      txScheduled: false,
      txSleeping: false,
      exited: false,
    };
    worker.on('exit', () => {
      handle.exited = true;
      // Gauges of a thread that is gone read 0 (counters keep their last values).
      const g = WORKER_SCHEMA.index;
      block.values[g.connections_active] = 0;
      block.values[g.http_requests_active] = 0;
      router.setAccepting(index, false);
      router.forgetWorker(index);
      handle.mainPort.close();
      handle.port.close();
    });
    return handle;
  };
  const ready = (h: WorkerHandle): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      const onExit = (code: number): void => reject(new Error(`shard worker ${h.index} exited (${code}) while starting`));
      h.worker.once('error', onError);
      h.worker.once('exit', onExit);
      h.control.ping().then(
        () => {
          h.worker.off('error', onError);
          h.worker.off('exit', onExit);
          resolve();
        },
        reject,
      );
    });
  try {
    for (let index = 0; index < workers; index++) handles.push(spawn(index));
    // Every worker up (or the first failure).
    await Promise.all(handles.map(ready));
  } catch (e) {
    for (const h of handles) {
      h.mainPort.close();
      void h.worker.terminate();
    }
    bound.socket.close();
    throw e;
  }
  const server = new MulticoreServer(bound, router, handles, {
    spawn,
    ready,
    respawn,
    ticketRing,
    ticketRotationMs,
    antiReplay: antiReplayBuffer === undefined ? undefined : new SharedAntiReplay(antiReplayBuffer),
  });
  serverRef = server;
  return server;
}
