// L7: the multi-core router — the main thread's per-datagram decision "which worker owns this?"
// (sans-socket; src/multicore/server.ts feeds it from node:dgram). RFC 8999 §5 (only the
// version-invariant header is read: form, version, DCID), RFC 9000 §5.2 (matching packets to
// connections), §7.2 (client Initial DCID ≥ 8 bytes), §14.1 (Initial datagrams ≥ 1200 bytes),
// §6.1 (never answer a VN; VN only for datagrams ≥ 1200 bytes).
//
// Design note (the multi-core data path, DESIGN §3; /work/notes/multicore.md has the status):
// - The main thread owns the UDP socket, never decrypts, and routes each datagram to a worker
//   thread that owns a shard of connections (its own Endpoint, connections, timers, app logic).
//   Datagrams cross threads through SPSC rings in SharedArrayBuffers (src/multicore/ring.ts): one
//   RX ring (main → worker) and one TX ring (worker → main) per worker, published per batch,
//   Atomics.notify only when the other side sleeps, a full RX ring drops and counts.
// - Every CID a worker issues carries its index, encrypted and tagged under a shared key
//   (src/multicore/cid.ts): short headers — almost all traffic — route statelessly by
//   codec.workerAt(datagram, 1), also after NAT rebinding or migration (the source address plays
//   no part). Long headers whose DCID is ours (Handshake packets, the client's Initial after a
//   Retry) route the same way.
// - The only state is a table of client-chosen DCIDs (made by a client's first Initial; its 0-RTT
//   packets follow the entry, a 0-RTT packet without one goes by hash), assigned to the
//   least-loaded accepting worker (active connections from the workers' metrics blocks +
//   assignments not yet released) or by a keyed hash (stateless). The worker releases an entry
//   through its TX ring (a Control slot carrying the DCID) once the handshake is done or the
//   connection is gone (only the owner's release counts); entries a worker never claims (garbage
//   Initials, Retry) expire `tableTtl` after the client's last Initial/0-RTT. A full table falls back to the keyed hash without an
//   entry.
// - Unknown versions in datagrams ≥ 1200 bytes go to a worker by hash (its endpoint answers with
//   Version Negotiation); everything unroutable is dropped and counted by reason in the router's
//   metrics block (src/multicore/metrics-block.ts ROUTER_SCHEMA).
// - Short headers with a DCID that is not ours are dropped, not answered with a stateless reset:
//   workers derive reset tokens from a shared static key, so a worker that lost a connection
//   whose CID still validates does answer (its endpoint), but forged CIDs cost the main thread
//   nothing beyond the tag check.
// - Status: /work/notes/multicore.md (HTTP/3 in workers, quiver serve --workers N, metrics,
//   respawn, central ticket keys and the shared 0-RTT anti-replay store are built).
import { BufferUnderflow } from '../util/bytes.js';
import { createInvariantHeader, parseInvariantHeader } from '../codec/header.js';
import { MAX_CID_LENGTH, PacketType, VERSION_NEGOTIATION, longPacketType, versionInfo } from '../codec/version.js';
import { cidKey } from '../endpoint/index.js';
import type { WorkerCidCodec } from './cid.js';
import { MetricsBlock, ROUTER_SCHEMA, type RouterMetric } from './metrics-block.js';
import { SipHash24 } from './siphash.js';

/** RFC 9000 §14.1. */
export const MIN_INITIAL_DATAGRAM = 1200;
/** RFC 9000 §7.2. */
export const MIN_CLIENT_DCID_LENGTH = 8;

export type BalancePolicy = 'least-loaded' | 'hash';

export interface RouterOptions {
  codec: WorkerCidCodec;
  /** 16-byte key of the DCID hash (random per server: clients cannot aim their DCIDs at one worker). */
  hashKey: Uint8Array;
  /** How new client DCIDs pick a worker (default 'least-loaded'). */
  balance?: BalancePolicy;
  /** Active connections of a worker (read at assignment time, e.g. from its metrics block). */
  load?: (worker: number) => number;
  /** ms a client DCID entry lives without a release from its worker (default 10 000). */
  tableTtl?: number;
  /** Most entries (default 65 536); beyond it new DCIDs route by hash without an entry. */
  maxTableEntries?: number;
  /** Where to count (default a new block). */
  metrics?: MetricsBlock<RouterMetric>;
}

interface Entry {
  worker: number;
  expires: number;
}

export class Router {
  readonly codec: WorkerCidCodec;
  readonly workers: number;
  readonly balance: BalancePolicy;
  readonly metrics: MetricsBlock<RouterMetric>;
  private readonly cidLength: number;
  private readonly hasher: SipHash24;
  private readonly load: ((worker: number) => number) | undefined;
  private readonly ttl: number;
  private readonly maxEntries: number;
  private readonly table = new Map<string, Entry>();
  /** Table entries per worker (assignments not yet released). */
  private readonly pending: Int32Array;
  private readonly accepting: Uint8Array;
  private acceptingCount: number;
  private rr = 0;
  private readonly inv = createInvariantHeader();
  private readonly v: Float64Array;
  private readonly I = ROUTER_SCHEMA.index;

  constructor(options: RouterOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('options: expected { codec, hashKey }');
    const codec = options.codec;
    if (codec === null || typeof codec !== 'object' || typeof codec.workerAt !== 'function') throw new TypeError('options.codec: expected a WorkerCidCodec');
    if (!(options.hashKey instanceof Uint8Array) || options.hashKey.length !== 16) throw new RangeError('options.hashKey: expected 16 bytes');
    const balance = options.balance ?? 'least-loaded';
    if (balance !== 'least-loaded' && balance !== 'hash') throw new TypeError(`options.balance: expected 'least-loaded' or 'hash'`);
    if (options.load !== undefined && typeof options.load !== 'function') throw new TypeError('options.load: expected a function');
    const ttl = options.tableTtl ?? 10_000;
    if (!(ttl > 0)) throw new RangeError('options.tableTtl: expected a positive number of ms');
    const max = options.maxTableEntries ?? 65_536;
    if (!Number.isInteger(max) || max < 0) throw new RangeError('options.maxTableEntries: expected a non-negative integer');
    this.codec = codec;
    this.workers = codec.workers;
    this.cidLength = codec.length;
    this.balance = balance;
    this.hasher = new SipHash24(options.hashKey);
    this.load = options.load;
    this.ttl = ttl;
    this.maxEntries = max;
    this.metrics = options.metrics ?? new MetricsBlock(ROUTER_SCHEMA);
    this.v = this.metrics.values;
    this.pending = new Int32Array(this.workers);
    this.accepting = new Uint8Array(this.workers).fill(1);
    this.acceptingCount = this.workers;
  }

  /**
   * The worker for one received datagram, or −1 (dropped; counted by reason). `now`: ms, for the
   * table's expiry. Never throws for peer input.
   */
  route(datagram: Uint8Array, now: number): number {
    const v = this.v;
    const I = this.I;
    const len = datagram.length;
    v[I.datagrams_received]!++;
    v[I.bytes_received]! += len;
    if (len === 0) {
      v[I.dropped_empty]!++;
      return -1;
    }
    if ((datagram[0]! & 0x80) === 0) {
      // Short header (RFC 8999 §5.2): DCID of our length at offset 1.
      if (len < 1 + this.cidLength) {
        v[I.dropped_bad_header]!++;
        return -1;
      }
      const w = this.codec.workerAt(datagram, 1);
      if (w < 0) {
        v[I.dropped_unroutable]!++;
        return -1;
      }
      v[I.routed_short]!++;
      return w;
    }
    return this.routeLong(datagram, now);
  }

  private routeLong(datagram: Uint8Array, now: number): number {
    const v = this.v;
    const I = this.I;
    let inv;
    try {
      inv = parseInvariantHeader(datagram, this.cidLength, this.inv);
    } catch (e) {
      if (e instanceof BufferUnderflow) {
        v[I.dropped_bad_header]!++;
        return -1;
      }
      throw e;
    }
    const version = inv.version;
    if (version === VERSION_NEGOTIATION) {
      v[I.dropped_version_negotiation]!++;
      return -1;
    }
    const dcid = inv.dcid;
    const info = versionInfo(version);
    if (info === undefined) {
      // RFC 9000 §6.1: Version Negotiation only for datagrams that could carry an Initial.
      if (datagram.length < MIN_INITIAL_DATAGRAM) {
        v[I.dropped_unknown_version_small]!++;
        return -1;
      }
      v[I.routed_stateless]!++;
      return this.hashWorker(dcid);
    }
    if (dcid.length > MAX_CID_LENGTH || inv.scid.length > MAX_CID_LENGTH) {
      v[I.dropped_bad_header]!++;
      return -1;
    }
    if (dcid.length === this.cidLength) {
      const w = this.codec.workerAt(dcid, 0);
      if (w >= 0) {
        v[I.routed_long_cid]!++;
        return w;
      }
    }
    const type = longPacketType(info, inv.firstByte);
    if (type !== PacketType.Initial && type !== PacketType.ZeroRtt) {
      if (this.table.size > 0 && dcid.length >= MIN_CLIENT_DCID_LENGTH) {
        const e = this.table.get(cidKey(dcid));
        if (e !== undefined) {
          v[I.routed_table]!++;
          return e.worker;
        }
      }
      v[I.dropped_unknown_long]!++;
      return -1;
    }
    if (type === PacketType.Initial && datagram.length < MIN_INITIAL_DATAGRAM) {
      v[I.dropped_initial_too_small]!++;
      return -1;
    }
    if (dcid.length < MIN_CLIENT_DCID_LENGTH) {
      v[I.dropped_dcid_too_short]!++;
      return -1;
    }
    const key = cidKey(dcid);
    const e = this.table.get(key);
    if (e !== undefined) {
      v[I.routed_table]!++;
      // A client still sending Initials/0-RTT with its own DCID (no answer got through yet, e.g.
      // heavy loss) keeps its entry: refreshed once half the TTL passed (re-inserted, so the
      // insertion-order sweep stays in expiry order).
      if (e.expires - now < this.ttl / 2) {
        this.table.delete(key);
        e.expires = now + this.ttl;
        this.table.set(key, e);
      }
      return e.worker;
    }
    if (this.acceptingCount === 0) {
      v[I.dropped_no_worker]!++;
      return -1;
    }
    if (type === PacketType.ZeroRtt) {
      // Only Initials (≥ 1200 B, RFC 9000 §14.1) create entries: a 0-RTT packet of any size could
      // otherwise fill the table cheaply. One that arrives before its Initial goes by hash; if the
      // Initial lands elsewhere it is lost and its data resent in 1-RTT (RFC 9001 §4.6.2).
      v[I.routed_stateless]!++;
      return this.hashWorker(dcid);
    }
    if (this.table.size >= this.maxEntries) {
      v[I.table_full]!++;
      v[I.routed_stateless]!++;
      return this.hashWorker(dcid);
    }
    const w = this.balance === 'hash' ? this.hashWorker(dcid) : this.leastLoaded();
    this.table.set(key, { worker: w, expires: now + this.ttl });
    this.pending[w]!++;
    v[I.routed_new]!++;
    v[I.table_entries] = this.table.size;
    return w;
  }

  /** Keyed hash of the DCID onto an accepting worker (stateless: same DCID, same worker). */
  private hashWorker(dcid: Uint8Array): number {
    const h = this.hasher.hash(dcid, 0, dcid.length);
    let w = h % this.workers;
    if (this.acceptingCount === this.workers || this.acceptingCount === 0) return w;
    while (this.accepting[w] === 0) w = (w + 1) % this.workers;
    return w;
  }

  private leastLoaded(): number {
    const n = this.workers;
    const start = this.rr;
    this.rr = (this.rr + 1) % n;
    let best = -1;
    let bestScore = Infinity;
    for (let k = 0; k < n; k++) {
      const w = (start + k) % n;
      if (this.accepting[w] === 0) continue;
      const score = (this.load === undefined ? 0 : this.load(w)) + this.pending[w]!;
      if (score < bestScore) {
        bestScore = score;
        best = w;
      }
    }
    return best;
  }

  /**
   * Worker `worker` says it no longer needs the entry of client DCID `dcid`. True when one went.
   * An entry that now belongs to another worker (re-created after expiry or a crash) stays: only
   * its owner releases it. Without `worker`, any entry goes.
   */
  release(dcid: Uint8Array, worker?: number): boolean {
    const key = cidKey(dcid);
    const e = this.table.get(key);
    if (e === undefined || (worker !== undefined && e.worker !== worker)) return false;
    this.table.delete(key);
    this.pending[e.worker]!--;
    this.v[this.I.table_released]!++;
    this.v[this.I.table_entries] = this.table.size;
    return true;
  }

  /** Drop entries past their expiry (entries are in insertion order with one TTL). Returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (const [key, e] of this.table) {
      if (e.expires > now) break;
      this.table.delete(key);
      this.pending[e.worker]!--;
      n++;
    }
    if (n > 0) {
      this.v[this.I.table_expired]! += n;
      this.v[this.I.table_entries] = this.table.size;
    }
    return n;
  }

  /**
   * Worker `worker` is gone: drop its table entries, so the clients' retransmitted Initials start
   * over on a live worker instead of being routed to the dead one. Returns how many went.
   */
  forgetWorker(worker: number): number {
    let n = 0;
    for (const [key, e] of this.table) {
      if (e.worker !== worker) continue;
      this.table.delete(key);
      n++;
    }
    if (n > 0) {
      this.pending[worker] = 0;
      this.v[this.I.table_expired]! += n;
      this.v[this.I.table_entries] = this.table.size;
    }
    return n;
  }

  /** Stop (false) or resume (true) giving new connections to `worker` (drain); its CIDs keep routing. */
  setAccepting(worker: number, on: boolean): void {
    if (!Number.isInteger(worker) || worker < 0 || worker >= this.workers) throw new RangeError(`worker: expected 0..${this.workers - 1}, got ${worker}`);
    const was = this.accepting[worker] === 1;
    if (was === on) return;
    this.accepting[worker] = on ? 1 : 0;
    this.acceptingCount += on ? 1 : -1;
  }

  isAccepting(worker: number): boolean {
    return this.accepting[worker] === 1;
  }

  /** Client-DCID entries now. */
  get tableSize(): number {
    return this.table.size;
  }

  /** Table entries assigned to `worker` and not yet released or expired. */
  pendingFor(worker: number): number {
    return this.pending[worker] ?? 0;
  }

  /** The worker a client DCID is assigned to, or −1. */
  lookup(dcid: Uint8Array): number {
    return this.table.get(cidKey(dcid))?.worker ?? -1;
  }
}
