// Test support: an in-memory stand-in for two QUIC connections, enough to drive HTTP/3 sans-IO.
// It moves stream bytes and datagrams between the two ends in chunks of random size, delivering
// streams in a random order (reordering across streams, never within one), with per-stream flow
// control windows ('stream-writable' when credit returns), MAX_STREAMS-style limits that are
// replenished as streams close ('streams-available'), STOP_SENDING answered by an automatic reset
// (as src/transport does), and an optional RFC 9218 scheduler (urgency, then non-incremental
// streams in ID order, then incremental ones round-robin) whose delivery order is logged.
//
// It is strict on purpose: using a stream after both its sides finished, writing after FIN,
// reading after the end, or any call after close throws, so HTTP/3 bookkeeping bugs surface.

import { SeededRandom } from '../../../src/crypto/random.js';
import type { H3Transport, H3TransportEvent } from '../../../src/h3/transport.js';

export interface FakeQuicOptions {
  seed?: number;
  /** Chunk sizes per delivery are uniform in [minChunk, maxChunk] (defaults 1, 1400). */
  minChunk?: number;
  maxChunk?: number;
  /** Deliver ready streams in random order each step (default true); false: by stream ID. */
  shuffle?: boolean;
  /** Use the RFC 9218 scheduler with `budget` bytes per step and direction. */
  prioritize?: boolean;
  budget?: number;
  /** Receive window per stream: bytes in flight + unread (default 256 KiB). */
  streamWindow?: number;
  /** Streams each side may have open that the other opened (defaults 100 bidi, 8 uni). */
  maxBidiStreams?: number;
  maxUniStreams?: number;
  /** Largest DATAGRAM payload (0 = not negotiated; default 1200). */
  maxDatagramSize?: number;
  /** Deliver datagrams in random order (default false). */
  shuffleDatagrams?: boolean;
}

interface Half {
  readonly id: number;
  readonly canSend: boolean;
  readonly canRecv: boolean;
  // send side
  queue: Uint8Array[];
  queued: number;
  finQueued: boolean;
  finDelivered: boolean;
  sendDone: boolean;
  resetSent: boolean;
  writeBlocked: boolean;
  urgency: number;
  incremental: boolean;
  // receive side
  chunks: Uint8Array[];
  unread: number;
  recvFin: boolean;
  recvDone: boolean;
  /** The peer's RESET_STREAM code, reported by the next read (-1: none). */
  resetCode: number;
  collected: boolean;
}

export type FakeEvent = H3TransportEvent;

export interface DeliveryRecord {
  from: 'client' | 'server';
  id: number;
  bytes: number;
  fin: boolean;
}

function newHalf(id: number, canSend: boolean, canRecv: boolean): Half {
  return {
    id,
    canSend,
    canRecv,
    queue: [],
    queued: 0,
    finQueued: false,
    finDelivered: !canSend,
    sendDone: !canSend,
    resetSent: false,
    writeBlocked: false,
    urgency: 3,
    incremental: false,
    chunks: [],
    unread: 0,
    recvFin: false,
    recvDone: !canRecv,
    resetCode: -1,
    collected: false,
  };
}

export class FakeQuic implements H3Transport {
  readonly role: 'client' | 'server';
  peer!: FakeQuic;
  readonly pair: FakeQuicPair;
  readonly streams = new Map<number, Half>();
  readonly events: FakeEvent[] = [];
  closed = false;
  closeInfo: { code: number; reason: string; application: boolean; remote: boolean } | null = null;
  datagramQueue: Uint8Array[] = [];
  private nextDatagramId = 0;
  openedBidi = 0;
  openedUni = 0;
  /** How many streams of each kind we may open in total (raised as the peer's ones close). */
  limitBidi: number;
  limitUni: number;
  private blockedBidi = false;
  private blockedUni = false;
  /** Calls made, for assertions. */
  readonly calls = { stopSending: [] as Array<[number, number]>, reset: [] as Array<[number, number]>, priority: [] as Array<[number, number, boolean]> };

  constructor(role: 'client' | 'server', pair: FakeQuicPair) {
    this.role = role;
    this.pair = pair;
    this.limitBidi = pair.opts.maxBidiStreams;
    this.limitUni = pair.opts.maxUniStreams;
  }

  get maxDatagramSize(): number {
    return this.pair.opts.maxDatagramSize;
  }

  pollEvent(): FakeEvent | undefined {
    return this.events.shift();
  }

  private live(): void {
    if (this.closed) throw new Error(`${this.role}: transport used after close`);
  }

  private half(id: number): Half {
    this.live();
    const h = this.streams.get(id);
    if (!h) throw new Error(`${this.role}: unknown or collected stream ${id}`);
    return h;
  }

  /** Send-side credit: window minus bytes in flight and unread at the peer. */
  credit(h: Half): number {
    const p = this.peer.streams.get(h.id);
    return this.pair.opts.streamWindow - h.queued - (p ? p.unread : 0);
  }

  openStream(bidirectional: boolean): number | null {
    this.live();
    const isClient = this.role === 'client';
    if (bidirectional) {
      if (this.openedBidi >= this.limitBidi) {
        this.blockedBidi = true;
        return null;
      }
      const id = this.openedBidi++ * 4 + (isClient ? 0 : 1);
      this.streams.set(id, newHalf(id, true, true));
      return id;
    }
    if (this.openedUni >= this.limitUni) {
      this.blockedUni = true;
      return null;
    }
    const id = this.openedUni++ * 4 + (isClient ? 2 : 3);
    this.streams.set(id, newHalf(id, true, false));
    return id;
  }

  streamWrite(id: number, data: Uint8Array, fin = false): number {
    const h = this.half(id);
    if (!h.canSend) throw new Error(`${this.role}: write on receive-only stream ${id}`);
    if (h.resetSent) return -1;
    if (h.sendDone) throw new Error(`${this.role}: write after FIN on stream ${id}`);
    const n = Math.max(0, Math.min(data.length, this.credit(h)));
    if (n > 0) {
      h.queue.push(data.slice(0, n));
      h.queued += n;
    }
    if (n < data.length) h.writeBlocked = true;
    else if (fin) {
      h.finQueued = true;
      h.sendDone = true;
    }
    return n;
  }

  streamFinish(id: number): void {
    const h = this.half(id);
    if (!h.canSend || h.resetSent) throw new Error(`${this.role}: FIN on stream ${id} that cannot send`);
    if (h.sendDone) throw new Error(`${this.role}: second FIN on stream ${id}`);
    h.finQueued = true;
    h.sendDone = true;
    this.maybeCollect(h);
  }

  streamRead(id: number, out: Uint8Array): { bytes: number; fin: boolean; resetCode: number } {
    const h = this.half(id);
    if (!h.canRecv) throw new Error(`${this.role}: read on send-only stream ${id}`);
    if (h.recvDone) throw new Error(`${this.role}: read after the end of stream ${id}`);
    if (h.resetCode >= 0) {
      // As src/connection: the read that reports the reset completes the receiving side.
      h.recvDone = true;
      this.maybeCollect(h);
      return { bytes: 0, fin: true, resetCode: h.resetCode };
    }
    let n = 0;
    while (n < out.length && h.chunks.length > 0) {
      const c = h.chunks[0]!;
      const take = Math.min(c.length, out.length - n);
      out.set(c.subarray(0, take), n);
      n += take;
      if (take === c.length) h.chunks.shift();
      else h.chunks[0] = c.subarray(take);
    }
    h.unread -= n;
    let fin = false;
    if (h.unread === 0 && h.recvFin) {
      fin = true;
      h.recvDone = true;
    }
    if (n > 0) {
      const s = this.peer.streams.get(id);
      if (s && s.writeBlocked && !s.resetSent && this.peer.credit(s) > 0 && !this.peer.closed) {
        s.writeBlocked = false;
        this.peer.events.push({ type: 'stream-writable', id });
      }
    }
    if (fin) this.maybeCollect(h);
    return { bytes: n, fin, resetCode: -1 };
  }

  streamReset(id: number, code: number): void {
    const h = this.half(id);
    if (!h.canSend) throw new Error(`${this.role}: reset of receive-only stream ${id}`);
    this.calls.reset.push([id, code]);
    if (h.resetSent) return;
    this.resetSend(h, code);
    this.maybeCollect(h);
  }

  /** Abandon our send side and tell the peer (RESET_STREAM). */
  resetSend(h: Half, code: number): void {
    h.resetSent = true;
    h.sendDone = true;
    h.queue = [];
    h.queued = 0;
    h.writeBlocked = false;
    const p = this.peer.ensurePeerHalf(h.id);
    if (p && !p.recvDone && p.resetCode < 0) {
      p.chunks = [];
      p.unread = 0;
      p.resetCode = code;
      if (!this.peer.closed) this.peer.events.push({ type: 'stream-reset', id: h.id, code, finalSize: 0 });
    }
  }

  streamStopSending(id: number, code: number): void {
    const h = this.half(id);
    if (!h.canRecv) throw new Error(`${this.role}: STOP_SENDING on send-only stream ${id}`);
    if (h.recvDone) throw new Error(`${this.role}: STOP_SENDING after the end of stream ${id}`);
    this.calls.stopSending.push([id, code]);
    h.chunks = [];
    h.unread = 0;
    h.recvDone = true;
    const p = this.peer.streams.get(id);
    if (p && !p.resetSent && !(p.finQueued && p.queued === 0 && p.finDelivered)) {
      // The peer's transport answers STOP_SENDING with RESET_STREAM (RFC 9000 §3.5) and reports it.
      p.resetSent = true;
      p.sendDone = true;
      p.queue = [];
      p.queued = 0;
      p.writeBlocked = false;
      if (!this.peer.closed) this.peer.events.push({ type: 'stream-stop-sending', id, code });
      this.peer.maybeCollect(p);
    }
    this.maybeCollect(h);
  }

  streamSetPriority(id: number, urgency: number, incremental: boolean): void {
    const h = this.half(id);
    this.calls.priority.push([id, urgency, incremental]);
    h.urgency = urgency;
    h.incremental = incremental;
  }

  sendDatagram(data: Uint8Array): number | null {
    this.live();
    if (this.pair.opts.maxDatagramSize === 0 || data.length > this.pair.opts.maxDatagramSize) return null;
    this.datagramQueue.push(data.slice());
    return this.nextDatagramId++;
  }

  close(code: number, reason = '', application = true): void {
    this.live();
    this.closed = true;
    this.closeInfo = { code, reason, application, remote: false };
    const kind = application ? 'application' : 'transport';
    this.events.push({ type: 'closed', error: { kind, code, reason, remote: false } });
    if (!this.peer.closed) {
      this.peer.closed = true;
      this.peer.closeInfo = { code, reason, application, remote: true };
      this.peer.events.push({ type: 'closed', error: { kind, code, reason, remote: true } });
    }
  }

  /** The receiving half of a stream the peer opened, created (with 'stream-opened') on first sight. */
  ensurePeerHalf(id: number): Half | null {
    if (this.closed) return null;
    let h = this.streams.get(id);
    if (h) return h;
    if (this.seenPeer.has(id)) return null;
    this.seenPeer.add(id);
    const bidi = id % 4 < 2;
    h = newHalf(id, bidi, true);
    this.streams.set(id, h);
    this.events.push({ type: 'stream-opened', id, bidirectional: bidi });
    return h;
  }
  private readonly seenPeer = new Set<number>();

  maybeCollect(h: Half): void {
    if (h.collected) return;
    const sendOver = !h.canSend || h.resetSent || (h.sendDone && h.finDelivered);
    if (!sendOver || !h.recvDone) return;
    h.collected = true;
    this.streams.delete(h.id);
    if (!this.closed) this.events.push({ type: 'stream-closed', id: h.id });
    // A stream the peer opened is gone: give the peer a new one (MAX_STREAMS).
    const peerOpened = (h.id % 2 === 0) !== (this.role === 'client');
    if (peerOpened && !this.peer.closed) this.peer.raiseLimit(h.id % 4 < 2);
  }

  private raiseLimit(bidi: boolean): void {
    if (bidi) {
      this.limitBidi++;
      if (this.blockedBidi) {
        this.blockedBidi = false;
        this.events.push({ type: 'streams-available', bidirectional: true });
      }
    } else {
      this.limitUni++;
      if (this.blockedUni) {
        this.blockedUni = false;
        this.events.push({ type: 'streams-available', bidirectional: false });
      }
    }
  }

  /** Streams with something to deliver (and not held back by the test). */
  ready(): Half[] {
    const out: Half[] = [];
    const held = this.pair.held;
    for (const h of this.streams.values()) {
      if (!h.canSend || h.resetSent || !(h.queued > 0 || (h.finQueued && !h.finDelivered))) continue;
      if (held.size > 0 && held.has(`${this.role}:${h.id}`)) continue;
      out.push(h);
    }
    return out;
  }

  /** Move up to `max` bytes of stream `h` to the peer; returns bytes moved. */
  deliver(h: Half, max: number): number {
    const p = this.peer.ensurePeerHalf(h.id);
    let n = 0;
    while (n < max && h.queue.length > 0) {
      const c = h.queue[0]!;
      const take = Math.min(c.length, max - n);
      const piece = c.subarray(0, take);
      if (take === c.length) h.queue.shift();
      else h.queue[0] = c.subarray(take);
      n += take;
      if (p && !p.recvDone && p.resetCode < 0) {
        p.chunks.push(piece);
        p.unread += take;
      }
    }
    h.queued -= n;
    this.pair.bytesMoved[this.role] += n;
    let fin = false;
    if (h.queued === 0 && h.finQueued && !h.finDelivered) {
      h.finDelivered = true;
      fin = true;
      if (p && !p.recvDone) p.recvFin = true;
    }
    if (p && !p.recvDone && p.resetCode < 0 && (n > 0 || fin)) this.peer.events.push({ type: 'stream-readable', id: h.id });
    if (this.pair.opts.prioritize) this.pair.log.push({ from: this.role, id: h.id, bytes: n, fin });
    if (fin) this.maybeCollect(h);
    return n;
  }
}

export class FakeQuicPair {
  readonly opts: Required<FakeQuicOptions>;
  readonly client: FakeQuic;
  readonly server: FakeQuic;
  readonly rng: SeededRandom;
  /** Deliveries in order (prioritize mode only). */
  readonly log: DeliveryRecord[] = [];
  /** Datagrams delivered. */
  datagramsDelivered = 0;
  /** Stream bytes delivered, by sender. */
  readonly bytesMoved = { client: 0, server: 0 };
  /** Streams whose bytes are held back ("client:6"), to force orderings such as QPACK blocking. */
  readonly held = new Set<string>();

  hold(from: 'client' | 'server', id: number): void {
    this.held.add(`${from}:${id}`);
  }

  release(from: 'client' | 'server', id: number): void {
    this.held.delete(`${from}:${id}`);
  }

  constructor(options: FakeQuicOptions = {}) {
    this.opts = {
      seed: options.seed ?? 1,
      minChunk: options.minChunk ?? 1,
      maxChunk: options.maxChunk ?? 1400,
      shuffle: options.shuffle ?? true,
      prioritize: options.prioritize ?? false,
      budget: options.budget ?? Infinity,
      streamWindow: options.streamWindow ?? 256 * 1024,
      maxBidiStreams: options.maxBidiStreams ?? 100,
      maxUniStreams: options.maxUniStreams ?? 8,
      maxDatagramSize: options.maxDatagramSize ?? 1200,
      shuffleDatagrams: options.shuffleDatagrams ?? false,
    };
    this.rng = new SeededRandom(this.opts.seed);
    this.client = new FakeQuic('client', this);
    this.server = new FakeQuic('server', this);
    this.client.peer = this.server;
    this.server.peer = this.client;
  }

  private chunk(): number {
    const { minChunk, maxChunk } = this.opts;
    return minChunk + (maxChunk > minChunk ? this.rng.below(maxChunk - minChunk + 1) : 0);
  }

  /** One delivery round in both directions; true when anything moved. */
  step(): boolean {
    let moved = false;
    for (const side of [this.client, this.server]) {
      if (side.closed) continue;
      moved = (this.opts.prioritize ? this.stepPriority(side) : this.stepRandom(side)) || moved;
      let dgs = side.datagramQueue;
      if (dgs.length > 0) {
        side.datagramQueue = [];
        if (this.opts.shuffleDatagrams) dgs = this.shuffled(dgs);
        for (const d of dgs) {
          if (side.peer.closed) break;
          side.peer.events.push({ type: 'datagram', data: d });
          this.datagramsDelivered++;
        }
        moved = true;
      }
    }
    return moved;
  }

  private shuffled<T>(a: T[]): T[] {
    const out = a.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.rng.below(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  private stepRandom(side: FakeQuic): boolean {
    let ready = side.ready();
    if (ready.length === 0) return false;
    if (this.opts.shuffle) ready = this.shuffled(ready);
    else ready.sort((a, b) => a.id - b.id);
    for (const h of ready) {
      if (side.closed) break;
      side.deliver(h, this.chunk());
    }
    return true;
  }

  /** RFC 9218 order: unidirectional (control, QPACK) first, then urgency, non-incremental by ID, incremental round-robin. */
  private rr = new Map<FakeQuic, number>();
  private stepPriority(side: FakeQuic): boolean {
    let budget = this.opts.budget;
    let moved = false;
    for (;;) {
      const ready = side.ready();
      if (ready.length === 0 || budget <= 0 || side.closed) return moved;
      const rank = (h: Half): number => (h.id % 4 >= 2 ? -1 : h.urgency);
      let best = Infinity;
      for (const h of ready) best = Math.min(best, rank(h));
      const level = ready.filter((h) => rank(h) === best);
      const sequential = level.filter((h) => !h.incremental).sort((a, b) => a.id - b.id);
      let h: Half;
      if (sequential.length > 0) {
        h = sequential[0]!;
      } else {
        const inc = level.sort((a, b) => a.id - b.id);
        const last = this.rr.get(side) ?? -1;
        h = inc.find((x) => x.id > last) ?? inc[0]!;
        this.rr.set(side, h.id);
      }
      const n = side.deliver(h, Math.min(budget, this.chunk()));
      budget -= Math.max(n, 1);
      moved = true;
    }
  }
}
