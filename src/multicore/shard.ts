// L7: a shard — the worker-thread side of the multi-core server (DESIGN §3; the router's header
// comment has the whole design). It owns one sans-IO Endpoint (L5) whose CIDs carry this worker's
// index (src/multicore/cid.ts), its connections (L4), one OS timer for all of them and the
// application (src/multicore/app.ts). The driver loop mirrors src/io/udp-driver.ts with rings in
// place of a socket:
// - Receive: take up to `batchSize` slots from the RX ring and hand each payload — a view INTO the
//   SharedArrayBuffer, decrypted in place by the core, which copies whatever it keeps — to
//   endpoint.handle(); then release the whole batch with one store.
// - Flush: endpoint packets (VN/Retry/reset), endpoint events (new connections → app), the dirty
//   connections' events (→ app handlers), then datagrams round-robin written by connection.send()
//   STRAIGHT into TX slots; one publish per flush. A full TX ring defers (the connection keeps its
//   data: nothing is lost) and retries in a millisecond. A datagram whose pacing release time lies
//   beyond the timer granularity is copied aside and sent when due (RFC 9002 §7.7).
// - Router table: when a connection leaves the handshake (or closes) the client-chosen DCID it was
//   routed by goes back to the main thread as a Control slot in the TX ring (in order with the
//   datagrams), so the router can drop that entry (RFC 9000 §5.2: after the handshake the client
//   uses our CIDs only).
// - Loop: a turn runs receive + flush; while work keeps coming it re-runs from setImmediate (and
//   spins `spinTurns` empty turns); then it sleeps with RingConsumer.waitForData()
//   (Atomics.waitAsync: this thread owns timers, so never Atomics.wait). One setTimeout for the
//   earliest connection deadline.
import type { Connection, ConnectionEvent, PathInfo, SendInfo } from '../connection/index.js';
import type { Endpoint, EndpointStats } from '../endpoint/index.js';
import { DROP_REASONS } from '../endpoint/index.js';
import type { SessionDriver } from '../io/session-driver.js';
import { AddressEncoder, AddressFormatter } from './address.js';
import type { ShardApp, ShardConnectionHandler } from './app.js';
import { MetricsBlock, WORKER_SCHEMA, type WorkerMetric } from './metrics-block.js';
import { SlotKind, type RingConsumer, type RingCounters, type RingProducer } from './ring.js';

export type Clock = () => number;

export interface ShardOptions {
  /** This worker's index (the one its CIDs carry). */
  index: number;
  endpoint: Endpoint<Connection>;
  rx: RingConsumer;
  tx: RingProducer;
  app: ShardApp;
  clock: Clock;
  metrics?: MetricsBlock<WorkerMetric>;
  /** RX slots per turn before flushing (default 256). */
  batchSize?: number;
  /** Datagrams pulled from one connection per round-robin round (default 16). */
  burst?: number;
  /** Datagrams sent per flush (default 512). */
  sendBudget?: number;
  /** A datagram due within this many ms is sent now (default 1). */
  granularity?: number;
  /** Empty turns run from setImmediate before sleeping (default 1). */
  spinTurns?: number;
  /** Called at the end of every loop turn (cheap bookkeeping, e.g. HTTP counters into the metrics block). */
  onTurn?: () => void;
}

interface ConnState {
  handler: ShardConnectionHandler | undefined;
  /** The client-chosen DCID the router holds an entry for, until released. */
  routerDcid: Uint8Array | null;
  handshakeDone: boolean;
  /** Refused while draining (CONNECTION_REFUSED): not a failed handshake. */
  refused: boolean;
  /** Remote ports seen (NAT rebinding/migration shows up here). */
  pathChanges: number;
}

interface Held {
  data: Uint8Array;
  to: PathInfo;
  releaseTime: number;
}

export interface ShardConnectionInfo {
  /** Hex of the CIDs this worker issued for the connection (what the client sends as DCID). */
  localCids: string[];
  originalDcid: string;
  remoteAddress: string;
  remotePort: number;
  state: string;
  alpn: string;
  handshakeComplete: boolean;
  /** 'path-migrated' events (peer address changes the connection validated and moved to). */
  pathChanges: number;
  bytesSent: number;
  bytesReceived: number;
}

export interface ShardSnapshot {
  worker: number;
  metrics: Record<WorkerMetric, number>;
  endpoint: EndpointStats;
  rx: RingCounters;
  tx: RingCounters;
  connections: ShardConnectionInfo[];
  accepting: boolean;
  /** Hex ids of the session ticket keys the worker holds (newest last: it seals). */
  ticketKeyIds?: string[];
}

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

/**
 * A Shard is also the SessionDriver of its connections' QuicSessions (src/io/session-driver.ts):
 * the full Node-level API (streams, HTTP/3) runs in the worker on top of it.
 */
export class Shard implements SessionDriver<Connection> {
  readonly index: number;
  readonly endpoint: Endpoint<Connection>;
  readonly metrics: MetricsBlock<WorkerMetric>;
  readonly app: ShardApp;
  private readonly rx: RingConsumer;
  private readonly tx: RingProducer;
  readonly clock: Clock;
  private readonly batchSize: number;
  private readonly burst: number;
  private readonly sendBudget: number;
  private readonly granularity: number;
  private readonly spinTurns: number;
  private readonly onTurn: (() => void) | undefined;
  private readonly v: Float64Array;
  private readonly I = WORKER_SCHEMA.index;
  /** Metrics indices of the endpoint's drop reasons, in DROP_REASONS order. */
  private readonly dropIndex: number[] = DROP_REASONS.map((r) => WORKER_SCHEMA.index[`dropped_${r}`]);
  private readonly conns = new Map<Connection, ConnState>();
  private readonly dirty = new Set<Connection>();
  private readonly held = new Map<Connection, Held>();
  /** Control records (router DCID releases) waiting for TX room. */
  private readonly releases: Uint8Array[] = [];
  private readonly formatter = new AddressFormatter();
  private readonly encoder = new AddressEncoder();
  private readonly ctx;
  private accepting = true;
  private starved = false;
  /** Set by pull(): the connection had nothing more to send. */
  private pulledAll = false;
  private stopped = false;
  private running = false;
  private turnScheduled = false;
  private sleeping = false;
  private idleTurns = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  private timerDeadline = Infinity;
  private retryTimer: NodeJS.Timeout | undefined = undefined;
  private readonly turnCallback = (): void => this.turn();
  private readonly wakeCallback = (): void => {
    this.sleeping = false;
    this.v[this.I.wakeups]!++;
    this.turn();
  };
  private readonly timerCallback = (): void => this.onTimer();
  private readonly retryCallback = (): void => {
    this.retryTimer = undefined;
    this.scheduleTurn();
  };

  constructor(options: ShardOptions) {
    this.index = options.index;
    this.endpoint = options.endpoint;
    this.rx = options.rx;
    this.tx = options.tx;
    this.app = options.app;
    this.clock = options.clock;
    this.metrics = options.metrics ?? new MetricsBlock(WORKER_SCHEMA);
    this.v = this.metrics.values;
    this.batchSize = options.batchSize ?? 256;
    this.burst = options.burst ?? 16;
    this.sendBudget = options.sendBudget ?? 512;
    this.granularity = options.granularity ?? 1;
    this.spinTurns = options.spinTurns ?? 1;
    this.onTurn = options.onTurn;
    const self = this;
    this.ctx = {
      worker: this.index,
      driver: this as SessionDriver<Connection>,
      markDirty(conn: Connection): void {
        self.markDirty(conn);
      },
    };
  }

  // ------------------------------------------------------------------ data path (no timers)

  /** Take up to `batchSize` datagrams from the RX ring into the endpoint. Returns how many. */
  receive(now: number): number {
    const rx = this.rx;
    const v = this.v;
    const I = this.I;
    const max = this.batchSize;
    let n = 0;
    while (n < max) {
      const slot = rx.take();
      if (slot < 0) break;
      n++;
      if (rx.kind(slot) !== SlotKind.Datagram) continue;
      const len = rx.length(slot);
      const datagram = rx.payloadView(slot).subarray(0, len);
      v[I.datagrams_received]!++;
      v[I.bytes_received]! += len;
      let conn: Connection | undefined;
      try {
        // The address family comes from the other thread: a bad one throws here, not out of the loop.
        const from: PathInfo = { remoteAddress: this.formatter.format(rx.family(slot), rx.addressView(slot)), remotePort: rx.port(slot) };
        conn = this.endpoint.handle(datagram, from, now);
      } catch (e) {
        this.coreError('endpoint.handle', e);
        continue;
      }
      if (conn !== undefined) this.dirty.add(conn);
    }
    if (n > 0) {
      // Everything the core keeps it has copied: the slots go back in one store.
      rx.releaseTaken();
      v[I.rx_batches]!++;
    }
    return n;
  }

  /** Events to handlers, then datagrams into the TX ring; publish once. */
  flush(now: number): void {
    // A previous flush may have found the TX ring full; try again (the retry timer only schedules).
    this.starved = false;
    let budget = this.sendBudget;
    budget -= this.sendReleases(budget);
    budget -= this.releaseHeld(now, budget);
    budget -= this.sendEndpointPackets(budget);
    this.pollEndpoint();
    for (const conn of this.dirty) this.pump(conn);
    while (budget > 0 && this.dirty.size > 0 && !this.starved) {
      for (const conn of this.dirty) {
        if (budget <= 0 || this.starved) break;
        const r = this.pull(conn, now, Math.min(this.burst, budget));
        budget -= r;
        if (r >= 0 && this.pulledAll) {
          this.dirty.delete(conn);
          this.endpoint.touch(conn);
          this.pump(conn);
          this.afterConnection(conn);
        }
      }
    }
    this.pollEndpoint();
    this.sendReleases(Infinity);
    this.tx.publish();
    this.v[this.I.connections_active] = this.endpoint.connectionCount;
  }

  /** Pull up to `max` datagrams of one connection into TX slots. Returns how many went out. */
  private pull(conn: Connection, now: number, max: number): number {
    this.pulledAll = false;
    if (this.held.has(conn)) {
      this.pulledAll = true;
      return 0;
    }
    const tx = this.tx;
    let sent = 0;
    while (sent < max) {
      const slot = tx.tryAcquire();
      if (slot < 0) {
        this.starve();
        return sent;
      }
      let info: SendInfo | null;
      try {
        info = conn.send(tx.payloadView(slot), now);
      } catch (e) {
        this.coreError('connection.send', e);
        this.pulledAll = true;
        return sent;
      }
      if (info === null) {
        this.pulledAll = true;
        return sent;
      }
      if (info.releaseTime > now + this.granularity) {
        // Paced beyond the timer granularity: keep a copy, the slot stays ours for the next datagram.
        this.held.set(conn, { data: tx.payloadView(slot).slice(0, info.length), to: info.to, releaseTime: info.releaseTime });
        this.pulledAll = true;
        return sent;
      }
      if (this.commitDatagram(slot, info.length, info.to)) sent++;
    }
    return sent;
  }

  /** Record a datagram written into `slot`. False when its address cannot be carried. */
  private commitDatagram(slot: number, length: number, to: PathInfo): boolean {
    const tx = this.tx;
    const family = this.encoder.encode(to.remoteAddress, tx.addressView(slot));
    if (family === 0) {
      this.v[this.I.tx_bad_address]!++;
      return false;
    }
    tx.commit(slot, length, SlotKind.Datagram, family, to.remotePort);
    this.v[this.I.datagrams_sent]!++;
    this.v[this.I.bytes_sent]! += length;
    return true;
  }

  private starve(): void {
    if (!this.starved) this.v[this.I.tx_ring_full]!++;
    this.starved = true;
    if (this.retryTimer === undefined && !this.stopped) this.retryTimer = setTimeout(this.retryCallback, 1);
  }

  private releaseHeld(now: number, budget: number): number {
    if (this.held.size === 0) return 0;
    let sent = 0;
    for (const [conn, h] of this.held) {
      if (sent >= budget) break;
      if (h.releaseTime > now + this.granularity) continue;
      if (h.data.length > this.tx.payloadCapacity) {
        this.held.delete(conn);
        this.v[this.I.tx_oversize]!++;
        continue;
      }
      const slot = this.tx.tryAcquire();
      if (slot < 0) {
        this.starve();
        break;
      }
      this.tx.payloadView(slot).set(h.data, 0);
      this.held.delete(conn);
      if (this.commitDatagram(slot, h.data.length, h.to)) sent++;
      this.dirty.add(conn);
    }
    return sent;
  }

  private sendEndpointPackets(budget: number): number {
    let sent = 0;
    const tx = this.tx;
    while (sent < budget && this.endpoint.queuedPackets > 0) {
      const slot = tx.tryAcquire();
      if (slot < 0) {
        this.starve();
        break;
      }
      let info: SendInfo | null;
      try {
        info = this.endpoint.sendEndpointPacket(tx.payloadView(slot));
      } catch (e) {
        this.coreError('endpoint.sendEndpointPacket', e);
        break;
      }
      if (info === null) break;
      if (this.commitDatagram(slot, info.length, info.to)) sent++;
    }
    return sent;
  }

  /** Router DCID releases, in order, as Control slots. */
  private sendReleases(budget: number): number {
    let n = 0;
    while (n < budget && this.releases.length > 0) {
      const dcid = this.releases[0]!;
      const slot = this.tx.tryAcquire();
      if (slot < 0) {
        this.starve();
        break;
      }
      this.tx.payloadView(slot).set(dcid, 0);
      this.tx.commit(slot, dcid.length, SlotKind.Control, 0, 0);
      this.releases.shift();
      this.v[this.I.dcids_released]!++;
      n++;
    }
    return n;
  }

  private pollEndpoint(): void {
    let ev;
    while ((ev = this.endpoint.poll()) !== undefined) {
      const conn = ev.connection;
      if (ev.type === 'connection') {
        this.v[this.I.connections_accepted]!++;
        const st: ConnState = { handler: undefined, routerDcid: conn.originalDcid.slice(), handshakeDone: false, refused: false, pathChanges: 0 };
        this.conns.set(conn, st);
        if (!this.accepting) {
          // Draining: refuse (RFC 9000 §5.2.2 CONNECTION_REFUSED) rather than start new work.
          conn.close(0x02, 'server draining', false);
          st.refused = true;
        } else {
          try {
            st.handler = this.app.onConnection(conn, this.ctx);
          } catch (e) {
            this.coreError('app.onConnection', e);
          }
        }
        this.dirty.add(conn);
      } else {
        this.pump(conn);
        const st = this.conns.get(conn);
        this.conns.delete(conn);
        this.dirty.delete(conn);
        this.held.delete(conn);
        this.v[this.I.connections_closed]!++;
        if (st !== undefined) {
          if (!st.handshakeDone && !st.refused) this.v[this.I.handshakes_failed]!++;
          this.releaseRouterEntry(st);
          try {
            st.handler?.onRemoved?.();
          } catch (e) {
            this.coreError('app.onRemoved', e);
          }
        }
      }
    }
  }

  /** Deliver a connection's pending events to its handler. */
  private pump(conn: Connection): void {
    const st = this.conns.get(conn);
    const handler = st?.handler;
    let ev: ConnectionEvent | undefined;
    while ((ev = conn.pollEvent()) !== undefined) {
      if (st !== undefined) {
        if (ev.type === 'handshake-completed') {
          st.handshakeDone = true;
          this.v[this.I.handshakes_completed]!++;
        } else if (ev.type === 'path-migrated') {
          st.pathChanges++;
        }
      }
      if (handler === undefined) continue;
      try {
        handler.onEvent(ev);
      } catch (e) {
        this.coreError('app.onEvent', e);
      }
    }
    if (handler?.afterEvents !== undefined) {
      try {
        handler.afterEvents();
      } catch (e) {
        this.coreError('app.afterEvents', e);
      }
    }
  }

  /** After a connection ran: give the router its DCID back once past the handshake. */
  private afterConnection(conn: Connection): void {
    const st = this.conns.get(conn);
    if (st !== undefined && st.routerDcid !== null && conn.state !== 'handshaking') this.releaseRouterEntry(st);
  }

  private releaseRouterEntry(st: ConnState): void {
    if (st.routerDcid === null) return;
    this.releases.push(st.routerDcid);
    st.routerDcid = null;
  }

  private coreError(where: string, e: unknown): void {
    this.v[this.I.core_errors]!++;
    process.emitWarning(`quiver shard ${this.index}: ${where} threw: ${(e as Error)?.stack ?? String(e)}`, { code: 'QUIVER_CORE' });
  }

  /**
   * Earliest deadline: connection timers and held datagrams. The endpoint drops connections that
   * reached 'closed' while computing it; their removal is handled here at once (app notified,
   * router entry released and published) rather than at the next datagram.
   */
  nextDeadline(): number {
    let t = this.endpoint.nextTimeout();
    this.settleRemovals();
    for (const h of this.held.values()) if (h.releaseTime < t) t = h.releaseTime;
    return t;
  }

  /** Endpoint events now (connections removed outside a flush), and their router releases published. */
  private settleRemovals(): void {
    this.pollEndpoint();
    if (this.releases.length > 0) {
      this.sendReleases(Infinity);
      this.tx.publish();
    }
  }

  /** Run every due connection timer. */
  runTimers(now: number): void {
    for (const conn of this.endpoint.connections()) {
      if (conn.nextTimeout() <= now) {
        try {
          conn.onTimeout(now);
        } catch (e) {
          this.coreError('connection.onTimeout', e);
        }
        this.dirty.add(conn);
        this.endpoint.touch(conn);
      }
    }
    if (this.held.size > 0) for (const [conn, h] of this.held) if (h.releaseTime <= now + this.granularity) this.dirty.add(conn);
    this.settleRemovals();
  }

  /** The application acted outside an event: flush this connection soon. */
  markDirty(conn: Connection): void {
    if (this.stopped) return;
    this.dirty.add(conn);
    this.scheduleTurn();
  }

  /** SessionDriver: stop delivering `conn`'s events (its session ended). */
  detach(conn: Connection): void {
    const st = this.conns.get(conn);
    if (st !== undefined) st.handler = undefined;
  }

  /** SessionDriver: the worker's loop keeps its thread alive on its own (rings, control port). */
  ref(_on: boolean): void {}

  /** SessionDriver: a server session never stops the shard (the control plane does). */
  close(): Promise<void> {
    return Promise.resolve();
  }

  // ------------------------------------------------------------------ the loop

  /** Start the loop (RX wake-ups, one timer). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleTurn();
  }

  /** Stop the loop and the timer (connections are left as they are). */
  stop(): void {
    this.stopped = true;
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.timer = undefined;
    this.retryTimer = undefined;
  }

  private scheduleTurn(): void {
    if (this.turnScheduled || this.stopped || !this.running) return;
    this.turnScheduled = true;
    setImmediate(this.turnCallback);
  }

  /** One loop turn: receive a batch, flush, then decide: run again, spin, or sleep. */
  turn(): void {
    this.turnScheduled = false;
    if (this.stopped) return;
    const now = this.clock();
    this.v[this.I.heartbeat_ms] = now;
    const n = this.receive(now);
    this.flush(now);
    this.syncEndpointMetrics();
    this.onTurn?.();
    this.armTimer(now);
    if (n > 0 || (this.dirty.size > 0 && !this.starved)) {
      this.idleTurns = 0;
      this.scheduleTurn();
      return;
    }
    if (this.idleTurns < this.spinTurns) {
      this.idleTurns++;
      this.scheduleTurn();
      return;
    }
    this.idleTurns = 0;
    if (this.sleeping) return;
    const p = this.rx.waitForData();
    if (p === null) {
      this.scheduleTurn();
      return;
    }
    this.sleeping = true;
    void p.then(this.wakeCallback);
  }

  private armTimer(now: number): void {
    if (this.stopped) return;
    const deadline = this.nextDeadline();
    if (deadline === Infinity) return;
    if (this.timer !== undefined && this.timerDeadline <= deadline) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerDeadline = deadline;
    this.timer = setTimeout(this.timerCallback, Math.max(0, Math.ceil(deadline - now)));
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerDeadline = Infinity;
    if (this.stopped) return;
    this.v[this.I.timer_fires]!++;
    this.runTimers(this.clock());
    this.turn();
  }

  // ------------------------------------------------------------------ control plane

  /** Refuse new connections (they are closed with CONNECTION_REFUSED) or accept again. */
  setAccepting(on: boolean): void {
    this.accepting = on;
  }

  /** Close every connection (CONNECTION_CLOSE with an application `code`) and flush. */
  closeAll(code: number, reason: string): number {
    const now = this.clock();
    let n = 0;
    for (const conn of this.endpoint.connections()) {
      if (conn.state === 'handshaking' || conn.state === 'established') {
        conn.close(code, reason, true, now);
        n++;
      }
      this.dirty.add(conn);
    }
    this.flush(now);
    if (this.running) this.armTimer(now);
    return n;
  }

  get connectionCount(): number {
    return this.endpoint.connectionCount;
  }

  snapshot(): ShardSnapshot {
    // Mirror the endpoint's own counters into the block so a scrape sees them too.
    this.syncEndpointMetrics();
    const connections: ShardConnectionInfo[] = [];
    for (const [conn, st] of this.conns) {
      const s = conn.stats;
      const path = conn.path;
      connections.push({
        localCids: conn.localCids.map(hex),
        originalDcid: hex(conn.originalDcid),
        remoteAddress: path.remoteAddress,
        remotePort: path.remotePort,
        state: conn.state,
        alpn: conn.handshakeComplete ? conn.alpn : '',
        handshakeComplete: conn.handshakeComplete,
        pathChanges: st.pathChanges,
        bytesSent: s.bytesSent,
        bytesReceived: s.bytesReceived,
      });
    }
    return {
      worker: this.index,
      metrics: this.metrics.snapshot(),
      endpoint: structuredClone(this.endpoint.stats),
      rx: this.rx.counters(),
      tx: this.tx.counters(),
      connections,
      accepting: this.accepting,
    };
  }

  /** Copy the endpoint's counters (drops by reason, VN/Retry/reset sent) into the metrics block. */
  syncEndpointMetrics(): void {
    const st = this.endpoint.stats;
    const v = this.v;
    const I = this.I;
    const idx = this.dropIndex;
    for (let i = 0; i < idx.length; i++) v[idx[i]!] = st.dropped[DROP_REASONS[i]!];
    v[I.version_negotiation_sent] = st.versionNegotiationSent;
    v[I.retry_sent] = st.retrySent;
    v[I.stateless_reset_sent] = st.statelessResetSent;
    v[I.connections_active] = st.connectionsActive;
  }
}
