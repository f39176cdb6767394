// L2b: ECN validation and CE tracking (RFC 9000 §13.4.2, §13.4.2.1, App. A.4; RFC 9002 §7.1,
// App. B.7 ProcessECN). Node's dgram cannot set ECN codepoints, so a Quiver endpoint normally runs
// with marking disabled: counts are tracked and checked, but CE never reaches congestion control
// unless packets were actually sent ECT and the path validated. With marking enabled the validator
// walks testing → unknown → capable, or → failed.

/** ECN counts of an ACK frame of type 0x03 (RFC 9000 §19.3.2). */
export interface EcnCounts {
  ect0: number;
  ect1: number;
  ce: number;
}

/** IP codepoints (RFC 3168): what `codepointForNextPacket` returns. */
export const EcnCodepoint = {
  NOT_ECT: 0,
  ECT1: 1,
  ECT0: 2,
  CE: 3,
} as const;

export type EcnState = 'disabled' | 'testing' | 'unknown' | 'capable' | 'failed';

/** Why validation failed, for stats and qlog. */
export type EcnFailure =
  | ''
  | 'counts-missing'
  | 'counts-decreased'
  | 'ect0-undercount'
  | 'ect1-undercount'
  | 'ect-exceeds-sent'
  | 'all-testing-lost';

/** Result of EcnValidator.onAck. */
export const EcnSignal = {
  NONE: 0,
  /** The validated CE count increased: a congestion event (RFC 9002 §7.1, App. B.7). */
  CONGESTION: 1,
} as const;

/** Packets sent ECT(0) during testing (RFC 9000 App. A.4 suggests 10). */
export const ECN_TESTING_PACKETS = 10;

export class EcnValidator {
  state: EcnState;
  failure: EcnFailure = '';
  /** Per space: packets sent with ECT(0) / ECT(1). */
  readonly sentEct0 = [0, 0, 0];
  readonly sentEct1 = [0, 0, 0];
  /** Per space: largest counts reported by the peer (App. B.1 ecn_ce_counters and friends). */
  readonly peerEct0 = [0, 0, 0];
  readonly peerEct1 = [0, 0, 0];
  readonly peerCe = [0, 0, 0];
  /** CE increases seen (also while disabled; only validated ones are congestion events). */
  ceEvents = 0;
  private testingSent = 0;
  private testingLost = 0;
  private testingAcked = 0;

  /** @param marking true when the I/O layer can set ECT(0) on outgoing datagrams. */
  constructor(marking = false) {
    this.state = marking ? 'testing' : 'disabled';
  }

  /** Codepoint to set on the next packet (ECT(0) while testing or capable, else Not-ECT). */
  codepointForNextPacket(): number {
    if (this.state === 'capable') return EcnCodepoint.ECT0;
    if (this.state === 'testing' && this.testingSent < ECN_TESTING_PACKETS) return EcnCodepoint.ECT0;
    return EcnCodepoint.NOT_ECT;
  }

  /** Counts a sent packet's codepoint. */
  onPacketSent(space: number, codepoint: number): void {
    if (codepoint === EcnCodepoint.ECT0) this.sentEct0[space]!++;
    else if (codepoint === EcnCodepoint.ECT1) this.sentEct1[space]!++;
    else return;
    if (this.state === 'testing' && ++this.testingSent >= ECN_TESTING_PACKETS) this.state = 'unknown';
  }

  /**
   * Testing packets (ECT-marked while testing or unknown) declared lost; if every one of them is
   * lost and none acknowledged, ECN is assumed blocked on the path (RFC 9000 §13.4.2.1).
   */
  onEctPacketsLost(count: number): void {
    if (count <= 0 || (this.state !== 'testing' && this.state !== 'unknown')) return;
    this.testingLost += count;
    if (this.testingAcked === 0 && this.testingSent > 0 && this.testingLost >= this.testingSent) {
      this.fail('all-testing-lost');
    }
  }

  private fail(reason: EcnFailure): void {
    this.state = 'failed';
    this.failure = reason;
  }

  /**
   * Processes the ECN part of an ACK frame that advanced the largest acknowledged packet number
   * (RFC 9000 §13.4.2.1: do not validate otherwise).
   * @param newlyEct0 newly acknowledged packets that were sent ECT(0); newlyEct1 likewise.
   * @param counts the frame's ECN counts, or null for an ACK frame without them (type 0x02).
   * @returns EcnSignal.CONGESTION when a validated CE increase must enter recovery.
   */
  onAck(space: number, newlyEct0: number, newlyEct1: number, counts: EcnCounts | null): number {
    if (counts === null) {
      if ((newlyEct0 > 0 || newlyEct1 > 0) && this.state !== 'failed' && this.state !== 'disabled') {
        this.fail('counts-missing');
      }
      return EcnSignal.NONE;
    }
    const d0 = counts.ect0 - this.peerEct0[space]!;
    const d1 = counts.ect1 - this.peerEct1[space]!;
    const dce = counts.ce - this.peerCe[space]!;
    if (d0 < 0 || d1 < 0 || dce < 0) {
      // Counts never decrease within a space; a reordered ACK never advances largest acked.
      if (this.state !== 'disabled') this.fail('counts-decreased');
      return EcnSignal.NONE;
    }
    this.peerEct0[space] = counts.ect0;
    this.peerEct1[space] = counts.ect1;
    this.peerCe[space] = counts.ce;
    if (dce > 0) this.ceEvents++;
    if (this.state === 'failed' || this.state === 'disabled') return EcnSignal.NONE;
    if (counts.ect0 > this.sentEct0[space]! || counts.ect1 > this.sentEct1[space]!) {
      this.fail('ect-exceeds-sent');
      return EcnSignal.NONE;
    }
    if (d0 + dce < newlyEct0) {
      this.fail('ect0-undercount');
      return EcnSignal.NONE;
    }
    if (d1 + dce < newlyEct1) {
      this.fail('ect1-undercount');
      return EcnSignal.NONE;
    }
    if (newlyEct0 + newlyEct1 > 0) {
      this.testingAcked += newlyEct0 + newlyEct1;
      if (this.state === 'testing' || this.state === 'unknown') this.state = 'capable';
    }
    return dce > 0 ? EcnSignal.CONGESTION : EcnSignal.NONE;
  }

  /**
   * A new path starts validation again (RFC 9000 §13.4.2: validation is per path). The per-space
   * counters are connection-wide in ACK frames and are kept as the baseline.
   */
  resetForNewPath(marking: boolean): void {
    this.state = marking ? 'testing' : 'disabled';
    this.failure = '';
    this.testingSent = 0;
    this.testingLost = 0;
    this.testingAcked = 0;
  }
}
