// Test support: a UDP impairment relay on loopback for interop tests and benchmarks (issue 7, case 3
// and the NAT-rebinding case 8). It sits between a QUIC client and server and, per direction, drops
// (seeded random loss, optional burst cap, drop list by datagram index), delays (fixed + jitter,
// order kept), reorders (a share of datagrams held back an extra gap so later ones overtake) and
// duplicates datagrams. It can rebind the client side at time T (and every P ms after): the server
// then sees the same client from a new source port, and server datagrams sent to the old binding
// are dropped, like a NAT that forgot its mapping (RFC 9000 §9.3's "NAT rebinding").
//
//   client ──▶ relay.port (front socket) ──▶ upstream socket (one per client flow) ──▶ target
//   client ◀── front socket              ◀── upstream socket                      ◀── target
//
// Only loopback: the target and listen addresses must be in 127.0.0.0/8 or ::1.
// Every random decision comes from a per-direction SeededRandom, so a seed reproduces which
// datagrams of a direction were dropped, independent of how the two directions interleave.
// Behind a relay, start gtlsserver with --max-gso-dgrams=1 for realistic per-datagram fates.
import dgram from 'node:dgram';
import net from 'node:net';
import { SeededRandom } from '../../src/crypto/random.js';

export interface DirectionImpairment {
  /** Drop probability in [0, 1]. */
  loss?: number;
  /** At most this many consecutive random drops (then one datagram passes). Default unlimited. */
  lossBurst?: number;
  /** 1-based datagram indexes (per direction) to drop, e.g. the first server flight. */
  dropList?: number[];
  /** One-way delay in ms. */
  delayMs?: number;
  /** Uniform ±jitter in ms added to the delay; order is kept (a datagram never overtakes). */
  jitterMs?: number;
  /** Probability in [0, 1] that a datagram is held back `reorderGapMs` extra, letting later ones overtake. */
  reorder?: number;
  /** Extra hold-back for reordered datagrams (default 10 ms). */
  reorderGapMs?: number;
  /** Probability in [0, 1] that a datagram is delivered twice. */
  duplicate?: number;
}

/** One datagram seen by the relay, for taps (captures, amplification accounting). */
export interface TapRecord {
  dir: 'toServer' | 'toClient';
  /** 1-based per direction. */
  index: number;
  length: number;
  /** What the relay did with it (the first decision; a duplicate still counts once). */
  fate: 'forwarded' | 'reordered' | 'duplicated' | 'droppedLoss' | 'droppedList';
  /** performance.now() at arrival. */
  at: number;
  /** The first byte (QUIC header form and type bits). */
  firstByte: number;
  /** Long headers: the Version field (0 = Version Negotiation, RFC 8999 §5.1); absent for short headers. */
  version?: number;
}

export interface UdpRelayOptions {
  target: { host: string; port: number };
  /** Listen address (default the target's loopback family: 127.0.0.1 or ::1). */
  listenHost?: string;
  /** Listen port (default 0: OS-picked). */
  listenPort?: number;
  /** Seed for all random decisions (default 1). */
  seed?: number;
  /** Impairment applied to both directions unless overridden below. */
  both?: DirectionImpairment;
  toServer?: DirectionImpairment;
  toClient?: DirectionImpairment;
  /** Rebind every client flow's upstream port at this time (ms since the first datagram, or since start). */
  rebindAtMs?: number;
  /** Then again every this many ms. */
  rebindEveryMs?: number;
  /**
   * Rebind once as soon as this many datagrams went to the client (a trigger tied to progress, not
   * time: e.g. well after the handshake on a loaded machine).
   */
  rebindAfterToClient?: number;
  /** See the module header; default 'next-packet'. */
  rebindMode?: 'next-packet' | 'immediate';
  /** Origin of rebindAtMs: 'first-packet' (default) or 'start'. */
  clock?: 'first-packet' | 'start';
  /** Called for every datagram received from either side (keep it cheap); ones that hit a forgotten binding are only counted. */
  tap?: (r: TapRecord) => void;
  /** Kernel socket buffers (default 4 MiB, DESIGN §3: the default 208 KiB drops at high rates). */
  socketBufferBytes?: number;
}

export interface DirectionStats {
  received: number;
  forwarded: number;
  bytesForwarded: number;
  droppedLoss: number;
  droppedList: number;
  droppedOldBinding: number;
  reordered: number;
  duplicated: number;
}

export interface RelayStats {
  seed: number;
  toServer: DirectionStats;
  toClient: DirectionStats;
  flows: number;
  rebinds: number;
}

interface Resolved {
  loss: number;
  lossBurst: number;
  dropList: Set<number>;
  delayMs: number;
  jitterMs: number;
  reorder: number;
  reorderGapMs: number;
  duplicate: number;
}

interface Pending {
  at: number;
  data: Buffer;
  copies: number;
  send: (b: Buffer) => void;
}

interface Flow {
  client: { address: string; port: number };
  up: dgram.Socket;
  /** A 'next-packet' rebinding is due at this flow's next client datagram. */
  rebindDue: boolean;
  /** Upstream ports used so far, the current one last. */
  ports: number[];
}

/** True for 127.0.0.0/8 and ::1 (and ::ffff:127.x). */
export function isLoopback(host: string): boolean {
  if (net.isIPv4(host)) return host.startsWith('127.');
  const h = host.toLowerCase();
  return h === '::1' || h.startsWith('::ffff:127.');
}

function checkProb(v: number | undefined, name: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`${name}: expected a probability in [0, 1], got ${v}`);
  return v;
}

function checkMs(v: number | undefined, name: string, dflt = 0): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new RangeError(`${name}: expected a non-negative number of ms, got ${v}`);
  return v;
}

function resolve(both: DirectionImpairment | undefined, own: DirectionImpairment | undefined, dir: string): Resolved {
  const m = { ...both, ...own };
  const burst = m.lossBurst ?? Infinity;
  if (!(burst >= 1)) throw new RangeError(`${dir}.lossBurst: expected ≥ 1, got ${burst}`);
  return {
    loss: checkProb(m.loss, `${dir}.loss`),
    lossBurst: burst,
    dropList: new Set(m.dropList ?? []),
    delayMs: checkMs(m.delayMs, `${dir}.delayMs`),
    jitterMs: checkMs(m.jitterMs, `${dir}.jitterMs`),
    reorder: checkProb(m.reorder, `${dir}.reorder`),
    reorderGapMs: checkMs(m.reorderGapMs, `${dir}.reorderGapMs`, 10),
    duplicate: checkProb(m.duplicate, `${dir}.duplicate`),
  };
}

function newStats(): DirectionStats {
  return { received: 0, forwarded: 0, bytesForwarded: 0, droppedLoss: 0, droppedList: 0, droppedOldBinding: 0, reordered: 0, duplicated: 0 };
}

/** One direction's impairment pipeline: decisions from its own seeded RNG, one timer for the in-order queue. */
class Direction {
  private readonly cfg: Resolved;
  private readonly rng: SeededRandom;
  readonly stats: DirectionStats;
  private index = 0;
  private lossRun = 0;
  private lastAt = 0;
  private readonly queue: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly strays = new Set<NodeJS.Timeout>();
  private closed = false;

  private readonly name: 'toServer' | 'toClient';
  private readonly tap: ((r: TapRecord) => void) | undefined;

  constructor(name: 'toServer' | 'toClient', cfg: Resolved, seed: number, stats: DirectionStats, tap?: (r: TapRecord) => void) {
    this.name = name;
    this.tap = tap;
    this.cfg = cfg;
    this.rng = new SeededRandom(seed);
    this.stats = stats;
  }

  private random(): number {
    return this.rng.uint32() / 0x1_0000_0000;
  }

  /** Decide the fate of one datagram and deliver it now or later through `send`. */
  handle(data: Buffer, send: (b: Buffer) => void): void {
    if (this.closed) return;
    const c = this.cfg;
    const s = this.stats;
    s.received++;
    this.index++;
    if (c.dropList.has(this.index)) {
      s.droppedList++;
      this.record(data, 'droppedList');
      return;
    }
    if (c.loss > 0) {
      if (this.lossRun >= c.lossBurst) this.lossRun = 0;
      else if (this.random() < c.loss) {
        this.lossRun++;
        s.droppedLoss++;
        this.record(data, 'droppedLoss');
        return;
      } else this.lossRun = 0;
    }
    const copies = c.duplicate > 0 && this.random() < c.duplicate ? 2 : 1;
    if (copies === 2) s.duplicated++;
    const reordered = c.reorder > 0 && this.random() < c.reorder;
    this.record(data, reordered ? 'reordered' : copies === 2 ? 'duplicated' : 'forwarded');
    let delay = c.delayMs;
    if (c.jitterMs > 0) delay = Math.max(0, delay + (this.random() * 2 - 1) * c.jitterMs);
    const now = performance.now();
    if (reordered) {
      s.reordered++;
      const t = setTimeout(() => {
        this.strays.delete(t);
        if (!this.closed) this.deliver(data, copies, send);
      }, delay + c.reorderGapMs);
      this.strays.add(t);
      return;
    }
    if (delay === 0 && this.head === this.queue.length) {
      this.deliver(data, copies, send);
      return;
    }
    // In-order delivery: never earlier than the previous in-order datagram.
    const at = Math.max(now + delay, this.lastAt);
    this.lastAt = at;
    this.queue.push({ at, data, copies, send });
    if (this.timer === undefined) this.arm();
  }

  private record(data: Buffer, fate: TapRecord['fate']): void {
    if (this.tap === undefined) return;
    try {
      const rec: TapRecord = { dir: this.name, index: this.index, length: data.length, fate, at: performance.now(), firstByte: data[0] ?? 0 };
      if (data.length >= 5 && (data[0]! & 0x80) !== 0) rec.version = data.readUInt32BE(1);
      this.tap(rec);
    } catch {
      /* a failing tap must not break the relay */
    }
  }

  private deliver(data: Buffer, copies: number, send: (b: Buffer) => void): void {
    for (let i = 0; i < copies; i++) {
      send(data);
      this.stats.forwarded++;
      this.stats.bytesForwarded += data.length;
    }
  }

  private arm(): void {
    const next = this.queue[this.head];
    if (!next) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, next.at - performance.now()));
  }

  private flush(): void {
    this.timer = undefined;
    if (this.closed) return;
    const now = performance.now();
    while (this.head < this.queue.length && this.queue[this.head]!.at <= now + 0.5) {
      const p = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Pending;
      this.deliver(p.data, p.copies, p.send);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else {
      if (this.head > 1024) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.arm();
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.strays) clearTimeout(t);
    this.strays.clear();
  }
}

export class UdpRelay {
  /** Address clients send to. */
  readonly host: string;
  readonly port: number;
  readonly stats: RelayStats;
  private readonly target: { host: string; port: number };
  private readonly front: dgram.Socket;
  private readonly family: 'udp4' | 'udp6';
  private readonly flows = new Map<string, Flow>();
  private readonly toServer: Direction;
  private readonly toClient: Direction;
  private readonly opts: UdpRelayOptions;
  private readonly bufferBytes: number;
  private readonly startedAt = performance.now();
  private t0: number | null = null;
  private rebindTimer: NodeJS.Timeout | undefined;
  private progressRebindPending: boolean;
  private sentToClient = 0;
  private readonly retired: dgram.Socket[] = [];
  private closed = false;

  private constructor(opts: UdpRelayOptions, front: dgram.Socket, family: 'udp4' | 'udp6', bufferBytes: number) {
    this.opts = opts;
    this.front = front;
    this.family = family;
    this.bufferBytes = bufferBytes;
    this.target = { host: opts.target.host, port: opts.target.port };
    const seed = opts.seed ?? 1;
    this.stats = { seed, toServer: newStats(), toClient: newStats(), flows: 0, rebinds: 0 };
    this.toServer = new Direction('toServer', resolve(opts.both, opts.toServer, 'toServer'), seed * 2 + 1, this.stats.toServer, opts.tap);
    this.toClient = new Direction('toClient', resolve(opts.both, opts.toClient, 'toClient'), seed * 2 + 2, this.stats.toClient, opts.tap);
    this.progressRebindPending = opts.rebindAfterToClient !== undefined;
    const a = front.address();
    this.host = a.address;
    this.port = a.port;
  }

  /** Bind the relay; resolves once it is ready to forward. */
  static async start(opts: UdpRelayOptions): Promise<UdpRelay> {
    if (!opts || !opts.target) throw new TypeError('opts.target: expected { host, port }');
    const { host, port } = opts.target;
    if (typeof host !== 'string' || !net.isIP(host) || !isLoopback(host)) throw new RangeError(`opts.target.host: only loopback addresses are allowed, got ${host}`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`opts.target.port: expected 1..65535, got ${port}`);
    const family = net.isIPv6(host) ? 'udp6' : 'udp4';
    const listenHost = opts.listenHost ?? (family === 'udp6' ? '::1' : '127.0.0.1');
    if (!net.isIP(listenHost) || !isLoopback(listenHost)) throw new RangeError(`opts.listenHost: only loopback addresses are allowed, got ${listenHost}`);
    if ((net.isIPv6(listenHost) ? 'udp6' : 'udp4') !== family) throw new RangeError('opts.listenHost: must be of the same address family as the target');
    const rebindAt = opts.rebindAtMs;
    if (rebindAt !== undefined) checkMs(rebindAt, 'opts.rebindAtMs');
    if (opts.rebindAfterToClient !== undefined && !(Number.isInteger(opts.rebindAfterToClient) && opts.rebindAfterToClient >= 1)) {
      throw new RangeError(`opts.rebindAfterToClient: expected an integer ≥ 1, got ${opts.rebindAfterToClient}`);
    }
    if (opts.rebindMode !== undefined && opts.rebindMode !== 'next-packet' && opts.rebindMode !== 'immediate') {
      throw new RangeError(`opts.rebindMode: expected 'next-packet' or 'immediate', got ${String(opts.rebindMode)}`);
    }
    if (opts.rebindEveryMs !== undefined && !(opts.rebindEveryMs > 0)) throw new RangeError(`opts.rebindEveryMs: expected > 0, got ${opts.rebindEveryMs}`);
    // Validate impairments before binding anything.
    resolve(opts.both, opts.toServer, 'toServer');
    resolve(opts.both, opts.toClient, 'toClient');
    const bufferBytes = opts.socketBufferBytes ?? 4 * 1024 * 1024;
    const front = dgram.createSocket({ type: family, recvBufferSize: bufferBytes, sendBufferSize: bufferBytes });
    await new Promise<void>((res, rej) => {
      front.once('error', rej);
      front.bind(opts.listenPort ?? 0, listenHost, () => {
        front.off('error', rej);
        res();
      });
    });
    const relay = new UdpRelay(opts, front, family, bufferBytes);
    front.on('message', (msg, rinfo) => relay.fromClient(msg, rinfo));
    front.on('error', () => {
      /* ICMP-induced errors on an unconnected socket are not fatal for a relay */
    });
    if (opts.clock === 'start') {
      relay.t0 = relay.startedAt;
      relay.scheduleRebind();
    }
    return relay;
  }

  /** Upstream ports (as the server sees them) per client flow, oldest first. */
  upstreamPorts(): number[][] {
    return [...this.flows.values()].map((f) => [...f.ports]);
  }

  private fromClient(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed) return;
    if (this.t0 === null) {
      this.t0 = performance.now();
      this.scheduleRebind();
    }
    const key = `${rinfo.address}|${rinfo.port}`;
    let flow = this.flows.get(key);
    if (!flow) {
      flow = { client: { address: rinfo.address, port: rinfo.port }, up: undefined as unknown as dgram.Socket, rebindDue: false, ports: [] };
      this.openUpstream(flow);
      this.flows.set(key, flow);
      this.stats.flows++;
    }
    if (flow.rebindDue) {
      flow.rebindDue = false;
      this.rebindFlow(flow);
    }
    const f = flow;
    this.toServer.handle(msg, (b) => f.up.send(b, this.target.port, this.target.host));
  }

  private openUpstream(flow: Flow): void {
    const up = dgram.createSocket({ type: this.family, recvBufferSize: this.bufferBytes, sendBufferSize: this.bufferBytes });
    up.on('message', (msg) => {
      if (this.closed) return;
      if (flow.up !== up) {
        this.stats.toClient.droppedOldBinding++;
        return;
      }
      this.toClient.handle(msg, (b) => {
        this.front.send(b, flow.client.port, flow.client.address);
        this.sentToClient++;
        if (this.progressRebindPending && this.sentToClient >= this.opts.rebindAfterToClient!) {
          this.progressRebindPending = false;
          this.rebind();
        }
      });
    });
    up.on('error', () => {
      /* see front */
    });
    up.bind(0, this.family === 'udp6' ? '::1' : '127.0.0.1', () => flow.ports.push(up.address().port));
    flow.up = up;
  }

  /**
   * Rebind every flow: new upstream port; server datagrams to the old one are dropped. In
   * 'next-packet' mode (default) the switch happens at each flow's next client datagram.
   */
  rebind(mode: 'next-packet' | 'immediate' = this.opts.rebindMode ?? 'next-packet'): void {
    if (this.closed) return;
    for (const flow of this.flows.values()) {
      if (mode === 'immediate') this.rebindFlow(flow);
      else flow.rebindDue = true;
    }
  }

  private rebindFlow(flow: Flow): void {
    const old = flow.up;
    this.openUpstream(flow);
    this.retired.push(old); // kept open so late datagrams are counted as droppedOldBinding
    this.stats.rebinds++;
  }

  private scheduleRebind(): void {
    const at = this.opts.rebindAtMs;
    if (at === undefined || this.t0 === null) return;
    const wait = Math.max(0, this.t0 + at - performance.now());
    this.rebindTimer = setTimeout(() => {
      this.rebind();
      const every = this.opts.rebindEveryMs;
      if (every !== undefined && !this.closed) this.rebindTimer = setInterval(() => this.rebind(), every);
    }, wait);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.rebindTimer) clearTimeout(this.rebindTimer);
    this.toServer.close();
    this.toClient.close();
    const sockets = [this.front, ...this.retired, ...[...this.flows.values()].map((f) => f.up)];
    await Promise.all(sockets.map((s) => new Promise<void>((res) => {
      try {
        s.close(() => res());
      } catch {
        res();
      }
    })));
  }
}

/**
 * RFC 9000 §8.1 anti-amplification accounting from a relay tap: until the server has received a
 * Handshake packet from the client (which validates the client's address; RFC 9000 §8.1), the bytes
 * it sends must not exceed 3× the bytes it received. Only datagrams that actually reached the server
 * count as received. `handshakeType` is the long-header type bits of Handshake: 0x20 for v1, 0x30 for
 * v2 (RFC 9369 §3.2). Coalesced packets after an Initial are not inspected, so a Handshake packet
 * that only rides behind an Initial is missed and the check stays conservative for longer (gtlsclient
 * and Chromium send their first Handshake packet at the start of a datagram).
 */
export function amplificationCheck(taps: readonly TapRecord[], handshakeType = 0x20): {
  ok: boolean;
  receivedBeforeValidation: number;
  sentBeforeValidation: number;
  maxRatio: number;
  validatedAtIndex: number | null;
} {
  let rx = 0;
  let tx = 0;
  let maxRatio = 0;
  let ok = true;
  for (const r of taps) {
    if (r.dir === 'toServer') {
      if (r.fate === 'droppedList' || r.fate === 'droppedLoss') continue;
      if ((r.firstByte & 0x80) !== 0 && (r.firstByte & 0x30) === handshakeType) {
        return { ok, receivedBeforeValidation: rx, sentBeforeValidation: tx, maxRatio, validatedAtIndex: r.index };
      }
      rx += r.length;
    } else {
      tx += r.length;
      const ratio = rx > 0 ? tx / rx : Infinity;
      if (ratio > maxRatio) maxRatio = ratio;
      if (tx > 3 * rx) ok = false;
    }
  }
  return { ok, receivedBeforeValidation: rx, sentBeforeValidation: tx, maxRatio, validatedAtIndex: null };
}
