// Test support: a seeded one-way link simulator (the impairments of quic-interop-runner's network
// simulator and netem, in memory). DESIGN §6: connection tests need no sockets, only a virtual clock,
// a seeded RNG and an optional simulated link.
//
// One Link is one direction. `transmit(datagram, now)` decides the fate of a datagram and returns
// zero or more deliveries (`{ data, at }`): dropped (random loss with a burst cap, a blackhole period,
// a drop list, a full rate-limit queue), corrupted (random bytes changed in a copy), duplicated,
// delayed (fixed delay + jitter, an extra reordering delay, serialization at a rate limit). Every
// decision comes from the link's own SeededRandom, so a seed reproduces the run exactly.
import { SeededRandom } from '../../src/crypto/random.js';

export interface BlackholeSchedule {
  /** ms the link passes traffic in each period. */
  on: number;
  /** ms the link drops everything after each `on` phase. */
  off: number;
  /** Virtual time the schedule starts (default: the first datagram's time). Before it the link is on. */
  start?: number;
  /** Stop black-holing after this virtual time (default never). */
  until?: number;
}

export interface LinkConfig {
  /** Target long-run loss rate in [0, 1). Losses come in bursts of 1..lossBurst datagrams. */
  loss?: number;
  /** Largest burst of consecutive random losses (default 1 = independent losses). */
  lossBurst?: number;
  /** Only lose datagrams while this returns true (e.g. "during handshakes"). Default: always. */
  lossWhen?: (now: number) => boolean;
  /** Probability a datagram is corrupted (some of its bytes replaced with random values). */
  corrupt?: number;
  /** Bytes changed per corrupted datagram: uniform in 1..corruptBytes (default 3). */
  corruptBytes?: number;
  /** Probability a datagram is held back by `reorderDelay` ms extra (so later ones overtake it). */
  reorder?: number;
  /** Extra delay of a reordered datagram (default 10 ms). */
  reorderDelay?: number;
  /** Probability a datagram is delivered twice (the copy `duplicateDelay` ms later). */
  duplicate?: number;
  duplicateDelay?: number;
  /** One-way propagation delay in ms (default 5). */
  delay?: number;
  /** Uniform extra delay in [0, jitter] ms. Jitter can reorder unless `fifoJitter` is set. */
  jitter?: number;
  /** Keep FIFO order despite jitter (a datagram never arrives before one sent earlier). */
  fifoJitter?: boolean;
  /** Serialization rate in bytes/s (default unlimited). Datagrams queue behind each other. */
  rate?: number;
  /** Queue limit in bytes when `rate` is set (tail drop beyond it; default 64 KiB). */
  queueBytes?: number;
  /** Drop every datagram while the schedule is in an `off` phase. */
  blackhole?: BlackholeSchedule;
  /** 1-based indices of datagrams (in transmit order on this link) to drop, e.g. [2,3,4,5,6,7]. */
  dropList?: readonly number[];
  /** Drop datagrams for which this returns true (index is 1-based). Runs before random impairments. */
  dropIf?: (data: Uint8Array, index: number, now: number) => boolean;
}

export interface Delivery {
  data: Uint8Array;
  /** Virtual time of arrival. */
  at: number;
}

export type DropReason = 'loss' | 'blackhole' | 'droplist' | 'queue' | 'filter';

export interface LinkCounters {
  /** Datagrams and bytes handed to the link. */
  datagrams: number;
  bytes: number;
  /** Datagrams and bytes that came out of it (duplicates count twice). */
  deliveredDatagrams: number;
  deliveredBytes: number;
  dropped: Record<DropReason, number>;
  corrupted: number;
  duplicated: number;
  reordered: number;
}

const U32 = 0x1_0000_0000;

export class Link {
  readonly name: string;
  config: LinkConfig;
  readonly counters: LinkCounters;
  private readonly rng: SeededRandom;
  private burstLeft = 0;
  private burstEnded = false;
  private queueFreeAt = 0;
  private queuedBytes: Array<{ until: number; bytes: number }> = [];
  private lastArrival = -Infinity;
  private blackholeStart: number | undefined;

  constructor(seed: number, config: LinkConfig = {}, name = 'link') {
    this.name = name;
    this.rng = new SeededRandom(seed);
    this.config = config;
    validate(config);
    this.counters = {
      datagrams: 0,
      bytes: 0,
      deliveredDatagrams: 0,
      deliveredBytes: 0,
      dropped: { loss: 0, blackhole: 0, droplist: 0, queue: 0, filter: 0 },
      corrupted: 0,
      duplicated: 0,
      reordered: 0,
    };
  }

  /** Change impairments mid-run (e.g. end a lossy phase). */
  reconfigure(config: LinkConfig): void {
    validate(config);
    this.config = config;
    this.burstLeft = 0;
  }

  private random(): number {
    return this.rng.uint32() / U32;
  }

  /** Whether the blackhole schedule drops at `now`. */
  blackholed(now: number): boolean {
    const b = this.config.blackhole;
    if (!b) return false;
    if (this.blackholeStart === undefined) this.blackholeStart = b.start ?? now;
    if (now < this.blackholeStart) return false;
    if (b.until !== undefined && now >= b.until) return false;
    const phase = (now - this.blackholeStart) % (b.on + b.off);
    return phase >= b.on;
  }

  /**
   * Send `data` (the caller's buffer; copied) into the link at virtual time `now`. Returns the
   * deliveries, possibly none.
   */
  transmit(data: Uint8Array, now: number): Delivery[] {
    const c = this.config;
    const counters = this.counters;
    counters.datagrams++;
    counters.bytes += data.length;
    const index = counters.datagrams;
    if (c.dropList && c.dropList.includes(index)) {
      counters.dropped.droplist++;
      return [];
    }
    if (c.dropIf && c.dropIf(data, index, now)) {
      counters.dropped.filter++;
      return [];
    }
    if (this.blackholed(now)) {
      counters.dropped.blackhole++;
      return [];
    }
    if (this.lose(now)) {
      counters.dropped.loss++;
      return [];
    }
    let departure = now;
    if (c.rate !== undefined && c.rate > 0) {
      // Serialization: the datagram leaves once those queued before it have left.
      this.queuedBytes = this.queuedBytes.filter((q) => q.until > now);
      let queued = 0;
      for (const q of this.queuedBytes) queued += q.bytes;
      if (queued + data.length > (c.queueBytes ?? 65536)) {
        counters.dropped.queue++;
        return [];
      }
      const start = Math.max(now, this.queueFreeAt);
      departure = start + (data.length * 1000) / c.rate;
      this.queueFreeAt = departure;
      this.queuedBytes.push({ until: departure, bytes: data.length });
    }
    const copy = data.slice();
    if (c.corrupt && this.random() < c.corrupt) {
      counters.corrupted++;
      const n = 1 + Math.floor(this.random() * (c.corruptBytes ?? 3));
      for (let i = 0; i < n; i++) {
        const pos = Math.floor(this.random() * copy.length);
        // XOR with a non-zero value so the byte really changes.
        copy[pos] = copy[pos]! ^ (1 + Math.floor(this.random() * 255));
      }
    }
    let at = departure + (c.delay ?? 5);
    if (c.jitter) at += this.random() * c.jitter;
    if (c.fifoJitter && at < this.lastArrival) at = this.lastArrival;
    if (c.reorder && this.random() < c.reorder) {
      counters.reordered++;
      at += c.reorderDelay ?? 10;
    } else if (at > this.lastArrival) {
      this.lastArrival = at;
    }
    const out: Delivery[] = [{ data: copy, at }];
    if (c.duplicate && this.random() < c.duplicate) {
      counters.duplicated++;
      out.push({ data: copy.slice(), at: at + (c.duplicateDelay ?? 1) });
    }
    for (const d of out) {
      counters.deliveredDatagrams++;
      counters.deliveredBytes += d.data.length;
    }
    return out;
  }

  private lose(now: number): boolean {
    const c = this.config;
    if (!c.loss) return false;
    if (c.lossWhen && !c.lossWhen(now)) {
      this.burstLeft = 0;
      return false;
    }
    if (this.burstLeft > 0) {
      this.burstLeft--;
      if (this.burstLeft === 0) this.burstEnded = true; // only reachable with cap > 1
      return true;
    }
    if (this.burstEnded) {
      // One datagram passes between bursts, so no run of losses exceeds the cap.
      this.burstEnded = false;
      return false;
    }
    const cap = Math.max(1, Math.floor(c.lossBurst ?? 1));
    // Bursts of uniform length 1..cap (mean m = (cap+1)/2), each followed by one delivered datagram
    // when cap > 1. Starting a burst with probability s per eligible datagram loses a fraction
    // s·m / (1 + s·m) of them, so s = loss / (m·(1 − loss)) gives the long-run rate `loss`.
    const m = (cap + 1) / 2;
    const startProbability = cap === 1 ? c.loss : Math.min(1, c.loss / (m * (1 - c.loss)));
    if (this.random() < startProbability) {
      this.burstLeft = Math.floor(this.random() * cap); // this one plus 0..cap-1 more
      this.burstEnded = cap > 1 && this.burstLeft === 0;
      return true;
    }
    return false;
  }
}

function validate(c: LinkConfig): void {
  const prob = (name: keyof LinkConfig): void => {
    const v = c[name];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) {
      throw new RangeError(`config.${name}: expected a probability in [0, 1], got ${String(v)}`);
    }
  };
  prob('loss');
  prob('corrupt');
  prob('reorder');
  prob('duplicate');
  const nonNeg = (name: keyof LinkConfig): void => {
    const v = c[name];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) {
      throw new RangeError(`config.${name}: expected a non-negative number, got ${String(v)}`);
    }
  };
  nonNeg('delay');
  nonNeg('jitter');
  nonNeg('reorderDelay');
  nonNeg('duplicateDelay');
  nonNeg('rate');
  nonNeg('queueBytes');
  nonNeg('corruptBytes');
  nonNeg('lossBurst');
  if (c.blackhole && !(c.blackhole.on > 0 && c.blackhole.off >= 0)) {
    throw new RangeError('config.blackhole: expected on > 0 and off >= 0');
  }
}
