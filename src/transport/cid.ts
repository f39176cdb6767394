// L2b: connection-ID management, RFC 9000 §5.1 (issuing, consuming and retiring connection IDs),
// §5.1.1 (sequence numbers, active_connection_id_limit), §5.1.2 (Retire Prior To), §10.3
// (stateless reset tokens; constant-time detection), §19.15 NEW_CONNECTION_ID, §19.16
// RETIRE_CONNECTION_ID.
//
// Two independent halves:
//  - LocalCids: the IDs we issue (the peer puts them in the DCID of packets to us). New IDs and
//    their reset tokens come from an injected CidGenerator — the endpoint's router encodes a worker
//    index in them and derives tokens as e.g. HMAC(static key, cid) — so this module never touches
//    randomness or crypto. The connection registers/unregisters the returned entries with the
//    endpoint's routing table.
//  - PeerCids: the IDs the peer issued to us (we put them in the DCID of our packets), with their
//    reset tokens for detecting a stateless reset (RFC 9000 §10.3.1).

import { TransportError, TransportErrorCode } from '../codec/errors.js';
import { FrameType } from '../codec/frames/frame-types.js';
import { constantTimeEqual, equal, varintSize } from '../util/bytes.js';
import { RangeSet } from '../util/range-set.js';

export const STATELESS_RESET_TOKEN_LENGTH = 16;
export const MAX_CID_LENGTH = 20;
/** Smallest datagram that can be a stateless reset (RFC 9000 §10.3: 5 + 16 bytes). */
export const MIN_STATELESS_RESET_LENGTH = 21;
/** Default active_connection_id_limit when the transport parameter is absent (RFC 9000 §18.2). */
export const DEFAULT_ACTIVE_CID_LIMIT = 2;

/** Source of new local connection IDs (injected; the endpoint decides the CID layout). */
export interface CidGenerator {
  generate(): { cid: Uint8Array; resetToken: Uint8Array };
}

/** A connection ID we issued. */
export interface LocalCid {
  readonly seq: number;
  readonly cid: Uint8Array;
  /** Null for the handshake CID of a client (clients cannot send stateless_reset_token). */
  readonly resetToken: Uint8Array | null;
  /** A NEW_CONNECTION_ID frame for it needs (re)sending. */
  pending: boolean;
}

/** Scratch output for NEW_CONNECTION_ID. */
export interface NewConnectionIdInfo {
  seq: number;
  retirePriorTo: number;
  cid: Uint8Array;
  resetToken: Uint8Array;
}

export function newConnectionIdInfo(): NewConnectionIdInfo {
  return { seq: 0, retirePriorTo: 0, cid: new Uint8Array(0), resetToken: new Uint8Array(0) };
}

export interface LocalCidsOptions {
  generator: CidGenerator;
  /** Our handshake Source Connection ID: sequence 0 (may be zero-length). */
  initialCid: Uint8Array;
  /** Its reset token (a server's stateless_reset_token transport parameter), if any. */
  initialResetToken?: Uint8Array | null;
  /** Most IDs we keep active, whatever the peer allows (default 8). */
  maxActive?: number;
}

export class LocalCids {
  private readonly generator: CidGenerator;
  private readonly active: LocalCid[] = [];
  private nextSeq = 1;
  /** IDs with a lower sequence number were asked to be retired (our Retire Prior To). */
  private retirePriorToValue = 0;
  private peerLimit = DEFAULT_ACTIVE_CID_LIMIT;
  private readonly maxActive: number;
  /** Zero-length handshake ID: we cannot issue others, and the peer cannot retire (§5.1.1). */
  readonly zeroLength: boolean;

  constructor(opts: LocalCidsOptions) {
    this.generator = opts.generator;
    this.maxActive = Math.max(1, opts.maxActive ?? 8);
    this.zeroLength = opts.initialCid.length === 0;
    this.active.push({ seq: 0, cid: opts.initialCid.slice(), resetToken: opts.initialResetToken?.slice() ?? null, pending: false });
  }

  /** Largest sequence number issued plus one. */
  get issuedCount(): number {
    return this.nextSeq;
  }

  get retirePriorTo(): number {
    return this.retirePriorToValue;
  }

  /** IDs not yet retired by the peer (all are valid destinations for incoming packets). */
  activeCids(): readonly LocalCid[] {
    return this.active;
  }

  /** The peer's active_connection_id_limit transport parameter (≥ 2, checked by the codec). */
  setPeerLimit(limit: number): void {
    this.peerLimit = Math.max(DEFAULT_ACTIVE_CID_LIMIT, limit);
  }

  /**
   * Server: the connection ID for the preferred_address transport parameter (sequence 1, RFC 9000
   * §5.1.1). Call before replenish().
   */
  issuePreferredAddressCid(): LocalCid {
    if (this.nextSeq !== 1 || this.zeroLength) throw new RangeError('the preferred-address CID must be sequence 1');
    return this.issue(false);
  }

  /**
   * Issue IDs until the peer holds min(its limit, maxActive) usable ones (those not below our
   * Retire Prior To). Returns the new entries: register them for routing; their NEW_CONNECTION_ID
   * frames are queued.
   */
  replenish(): LocalCid[] {
    const out: LocalCid[] = [];
    if (this.zeroLength) return out;
    const want = Math.min(this.peerLimit, this.maxActive);
    let usable = 0;
    for (const c of this.active) if (c.seq >= this.retirePriorToValue) usable++;
    while (usable < want) {
      out.push(this.issue(true));
      usable++;
    }
    return out;
  }

  /**
   * Ask the peer to retire every ID issued so far (e.g. to rotate routing keys): subsequent
   * NEW_CONNECTION_ID frames carry Retire Prior To = the next sequence number. Call replenish()
   * afterwards. The old IDs stay valid until the peer retires them (RFC 9000 §5.1.2).
   */
  retireAll(): void {
    if (this.zeroLength) return;
    this.retirePriorToValue = this.nextSeq;
  }

  hasPendingFrame(): boolean {
    for (const c of this.active) if (c.pending && c.seq >= this.retirePriorToValue) return true;
    return false;
  }

  /** Next NEW_CONNECTION_ID to send (lowest sequence first); false when none or it does not fit. */
  pollNewConnectionId(maxBytes: number, out: NewConnectionIdInfo): boolean {
    for (const c of this.active) {
      if (!c.pending || c.seq < this.retirePriorToValue) continue;
      const size = 1 + varintSize(c.seq) + varintSize(this.retirePriorToValue) + 1 + c.cid.length + STATELESS_RESET_TOKEN_LENGTH;
      if (size > maxBytes) return false;
      c.pending = false;
      out.seq = c.seq;
      out.retirePriorTo = this.retirePriorToValue;
      out.cid = c.cid;
      out.resetToken = c.resetToken!;
      return true;
    }
    return false;
  }

  /** A NEW_CONNECTION_ID frame was lost: resend while the ID is active and not being retired. */
  onNewConnectionIdLost(seq: number): void {
    const c = this.find(seq);
    if (c !== undefined && c.seq >= this.retirePriorToValue) c.pending = true;
  }

  /** Which of our IDs a packet's DCID is, if any. */
  lookup(dcid: Uint8Array): LocalCid | undefined {
    for (const c of this.active) if (equal(c.cid, dcid)) return c;
    return undefined;
  }

  /**
   * RETIRE_CONNECTION_ID received in a packet whose DCID was `packetDcid` (RFC 9000 §19.16).
   * Returns the retired entry (unregister it from routing, then replenish()), or null when it was
   * retired before. PROTOCOL_VIOLATION for a sequence number never issued, for the ID the packet
   * was sent to, and when our ID is zero-length.
   */
  onRetireConnectionId(seq: number, packetDcid: Uint8Array): LocalCid | null {
    const t = FrameType.RETIRE_CONNECTION_ID;
    if (this.zeroLength) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'RETIRE_CONNECTION_ID with a zero-length connection ID', t);
    }
    if (seq >= this.nextSeq) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, `RETIRE_CONNECTION_ID for unissued sequence ${seq}`, t);
    }
    const i = this.active.findIndex((c) => c.seq === seq);
    if (i < 0) return null;
    const c = this.active[i]!;
    if (equal(c.cid, packetDcid)) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, `RETIRE_CONNECTION_ID ${seq} refers to the packet's own DCID`, t);
    }
    this.active.splice(i, 1);
    return c;
  }

  private issue(pending: boolean): LocalCid {
    for (let attempt = 0; attempt < 8; attempt++) {
      const g = this.generator.generate();
      if (g.cid.length < 1 || g.cid.length > MAX_CID_LENGTH) throw new RangeError('generator: CID length must be 1..20');
      if (g.resetToken.length !== STATELESS_RESET_TOKEN_LENGTH) throw new RangeError('generator: reset token must be 16 bytes');
      if (this.lookup(g.cid) !== undefined) continue; // never issue the same ID twice (§5.1)
      const c: LocalCid = { seq: this.nextSeq++, cid: g.cid, resetToken: g.resetToken, pending };
      this.active.push(c);
      return c;
    }
    throw new RangeError('generator: keeps returning connection IDs already in use');
  }

  private find(seq: number): LocalCid | undefined {
    for (const c of this.active) if (c.seq === seq) return c;
    return undefined;
  }
}

/** A connection ID the peer issued to us. */
export interface PeerCid {
  readonly seq: number;
  readonly cid: Uint8Array;
  resetToken: Uint8Array | null;
  /** We have sent packets with it (its reset token is then live for detection, §10.3.1). */
  used: boolean;
}

export interface PeerCidsOptions {
  /** The peer's handshake Source Connection ID (sequence 0; zero-length allowed). */
  initialCid: Uint8Array;
  /** Our active_connection_id_limit transport parameter. */
  activeLimit: number;
}

export class PeerCids {
  private readonly active: PeerCid[] = [];
  private cur: PeerCid;
  private readonly activeLimit: number;
  /** Largest Retire Prior To received. */
  private retirePriorTo = 0;
  /** Sequence numbers we retired (or were told to). */
  private readonly retired = new RangeSet();
  /** RETIRE_CONNECTION_ID frames to send. */
  private readonly retireQueue: number[] = [];
  /** Retirements sent but not yet acknowledged, plus queued ones. */
  private readonly unackedRetires = new Set<number>();
  /** The peer uses zero-length IDs: NEW_CONNECTION_ID is a PROTOCOL_VIOLATION (§19.15). */
  readonly zeroLength: boolean;

  constructor(opts: PeerCidsOptions) {
    this.activeLimit = Math.max(DEFAULT_ACTIVE_CID_LIMIT, opts.activeLimit);
    this.zeroLength = opts.initialCid.length === 0;
    this.cur = { seq: 0, cid: opts.initialCid.slice(), resetToken: null, used: true };
    this.active.push(this.cur);
  }

  /** The DCID for packets on the current path. */
  get current(): PeerCid {
    return this.cur;
  }

  activeCids(): readonly PeerCid[] {
    return this.active;
  }

  /** Client: the server's stateless_reset_token transport parameter, for sequence 0. */
  setInitialResetToken(token: Uint8Array): void {
    const c = this.find(0);
    if (c !== undefined) c.resetToken = token.slice();
  }

  /** Client: the preferred_address CID and token, sequence 1 (RFC 9000 §5.1.1). */
  addPreferredAddressCid(cid: Uint8Array, resetToken: Uint8Array): void {
    this.add(1, 0, cid, resetToken, FrameType.NEW_CONNECTION_ID);
  }

  /**
   * NEW_CONNECTION_ID received (RFC 9000 §19.15, §5.1.2). Retires IDs below an increased Retire
   * Prior To (queueing RETIRE_CONNECTION_ID) before adding the new one; then more active IDs than
   * our limit is CONNECTION_ID_LIMIT_ERROR. The frame's byte fields are copied.
   */
  onNewConnectionId(seq: number, retirePriorTo: number, cid: Uint8Array, resetToken: Uint8Array): void {
    this.add(seq, retirePriorTo, cid, resetToken, FrameType.NEW_CONNECTION_ID);
  }

  /** Next RETIRE_CONNECTION_ID sequence number to send, or -1. */
  pollRetireConnectionId(): number {
    return this.retireQueue.length > 0 ? this.retireQueue.shift()! : -1;
  }

  hasPendingRetire(): boolean {
    return this.retireQueue.length > 0;
  }

  onRetireConnectionIdLost(seq: number): void {
    if (this.unackedRetires.has(seq) && !this.retireQueue.includes(seq)) this.retireQueue.push(seq);
  }

  onRetireConnectionIdAcked(seq: number): void {
    this.unackedRetires.delete(seq);
  }

  /**
   * Pick an active ID not used yet — for probing a new path or migrating (RFC 9000 §9.5) — and mark
   * it used. Null when none is available (the peer has not supplied spares).
   */
  takeUnused(): PeerCid | null {
    for (const c of this.active) {
      if (!c.used) {
        c.used = true;
        return c;
      }
    }
    return null;
  }

  /**
   * Switch the current path to an unused ID; with `retireOld`, retire the previous one (RFC 9000
   * §5.1.2: once no longer used). Returns the new current ID, or null when none is available.
   */
  rotate(retireOld = true): PeerCid | null {
    const next = this.takeUnused();
    if (next === null) return null;
    const old = this.cur;
    this.cur = next;
    if (retireOld) this.retire(old.seq);
    return next;
  }

  /** Stop using an ID (e.g. the DCID of an abandoned path) and queue RETIRE_CONNECTION_ID. */
  retire(seq: number): void {
    if (this.zeroLength) return;
    const i = this.active.findIndex((c) => c.seq === seq);
    if (i < 0) return;
    if (this.active[i] === this.cur) {
      const other = this.active.find((c) => c.seq !== seq);
      if (other === undefined) throw new RangeError('cannot retire the only connection ID in use');
      other.used = true;
      this.cur = other;
    }
    this.active.splice(i, 1);
    this.queueRetire(seq);
  }

  /**
   * Is this datagram a stateless reset for us (RFC 9000 §10.3.1)? Compares its last 16 bytes with
   * the tokens of every active ID we have used, in constant time, without early exit.
   */
  isStatelessReset(datagram: Uint8Array): boolean {
    if (datagram.length < MIN_STATELESS_RESET_LENGTH) return false;
    const tail = datagram.subarray(datagram.length - STATELESS_RESET_TOKEN_LENGTH);
    let hit = false;
    for (const c of this.active) {
      if (c.used && c.resetToken !== null) hit = constantTimeEqual(tail, c.resetToken) || hit;
    }
    return hit;
  }

  /** Reset tokens currently live for detection (for an endpoint-wide token table). */
  liveResetTokens(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const c of this.active) if (c.used && c.resetToken !== null) out.push(c.resetToken);
    return out;
  }

  private add(seq: number, retirePriorTo: number, cidIn: Uint8Array, tokenIn: Uint8Array, t: number): void {
    if (this.zeroLength) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'NEW_CONNECTION_ID while the peer uses zero-length connection IDs', t);
    }
    if (retirePriorTo > seq) throw new TransportError(TransportErrorCode.FRAME_ENCODING_ERROR, 'retire_prior_to > sequence', t);
    if (cidIn.length < 1 || cidIn.length > MAX_CID_LENGTH) {
      throw new TransportError(TransportErrorCode.FRAME_ENCODING_ERROR, `connection ID length ${cidIn.length}`, t);
    }
    if (tokenIn.length !== STATELESS_RESET_TOKEN_LENGTH) {
      throw new TransportError(TransportErrorCode.FRAME_ENCODING_ERROR, 'stateless reset token must be 16 bytes', t);
    }
    // Duplicates (retransmissions) are fine; a changed ID or token for a sequence, or an ID reused
    // under another sequence, is a PROTOCOL_VIOLATION (§19.15 MAY).
    for (const c of this.active) {
      if (c.seq === seq) {
        if (!equal(c.cid, cidIn) || (c.resetToken !== null && !equal(c.resetToken, tokenIn))) {
          throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, `sequence ${seq} re-sent with a different ID or token`, t);
        }
        if (c.resetToken === null) c.resetToken = tokenIn.slice();
        this.applyRetirePriorTo(retirePriorTo);
        return;
      }
      if (equal(c.cid, cidIn)) {
        throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, `connection ID reissued as sequence ${seq} (was ${c.seq})`, t);
      }
    }
    this.applyRetirePriorTo(retirePriorTo);
    if (this.retired.contains(seq)) return; // already retired: a late retransmission
    if (seq < this.retirePriorTo) {
      // §19.15: retire a newly received ID below the largest Retire Prior To at once.
      this.queueRetire(seq);
      return;
    }
    this.active.push({ seq, cid: cidIn.slice(), resetToken: tokenIn.slice(), used: false });
    if (this.active.length > this.activeLimit) {
      throw new TransportError(
        TransportErrorCode.CONNECTION_ID_LIMIT_ERROR,
        `${this.active.length} active connection IDs exceed our limit of ${this.activeLimit}`,
        t,
      );
    }
    if (this.cur.seq < this.retirePriorTo) this.switchAfterRetirement();
  }

  private applyRetirePriorTo(rpt: number): void {
    if (rpt <= this.retirePriorTo) return; // smaller values are ignored (§19.15)
    this.retirePriorTo = rpt;
    const curRetired = this.cur.seq < rpt;
    for (let i = this.active.length - 1; i >= 0; i--) {
      const c = this.active[i]!;
      if (c.seq < rpt) {
        this.active.splice(i, 1);
        this.queueRetire(c.seq);
      }
    }
    if (curRetired) this.switchAfterRetirement();
  }

  private switchAfterRetirement(): void {
    // The new ID of the same frame is always available (its sequence ≥ Retire Prior To).
    let best: PeerCid | undefined;
    for (const c of this.active) if (best === undefined || c.seq < best.seq) best = c;
    if (best !== undefined) {
      best.used = true;
      this.cur = best;
    }
  }

  private queueRetire(seq: number): void {
    if (this.retired.contains(seq)) return;
    this.retired.add(seq);
    this.retireQueue.push(seq);
    this.unackedRetires.add(seq);
    // §5.1.2: bound the retirements in flight (≥ 2 × our limit must be allowed).
    if (this.unackedRetires.size > 4 * this.activeLimit) {
      throw new TransportError(
        TransportErrorCode.CONNECTION_ID_LIMIT_ERROR,
        `too many connection IDs awaiting retirement (${this.unackedRetires.size})`,
        FrameType.NEW_CONNECTION_ID,
      );
    }
  }

  private find(seq: number): PeerCid | undefined {
    for (const c of this.active) if (c.seq === seq) return c;
    return undefined;
  }
}
