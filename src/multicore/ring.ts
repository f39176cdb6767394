// L7: a single-producer single-consumer ring of datagram slots in a SharedArrayBuffer — the data
// path between the main thread (UDP socket) and a shard worker (DESIGN §3). One RX ring (main →
// worker) and one TX ring (worker → main) per worker.
//
// Layout (all offsets in bytes; control words 64 bytes apart so producer and consumer never write
// the same cache line):
//   0    Int32 magic, version, slot count, payload capacity, slot stride, header size
//   64   Int32 HEAD   — consumer's release index (written by the consumer only)
//   128  Int32 TAIL   — producer's publish index (written by the producer only)
//   192  Int32 SLEEP  — 1 while the consumer waits for data (set by the consumer, cleared by either)
//   256  Float64 × 8  producer counters (drops when full / oversize, batches, notifies, pushed)
//   320  Float64 × 8  consumer counters (sleeps, wake-ups, consumed)
//   512  slots, `stride` bytes each (a multiple of 64):
//        +0 u32 length · +4 u8 kind · +5 u8 family (4/6) · +6 u16 port · +8 16-byte address
//        +24 u32 aux · +32 payload (`payload` bytes)
//
// Indices are free-running 32-bit counters (slot = index & mask; fill = (tail − head) | 0), so a
// power-of-two slot count wraps cleanly. Protocol:
// - Producer: acquire() a slot (−1 and a counted drop when full — the main thread never blocks),
//   write its payload in place, commit(); publish() makes every committed slot visible with ONE
//   Atomics.store of TAIL (per batch, not per packet) and calls Atomics.notify only when the
//   consumer said it sleeps (SLEEP = 1).
// - Consumer: take() slots in order and read them in place (payloadView(i) is a Uint8Array over the
//   SAB: the worker decrypts there without copying); releaseTaken() gives every taken slot back with
//   one Atomics.store of HEAD, or releaseSlot(i) releases out of order (the main thread's TX side
//   frees a slot when dgram's send callback fires) and HEAD advances over the contiguous prefix.
//   A ring uses ONE of the two: releaseSlot(i) for a slot releaseTaken() already covered would mark
//   an index that HEAD later skips while the slot is in use again (RX: releaseTaken in the worker;
//   TX: releaseSlot in the main thread).
// - Sleep: the consumer sets SLEEP = 1, re-reads TAIL, and only if nothing arrived waits with
//   Atomics.waitAsync on TAIL (never Atomics.wait in a thread that owns timers). Both sides use
//   sequentially consistent Atomics, so either the consumer sees the new TAIL or the producer sees
//   SLEEP = 1 and notifies: no lost wake-up.
// Counters in the header are plain Float64 stores by their one writer (readers may see a value one
// update old; aligned 8-byte stores do not tear on the platforms Node runs on).

/** Slot kinds: a UDP datagram, or an in-band control record (e.g. "release this DCID"). */
export const SlotKind = {
  Datagram: 0,
  Control: 1,
} as const;
export type SlotKind = (typeof SlotKind)[keyof typeof SlotKind];

export const RING_MAGIC = 0x51524e47; // 'QRNG'
export const RING_VERSION = 1;
export const RING_HEADER_BYTES = 512;
export const SLOT_HEADER_BYTES = 32;
/** Default payload capacity: ≥ 1452 (largest QUIC datagram we build on Ethernet), stride 1536. */
export const DEFAULT_SLOT_PAYLOAD = 1504;

const I_MAGIC = 0;
const I_VERSION = 1;
const I_SLOTS = 2;
const I_PAYLOAD = 3;
const I_STRIDE = 4;
const I_HEADER = 5;
const I_HEAD = 16;
const I_TAIL = 32;
const I_SLEEP = 48;
const F_PRODUCER = 256 / 8;
const F_CONSUMER = 320 / 8;

/** Producer-side counters (Float64 indices after F_PRODUCER). */
const P_DROP_FULL = 0;
const P_DROP_OVERSIZE = 1;
const P_BATCHES = 2;
const P_NOTIFIES = 3;
const P_PUSHED = 4;
/** Consumer-side counters. */
const C_SLEEPS = 0;
const C_WAKEUPS = 1;
const C_CONSUMED = 2;

export interface RingCounters {
  /** Datagrams the producer dropped because every slot was in use. */
  dropsFull: number;
  /** Datagrams larger than a slot's payload. */
  dropsOversize: number;
  /** publish() calls that made at least one slot visible. */
  batches: number;
  /** Atomics.notify calls (the consumer was asleep). */
  notifies: number;
  /** Slots committed. */
  pushed: number;
  /** Times the consumer went to sleep. */
  sleeps: number;
  /** Sleeps that ended with a notify or a value change (not a timeout). */
  wakeups: number;
  /** Slots released by the consumer. */
  consumed: number;
}

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
type AtomicsWithWaitAsync = typeof Atomics & {
  waitAsync(typedArray: Int32Array, index: number, value: number, timeout?: number): WaitAsyncResult;
};
const atomics = Atomics as AtomicsWithWaitAsync;

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Bytes of the SharedArrayBuffer a ring of `slots` × `payload` needs. */
export function ringByteLength(slots: number, payload: number): number {
  return RING_HEADER_BYTES + slots * slotStride(payload);
}

function slotStride(payload: number): number {
  return (SLOT_HEADER_BYTES + payload + 63) & ~63;
}

/** Allocate and format a ring. `slots`: a power of two (2..65536); `payload`: bytes per slot. */
export function createRing(slots: number, payload = DEFAULT_SLOT_PAYLOAD): SharedArrayBuffer {
  if (!Number.isInteger(slots) || !isPowerOfTwo(slots) || slots < 2 || slots > 65536) {
    throw new RangeError(`slots: expected a power of two in 2..65536, got ${slots}`);
  }
  if (!Number.isInteger(payload) || payload < 64 || payload > 65536) throw new RangeError(`payload: expected 64..65536 bytes, got ${payload}`);
  const sab = new SharedArrayBuffer(ringByteLength(slots, payload));
  const h = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
  h[I_MAGIC] = RING_MAGIC;
  h[I_VERSION] = RING_VERSION;
  h[I_SLOTS] = slots;
  h[I_PAYLOAD] = payload;
  h[I_STRIDE] = slotStride(payload);
  h[I_HEADER] = RING_HEADER_BYTES;
  return sab;
}

/** What both ends share: typed views over one ring buffer, made once. */
class RingViews {
  readonly buffer: SharedArrayBuffer;
  readonly slots: number;
  readonly mask: number;
  readonly payloadCapacity: number;
  readonly stride: number;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  /** Per slot: a view of the whole payload area (made once; never reallocated). */
  readonly payloads: Uint8Array[];
  /** Per slot: a view of the 16 address bytes. */
  readonly addresses: Uint8Array[];

  constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer)) throw new TypeError('buffer: expected a SharedArrayBuffer made by createRing()');
    if (buffer.byteLength < RING_HEADER_BYTES) throw new RangeError('buffer: too small for a ring header');
    const h = new Int32Array(buffer, 0, RING_HEADER_BYTES / 4);
    if (h[I_MAGIC] !== RING_MAGIC || h[I_VERSION] !== RING_VERSION) throw new TypeError('buffer: not a ring (bad magic/version)');
    const slots = h[I_SLOTS]!;
    const payload = h[I_PAYLOAD]!;
    const stride = h[I_STRIDE]!;
    if (!isPowerOfTwo(slots) || stride !== slotStride(payload) || buffer.byteLength < ringByteLength(slots, payload)) {
      throw new RangeError('buffer: ring header does not match its size');
    }
    this.buffer = buffer;
    this.slots = slots;
    this.mask = slots - 1;
    this.payloadCapacity = payload;
    this.stride = stride;
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer, 0, RING_HEADER_BYTES / 8);
    this.u8 = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.payloads = new Array<Uint8Array>(slots);
    this.addresses = new Array<Uint8Array>(slots);
    for (let i = 0; i < slots; i++) {
      const base = RING_HEADER_BYTES + i * stride;
      this.payloads[i] = new Uint8Array(buffer, base + SLOT_HEADER_BYTES, payload);
      this.addresses[i] = new Uint8Array(buffer, base + 8, 16);
    }
  }

  base(slot: number): number {
    return RING_HEADER_BYTES + slot * this.stride;
  }

  counters(): RingCounters {
    const f = this.f64;
    return {
      dropsFull: f[F_PRODUCER + P_DROP_FULL]!,
      dropsOversize: f[F_PRODUCER + P_DROP_OVERSIZE]!,
      batches: f[F_PRODUCER + P_BATCHES]!,
      notifies: f[F_PRODUCER + P_NOTIFIES]!,
      pushed: f[F_PRODUCER + P_PUSHED]!,
      sleeps: f[F_CONSUMER + C_SLEEPS]!,
      wakeups: f[F_CONSUMER + C_WAKEUPS]!,
      consumed: f[F_CONSUMER + C_CONSUMED]!,
    };
  }

  /** Published slots not yet released (either side may ask; a snapshot). */
  fill(): number {
    return (Atomics.load(this.i32, I_TAIL) - Atomics.load(this.i32, I_HEAD)) | 0;
  }
}

/**
 * What both ends of a ring hold: the shared views, copied into own fields once so the hot paths
 * read them without going through `views`.
 */
abstract class RingEnd {
  readonly views: RingViews;
  readonly capacity: number;
  readonly payloadCapacity: number;
  protected readonly i32: Int32Array;
  protected readonly f64: Float64Array;
  protected readonly u8: Uint8Array;
  protected readonly u16: Uint16Array;
  protected readonly u32: Uint32Array;
  protected readonly payloads: Uint8Array[];
  protected readonly addresses: Uint8Array[];
  protected readonly mask: number;
  protected readonly stride: number;

  constructor(buffer: SharedArrayBuffer) {
    const v = new RingViews(buffer);
    this.views = v;
    this.capacity = v.slots;
    this.payloadCapacity = v.payloadCapacity;
    this.i32 = v.i32;
    this.f64 = v.f64;
    this.u8 = v.u8;
    this.u16 = v.u16;
    this.u32 = v.u32;
    this.payloads = v.payloads;
    this.addresses = v.addresses;
    this.mask = v.slots - 1;
    this.stride = v.stride;
  }
}

/** The writing end of a ring. Use from ONE thread. */
export class RingProducer extends RingEnd {
  /** Next index to commit (local; visible to the consumer after publish()). */
  private tail: number;
  private published: number;
  /** Last HEAD seen; re-read only when the ring looks full. */
  private head: number;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    const v = this.views;
    this.tail = Atomics.load(v.i32, I_TAIL);
    this.published = this.tail;
    this.head = Atomics.load(v.i32, I_HEAD);
  }

  /** True while the consumer has said it sleeps (the next publish() will notify it). */
  get consumerAsleep(): boolean {
    return Atomics.load(this.i32, I_SLEEP) !== 0;
  }

  /**
   * The slot to write next, or −1 when the ring is full (counted as a drop; the caller moves on —
   * the main thread's RX side). Repeated calls without commit() return the same slot.
   */
  acquire(): number {
    const slot = this.tryAcquire();
    if (slot < 0) this.f64[F_PRODUCER + P_DROP_FULL]!++;
    return slot;
  }

  /**
   * acquire() without counting a drop: for a producer that keeps the data and retries later (a
   * shard's TX side: the connection still holds what it could not send).
   */
  tryAcquire(): number {
    if (((this.tail - this.head) | 0) >= this.capacity) {
      this.head = Atomics.load(this.i32, I_HEAD);
      if (((this.tail - this.head) | 0) >= this.capacity) return -1;
    }
    return this.tail & this.mask;
  }

  /** Free slots right now (re-reads HEAD). */
  space(): number {
    this.head = Atomics.load(this.i32, I_HEAD);
    return this.capacity - ((this.tail - this.head) | 0);
  }

  /** The payload area of `slot` (capacity `payloadCapacity`): write the datagram here. */
  payloadView(slot: number): Uint8Array {
    return this.payloads[slot]!;
  }

  /** The 16 address bytes of `slot` (IPv4 in the first 4). */
  addressView(slot: number): Uint8Array {
    return this.addresses[slot]!;
  }

  /**
   * Finish the slot returned by acquire(): record its length, kind, family, port and aux word, and
   * advance the local tail. Not visible to the consumer until publish().
   */
  commit(slot: number, length: number, kind: SlotKind, family: number, port: number, aux = 0): void {
    if (slot !== (this.tail & this.mask)) throw new RangeError('slot: commit() the slot acquire() returned');
    if (length < 0 || length > this.payloadCapacity) throw new RangeError(`length: 0..${this.payloadCapacity}, got ${length}`);
    const base = RING_HEADER_BYTES + slot * this.stride;
    this.u32[base >> 2] = length;
    this.u8[base + 4] = kind;
    this.u8[base + 5] = family;
    this.u16[(base + 6) >> 1] = port;
    this.u32[(base + 24) >> 2] = aux >>> 0;
    this.tail = (this.tail + 1) | 0;
  }

  /**
   * Copy `data` into the next slot and commit it (address: 16 bytes, or 4 for IPv4; may be
   * undefined for control records). False — and a counted drop — when full or too large.
   */
  push(data: Uint8Array, kind: SlotKind, family: number, address: Uint8Array | undefined, port: number, aux = 0): boolean {
    if (data.length > this.payloadCapacity) {
      this.f64[F_PRODUCER + P_DROP_OVERSIZE]!++;
      return false;
    }
    const slot = this.acquire();
    if (slot < 0) return false;
    this.payloads[slot]!.set(data, 0);
    if (address !== undefined) this.addresses[slot]!.set(address.length > 16 ? address.subarray(0, 16) : address, 0);
    this.commit(slot, data.length, kind, family, port, aux);
    return true;
  }

  /** Count a drop decided by the caller (e.g. a datagram too large for a slot). */
  countOversize(): void {
    this.f64[F_PRODUCER + P_DROP_OVERSIZE]!++;
  }

  /** Slots committed but not yet published. */
  get pending(): number {
    return (this.tail - this.published) | 0;
  }

  /**
   * Make every committed slot visible (one Atomics.store of TAIL) and wake the consumer if it is
   * asleep. Returns how many slots became visible.
   */
  publish(): number {
    const n = (this.tail - this.published) | 0;
    if (n === 0) return 0;
    this.published = this.tail;
    Atomics.store(this.i32, I_TAIL, this.tail);
    const f = this.f64;
    f[F_PRODUCER + P_BATCHES]!++;
    f[F_PRODUCER + P_PUSHED]! += n;
    if (Atomics.load(this.i32, I_SLEEP) !== 0) {
      Atomics.store(this.i32, I_SLEEP, 0);
      Atomics.notify(this.i32, I_TAIL, 1);
      f[F_PRODUCER + P_NOTIFIES]!++;
    }
    return n;
  }

  counters(): RingCounters {
    return this.views.counters();
  }
}

/** The reading end of a ring. Use from ONE thread. */
export class RingConsumer extends RingEnd {
  /** Released up to here (published to the producer). */
  private head: number;
  /** Taken up to here (local). */
  private read: number;
  /** Last TAIL seen. */
  private tail: number;
  /** Out-of-order releases: 1 = released, waiting for the slots before it. */
  private readonly done: Uint8Array;
  /** Slots marked in `done` (released out of order, not yet covered by HEAD). */
  private outOfOrder = 0;
  private waiting: Promise<'ok' | 'timed-out' | 'not-equal'> | null = null;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    const v = this.views;
    this.head = Atomics.load(v.i32, I_HEAD);
    this.read = this.head;
    this.tail = Atomics.load(v.i32, I_TAIL);
    this.done = new Uint8Array(v.slots);
  }

  /** Published slots not yet taken (re-reads TAIL). */
  available(): number {
    this.tail = Atomics.load(this.i32, I_TAIL);
    return (this.tail - this.read) | 0;
  }

  /** The next published slot (taken: read it, then release it), or −1 when none. */
  take(): number {
    if (this.read === this.tail) {
      this.tail = Atomics.load(this.i32, I_TAIL);
      if (this.read === this.tail) return -1;
    }
    const slot = this.read & this.mask;
    this.read = (this.read + 1) | 0;
    return slot;
  }

  /** Length of the record in `slot`. */
  length(slot: number): number {
    return this.u32[(RING_HEADER_BYTES + slot * this.stride) >> 2]!;
  }

  kind(slot: number): number {
    return this.u8[RING_HEADER_BYTES + slot * this.stride + 4]!;
  }

  family(slot: number): number {
    return this.u8[RING_HEADER_BYTES + slot * this.stride + 5]!;
  }

  port(slot: number): number {
    return this.u16[(RING_HEADER_BYTES + slot * this.stride + 6) >> 1]!;
  }

  aux(slot: number): number {
    return this.u32[(RING_HEADER_BYTES + slot * this.stride + 24) >> 2]!;
  }

  /** The 16 address bytes of `slot`. */
  addressView(slot: number): Uint8Array {
    return this.addresses[slot]!;
  }

  /** The whole payload area of `slot` (read and modify in place until released). */
  payloadView(slot: number): Uint8Array {
    return this.payloads[slot]!;
  }

  /** The record of `slot` as a view of exactly its length (one subarray). */
  data(slot: number): Uint8Array {
    return this.payloads[slot]!.subarray(0, this.length(slot));
  }

  /** Release every taken slot, in order: one Atomics.store of HEAD. */
  releaseTaken(): void {
    const n = (this.read - this.head) | 0;
    if (n === 0) return;
    // Slots released out of order before are covered too.
    if (this.outOfOrder !== 0) {
      for (let i = this.head; i !== this.read; i = (i + 1) | 0) this.done[i & this.mask] = 0;
      this.outOfOrder = 0;
    }
    this.head = this.read;
    Atomics.store(this.i32, I_HEAD, this.head);
    this.f64[F_CONSUMER + C_CONSUMED]! += n;
  }

  /**
   * Release one taken slot, possibly out of order (e.g. when dgram's send callback fires). HEAD
   * advances over the contiguous released prefix. Do not mix with releaseTaken() on one ring.
   */
  releaseSlot(slot: number): void {
    const done = this.done;
    if (done[slot] === 1) return;
    done[slot] = 1;
    this.outOfOrder++;
    let head = this.head;
    let n = 0;
    const mask = this.mask;
    while (head !== this.read && done[head & mask] === 1) {
      done[head & mask] = 0;
      head = (head + 1) | 0;
      n++;
    }
    if (n > 0) {
      this.outOfOrder -= n;
      this.head = head;
      Atomics.store(this.i32, I_HEAD, head);
      this.f64[F_CONSUMER + C_CONSUMED]! += n;
    }
  }

  /** Slots taken and not released yet. */
  get taken(): number {
    return (this.read - this.head) | 0;
  }

  /**
   * Wait for data without blocking the thread: null when data is already there (go read it), else
   * a promise that settles when the producer published (or after `timeoutMs`). Sets SLEEP so the
   * producer notifies; at most one wait is outstanding (a second call returns the same promise).
   */
  waitForData(timeoutMs?: number): Promise<'ok' | 'timed-out' | 'not-equal'> | null {
    if (this.waiting !== null) return this.waiting;
    const i32 = this.i32;
    Atomics.store(i32, I_SLEEP, 1);
    const t = Atomics.load(i32, I_TAIL);
    if (t !== this.read) {
      Atomics.store(i32, I_SLEEP, 0);
      this.tail = t;
      return null;
    }
    this.f64[F_CONSUMER + C_SLEEPS]!++;
    const r = atomics.waitAsync(i32, I_TAIL, t, timeoutMs === undefined ? Infinity : timeoutMs);
    if (!r.async) {
      Atomics.store(i32, I_SLEEP, 0);
      if (r.value === 'not-equal') {
        this.f64[F_CONSUMER + C_WAKEUPS]!++;
        return null;
      }
      return Promise.resolve(r.value);
    }
    this.waiting = r.value.then((v) => {
      this.waiting = null;
      Atomics.store(i32, I_SLEEP, 0);
      if (v === 'ok') this.f64[F_CONSUMER + C_WAKEUPS]!++;
      return v;
    });
    return this.waiting;
  }

  /**
   * Blocking wait (Atomics.wait) for threads that own no timers and no event loop work — a
   * benchmark's echo thread, a dedicated spinner. Never call it from a timer-owning thread.
   * Returns true when data is available.
   */
  waitBlocking(timeoutMs: number): boolean {
    const i32 = this.i32;
    Atomics.store(i32, I_SLEEP, 1);
    const t = Atomics.load(i32, I_TAIL);
    if (t === this.read) {
      this.f64[F_CONSUMER + C_SLEEPS]!++;
      if (Atomics.wait(i32, I_TAIL, t, timeoutMs) === 'ok') this.f64[F_CONSUMER + C_WAKEUPS]!++;
    }
    Atomics.store(i32, I_SLEEP, 0);
    return this.available() > 0;
  }

  /** True while a waitForData() promise is outstanding. */
  get sleeping(): boolean {
    return this.waiting !== null;
  }

  counters(): RingCounters {
    return this.views.counters();
  }
}
