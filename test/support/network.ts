// Test support: a virtual network with one virtual clock that drives a server Endpoint and any
// number of client Endpoints (DESIGN §6: no sockets, a virtual clock, seeded impairments).
//
// Each client node talks to the server node through two Links (up: client → server, down: server →
// client). A client sits behind a NAT: the server sees its external address, which rebind() changes
// mid-run (NAT rebinding); datagrams for a stale external address are lost. One step of the loop:
//   1. run scheduled actions and deliver every datagram due at `now` to its node (endpoint.handle);
//   2. run due timers (endpoint.onTimeout);
//   3. pull each node's endpoint packets and each connection's datagrams (send() until null) into
//      the links — a datagram with a future releaseTime (pacing) enters the link at that time;
//   4. pump connection and endpoint events to the registered handlers (the test's "application");
//   5. advance the clock to the earliest of: next delivery, next release, next timer, next action.
// Everything is iterated in insertion order and every random decision comes from seeded links, so a
// seed reproduces a run.
import { Endpoint, type EndpointConnection, type EndpointEvent, type PathInfo, type SendInfo } from '../../src/endpoint/index.js';
import type { ConnectionEvent } from '../../src/connection/types.js';
import { Link, type LinkConfig } from './link.js';
import { VIRTUAL_EPOCH } from './cert.js';

/** What the network needs of a connection beyond what the endpoint needs. */
export interface NetConnection extends EndpointConnection {
  pollEvent(): ConnectionEvent | undefined;
}

export interface NodeAddress {
  address: string;
  port: number;
}

export class NetNode<C extends NetConnection> {
  readonly name: string;
  readonly endpoint: Endpoint<C>;
  /** The address the node itself uses (its local address). */
  readonly local: NodeAddress;
  /** The address others see (differs from `local` behind a NAT after rebinding). */
  external: NodeAddress;
  /** Client nodes: the links to and from the server. */
  up: Link | undefined;
  down: Link | undefined;
  readonly isServer: boolean;
  /** Connection events seen (stream-readable/writable events are counted, not stored). */
  readonly log: Array<{ time: number; conn: C; event: ConnectionEvent }> = [];
  readonly eventCounts: Record<string, number> = {};

  constructor(name: string, endpoint: Endpoint<C>, local: NodeAddress, isServer: boolean) {
    this.name = name;
    this.endpoint = endpoint;
    this.local = local;
    this.external = { ...local };
    this.isServer = isServer;
  }

  /** Events of one type logged for `conn` (or any connection). */
  events<T extends ConnectionEvent['type']>(type: T, conn?: C): Array<Extract<ConnectionEvent, { type: T }>> {
    const out: Array<Extract<ConnectionEvent, { type: T }>> = [];
    for (const e of this.log) if (e.event.type === type && (conn === undefined || e.conn === conn)) out.push(e.event as Extract<ConnectionEvent, { type: T }>);
    return out;
  }
}

interface InFlight {
  at: number;
  seq: number;
  data: Uint8Array;
  from: NodeAddress;
  to: NodeAddress;
  /** Link to enter at `at` (a paced datagram not yet transmitted), or null when arriving at `at`. */
  enter: Link | null;
  sender: NetNode<NetConnection> | null;
}

export type ConnectionHandler<C extends NetConnection> = (node: NetNode<C>, conn: C, event: ConnectionEvent, net: VirtualNetwork<C>) => void;
export type EndpointHandler<C extends NetConnection> = (node: NetNode<C>, event: EndpointEvent<C>, net: VirtualNetwork<C>) => void;
export type TapHandler = (kind: 'transmit' | 'deliver' | 'unroutable', data: Uint8Array, from: NodeAddress, to: NodeAddress, time: number) => void;

export interface NetworkOptions {
  seed: number;
  /** Virtual time at the start (default VIRTUAL_EPOCH). */
  start?: number;
  /** Buffer size handed to send() (default 1500). */
  mtu?: number;
  /** Safety net: most datagrams one connection may produce in one step (default 100 000). */
  maxBurst?: number;
}

/** Tiny binary heap ordered by (at, seq). */
class Heap {
  private readonly items: InFlight[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): InFlight | undefined {
    return this.items[0];
  }
  push(x: InFlight): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p]!, a[i]!)) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): InFlight | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: InFlight, b: InFlight): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function addrKey(a: NodeAddress): string {
  return `${a.address}|${a.port}`;
}

export class VirtualNetwork<C extends NetConnection = NetConnection> {
  now: number;
  readonly seed: number;
  readonly start: number;
  readonly nodes: NetNode<C>[] = [];
  server: NetNode<C> | undefined;
  /** Datagrams sent to an address no node owns (e.g. a NAT mapping that rebinding removed). */
  unroutable = 0;
  /** Loop iterations so far. */
  steps = 0;

  private readonly heap = new Heap();
  private seq = 0;
  private linkSeed: number;
  private readonly byExternal = new Map<string, NetNode<C>>();
  private readonly buf: Uint8Array;
  private readonly maxBurst: number;
  private readonly lastRelease = new WeakMap<C, number>();
  private readonly actions: Array<{ at: number; seq: number; fn: () => void }> = [];
  private connHandlers: ConnectionHandler<C>[] = [];
  private endpointHandlers: EndpointHandler<C>[] = [];
  private taps: TapHandler[] = [];

  constructor(options: NetworkOptions) {
    this.seed = options.seed;
    this.start = options.start ?? VIRTUAL_EPOCH;
    this.now = this.start;
    this.linkSeed = (options.seed * 7919) >>> 0;
    this.buf = new Uint8Array(options.mtu ?? 1500);
    this.maxBurst = options.maxBurst ?? 100_000;
  }

  /** Milliseconds since the start of the run. */
  get elapsed(): number {
    return this.now - this.start;
  }

  addServer(endpoint: Endpoint<C>, address: NodeAddress = { address: '10.0.0.1', port: 443 }, name = 'server'): NetNode<C> {
    if (this.server !== undefined) throw new TypeError('addServer: the network already has a server');
    const node = new NetNode<C>(name, endpoint, address, true);
    this.server = node;
    this.nodes.push(node);
    this.byExternal.set(addrKey(address), node);
    return node;
  }

  /** A client node behind its own links (each direction seeded from the network seed). */
  addClient(endpoint: Endpoint<C>, options: { address?: string; port?: number; up?: LinkConfig; down?: LinkConfig; name?: string } = {}): NetNode<C> {
    const n = this.nodes.filter((x) => !x.isServer).length + 1;
    const local = { address: options.address ?? `10.0.1.${n}`, port: options.port ?? 50000 + n };
    const node = new NetNode<C>(options.name ?? `client${n}`, endpoint, local, false);
    node.up = new Link(this.nextLinkSeed(), options.up ?? {}, `${node.name}-up`);
    node.down = new Link(this.nextLinkSeed(), options.down ?? {}, `${node.name}-down`);
    if (this.byExternal.has(addrKey(local))) throw new RangeError(`addClient: address ${addrKey(local)} in use`);
    this.nodes.push(node);
    this.byExternal.set(addrKey(local), node);
    return node;
  }

  private nextLinkSeed(): number {
    this.linkSeed = (Math.imul(this.linkSeed ^ (this.linkSeed >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return this.linkSeed;
  }

  /** Open a client connection from `node` to the server. */
  connect(node: NetNode<C>, options: Parameters<Endpoint<C>['connect']>[1]): C {
    if (this.server === undefined) throw new TypeError('connect: add a server first');
    const remote: PathInfo = { remoteAddress: this.server.local.address, remotePort: this.server.local.port };
    return node.endpoint.connect(remote, options, this.now);
  }

  /** NAT rebinding: from now on the server sees `node` at a new external address and/or port. */
  rebind(node: NetNode<C>, to: { address?: string; port?: number }): void {
    if (node.isServer) throw new TypeError('rebind: only client nodes sit behind a NAT');
    this.byExternal.delete(addrKey(node.external));
    node.external = { address: to.address ?? node.external.address, port: to.port ?? node.external.port };
    if (this.byExternal.has(addrKey(node.external))) throw new RangeError(`rebind: ${addrKey(node.external)} in use`);
    this.byExternal.set(addrKey(node.external), node);
  }

  /** Run `fn` when the virtual clock reaches `at` (absolute ms). */
  at(at: number, fn: () => void): void {
    this.actions.push({ at, seq: this.seq++, fn });
    this.actions.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  /** Run `fn` `ms` after the current virtual time. */
  after(ms: number, fn: () => void): void {
    this.at(this.now + ms, fn);
  }

  onConnectionEvent(h: ConnectionHandler<C>): void {
    this.connHandlers.push(h);
  }

  onEndpointEvent(h: EndpointHandler<C>): void {
    this.endpointHandlers.push(h);
  }

  /** Observe every datagram put on a link (transmit), arriving at a node (deliver) or lost to a stale NAT mapping. */
  tap(h: TapHandler): void {
    this.taps.push(h);
  }

  // ------------------------------------------------------------------------------------------

  /** One iteration at the current time (no clock advance). */
  step(): void {
    this.steps++;
    const now = this.now;
    while (this.actions.length > 0 && this.actions[0]!.at <= now) this.actions.shift()!.fn();
    for (let d = this.heap.peek(); d !== undefined && d.at <= now; d = this.heap.peek()) {
      this.heap.pop();
      if (d.enter !== null) this.transmitVia(d.enter, d.data, d.from, d.to, now);
      else this.deliver(d, now);
    }
    for (const node of this.nodes) node.endpoint.onTimeout(now);
    for (const node of this.nodes) this.flush(node, now);
    this.pumpEvents();
    // Handlers may have written to streams: flush again so their data leaves in this step.
    for (const node of this.nodes) this.flush(node, now);
  }

  /** Earliest time something happens (Infinity when the network is idle). */
  nextEventTime(): number {
    let t = Infinity;
    const d = this.heap.peek();
    if (d !== undefined) t = d.at;
    if (this.actions.length > 0 && this.actions[0]!.at < t) t = this.actions[0]!.at;
    for (const node of this.nodes) {
      const n = node.endpoint.nextTimeout();
      if (n < t) t = n;
    }
    return t;
  }

  /**
   * Step and advance the clock until `pred()` holds (true) or `maxVirtualMs` of virtual time pass or
   * nothing is left to happen (false).
   */
  runUntil(pred: () => boolean, maxVirtualMs: number): boolean {
    const deadline = this.now + maxVirtualMs;
    let sameTime = 0;
    for (;;) {
      this.step();
      if (pred()) return true;
      const next = this.nextEventTime();
      if (next > deadline) {
        // Nothing (more) happens before the deadline: the clock just runs out.
        this.now = Math.max(this.now, deadline);
        return false;
      }
      if (next <= this.now) {
        if (++sameTime > 10_000) {
          throw new Error(`VirtualNetwork: livelock at t=${this.elapsed} ms (a timer stays due after onTimeout)`);
        }
        continue;
      }
      sameTime = 0;
      this.now = next;
    }
  }

  /** Run for `ms` of virtual time. */
  run(ms: number): void {
    this.runUntil(() => false, ms);
  }

  // ------------------------------------------------------------------------------------------

  private flush(node: NetNode<C>, now: number): void {
    const ep = node.endpoint;
    const buf = this.buf;
    for (let s = ep.sendEndpointPacket(buf); s !== null; s = ep.sendEndpointPacket(buf)) this.emit(node, buf, s, now);
    for (const conn of ep.connections()) {
      let n = 0;
      for (let s = conn.send(buf, now); s !== null; s = conn.send(buf, now)) {
        // One queue per connection: a datagram never leaves before one the connection produced
        // earlier (a driver honouring release times in order), so an unpaced ACK cannot overtake
        // paced data.
        const last = this.lastRelease.get(conn) ?? -Infinity;
        if (s.releaseTime < last) s.releaseTime = last;
        else this.lastRelease.set(conn, s.releaseTime);
        this.emit(node, buf, s, now);
        if (++n > this.maxBurst) throw new Error(`VirtualNetwork: ${node.name} connection produced > ${this.maxBurst} datagrams in one step`);
      }
      ep.touch(conn);
    }
  }

  private emit(node: NetNode<C>, buf: Uint8Array, s: SendInfo, now: number): void {
    const data = buf.slice(0, s.length);
    const to: NodeAddress = { address: s.to.remoteAddress, port: s.to.remotePort };
    // The sender's address as seen by the receiver: a client's external (NAT) address.
    const from = node.isServer ? node.local : node.external;
    const link = node.isServer ? this.byExternal.get(addrKey(to))?.down : node.up;
    if (link === undefined) {
      this.unroutable++;
      for (const tap of this.taps) tap('unroutable', data, from, to, now);
      return;
    }
    if (s.releaseTime > now) {
      this.heap.push({ at: s.releaseTime, seq: this.seq++, data, from, to, enter: link, sender: node as unknown as NetNode<NetConnection> });
      return;
    }
    this.transmitVia(link, data, from, to, now);
  }

  private transmitVia(link: Link, data: Uint8Array, from: NodeAddress, to: NodeAddress, now: number): void {
    for (const tap of this.taps) tap('transmit', data, from, to, now);
    for (const d of link.transmit(data, now)) {
      this.heap.push({ at: d.at, seq: this.seq++, data: d.data, from, to, enter: null, sender: null });
    }
  }

  private deliver(d: InFlight, now: number): void {
    const node = this.byExternal.get(addrKey(d.to));
    if (node === undefined) {
      this.unroutable++;
      for (const tap of this.taps) tap('unroutable', d.data, d.from, d.to, now);
      return;
    }
    for (const tap of this.taps) tap('deliver', d.data, d.from, d.to, now);
    const path: PathInfo = {
      remoteAddress: d.from.address,
      remotePort: d.from.port,
      localAddress: node.local.address,
      localPort: node.local.port,
    };
    node.endpoint.handle(d.data, path, now);
  }

  private pumpEvents(): void {
    for (const node of this.nodes) {
      for (let e = node.endpoint.poll(); e !== undefined; e = node.endpoint.poll()) {
        for (const h of this.endpointHandlers) h(node, e, this);
        // A removed connection's last events (its 'closed') are still delivered.
        if (e.type === 'connection-closed') this.pumpConnection(node, e.connection);
      }
      for (const conn of node.endpoint.connections()) this.pumpConnection(node, conn);
    }
  }

  /** Drain one connection's events into the log and the handlers. */
  pumpConnection(node: NetNode<C>, conn: C): void {
    for (let ev = conn.pollEvent(); ev !== undefined; ev = conn.pollEvent()) {
      node.eventCounts[ev.type] = (node.eventCounts[ev.type] ?? 0) + 1;
      if (ev.type !== 'stream-readable' && ev.type !== 'stream-writable' && ev.type !== 'datagram-acked' && ev.type !== 'stream-closed') {
        node.log.push({ time: this.now, conn, event: ev });
      }
      for (const h of this.connHandlers) h(node, conn, ev, this);
    }
  }
}
