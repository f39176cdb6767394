// RFC 9002 §5 (RTT estimation) and §6.2.1 / §7.6.1 derived durations.
import test from 'ava';
import { GRANULARITY, INITIAL_RTT, RttEstimator } from '../../src/transport/rtt.js';

test('initial state uses kInitialRtt = 333 ms (RFC 9002 §6.2.2, App. A.4)', (t) => {
  const r = new RttEstimator();
  t.is(INITIAL_RTT, 333);
  t.is(r.smoothedRtt, 333);
  t.is(r.rttvar, 166.5);
  t.is(r.latestRtt, 0);
  t.is(r.minRtt, 0);
  t.false(r.hasSample);
  t.is(r.firstSampleTime, -Infinity);
  // PTO with the initial RTT: 333 + 4·166.5 = 999 ≈ 1 s (RFC 9002 §6.2.2).
  t.is(r.pto(0), 999);
});

test('first sample resets the estimator and ignores ack delay (RFC 9002 §5.3)', (t) => {
  const r = new RttEstimator();
  r.update(100, 50, true, 25, 1000);
  t.is(r.latestRtt, 100);
  t.is(r.smoothedRtt, 100);
  t.is(r.rttvar, 50);
  t.is(r.minRtt, 100);
  t.is(r.firstSampleTime, 1000);
  t.true(r.hasSample);
});

test('subsequent samples: EWMA with ack delay subtracted when plausible', (t) => {
  const r = new RttEstimator();
  r.update(100, 0, true, 25, 0);
  r.update(120, 10, true, 25, 10);
  // adjusted = 120 − 10 = 110 (110 ≥ min_rtt 100).
  t.is(r.rttvar, 0.75 * 50 + 0.25 * Math.abs(100 - 110));
  t.is(r.smoothedRtt, 0.875 * 100 + 0.125 * 110);
  t.is(r.minRtt, 100);
  t.is(r.latestRtt, 120);
});

test('ack delay is not subtracted if the result would fall below min_rtt', (t) => {
  const r = new RttEstimator();
  r.update(100, 0, true, 25, 0);
  r.update(105, 20, true, 25, 10); // 105 < 100 + 20: adjusted = 105
  t.is(r.smoothedRtt, 0.875 * 100 + 0.125 * 105);
});

test('ack_delay > max_ack_delay: capped after confirmation, used in full before', (t) => {
  const after = new RttEstimator();
  after.update(100, 0, true, 25, 0);
  after.update(200, 80, true, 25, 10); // capped to 25 → adjusted 175
  t.is(after.smoothedRtt, 0.875 * 100 + 0.125 * 175);

  const before = new RttEstimator();
  before.update(100, 0, false, 25, 0);
  before.update(200, 80, false, 25, 10); // not capped → adjusted 120
  t.is(before.smoothedRtt, 0.875 * 100 + 0.125 * 120);
});

test('min_rtt ignores ack delay and tracks the minimum; reset after persistent congestion', (t) => {
  const r = new RttEstimator();
  r.update(100, 0, true, 25, 0);
  r.update(80, 70, true, 25, 1); // min_rtt uses the raw 80
  t.is(r.minRtt, 80);
  r.update(300, 0, true, 25, 2);
  t.is(r.minRtt, 80);
  r.onPersistentCongestion();
  t.is(r.minRtt, 300);
});

test('PTO and persistent congestion durations (RFC 9002 §6.2.1, §7.6.1)', (t) => {
  const r = new RttEstimator();
  r.update(100, 0, true, 25, 0); // srtt 100, rttvar 50
  t.is(r.ptoBase(), 300);
  t.is(r.pto(25), 325);
  t.is(r.persistentCongestionDuration(25), 975);
  t.is(r.persistentCongestionDuration(25, 2), 650);
  // kGranularity floors 4·rttvar.
  const tiny = new RttEstimator();
  tiny.update(0.1, 0, true, 0, 0);
  t.is(tiny.ptoBase(), 0.1 + GRANULARITY);
});

test('negative/zero samples are clamped; reset restores initial state', (t) => {
  const r = new RttEstimator(50);
  r.update(-5, 0, false, 25, 0);
  t.is(r.latestRtt, 0);
  t.is(r.smoothedRtt, 0);
  r.reset(200);
  t.is(r.smoothedRtt, 200);
  t.is(r.rttvar, 100);
  t.false(r.hasSample);
  t.throws(() => r.reset(0), { instanceOf: RangeError });
  t.throws(() => new RttEstimator(NaN), { instanceOf: RangeError });
});
