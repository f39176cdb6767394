// L2b: Datagram Packetization Layer PMTU Discovery for QUIC (RFC 8899 §4–§5, RFC 9000 §14.3/§14.4).
// States DISABLED → BASE → SEARCHING → SEARCH_COMPLETE, ERROR (RFC 8899 §5.2). The QUIC handshake
// already confirms BASE_PLPMTU = 1200 (padded Initials), so enabling goes straight to SEARCHING.
// Probes are PING + PADDING packets the connection builds at `nextProbeSize()` bytes and flags
// `pmtuProbe` when recording them, so their loss is not a congestion signal (RFC 9000 §14.4); the
// loss detector declares a probe lost (QUIC's substitute for PROBE_TIMER). A search starts with
// the upper bound (the common case: the local maximum works), then bisects; MAX_PROBES losses of
// one size make it the new upper bound. PMTU_RAISE_TIMER (600 s) restarts the search. Black-hole
// detection: repeated loss bursts made only of packets larger than BASE_PLPMTU, with no packet of
// the current size acknowledged in between, drop back to BASE (RFC 8899 §4.3, §5.2).

import { PacketList, SentFlags } from './sent-packets.js';

export type PmtudState = 'disabled' | 'base' | 'searching' | 'search_complete' | 'error';

export interface PmtudOptions {
  /** BASE_PLPMTU = MIN_PLPMTU for QUIC: 1200 (RFC 9000 §14). */
  basePlpmtu?: number;
  /** Local MAX_PLPMTU (UDP payload), default 1452 (1500-byte Ethernet MTU, IPv4 + UDP headers). */
  maxPlpmtu?: number;
  /** MAX_PROBES (RFC 8899 §5.1.2), default 3. */
  maxProbes?: number;
  /** PMTU_RAISE_TIMER in ms (RFC 8899 §5.1.1), default 600 000. */
  raiseTimer?: number;
  /** Stop bisecting when the search interval is narrower than this many bytes, default 20. */
  minStep?: number;
  /** Suspicious loss bursts that declare a black hole, default 3. */
  blackHoleThreshold?: number;
}

/** Largest UDP payload a QUIC packet can use (RFC 9000 §18.2 max_udp_payload_size limit). */
export const MAX_UDP_PAYLOAD = 65527;

export class Pmtud {
  state: PmtudState = 'disabled';
  readonly basePlpmtu: number;
  readonly localMax: number;
  readonly maxProbes: number;
  readonly raiseTimer: number;
  readonly minStep: number;
  readonly blackHoleThreshold: number;
  /** The confirmed PLPMTU: the max_datagram_size the connection should build packets with. */
  plpmtu: number;
  private peerMax = MAX_UDP_PAYLOAD;
  /** Largest size known to work / smallest size known to fail − 1, during a search. */
  private low: number;
  private high: number;
  /** Size of the probe in flight or to be (re)sent, 0 if none. */
  private probeSize = 0;
  /** Packet number of the probe in flight, -1 if none. */
  private probePn = -1;
  /** Probes of probeSize lost so far. */
  private probeLosses = 0;
  /** SEARCH_COMPLETE: time the raise timer fires. */
  private raiseAt = Infinity;
  private suspiciousBursts = 0;
  /** Counters for stats/qlog. */
  probesSent = 0;
  probesLost = 0;
  blackHoles = 0;

  constructor(opts: PmtudOptions = {}) {
    const base = opts.basePlpmtu ?? 1200;
    const max = opts.maxPlpmtu ?? 1452;
    if (!(base >= 1200) || !Number.isInteger(base)) {
      throw new RangeError(`basePlpmtu must be an integer ≥ 1200, got ${base}`);
    }
    if (!(max >= base) || !Number.isInteger(max) || max > MAX_UDP_PAYLOAD) {
      throw new RangeError(`maxPlpmtu must be an integer in [basePlpmtu, ${MAX_UDP_PAYLOAD}], got ${max}`);
    }
    this.basePlpmtu = base;
    this.localMax = max;
    this.maxProbes = opts.maxProbes ?? 3;
    this.raiseTimer = opts.raiseTimer ?? 600_000;
    this.minStep = opts.minStep ?? 20;
    this.blackHoleThreshold = opts.blackHoleThreshold ?? 3;
    if (!(this.maxProbes >= 1)) throw new RangeError(`maxProbes must be ≥ 1, got ${this.maxProbes}`);
    if (!(this.raiseTimer > 0)) throw new RangeError(`raiseTimer must be > 0, got ${this.raiseTimer}`);
    if (!(this.minStep >= 1)) throw new RangeError(`minStep must be ≥ 1, got ${this.minStep}`);
    if (!(this.blackHoleThreshold >= 1)) {
      throw new RangeError(`blackHoleThreshold must be ≥ 1, got ${this.blackHoleThreshold}`);
    }
    this.plpmtu = base;
    this.low = base;
    this.high = base;
  }

  /** MAX_PLPMTU for this path: min(local maximum, peer's max_udp_payload_size). */
  get maxPlpmtu(): number {
    return this.localMax < this.peerMax ? this.localMax : this.peerMax;
  }

  /** The peer's max_udp_payload_size transport parameter (RFC 9000 §18.2). */
  setPeerMaxUdpPayloadSize(size: number): void {
    if (!(size >= 1200)) throw new RangeError(`max_udp_payload_size must be ≥ 1200, got ${size}`);
    this.peerMax = size > MAX_UDP_PAYLOAD ? MAX_UDP_PAYLOAD : size;
    if (this.high > this.maxPlpmtu) this.high = Math.max(this.low, this.maxPlpmtu);
    if (this.plpmtu > this.maxPlpmtu) this.plpmtu = Math.max(this.basePlpmtu, this.maxPlpmtu);
  }

  /**
   * Starts discovery once the path is confirmed (handshake confirmed, RFC 9000 §14.3: probes are
   * 1-RTT packets). The handshake proved BASE_PLPMTU, so the search begins immediately.
   */
  enable(now: number): void {
    if (this.state !== 'disabled') return;
    this.startSearch(now);
  }

  /** Stops discovery and keeps the current PLPMTU (e.g. the path changed and will be re-enabled). */
  disable(): void {
    this.state = 'disabled';
    this.probeSize = 0;
    this.probePn = -1;
    this.raiseAt = Infinity;
  }

  /** A new path: back to BASE_PLPMTU and DISABLED until enable() (RFC 9000 §14.2.1, §9). */
  resetForNewPath(): void {
    this.disable();
    this.plpmtu = this.basePlpmtu;
    this.low = this.high = this.basePlpmtu;
    this.suspiciousBursts = 0;
  }

  private startSearch(_now: number): void {
    this.low = this.plpmtu;
    this.high = this.maxPlpmtu;
    this.probePn = -1;
    this.probeLosses = 0;
    this.raiseAt = Infinity;
    if (this.high - this.low < 1) {
      this.complete(_now);
      return;
    }
    this.state = 'searching';
    // Try the upper bound first; bisect only if it fails.
    this.probeSize = this.high;
  }

  private complete(now: number): void {
    this.state = 'search_complete';
    this.probeSize = 0;
    this.probePn = -1;
    this.raiseAt = now + this.raiseTimer;
  }

  /** Picks the next size after a success or a final failure; completes when converged. */
  private nextSize(now: number): void {
    this.probeLosses = 0;
    if (this.high - this.low < this.minStep) {
      this.complete(now);
      return;
    }
    this.probeSize = this.low + Math.ceil((this.high - this.low) / 2);
  }

  /** When the raise timer (or nothing) fires: Infinity when no timer is needed. */
  nextTimeout(): number {
    return this.state === 'search_complete' ? this.raiseAt : Infinity;
  }

  /**
   * Size in bytes of the probe the connection should send now, 0 for none. Only one probe is in
   * flight at a time. Handles the raise timer: at raiseAt a new search starts.
   */
  nextProbeSize(now: number): number {
    switch (this.state) {
      case 'searching':
      case 'base':
        return this.probePn < 0 ? this.probeSize : 0;
      case 'search_complete':
        if (now >= this.raiseAt) {
          this.startSearch(now);
          return this.probeSize;
        }
        return 0;
      default:
        return 0;
    }
  }

  /** The connection sent the probe returned by nextProbeSize as packet `pn`. */
  onProbeSent(pn: number, size: number): void {
    if ((this.state !== 'searching' && this.state !== 'base') || size !== this.probeSize) {
      throw new RangeError(`no probe of ${size} bytes is wanted (state ${this.state})`);
    }
    this.probePn = pn;
    this.probesSent++;
  }

  /**
   * A packet in Application Data space was acknowledged. Returns true when the PLPMTU changed (the
   * connection then updates max_datagram_size in congestion control and the pacer).
   */
  onPacketAcked(pn: number, size: number, now: number): boolean {
    if (pn === this.probePn && this.probePn >= 0) {
      this.probePn = -1;
      this.suspiciousBursts = 0;
      if (this.state === 'base') {
        // BASE_PLPMTU confirmed again after a black hole: search anew.
        this.startSearch(now);
        return false;
      }
      const grew = size > this.plpmtu;
      if (grew) this.plpmtu = size;
      this.low = size;
      this.nextSize(now);
      return grew;
    }
    if (size >= this.plpmtu) this.suspiciousBursts = 0;
    return false;
  }

  /** onPacketAcked for every Application Data entry of an acknowledged list. */
  onPacketsAcked(acked: PacketList, now: number): boolean {
    let changed = false;
    for (let i = 0; i < acked.length; i++) {
      if (acked.space[i] === 2 && this.onPacketAcked(acked.pn[i]!, acked.size[i]!, now)) changed = true;
    }
    return changed;
  }

  /** The in-flight probe `pn` was declared lost (RFC 9000 §14.4: not congestion). */
  onProbeLost(pn: number, now: number): void {
    if (pn !== this.probePn || this.probePn < 0) return;
    this.probePn = -1;
    this.probesLost++;
    if (++this.probeLosses < this.maxProbes) return; // re-probe the same size
    if (this.state === 'base') {
      // BASE_PLPMTU itself does not get through (RFC 8899 §5.2 ERROR).
      this.state = 'error';
      this.probeSize = 0;
      return;
    }
    this.high = this.probeSize - 1;
    this.nextSize(now);
  }

  /**
   * One loss-detection batch (the lost list of one ACK or timeout). Probes are routed to
   * onProbeLost; the other packets form one loss burst. A burst made only of packets larger than
   * BASE_PLPMTU is suspicious; `blackHoleThreshold` suspicious bursts without an acknowledged
   * packet of the current size declare a black hole: PLPMTU falls back to BASE and BASE is
   * re-confirmed with a probe (RFC 8899 §5.2). Returns true when the PLPMTU changed.
   */
  onPacketsLost(lost: PacketList, now: number): boolean {
    let large = 0;
    let small = 0;
    for (let i = 0; i < lost.length; i++) {
      if (lost.space[i] !== 2) continue;
      if ((lost.flags[i]! & SentFlags.PMTU_PROBE) !== 0) {
        this.onProbeLost(lost.pn[i]!, now);
        continue;
      }
      if ((lost.flags[i]! & SentFlags.IN_FLIGHT) === 0) continue;
      if (lost.size[i]! > this.basePlpmtu) large++;
      else small++;
    }
    if (large === 0 || small > 0) return false;
    if (++this.suspiciousBursts < this.blackHoleThreshold) return false;
    return this.onBlackHole(now);
  }

  /** Declares a black hole (also usable on an ICMP PTB the connection trusts). */
  onBlackHole(_now: number): boolean {
    this.suspiciousBursts = 0;
    this.blackHoles++;
    const changed = this.plpmtu !== this.basePlpmtu;
    this.plpmtu = this.basePlpmtu;
    if (this.state === 'disabled' || this.state === 'error') return changed;
    this.state = 'base';
    this.low = this.high = this.basePlpmtu;
    this.probeSize = this.basePlpmtu;
    this.probePn = -1;
    this.probeLosses = 0;
    this.raiseAt = Infinity;
    return changed;
  }
}
