// L4: 1-RTT packet protection keys and key updates — RFC 9001 §6 (key phases), §6.1 (initiating:
// only after the handshake is confirmed and an ACK for the current phase), §6.2 (responding), §6.3
// (which key opens a packet: previous / current / next by Key Phase bit and packet number), §6.4–§6.5
// (keep the old read key ~3×PTO; next keys derived in advance so timing reveals nothing),
// §6.6 (confidentiality limit → update, integrity limit → AEAD_LIMIT_REACHED).
import type { PacketProtection, UnprotectResult } from '../crypto/packet-protection.js';

export class OneRttKeys {
  seal: PacketProtection;
  /** Null on a server between its Finished and the client's (0.5-RTT: it may send, not yet read). */
  open: PacketProtection | null = null;
  /** Read keys of the next phase, derived in advance (§6.5). */
  openNext: PacketProtection | null = null;
  /** Read keys of the previous phase, kept until prevDiscardAt (§6.4). */
  openPrev: PacketProtection | null = null;
  prevDiscardAt = Infinity;
  /** Smallest packet number received in the current read phase (-1: none yet). */
  firstRecvPnInPhase = -1;
  /** First packet number sent with the current write keys. */
  firstSentPnInPhase: number;
  /** An ACK arrived for a packet sent in the current write phase (§6.1 precondition). */
  ackedInPhase = false;
  /** Sum of AEAD failures over all 1-RTT read keys discarded so far (the live ones count their own). */
  private failuresRetired = 0;
  /** Key updates performed (either side). */
  updates = 0;

  constructor(seal: PacketProtection, nextPn: number) {
    this.seal = seal;
    this.firstSentPnInPhase = nextPn;
  }

  /** Install the first read keys (generation 0). */
  setOpen(open: PacketProtection): void {
    this.open = open;
    this.openNext = open.nextKeyPhase();
  }

  /** Key Phase bit for packets we send. */
  get sendPhase(): number {
    return this.seal.keyPhase;
  }

  /** AEAD authentication failures with 1-RTT keys so far (RFC 9001 §6.6 integrity limit). */
  get openFailures(): number {
    return this.failuresRetired + (this.open?.openFailures ?? 0) + (this.openNext?.openFailures ?? 0) + (this.openPrev?.openFailures ?? 0);
  }

  /** A local update is allowed (§6.1): confirmed handshake, the peer caught up, an ACK in this phase. */
  canInitiate(handshakeConfirmed: boolean): boolean {
    return handshakeConfirmed && this.ackedInPhase && this.open !== null && this.seal.generation === this.open.generation;
  }

  /** Start a key update: new write keys; the read side follows when the peer answers. */
  initiate(nextPn: number): void {
    const old = this.seal;
    this.seal = old.nextKeyPhase();
    old.discard();
    this.firstSentPnInPhase = nextPn;
    this.ackedInPhase = false;
    this.updates++;
  }

  /** An ACK acknowledged packet `pn` of the Application space. */
  onAcked(pn: number): void {
    if (pn >= this.firstSentPnInPhase) this.ackedInPhase = true;
  }

  /**
   * Decrypt a 1-RTT packet whose header protection `r` has removed (§6.3). Returns the keys that
   * opened it, or null when none authenticates it.
   */
  decrypt(packet: Uint8Array, r: UnprotectResult, keyPhase: number): PacketProtection | null {
    if (this.open === null || this.openNext === null) return null;
    if (keyPhase === this.open.keyPhase) {
      return this.open.decryptPayload(packet, r) ? this.open : null;
    }
    if (this.openPrev !== null && (this.firstRecvPnInPhase < 0 || r.pn < this.firstRecvPnInPhase)) {
      return this.openPrev.decryptPayload(packet, r) ? this.openPrev : null;
    }
    return this.openNext.decryptPayload(packet, r) ? this.openNext : null;
  }

  /**
   * The packet `pn` opened with `used`: track the phase's first packet number and rotate the read
   * keys when the peer moved to the next phase. Returns true when the peer initiated an update we
   * must follow with our write keys (§6.2); the caller then calls respond().
   */
  onDecrypted(used: PacketProtection, pn: number, now: number, pto3: number): boolean {
    if (used === this.open) {
      if (this.firstRecvPnInPhase < 0 || pn < this.firstRecvPnInPhase) this.firstRecvPnInPhase = pn;
      return false;
    }
    if (used !== this.openNext || this.open === null) return false;
    if (this.openPrev !== null) {
      this.failuresRetired += this.openPrev.openFailures;
      this.openPrev.discard();
    }
    this.openPrev = this.open;
    this.open = this.openNext;
    this.openNext = this.open.nextKeyPhase();
    this.firstRecvPnInPhase = pn;
    this.prevDiscardAt = now + pto3;
    return this.seal.generation < this.open.generation;
  }

  /** Follow the peer's key update with our write keys (§6.2). */
  respond(nextPn: number): void {
    this.initiate(nextPn);
  }

  /** Drop the previous read keys once their time is up (§6.4). */
  discardPrevIfDue(now: number): void {
    if (this.openPrev !== null && now >= this.prevDiscardAt) {
      this.failuresRetired += this.openPrev.openFailures;
      this.openPrev.discard();
      this.openPrev = null;
      this.prevDiscardAt = Infinity;
    }
  }

  discardAll(): void {
    this.seal.discard();
    this.open?.discard();
    this.openNext?.discard();
    this.openPrev?.discard();
    this.openPrev = null;
  }
}
