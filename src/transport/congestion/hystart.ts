// L2b: HyStart++ (RFC 9406 §4.2 algorithm, §4.3 constants): delay-based exit from the initial slow
// start into Conservative Slow Start (CSS), back to slow start when the exit was spurious, and into
// congestion avoidance after CSS_ROUNDS rounds. Rounds are counted in Application Data packet
// numbers: a round ends when the first packet sent in it (windowEnd) is acknowledged.

/** RFC 9406 §4.3 constants (times in ms). */
export const HYSTART = {
  MIN_RTT_THRESH: 4,
  MAX_RTT_THRESH: 16,
  MIN_RTT_DIVISOR: 8,
  N_RTT_SAMPLE: 8,
  CSS_GROWTH_DIVISOR: 4,
  CSS_ROUNDS: 5,
  /** L for a sender that does not pace; a paced sender uses L = infinity. */
  NON_PACED_L: 8,
} as const;

/** Result of HyStart.onAck. */
export const HyStartSignal = {
  /** Keep going (slow start or CSS). */
  CONTINUE: 0,
  /** CSS_ROUNDS completed: set ssthresh = cwnd and enter congestion avoidance. */
  EXIT: 1,
} as const;

export class HyStart {
  /** L: most segments of one ACK applied to cwnd growth (RFC 9406 §4.2). */
  readonly limitSegments: number;
  lastRoundMinRtt = Infinity;
  currentRoundMinRtt = Infinity;
  rttSampleCount = 0;
  /** First packet number of the current round; -1 = the next packet sent starts the round. */
  windowEnd = -1;
  /** currentRoundMinRTT at CSS entry; Infinity while in standard slow start. */
  cssBaselineMinRtt = Infinity;
  /** Rounds completed in CSS. */
  cssRounds = 0;
  /** Times CSS was entered / left as spurious (diagnostics and tests). */
  cssEntries = 0;
  spuriousExits = 0;

  constructor(paced = true) {
    this.limitSegments = paced ? Infinity : HYSTART.NON_PACED_L;
  }

  get inCss(): boolean {
    return this.cssBaselineMinRtt !== Infinity;
  }

  reset(): void {
    this.lastRoundMinRtt = Infinity;
    this.currentRoundMinRtt = Infinity;
    this.rttSampleCount = 0;
    this.windowEnd = -1;
    this.cssBaselineMinRtt = Infinity;
    this.cssRounds = 0;
  }

  /** An Application Data packet was sent; opens a round if none is open (windowEnd = SND.NXT). */
  onPacketSent(pn: number): void {
    if (this.windowEnd < 0) this.windowEnd = pn;
  }

  /** cwnd growth for an ACK newly acknowledging `ackedBytes` (RFC 9406 §4.2: min(N, L·SMSS), /4 in CSS). */
  cwndIncrease(ackedBytes: number, maxDatagramSize: number): number {
    const cap = this.limitSegments * maxDatagramSize;
    const inc = ackedBytes < cap ? ackedBytes : cap;
    return this.inCss ? inc / HYSTART.CSS_GROWTH_DIVISOR : inc;
  }

  /**
   * Processes one ACK (after cwndIncrease was applied).
   * @param largestAcked largest Application Data packet number this ACK acknowledged.
   * @param rttSample the RTT sample the ACK produced, or a negative number if it produced none.
   */
  onAck(largestAcked: number, rttSample: number): number {
    if (rttSample >= 0) {
      if (rttSample < this.currentRoundMinRtt) this.currentRoundMinRtt = rttSample;
      this.rttSampleCount++;
    }
    if (this.rttSampleCount >= HYSTART.N_RTT_SAMPLE) {
      if (this.inCss) {
        // Spurious exit: the delay fell back below the baseline (RFC 9406 §4.2).
        if (this.currentRoundMinRtt < this.cssBaselineMinRtt) {
          this.cssBaselineMinRtt = Infinity;
          this.cssRounds = 0;
          this.spuriousExits++;
        }
      } else if (this.lastRoundMinRtt !== Infinity && this.currentRoundMinRtt !== Infinity) {
        const last = this.lastRoundMinRtt;
        const thresh = Math.max(
          HYSTART.MIN_RTT_THRESH,
          Math.min(last / HYSTART.MIN_RTT_DIVISOR, HYSTART.MAX_RTT_THRESH),
        );
        if (this.currentRoundMinRtt >= last + thresh) {
          this.cssBaselineMinRtt = this.currentRoundMinRtt;
          this.cssRounds = 0;
          this.cssEntries++;
        }
      }
    }
    if (this.windowEnd >= 0 && largestAcked >= this.windowEnd) {
      // Round over: the next packet sent opens the next one.
      this.windowEnd = -1;
      this.lastRoundMinRtt = this.currentRoundMinRtt;
      this.currentRoundMinRtt = Infinity;
      this.rttSampleCount = 0;
      if (this.inCss && ++this.cssRounds >= HYSTART.CSS_ROUNDS) return HyStartSignal.EXIT;
    }
    return HyStartSignal.CONTINUE;
  }
}
