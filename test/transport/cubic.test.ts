// RFC 9438 CUBIC in bytes: window curve, K, Reno-friendly region, fast convergence, timeout.
import test from 'ava';
import { CUBIC_ALPHA, CUBIC_BETA, CUBIC_C, Cubic } from '../../src/transport/congestion/cubic.js';
import { RttEstimator } from '../../src/transport/rtt.js';

const MSS = 1200;
const rtt = new RttEstimator();
rtt.update(100, 0, true, 25, 0); // smoothed_rtt 100 ms

function send(cc: Cubic, bytes: number, now: number): void {
  cc.onPacketSent(2, 0, bytes, now);
}
function ack(cc: Cubic, bytes: number, sentTime: number, now: number): void {
  cc.onPacketAcked(bytes, sentTime, now);
  cc.onAckProcessed(2, 0, rtt, true, now);
}
/**
 * Slow start to `target` bytes, then a congestion event at `at`. One extra packet stays in flight
 * so the sender never looks idle (an idle restart would shift the epoch).
 */
function grownThenLoss(target: number, at: number, opts: { fastConvergence?: boolean } = {}): Cubic {
  const cc = new Cubic({ hystart: false, ...opts });
  const extra = target - cc.congestionWindow;
  send(cc, extra, 0);
  ack(cc, extra, 0, 50);
  if (cc.congestionWindow !== target) throw new Error('setup');
  send(cc, 1200, 60);
  send(cc, 1200, 60); // stays in flight
  cc.onPacketLost(1200);
  cc.onCongestionEvent(60, at);
  return cc;
}

test('constants (RFC 9438 §4.1, §4.3)', (t) => {
  t.is(CUBIC_C, 0.4);
  t.is(CUBIC_BETA, 0.7);
  t.true(Math.abs(CUBIC_ALPHA - (3 * 0.3) / 1.7) < 1e-15);
  const cc = new Cubic();
  t.is(cc.algorithm, 'cubic');
  t.not(cc.hystartState, null, 'HyStart++ on by default');
});

test('multiplicative decrease: β = 0.7, W_max and cwnd_prior saved (RFC 9438 §4.6)', (t) => {
  const cc = grownThenLoss(120000, 1000);
  t.is(cc.wMax, 120000);
  t.is(cc.cwndPrior, 120000);
  t.is(cc.ssthresh, 84000);
  t.is(cc.congestionWindow, 84000);
  t.is(cc.recoveryStartTime, 1000);
  // ssthresh is never below 2 segments.
  const small = new Cubic({ hystart: false });
  send(small, 1200, 0);
  small.onCongestionEvent(0, 1); // 8400
  small.onCongestionEvent(2, 3); // 5880
  small.onCongestionEvent(4, 5); // 4116
  small.onCongestionEvent(6, 7); // 2881.2
  small.onCongestionEvent(8, 9); // 2016.84 → 2400
  t.is(small.ssthresh, 2400);
  t.is(small.congestionWindow, 2400);
});

test('window curve follows W_cubic(t) = C(t−K)³ + W_max (RFC 9438 §4.2, eq. 1 and 2)', (t) => {
  const cc = grownThenLoss(120000, 1000);
  const wMax = 120000;
  const K = Math.cbrt((wMax - 84000) / MSS / CUBIC_C); // cbrt(75) s
  const W = (tSec: number): number => CUBIC_C * (tSec - K) ** 3 * MSS + wMax;
  // First ACK of a packet sent after recovery start begins the epoch (t_epoch = 1100).
  send(cc, 1200, 1050);
  ack(cc, 1200, 1050, 1100);
  t.is(cc.epochStart, 1100);
  t.is(cc.cwndEpoch, 84000);
  t.true(Math.abs(cc.k - K) < 1e-12);
  // At t = 0 W_cubic(0) = cwnd_epoch < W_est: Reno-friendly step of α·MSS·acked/cwnd.
  const afterFirst = 84000 + (CUBIC_ALPHA * MSS * 1200) / 84000;
  t.true(Math.abs(cc.wEst - afterFirst) < 1e-9);
  let expected = afterFirst;
  // A whole window acknowledged at time t moves cwnd to target = W_cubic(t + RTT) exactly.
  for (const tSec of [1, 2, 3, K - 0.1, K + 0.5, K + 1.5, K + 2]) {
    const now = 1100 + tSec * 1000;
    const c = expected;
    send(cc, c, now - 100);
    const wEstBefore = cc.wEst;
    ack(cc, c, now - 100, now);
    let target = W(tSec + 0.1);
    target = Math.min(Math.max(target, c), 1.5 * c);
    const alpha = wEstBefore >= 120000 ? 1 : CUBIC_ALPHA;
    const wEst = wEstBefore + (alpha * MSS * c) / c;
    expected = W(tSec) < wEst ? Math.max(c, wEst) : c + ((target - c) * c) / c;
    t.true(Math.abs(cc.wEst - wEst) < 1e-6, `W_est at t=${tSec}`);
    t.true(Math.abs(cc.congestionWindow - Math.floor(expected)) <= 1, `t=${tSec}: ${cc.congestionWindow} vs ${expected}`);
  }
  // At t = K − RTT the target is W_cubic(K) = W_max; beyond it the convex region grows again.
  t.true(Math.abs(W(K) - wMax) < 1e-9);
  t.true(cc.congestionWindow > wMax, 'convex region past W_max');
  t.true(Math.abs(cc.congestionWindow - W(K + 2.1)) <= 1);
});

test('concave region: one ACK adds (target − cwnd)/cwnd per segment (RFC 9438 §4.4)', (t) => {
  const cc = grownThenLoss(120000, 1000);
  send(cc, 1200, 1050);
  ack(cc, 1200, 1050, 1100);
  const K = cc.k;
  const W = (tSec: number): number => CUBIC_C * (tSec - K) ** 3 * MSS + 120000;
  const now = 1100 + 2000;
  const c = cc.congestionWindow; // integral part is fine for the bound below
  send(cc, 2400, now - 50);
  ack(cc, 2400, now - 50, now);
  const target = W(2.1);
  const inc = ((target - c) * 2400) / c;
  t.true(Math.abs(cc.congestionWindow - (c + inc)) <= 1);
  t.true(cc.congestionWindow < 120000);
});

test('target is clamped to 1.5 · cwnd', (t) => {
  const cc = grownThenLoss(120000, 1000);
  send(cc, 1200, 1050);
  ack(cc, 1200, 1050, 1100);
  // Far in the convex region the curve is huge: one full-window ACK grows at most 1.5×.
  const c = cc.congestionWindow;
  send(cc, c, 1100 + 60_000);
  ack(cc, c, 1100 + 60_000, 1100 + 60_100);
  t.true(Math.abs(cc.congestionWindow - 1.5 * c) <= 1);
});

test('Reno-friendly region: cwnd follows W_est, α → 1 once W_est ≥ cwnd_prior (RFC 9438 §4.3)', (t) => {
  const cc = grownThenLoss(14000, 1000);
  t.is(cc.congestionWindow, 9800);
  // All ACKs at the same instant: t stays 0, so W_cubic(t) = cwnd_epoch never beats W_est.
  const now = 1100;
  let wEst = 9800;
  let cwnd = 9800;
  const alphas: number[] = [];
  for (let i = 0; i < 12; i++) {
    const c = cc.congestionWindow;
    send(cc, c, 1050);
    ack(cc, c, 1050, now);
    const alpha = wEst >= 14000 ? 1 : CUBIC_ALPHA;
    alphas.push(alpha);
    wEst += (alpha * MSS * c) / cwnd;
    cwnd = Math.max(cwnd, wEst);
    t.true(Math.abs(cc.wEst - wEst) < 1e-6, `W_est step ${i}`);
    t.true(Math.abs(cc.congestionWindow - Math.floor(cwnd)) <= 1, 'cwnd = W_est');
  }
  // α_cubic until W_est reaches cwnd_prior (14000), then 1.
  const switchAt = alphas.indexOf(1);
  t.true(switchAt >= 6 && switchAt <= 8, `switch at ${switchAt}`);
  t.true(alphas.slice(0, switchAt).every((a) => a === CUBIC_ALPHA));
  t.true(alphas.slice(switchAt).every((a) => a === 1));
  t.true(cc.wEst > 14000);
});

test('fast convergence lowers W_max when the flow gives up bandwidth (RFC 9438 §4.7)', (t) => {
  for (const fc of [true, false]) {
    const cc = grownThenLoss(120000, 1000, { fastConvergence: fc });
    send(cc, 1200, 1050);
    ack(cc, 1200, 1050, 1100);
    send(cc, 20000, 1500);
    ack(cc, 20000, 1500, 2000);
    const c2 = cc.congestionWindow;
    t.true(c2 < 120000);
    cc.onCongestionEvent(1500, 3000);
    const raw = c2; // cwnd is floored by the getter; allow 1 byte
    if (fc) t.true(Math.abs(cc.wMax - (raw * (1 + CUBIC_BETA)) / 2) <= 1);
    else t.true(Math.abs(cc.wMax - raw) <= 1);
    t.true(Math.abs(cc.congestionWindow - raw * CUBIC_BETA) <= 1);
    t.true(Math.abs(cc.cwndPrior - raw) <= 1);
  }
});

test('persistent congestion restarts with K = 0 and W_max = cwnd_epoch (RFC 9438 §4.8)', (t) => {
  const cc = grownThenLoss(120000, 1000);
  cc.onPersistentCongestion(1200);
  t.is(cc.congestionWindow, 2400);
  t.true(cc.inSlowStart());
  // Slow start up to ssthresh (84000), then the first CA ACK starts an epoch with K = 0.
  send(cc, 81600, 1300);
  ack(cc, 81600, 1300, 1400);
  t.is(cc.congestionWindow, 84000);
  send(cc, 1200, 1450);
  ack(cc, 1200, 1450, 1500);
  t.is(cc.k, 0);
  t.is(cc.wMax, 84000);
  t.is(cc.epochStart, 1500);
});

test('application-limited time does not advance the curve (RFC 9438 §5.8)', (t) => {
  const a = grownThenLoss(120000, 1000);
  const b = grownThenLoss(120000, 1000);
  for (const cc of [a, b]) {
    send(cc, 1200, 1050);
    ack(cc, 1200, 1050, 1100);
  }
  // b is application limited for 2 s (ACKs arrive, window mostly unused).
  b.appLimited = true;
  send(b, 1200, 1500);
  ack(b, 1200, 1500, 3100);
  t.is(b.epochStart, 1100 + 2000, 'epoch shifted by the limited period');
  b.appLimited = false;
  // Both now grow for one second of cwnd-limited time: same window.
  const ca = a.congestionWindow;
  send(a, ca, 2000);
  ack(a, ca, 2000, 2100);
  send(b, ca, 4000);
  ack(b, ca, 4000, 4100);
  t.true(Math.abs(a.congestionWindow - b.congestionWindow) <= 1);
});

test('idle restart shifts the epoch by the idle time', (t) => {
  const cc = grownThenLoss(120000, 1000);
  send(cc, 1200, 1050);
  ack(cc, 1200, 1050, 1100); // epoch 1100
  cc.onPacketLost(1200); // the packet kept in flight: now idle
  t.is(cc.bytesInFlight, 0);
  send(cc, 1200, 5100);
  t.is(cc.epochStart, 5100);
});
