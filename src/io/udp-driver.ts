// L7: the UDP driver — runs the sans-IO endpoint (L5) and its connections (L4) on node:dgram
// sockets (DESIGN §2: the core is fed datagrams and time; this loop owns sockets and the clock).
//
// - Receive: every datagram goes to endpoint.handle() at once (the core decrypts in place; the
//   Buffer dgram hands us is the only per-datagram allocation, and it is Node's); the connection it
//   routed to is marked dirty and ONE flush is scheduled per event-loop turn (setImmediate runs
//   after the poll phase has delivered every datagram that was ready, so a turn's receives batch).
// - Flush: endpoint packets (VN/Retry/reset), endpoint events (new connections → sinks), then for
//   every dirty connection: deliver its events to its sink (the application reacts synchronously,
//   e.g. writes to a stream), then pull datagrams with conn.send() into pooled send slots
//   (src/io/send-ring.ts) round-robin, a burst per connection per round, a budget per turn so
//   receives are not starved. A datagram whose SendInfo.releaseTime lies beyond the timer
//   granularity is held (pacing, RFC 9002 §7.7) and the connection is not pulled again until then.
// - One timer for everything: re-armed to the minimum of every connection's nextTimeout() and every
//   held datagram's release time; on expiry due connections get onTimeout(now) and a flush.
//   Deadlines live in a min-heap keyed by connection (lazy deletion): after a flush only the
//   connections it touched are asked for nextTimeout() again, so a flush costs O(touched · log n),
//   not O(connections). With few connections (≤ SMALL_POPULATION) every flush still re-reads them
//   all; with more, a sweep re-reads them all once per SWEEP_MS as a safety net for state changed
//   without markDirty().
// - Backpressure: dgram/libuv never reports EAGAIN (it queues the send instead), so the bound is
//   the ring: a slot returns when dgram's callback fires; when none is free the flush stops and
//   resumes on the next release. Send errors (ENOBUFS, EHOSTUNREACH, …) are counted; QUIC's loss
//   recovery treats them as loss.
import type dgram from 'node:dgram';
import type { ConnectionEvent, PathInfo, SendInfo } from '../connection/types.js';
import { monotonicNow, type Clock } from './clock.js';
import { SendRing, type SendSlot } from './send-ring.js';
import type { BoundSocket } from './udp-socket.js';

/** What the driver needs of a connection (src/connection's Connection satisfies it). */
export interface DriverConnection {
  send(out: Uint8Array, now: number): SendInfo | null;
  nextTimeout(): number;
  onTimeout(now: number): void;
  pollEvent(): ConnectionEvent | undefined;
  readonly state: string;
}

export type DriverEndpointEvent<C> = { type: 'connection'; connection: C; path: PathInfo } | { type: 'connection-closed'; connection: C };

/** What the driver needs of an endpoint (src/endpoint's Endpoint satisfies it). */
export interface DriverEndpoint<C extends DriverConnection> {
  handle(datagram: Uint8Array, from: PathInfo, now: number): C | undefined;
  sendEndpointPacket(out: Uint8Array): SendInfo | null;
  poll(): DriverEndpointEvent<C> | undefined;
  connections(): Iterable<C>;
  touch(conn: C): void;
}

/** Receives one connection's events (a session). */
export interface ConnectionSink {
  onEvent(event: ConnectionEvent): void;
  /** The endpoint removed the connection (after its 'closed' event). */
  onRemoved?(): void;
  /** Called after each batch of events was delivered (the connection received, timed out or was kicked). */
  afterEvents?(): void;
}

export interface DriverOptions<C> {
  clock?: Clock;
  /** Send slots (default 512). */
  ringSize?: number;
  /** Bytes per send slot = largest datagram (default 1500). */
  slotSize?: number;
  /** Datagrams sent per flush before yielding to the event loop (default 256). */
  batchSize?: number;
  /** Datagrams pulled from one connection per round-robin round (default 16). */
  burst?: number;
  /** A datagram due within this many ms is sent now (timer granularity; default 1). */
  granularity?: number;
  /** A new server connection: return its sink (or undefined to leave its events unread). */
  onConnection?: (conn: C, path: PathInfo) => ConnectionSink | undefined;
  /** Called after every flush (metrics, tests). */
  onFlush?: () => void;
  /** A socket reported an error (on a connected socket: ICMP unreachable → ECONNREFUSED). */
  onSocketError?: (err: Error) => void;
}

export interface DriverStats {
  datagramsReceived: number;
  bytesReceived: number;
  datagramsSent: number;
  bytesSent: number;
  /** dgram send callbacks that reported an error (see sendErrorsByCode). */
  sendErrors: number;
  /** Datagrams the core produced for an address family we have no socket for. */
  noSocket: number;
  /** Flushes that stopped because every send slot was with the kernel. */
  ringExhausted: number;
  /** Datagrams held for their pacing release time. */
  paced: number;
  /** Exceptions thrown by endpoint.handle() (a core bug; the datagram is dropped). */
  receiveErrors: number;
  flushes: number;
  timerFires: number;
}

interface SocketEntry {
  bound: BoundSocket;
  /** Connected sockets (client) send without an address. */
  connected: PathInfo | undefined;
}

/** Up to this many connections every flush re-reads every deadline (cheap, and needs no bookkeeping). */
const SMALL_POPULATION = 64;
/** With more connections, every deadline is re-read at least this often (ms). */
const SWEEP_MS = 1000;

interface Held {
  slot: SendSlot;
  length: number;
  to: PathInfo;
  releaseTime: number;
}

export class UdpDriver<C extends DriverConnection> {
  readonly endpoint: DriverEndpoint<C>;
  readonly stats: DriverStats = {
    datagramsReceived: 0,
    bytesReceived: 0,
    datagramsSent: 0,
    bytesSent: 0,
    sendErrors: 0,
    noSocket: 0,
    ringExhausted: 0,
    paced: 0,
    receiveErrors: 0,
    flushes: 0,
    timerFires: 0,
  };
  readonly ring: SendRing;
  readonly clock: Clock;

  private readonly sockets: SocketEntry[] = [];
  private v4: SocketEntry | undefined;
  private v6: SocketEntry | undefined;
  private readonly sinks = new Map<C, ConnectionSink>();
  private readonly dirty = new Set<C>();
  private readonly held = new Map<C, Held>();
  private readonly batchSize: number;
  private readonly burst: number;
  private readonly granularity: number;
  private readonly onConnection: ((conn: C, path: PathInfo) => ConnectionSink | undefined) | undefined;
  private readonly onFlush: (() => void) | undefined;
  private readonly onSocketError: ((err: Error) => void) | undefined;
  private flushScheduled = false;
  private flushing = false;
  private starved = false;
  private timer: NodeJS.Timeout | undefined = undefined;
  private timerDeadline = Infinity;
  private closed = false;
  private readonly flushCallback = (): void => this.flush();
  private readonly timerCallback = (): void => this.onTimer();
  /** Last nextTimeout() read per connection (NaN: consumed by a timer fire, to be re-read). */
  private readonly deadlines = new Map<C, number>();
  /** Min-heap of (deadline, connection); an entry is live while deadlines.get(conn) === deadline. */
  private readonly heapT: number[] = [];
  private readonly heapC: C[] = [];
  /** Connections pumped or pulled in the current flush (their deadlines are re-read after it). */
  private readonly touched = new Set<C>();
  private lastSweep = -Infinity;

  constructor(endpoint: DriverEndpoint<C>, options: DriverOptions<C> = {}) {
    this.endpoint = endpoint;
    this.clock = options.clock ?? monotonicNow;
    this.batchSize = options.batchSize ?? 256;
    this.burst = options.burst ?? 16;
    this.granularity = options.granularity ?? 1;
    this.onConnection = options.onConnection;
    this.onFlush = options.onFlush;
    this.onSocketError = options.onSocketError;
    this.ring = new SendRing(options.ringSize ?? 512, options.slotSize ?? 1500, (err) => {
      if (err !== null) this.stats.sendErrors++;
      if (this.starved && !this.closed) {
        this.starved = false;
        this.scheduleFlush();
      }
    });
  }

  /** Start reading from a bound socket. `connected`: the socket was connect()ed to this peer. */
  addSocket(bound: BoundSocket, connected?: PathInfo): void {
    const entry: SocketEntry = { bound, connected };
    this.sockets.push(entry);
    if (bound.family === 'IPv6') this.v6 ??= entry;
    else this.v4 ??= entry;
    const local = bound.address;
    const localPort = bound.port;
    bound.socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      // A plain Uint8Array view (no copy): the core copies with .slice(), which on a Buffer would
      // return a view of the datagram it then decrypts in place.
      const datagram = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
      this.receive(datagram, { remoteAddress: rinfo.address, remotePort: rinfo.port, localAddress: local, localPort }, this.clock());
    });
    // ICMP errors surface on connected sockets as 'error' (ECONNREFUSED): loss, not a crash.
    bound.socket.on('error', (err: Error) => {
      this.stats.sendErrors++;
      this.onSocketError?.(err);
    });
  }

  get boundSockets(): readonly BoundSocket[] {
    return this.sockets.map((s) => s.bound);
  }

  /** Deliver one datagram (exposed for tests and for routers that receive elsewhere). */
  receive(datagram: Uint8Array, from: PathInfo, now: number): void {
    if (this.closed) return;
    this.stats.datagramsReceived++;
    this.stats.bytesReceived += datagram.length;
    let conn: C | undefined;
    try {
      conn = this.endpoint.handle(datagram, from, now);
    } catch (e) {
      this.stats.receiveErrors++;
      process.emitWarning(`quiver: endpoint.handle threw (datagram dropped): ${(e as Error)?.stack ?? String(e)}`, { code: 'QUIVER_CORE' });
      return;
    }
    if (conn !== undefined) this.dirty.add(conn);
    this.scheduleFlush();
  }

  /** Route a connection's events to `sink` (sessions call this for client connections). */
  attach(conn: C, sink: ConnectionSink): void {
    this.sinks.set(conn, sink);
    this.markDirty(conn);
  }

  detach(conn: C): void {
    this.sinks.delete(conn);
  }

  /** The application acted on a connection (stream write, close, datagram…): flush this turn. */
  markDirty(conn: C): void {
    if (this.closed) return;
    this.dirty.add(conn);
    this.scheduleFlush();
  }

  scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(this.flushCallback);
  }

  /** Send everything due now. Normally runs from setImmediate; tests may call it directly. */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.flushing) return;
    this.flushing = true;
    try {
      this.stats.flushes++;
      let now = this.clock();
      let budget = this.batchSize;
      budget -= this.releaseHeld(now, budget);
      budget -= this.sendEndpointPackets(budget);
      this.pollEndpoint();
      // Events first: the application's reactions (writes) go out in this same flush.
      for (const conn of this.dirty) this.pump(conn);
      // Then datagrams, round-robin.
      while (budget > 0 && this.dirty.size > 0 && !this.starved) {
        for (const conn of this.dirty) {
          if (budget <= 0 || this.starved) break;
          const r = this.pull(conn, now, Math.min(this.burst, budget));
          budget -= r.sent;
          if (r.done) {
            this.dirty.delete(conn);
            this.endpoint.touch(conn);
            this.pump(conn);
          }
        }
        now = this.clock();
      }
      this.pollEndpoint();
    } finally {
      this.flushing = false;
    }
    if (this.dirty.size > 0 && !this.starved) this.scheduleFlush();
    this.armTimer(this.clock());
    this.onFlush?.();
  }

  /** Deliver a connection's pending events to its sink. */
  private pump(conn: C): void {
    this.touched.add(conn);
    const sink = this.sinks.get(conn);
    let ev: ConnectionEvent | undefined;
    while ((ev = conn.pollEvent()) !== undefined) {
      if (sink === undefined) continue;
      try {
        sink.onEvent(ev);
      } catch (e) {
        // Like an EventEmitter listener that throws: surface it, but keep the loop consistent.
        process.nextTick(() => {
          throw e;
        });
      }
    }
    if (sink?.afterEvents !== undefined) {
      try {
        sink.afterEvents();
      } catch (e) {
        process.nextTick(() => {
          throw e;
        });
      }
    }
  }

  private pollEndpoint(): void {
    let ev: DriverEndpointEvent<C> | undefined;
    while ((ev = this.endpoint.poll()) !== undefined) {
      if (ev.type === 'connection') {
        const sink = this.onConnection?.(ev.connection, ev.path);
        if (sink !== undefined) this.sinks.set(ev.connection, sink);
        this.dirty.add(ev.connection);
      } else {
        const conn = ev.connection;
        this.pump(conn);
        const sink = this.sinks.get(conn);
        this.sinks.delete(conn);
        this.dirty.delete(conn);
        this.touched.delete(conn);
        this.deadlines.delete(conn); // its heap entries are dead now
        const h = this.held.get(conn);
        if (h !== undefined) {
          this.held.delete(conn);
          this.ring.release(h.slot);
        }
        sink?.onRemoved?.();
      }
    }
  }

  /** Pull up to `max` datagrams from one connection. done: it has nothing more for now. */
  private pull(conn: C, now: number, max: number): { sent: number; done: boolean } {
    this.touched.add(conn);
    if (this.held.has(conn)) return { sent: 0, done: true };
    let sent = 0;
    while (sent < max) {
      const slot = this.ring.acquire();
      if (slot === undefined) {
        this.starved = true;
        this.stats.ringExhausted++;
        return { sent, done: false };
      }
      let info: SendInfo | null;
      try {
        info = conn.send(slot.buf, now);
      } catch (e) {
        this.ring.release(slot);
        process.emitWarning(`quiver: connection.send threw: ${(e as Error)?.stack ?? String(e)}`, { code: 'QUIVER_CORE' });
        return { sent, done: true };
      }
      if (info === null) {
        this.ring.release(slot);
        return { sent, done: true };
      }
      if (info.releaseTime > now + this.granularity) {
        this.stats.paced++;
        this.held.set(conn, { slot, length: info.length, to: info.to, releaseTime: info.releaseTime });
        return { sent, done: true };
      }
      this.transmit(slot, info.length, info.to);
      sent++;
    }
    return { sent, done: false };
  }

  private releaseHeld(now: number, budget: number): number {
    let sent = 0;
    if (this.held.size === 0) return 0;
    for (const [conn, h] of this.held) {
      if (sent >= budget) break;
      if (h.releaseTime > now + this.granularity) continue;
      this.held.delete(conn);
      this.transmit(h.slot, h.length, h.to);
      sent++;
      this.dirty.add(conn);
    }
    return sent;
  }

  private sendEndpointPackets(budget: number): number {
    let sent = 0;
    while (sent < budget) {
      const slot = this.ring.acquire();
      if (slot === undefined) {
        this.starved = true;
        break;
      }
      const info = this.endpoint.sendEndpointPacket(slot.buf);
      if (info === null) {
        this.ring.release(slot);
        break;
      }
      this.transmit(slot, info.length, info.to);
      sent++;
    }
    return sent;
  }

  private socketFor(address: string): SocketEntry | undefined {
    if (this.sockets.length === 1) return this.sockets[0];
    return address.includes(':') ? (this.v6 ?? this.v4) : (this.v4 ?? this.v6);
  }

  private transmit(slot: SendSlot, length: number, to: PathInfo): void {
    const entry = this.socketFor(to.remoteAddress);
    if (entry === undefined) {
      this.stats.noSocket++;
      this.ring.release(slot);
      return;
    }
    slot.length = length;
    this.stats.datagramsSent++;
    this.stats.bytesSent += length;
    try {
      const c = entry.connected;
      if (c !== undefined && c.remotePort === to.remotePort && c.remoteAddress === to.remoteAddress) {
        entry.bound.socket.send(slot.buf, 0, length, slot.onSent);
      } else if (c !== undefined) {
        // A connected socket cannot reach another address (e.g. a server's preferred address).
        this.stats.noSocket++;
        this.ring.release(slot);
      } else {
        entry.bound.socket.send(slot.buf, 0, length, to.remotePort, to.remoteAddress, slot.onSent);
      }
    } catch {
      // Socket closed underneath us (ERR_SOCKET_DGRAM_NOT_RUNNING): the datagram is lost.
      this.stats.sendErrors++;
      this.ring.release(slot);
    }
  }

  /** Earliest deadline: connection timers (as last read) and held datagrams. */
  nextDeadline(): number {
    let t = this.heapMin();
    for (const h of this.held.values()) if (h.releaseTime < t) t = h.releaseTime;
    return t;
  }

  /** Re-read one connection's nextTimeout(); a changed deadline gets a heap entry. */
  private track(conn: C): void {
    const d = conn.nextTimeout();
    if (this.deadlines.get(conn) === d) return;
    this.deadlines.set(conn, d);
    if (d !== Infinity) this.heapPush(d, conn);
  }

  /** Re-read every connection's deadline (all of them when few, else once per SWEEP_MS). */
  private refreshDeadlines(now: number): void {
    for (const conn of this.touched) this.track(conn);
    this.touched.clear();
    if (this.deadlines.size <= SMALL_POPULATION || now - this.lastSweep >= SWEEP_MS) {
      this.lastSweep = now;
      for (const conn of this.endpoint.connections()) this.track(conn);
    }
    // Dead entries sink out at the top; rebuild when they outnumber the live ones.
    if (this.heapT.length > 64 && this.heapT.length > 4 * this.deadlines.size) this.rebuildHeap();
  }

  private armTimer(now: number): void {
    if (this.closed) return;
    this.refreshDeadlines(now);
    let deadline = this.nextDeadline();
    if (this.deadlines.size > SMALL_POPULATION && this.lastSweep + SWEEP_MS < deadline) deadline = this.lastSweep + SWEEP_MS;
    if (deadline === Infinity) return;
    // A timer that fires earlier than needed only costs a re-arm; keep an earlier one.
    if (this.timer !== undefined && this.timerDeadline <= deadline) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerDeadline = deadline;
    this.timer = setTimeout(this.timerCallback, Math.max(0, Math.ceil(deadline - now)));
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerDeadline = Infinity;
    if (this.closed) return;
    this.stats.timerFires++;
    const now = this.clock();
    // Few connections: re-read them all, as every flush does (a deadline changed since is honoured).
    if (this.deadlines.size <= SMALL_POPULATION) for (const conn of this.endpoint.connections()) this.track(conn);
    // Live heap entries that are due, earliest first. Reading the deadline NaN marks it consumed:
    // any other entry of the same connection is dead, and the flush below re-reads it.
    while (this.heapT.length > 0) {
      const t = this.heapT[0]!;
      const conn = this.heapC[0]!;
      if (this.deadlines.get(conn) !== t) {
        this.heapPop();
        continue;
      }
      if (t > now) break;
      this.heapPop();
      this.deadlines.set(conn, NaN);
      this.touched.add(conn);
      if (conn.nextTimeout() > now) continue; // moved later without our seeing it: re-read only
      try {
        conn.onTimeout(now);
      } catch (e) {
        process.emitWarning(`quiver: connection.onTimeout threw: ${(e as Error)?.stack ?? String(e)}`, { code: 'QUIVER_CORE' });
      }
      this.dirty.add(conn);
      this.endpoint.touch(conn);
    }
    this.flush();
  }

  // ---- deadline heap (parallel arrays; lazy deletion) ----

  private heapMin(): number {
    while (this.heapT.length > 0) {
      const t = this.heapT[0]!;
      if (this.deadlines.get(this.heapC[0]!) === t) return t;
      this.heapPop();
    }
    return Infinity;
  }

  private heapPush(t: number, c: C): void {
    const ht = this.heapT;
    const hc = this.heapC;
    let i = ht.length;
    ht.push(t);
    hc.push(c);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (ht[p]! <= t) break;
      ht[i] = ht[p]!;
      hc[i] = hc[p]!;
      i = p;
    }
    ht[i] = t;
    hc[i] = c;
  }

  private heapPop(): void {
    const ht = this.heapT;
    const hc = this.heapC;
    const lastT = ht.pop()!;
    const lastC = hc.pop()!;
    if (ht.length === 0) return;
    this.siftDown(0, lastT, lastC);
  }

  private siftDown(i: number, t: number, c: C): void {
    const ht = this.heapT;
    const hc = this.heapC;
    const n = ht.length;
    for (;;) {
      let m = 2 * i + 1;
      if (m >= n) break;
      if (m + 1 < n && ht[m + 1]! < ht[m]!) m++;
      if (ht[m]! >= t) break;
      ht[i] = ht[m]!;
      hc[i] = hc[m]!;
      i = m;
    }
    ht[i] = t;
    hc[i] = c;
  }

  /** Keep only live entries (one per connection) and restore the heap order. */
  private rebuildHeap(): void {
    const ht = this.heapT;
    const hc = this.heapC;
    ht.length = 0;
    hc.length = 0;
    for (const [c, t] of this.deadlines) {
      if (t === t && t !== Infinity) {
        ht.push(t);
        hc.push(c);
      }
    }
    for (let i = (ht.length >> 1) - 1; i >= 0; i--) this.siftDown(i, ht[i]!, hc[i]!);
  }

  /** Keep the process alive while this driver has sockets (default), or not. */
  ref(on: boolean): void {
    for (const s of this.sockets) {
      if (on) s.bound.socket.ref();
      else s.bound.socket.unref();
    }
  }

  /** Stop: close the sockets and the timer. Connections are not closed (do that first). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const h of this.held.values()) this.ring.release(h.slot);
    this.held.clear();
    this.dirty.clear();
    this.touched.clear();
    this.deadlines.clear();
    this.heapT.length = 0;
    this.heapC.length = 0;
    return Promise.all(
      this.sockets.map(
        (s) =>
          new Promise<void>((resolve) => {
            try {
              s.bound.socket.close(() => resolve());
            } catch {
              resolve();
            }
          }),
      ),
    ).then(() => undefined);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
