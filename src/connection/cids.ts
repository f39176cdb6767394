// L4: connection ID bookkeeping — RFC 9000 §5.1 (issuing and retiring CIDs, sequence numbers),
// §5.1.1 (NEW_CONNECTION_ID up to active_connection_id_limit), §5.1.2 (retire_prior_to,
// RETIRE_CONNECTION_ID), §10.3 / §10.3.1 (stateless reset tokens, detecting a reset),
// §19.15 / §19.16 (frame rules and their errors).
import { TransportError, TransportErrorCode } from '../codec/errors.js';
import { constantTimeEqual, equal } from '../util/bytes.js';
import type { CidGenerator, IssuedCid } from './types.js';

const NEW_CONNECTION_ID = 0x18;
const RETIRE_CONNECTION_ID = 0x19;

export interface LocalCid {
  readonly seq: number;
  readonly cid: Uint8Array;
  readonly resetToken: Uint8Array;
  retired: boolean;
}

/** The connection IDs we issued (the peer uses them as DCIDs to reach us). */
export class LocalCids {
  readonly generator: CidGenerator;
  readonly entries: LocalCid[] = [];
  private nextSeq = 0;
  /** Sequence numbers whose NEW_CONNECTION_ID must be (re)sent. */
  readonly pending: number[] = [];
  /** CIDs issued / retired since the last poll (the endpoint's routing table). */
  readonly issuedEvents: Uint8Array[] = [];
  readonly retiredEvents: Uint8Array[] = [];
  /** Most CIDs the peer lets us keep active (its active_connection_id_limit), capped by us. */
  limit = 2;

  constructor(generator: CidGenerator, first?: IssuedCid) {
    this.generator = generator;
    const c = first ?? generator.generate();
    this.entries.push({ seq: this.nextSeq++, cid: c.cid, resetToken: c.resetToken, retired: false });
  }

  get cidLength(): number {
    return this.entries[0]!.cid.length;
  }

  /** The CID of sequence 0 (the SCID of our long headers). */
  get initial(): LocalCid {
    return this.entries[0]!;
  }

  activeCount(): number {
    let n = 0;
    for (const e of this.entries) if (!e.retired) n++;
    return n;
  }

  /** True when `cid` is one of our non-retired CIDs. */
  has(cid: Uint8Array): boolean {
    for (const e of this.entries) if (!e.retired && equal(e.cid, cid)) return true;
    return false;
  }

  /** The entry the last activeSeqOf() matched (peers mostly keep using one CID). */
  private lastHit: LocalCid | null = null;

  /** Sequence number of `cid` if it is one of our non-retired CIDs, else -1 (once per packet). */
  activeSeqOf(cid: Uint8Array): number {
    const h = this.lastHit;
    if (h !== null && !h.retired && equal(h.cid, cid)) return h.seq;
    for (const e of this.entries) {
      if (!e.retired && equal(e.cid, cid)) {
        this.lastHit = e;
        return e.seq;
      }
    }
    return -1;
  }

  /** Sequence number of `cid` (retired ones included), -1 if unknown. */
  seqOf(cid: Uint8Array): number {
    for (const e of this.entries) if (equal(e.cid, cid)) return e.seq;
    return -1;
  }

  get(seq: number): LocalCid | undefined {
    for (const e of this.entries) if (e.seq === seq) return e;
    return undefined;
  }

  /** Issue CIDs until `limit` are active (zero-length CIDs cannot be issued: §5.1.1). */
  topUp(): void {
    if (this.cidLength === 0) return;
    while (this.activeCount() < this.limit) {
      const c = this.generator.generate();
      if (c.cid.length !== this.cidLength || c.resetToken.length !== 16) {
        throw new RangeError('cidGenerator.generate(): CIDs must keep one length and come with 16-byte reset tokens');
      }
      const e: LocalCid = { seq: this.nextSeq++, cid: c.cid, resetToken: c.resetToken, retired: false };
      this.entries.push(e);
      this.pending.push(e.seq);
      this.issuedEvents.push(e.cid);
    }
  }

  /** RETIRE_CONNECTION_ID from the peer (§19.16). `packetDcid` is the DCID of the packet carrying it. */
  onRetire(seq: number, packetDcid: Uint8Array): void {
    if (seq >= this.nextSeq) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, `RETIRE_CONNECTION_ID for unissued sequence ${seq}`, RETIRE_CONNECTION_ID);
    }
    const e = this.get(seq);
    if (e === undefined || e.retired) return;
    if (equal(e.cid, packetDcid)) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'RETIRE_CONNECTION_ID retires the CID it arrived with', RETIRE_CONNECTION_ID);
    }
    e.retired = true;
    this.retiredEvents.push(e.cid);
    this.generator.retire?.(e.cid);
    const i = this.pending.indexOf(seq);
    if (i >= 0) this.pending.splice(i, 1);
    // Forget old retired entries (keep the list short); seq 0 stays for `initial`.
    if (this.entries.length > 32) {
      for (let k = 1; k < this.entries.length && this.entries.length > 16; ) {
        if (this.entries[k]!.retired) this.entries.splice(k, 1);
        else k++;
      }
    }
  }

  /** A NEW_CONNECTION_ID we sent was lost: send again unless retired meanwhile. */
  onNewCidLost(seq: number): void {
    const e = this.get(seq);
    if (e !== undefined && !e.retired && !this.pending.includes(seq)) this.pending.push(seq);
  }

  /** Every non-retired CID (the endpoint's routing entries). */
  activeCids(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const e of this.entries) if (!e.retired) out.push(e.cid);
    return out;
  }
}

export interface PeerCid {
  readonly seq: number;
  readonly cid: Uint8Array;
  /** 16 bytes, or null (seq 0 of a client, or a server without the transport parameter). */
  resetToken: Uint8Array | null;
  /** We sent packets with it (its reset token may then be checked, §10.3.1). */
  used: boolean;
}

/** The connection IDs the peer issued to us (we use them as DCIDs). */
export class PeerCids {
  readonly entries: PeerCid[] = [];
  active: PeerCid;
  /** Largest Retire Prior To received. */
  retirePriorTo = 0;
  /** Sequence numbers we must retire with RETIRE_CONNECTION_ID. */
  readonly retirePending: number[] = [];
  /** Our active_connection_id_limit. */
  readonly limit: number;
  private readonly retiredSeqs = new Set<number>();

  constructor(initial: Uint8Array, limit: number) {
    this.limit = limit;
    this.active = { seq: 0, cid: initial, resetToken: null, used: true };
    this.entries.push(this.active);
  }

  /** Replace the CID of sequence 0 (the server's SCID, learned from its first packet, or a Retry's). */
  setInitial(cid: Uint8Array): void {
    const e: PeerCid = { seq: 0, cid: cid.slice(), resetToken: null, used: true };
    const i = this.entries.findIndex((x) => x.seq === 0);
    if (i >= 0) this.entries[i] = e;
    else this.entries.unshift(e);
    if (this.active.seq === 0) this.active = e;
  }

  /** The server's stateless_reset_token transport parameter belongs to sequence 0 (§18.2). */
  setInitialResetToken(token: Uint8Array): void {
    const e = this.entries.find((x) => x.seq === 0);
    if (e !== undefined) e.resetToken = token.slice();
  }

  /** NEW_CONNECTION_ID (§19.15). Throws TransportError for the violations §5.1.1/§19.15 name. */
  onNewCid(seq: number, retirePriorTo: number, cid: Uint8Array, resetToken: Uint8Array): void {
    if (this.active.cid.length === 0) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'NEW_CONNECTION_ID while using zero-length CIDs', NEW_CONNECTION_ID);
    }
    for (const e of this.entries) {
      if (e.seq === seq) {
        if (!equal(e.cid, cid) || (e.resetToken !== null && !equal(e.resetToken, resetToken))) {
          throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, `NEW_CONNECTION_ID ${seq} changes a known CID`, NEW_CONNECTION_ID);
        }
        return;
      }
      if (equal(e.cid, cid)) {
        throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'NEW_CONNECTION_ID repeats a CID with another sequence', NEW_CONNECTION_ID);
      }
    }
    if (seq < this.retirePriorTo || this.retiredSeqs.has(seq)) {
      // Already retired by an earlier Retire Prior To: retire it at once (§5.1.2).
      this.queueRetire(seq);
      return;
    }
    this.entries.push({ seq, cid: cid.slice(), resetToken: resetToken.slice(), used: false });
    if (retirePriorTo > this.retirePriorTo) {
      this.retirePriorTo = retirePriorTo;
      for (const r of this.retiredSeqs) if (r < retirePriorTo) this.retiredSeqs.delete(r);
      for (let i = 0; i < this.entries.length; ) {
        const e = this.entries[i]!;
        if (e.seq < retirePriorTo) {
          this.entries.splice(i, 1);
          this.queueRetire(e.seq);
        } else i++;
      }
      if (this.active.seq < retirePriorTo) {
        this.active = this.pickUnused() ?? this.entries[0]!;
        this.active.used = true;
      }
    }
    if (this.entries.length > this.limit) {
      throw new TransportError(
        TransportErrorCode.CONNECTION_ID_LIMIT_ERROR,
        `${this.entries.length} active CIDs exceed active_connection_id_limit ${this.limit}`,
        NEW_CONNECTION_ID,
      );
    }
  }

  private pickUnused(): PeerCid | undefined {
    let best: PeerCid | undefined;
    for (const e of this.entries) if (!e.used && e !== this.active && (best === undefined || e.seq < best.seq)) best = e;
    return best;
  }

  private queueRetire(seq: number): void {
    if (seq >= this.retirePriorTo) this.retiredSeqs.add(seq);
    if (!this.retirePending.includes(seq)) this.retirePending.push(seq);
    // RFC 9000 §5.1.2: bound the RETIRE_CONNECTION_ID frames owed (a peer cycling CIDs faster
    // than it acknowledges is a CONNECTION_ID_LIMIT_ERROR).
    if (this.retirePending.length > 4 * this.limit + 8) {
      throw new TransportError(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR, 'too many connection IDs waiting to be retired', NEW_CONNECTION_ID);
    }
  }

  /** Switch to an unused CID and retire the current one (migration, privacy). False if none is available. */
  rotate(): boolean {
    const next = this.pickUnused();
    if (next === undefined) return false;
    const old = this.active;
    this.active = next;
    next.used = true;
    const i = this.entries.indexOf(old);
    if (i >= 0) this.entries.splice(i, 1);
    this.queueRetire(old.seq);
    return true;
  }

  /** Number of CIDs we could switch to. */
  spare(): number {
    let n = 0;
    for (const e of this.entries) if (!e.used && e !== this.active) n++;
    return n;
  }

  onRetireLost(seq: number): void {
    if (!this.retirePending.includes(seq)) this.retirePending.push(seq);
  }

  /**
   * §10.3.1: does the datagram end in the reset token of a CID we used (and did not retire)?
   * Constant-time per token.
   */
  isStatelessReset(datagram: Uint8Array): boolean {
    if (datagram.length < 21) return false;
    const tail = datagram.subarray(datagram.length - 16);
    let hit = false;
    for (const e of this.entries) {
      if (e.used && e.resetToken !== null && constantTimeEqual(e.resetToken, tail)) hit = true;
    }
    return hit;
  }
}
