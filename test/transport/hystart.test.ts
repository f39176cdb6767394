// RFC 9406 HyStart++: rounds, delay-increase exit to CSS, spurious-exit return, CSS_ROUNDS → CA.
import test from 'ava';
import { Cubic } from '../../src/transport/congestion/cubic.js';
import { HYSTART, HyStart, HyStartSignal } from '../../src/transport/congestion/hystart.js';
import { NewReno } from '../../src/transport/congestion/new-reno.js';
import { RttEstimator } from '../../src/transport/rtt.js';

test('constants (RFC 9406 §4.3)', (t) => {
  t.is(HYSTART.MIN_RTT_THRESH, 4);
  t.is(HYSTART.MAX_RTT_THRESH, 16);
  t.is(HYSTART.MIN_RTT_DIVISOR, 8);
  t.is(HYSTART.N_RTT_SAMPLE, 8);
  t.is(HYSTART.CSS_GROWTH_DIVISOR, 4);
  t.is(HYSTART.CSS_ROUNDS, 5);
});

/** Drives one round: `acks` ACKs (largest pns from..), each with RTT `rtt`; the last ends the round. */
class Driver {
  readonly hs: HyStart;
  private nextPn = 0;
  private ackedUpTo = -1;
  signals: number[] = [];
  constructor(hs = new HyStart()) {
    this.hs = hs;
  }
  /** Sends n packets. */
  send(n: number): void {
    for (let i = 0; i < n; i++) this.hs.onPacketSent(this.nextPn++);
  }
  /** Acknowledges packets one per ACK, except the round's windowEnd, with RTT samples. */
  ackWithin(n: number, rtt: number): void {
    for (let i = 0; i < n; i++) this.signals.push(this.hs.onAck(++this.ackedUpTo, rtt));
  }
  /** A full round: sends, then acknowledges up to and including the round's first packet. */
  round(samples: number, rtt: number): number {
    // Samples from the previous flight first (they do not end the round), then windowEnd.
    const end = this.hs.windowEnd;
    const before = Math.max(0, Math.min(samples - 1, end - this.ackedUpTo - 1));
    this.ackWithin(before, rtt);
    this.ackedUpTo = end - 1;
    const s = this.hs.onAck(end, rtt);
    this.ackedUpTo = end;
    this.signals.push(s);
    return s;
  }
}

function thresh(last: number): number {
  return Math.max(4, Math.min(last / 8, 16));
}

test('RttThresh = max(4 ms, min(lastRoundMinRTT/8, 16 ms))', (t) => {
  t.is(thresh(20), 4);
  t.is(thresh(100), 12.5);
  t.is(thresh(300), 16);
  for (const last of [20, 100, 300]) {
    for (const [delta, enters] of [
      [thresh(last), true],
      [thresh(last) - 0.01, false],
    ] as const) {
      const d = new Driver();
      d.send(200);
      d.round(10, last); // round 1: establishes currentRoundMinRTT
      d.send(10);
      d.round(10, last); // round 2: lastRoundMinRTT = last
      t.is(d.hs.lastRoundMinRtt, last);
      d.send(10);
      d.ackWithin(8, last + delta); // 8 samples in round 3
      t.is(d.hs.inCss, enters, `last ${last} delta ${delta}`);
    }
  }
});

test('no exit before N_RTT_SAMPLE samples in the round', (t) => {
  const d = new Driver();
  d.send(200);
  d.round(10, 100);
  d.send(10);
  d.round(10, 100);
  d.send(10);
  d.ackWithin(7, 150);
  t.false(d.hs.inCss);
  d.ackWithin(1, 150);
  t.true(d.hs.inCss);
  t.is(d.hs.cssBaselineMinRtt, 150);
});

test('CSS grows at 1/4; spurious exit returns to slow start (RFC 9406 §4.2)', (t) => {
  const d = new Driver();
  d.send(300);
  d.round(10, 100);
  d.send(10);
  d.round(10, 100);
  d.send(10);
  d.ackWithin(8, 120);
  t.true(d.hs.inCss);
  t.is(d.hs.cwndIncrease(4800, 1200), 1200);
  t.is(d.hs.cssEntries, 1);
  // Finish the round in CSS (1 CSS round), then a round whose min RTT falls below the baseline.
  d.round(1, 120);
  t.is(d.hs.cssRounds, 1);
  d.send(10);
  d.ackWithin(7, 119);
  t.true(d.hs.inCss, 'fewer than N_RTT_SAMPLE samples');
  d.ackWithin(1, 119);
  t.false(d.hs.inCss, 'currentRoundMinRTT < cssBaselineMinRtt: spurious');
  t.is(d.hs.spuriousExits, 1);
  t.is(d.hs.cssRounds, 0);
  t.is(d.hs.cwndIncrease(4800, 1200), 4800);
});

test('CSS_ROUNDS rounds in CSS → exit to congestion avoidance', (t) => {
  const d = new Driver();
  d.send(400);
  d.round(10, 100);
  d.send(10);
  d.round(10, 100);
  d.send(10);
  d.ackWithin(8, 130);
  t.true(d.hs.inCss);
  const results: number[] = [];
  for (let r = 0; r < 5; r++) {
    results.push(d.round(10, 130));
    d.send(10);
  }
  t.deepEqual(results, [0, 0, 0, 0, HyStartSignal.EXIT]);
});

test('L limits growth per ACK: infinity when paced, 8 segments otherwise', (t) => {
  t.is(new HyStart(true).cwndIncrease(50 * 1200, 1200), 50 * 1200);
  t.is(new HyStart(false).cwndIncrease(50 * 1200, 1200), 8 * 1200);
  t.is(new HyStart(false).cwndIncrease(1000, 1200), 1000);
});

/**
 * Integration: an ACK-clocked slow start through the controller. RTT 100 ms for two rounds, then
 * 130 ms: CSS, then after CSS_ROUNDS ssthresh = cwnd and CUBIC starts with K = 0.
 */
function simulate(cc: Cubic | NewReno, rttOf: (round: number) => number, rounds: number): { exitRound: number } {
  const est = new RttEstimator();
  let now = 0;
  let pn = 0;
  let flight: { pn: number; sent: number }[] = [];
  for (let i = 0; i < 10; i++) {
    cc.onPacketSent(2, pn, 1200, now);
    flight.push({ pn: pn++, sent: now });
  }
  let exitRound = -1;
  for (let r = 0; r < rounds; r++) {
    const rtt = rttOf(r);
    const next: { pn: number; sent: number }[] = [];
    for (const p of flight) {
      now = p.sent + rtt;
      est.update(rtt, 0, true, 25, now);
      cc.onPacketAcked(1200, p.sent, now);
      const wasSs = cc.ssthresh === Infinity;
      cc.onAckProcessed(2, p.pn, est, true, now);
      if (wasSs && cc.ssthresh !== Infinity && exitRound < 0) exitRound = r;
      while (cc.bytesInFlight + 1200 <= cc.congestionWindow) {
        cc.onPacketSent(2, pn, 1200, now);
        next.push({ pn: pn++, sent: now });
      }
    }
    flight = next;
  }
  return { exitRound };
}

test('CUBIC: HyStart++ leaves slow start without loss, then K = 0 and W_max = cwnd (RFC 9438 §4.10)', (t) => {
  const cc = new Cubic();
  const hs = cc.hystartState!;
  const { exitRound } = simulate(cc, (r) => (r < 3 ? 100 : 130), 12);
  t.is(hs.cssEntries, 1);
  t.true(exitRound > 0);
  t.true(Number.isFinite(cc.ssthresh));
  t.is(cc.cwndPrior, cc.ssthresh, 'cwnd_prior = cwnd at exit');
  t.true(cc.wMax >= cc.ssthresh);
  t.is(cc.recoveryStartTime, -Infinity, 'no loss involved');
  t.true(cc.epochStart > 0, 'congestion avoidance running');
});

test('no delay increase: stays in slow start', (t) => {
  const cc = new Cubic();
  simulate(cc, () => 100, 6);
  t.is(cc.ssthresh, Infinity);
  t.is(cc.hystartState!.cssEntries, 0);
  t.true(cc.congestionWindow > 12000 * 30);
});

test('HyStart++ only for the initial slow start; optional for NewReno', (t) => {
  t.is(new NewReno().hystartState, null);
  const nr = new NewReno({ hystart: true });
  simulate(nr, (r) => (r < 3 ? 100 : 130), 12);
  t.is(nr.hystartState!.cssEntries, 1);
  t.true(Number.isFinite(nr.ssthresh));
  // After a loss ssthresh is finite: later slow starts are standard (full growth per ACK).
  const cc = new Cubic();
  cc.onPacketSent(2, 0, 1200, 0);
  cc.onCongestionEvent(0, 10);
  cc.onPersistentCongestion(20);
  const est = new RttEstimator();
  est.update(100, 0, true, 25, 0);
  cc.onPacketSent(2, 1, 1200, 30);
  cc.onPacketAcked(1200, 30, 130);
  cc.onAckProcessed(2, 1, est, true, 130);
  t.is(cc.congestionWindow, 2400 + 1200);
});
