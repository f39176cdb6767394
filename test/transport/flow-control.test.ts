// L2b flow control: RFC 9000 §4.1 (limits only increase, *_BLOCKED once per limit), §4.2 (credit
// updates) and receive-window auto-tuning driven by the consumption rate versus the RTT.
import test from 'ava';
import { RecvWindow, SendCredit } from '../../src/transport/flow-control.js';

test('SendCredit: limits only grow; blocked once per limit; lost *_BLOCKED resent only while blocked', (t) => {
  const c = new SendCredit(100);
  t.false(c.update(50));
  t.is(c.limit, 100);
  c.consume(60);
  t.is(c.available, 40);
  t.false(c.markBlocked(), 'not blocked while credit remains');
  c.consume(40);
  t.is(c.available, 0);
  t.true(c.markBlocked());
  t.false(c.markBlocked());
  t.is(c.takeBlocked(), 100);
  t.false(c.blockedPending);
  t.true(c.onBlockedLost(100));
  t.true(c.update(200));
  t.false(c.blockedPending, 'new credit cancels the pending frame');
  t.false(c.onBlockedLost(100));
});

test('RecvWindow: update threshold and advertised limit', (t) => {
  const w = new RecvWindow({ window: 1000, updateFraction: 0.5 });
  t.true(w.addReceived(1000));
  t.false(w.addReceived(1), 'one byte beyond the limit is a violation');
  w.onConsumed(499);
  t.false(w.shouldUpdate());
  w.onConsumed(1);
  t.true(w.shouldUpdate());
  t.is(w.update(0, 0), 1500);
  t.false(w.shouldUpdate());
  t.throws(() => new RecvWindow({ window: 10, updateFraction: 0 }), { instanceOf: RangeError });
});

/** Drive a window: the app consumes `rate` bytes/ms; credit is refreshed whenever due. */
function simulate(rate: number, rtt: number, window: number, maxWindow: number, ms: number): RecvWindow {
  const w = new RecvWindow({ window, maxWindow });
  for (let now = 0; now < ms; now++) {
    w.onConsumed(rate);
    if (w.shouldUpdate()) w.update(now, rtt);
  }
  return w;
}

test('auto-tuning doubles the window when a window drains in under 2 RTT, up to the cap', (t) => {
  // 64 KiB window, 50 ms RTT, consumption 10 KiB/ms: a window lasts ~6 ms ≪ 100 ms.
  const fast = simulate(10_240, 50, 65_536, 1 << 20, 2_000);
  t.is(fast.window, 1 << 20);
  // Consumption 100 B/ms: a window lasts 655 ms ≫ 2 RTT: never grows.
  const slow = simulate(100, 50, 65_536, 1 << 20, 20_000);
  t.is(slow.window, 65_536);
  // Unknown RTT: no tuning.
  const noRtt = simulate(10_240, 0, 65_536, 1 << 20, 2_000);
  t.is(noRtt.window, 65_536);
  // Growth stops where a window lasts about 2 RTT: 1 KiB/ms at 50 ms RTT → ~100 KiB, so 128 KiB.
  const mid = simulate(1_024, 50, 16_384, 1 << 24, 20_000);
  t.true(mid.window >= 65_536 && mid.window <= 262_144, `window ${mid.window}`);
});

test('ensureWindow raises the window (connection ≥ 1.5 × stream) within the cap', (t) => {
  const w = new RecvWindow({ window: 100, maxWindow: 1000 });
  t.true(w.ensureWindow(600));
  t.is(w.window, 600);
  t.false(w.ensureWindow(500));
  t.true(w.ensureWindow(5000));
  t.is(w.window, 1000);
});
