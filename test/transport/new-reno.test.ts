// RFC 9002 §7 and App. B: NewReno as specified for QUIC.
import test from 'ava';
import { initialWindow } from '../../src/transport/congestion/controller.js';
import { NewReno } from '../../src/transport/congestion/new-reno.js';
import { RttEstimator } from '../../src/transport/rtt.js';

const rtt = new RttEstimator();
rtt.update(100, 0, true, 25, 0);

function sendN(cc: NewReno, n: number, now: number, size = 1200): void {
  for (let i = 0; i < n; i++) cc.onPacketSent(2, 0, size, now);
}
function ackN(cc: NewReno, n: number, sentTime: number, now: number, size = 1200): void {
  for (let i = 0; i < n; i++) cc.onPacketAcked(size, sentTime, now);
  cc.onAckProcessed(2, 0, rtt, true, now);
}

test('initial and minimum window (RFC 9002 §7.2)', (t) => {
  const cc = new NewReno();
  t.is(cc.congestionWindow, 12000);
  t.is(cc.minimumWindow, 2400);
  t.is(cc.ssthresh, Infinity);
  t.true(cc.inSlowStart());
  t.is(initialWindow(1200), 12000);
  t.is(initialWindow(1500), 14720, 'limited to max(14720, 2·mds)');
  t.is(initialWindow(9000), 18000);
  t.is(new NewReno({ maxDatagramSize: 1452 }).congestionWindow, 14520);
  t.throws(() => new NewReno({ maxDatagramSize: 1000 }), { instanceOf: RangeError });
  t.throws(() => new NewReno({ initialWindowPackets: 1 }), { instanceOf: RangeError });
});

test('slow start grows by the bytes acknowledged; canSend/availableWindow', (t) => {
  const cc = new NewReno();
  sendN(cc, 10, 0);
  t.is(cc.bytesInFlight, 12000);
  t.false(cc.canSend(1));
  t.is(cc.availableWindow(), 0);
  ackN(cc, 5, 0, 100);
  t.is(cc.congestionWindow, 18000);
  t.is(cc.bytesInFlight, 6000);
  t.true(cc.canSend(12000));
  t.false(cc.canSend(12001));
  t.is(cc.availableWindow(), 12000);
});

test('recovery period: one reduction per round trip (RFC 9002 §7.3.2)', (t) => {
  const cc = new NewReno();
  sendN(cc, 10, 0);
  ackN(cc, 5, 0, 100); // cwnd 18000, 5 packets (sent at 0) still in flight
  cc.onPacketLost(1200);
  cc.onCongestionEvent(0, 100);
  t.is(cc.recoveryStartTime, 100);
  t.is(cc.ssthresh, 9000);
  t.is(cc.congestionWindow, 9000);
  t.false(cc.inSlowStart());
  t.true(cc.inRecovery(100));
  t.false(cc.inRecovery(101));
  // A loss of a packet sent before recovery started does not reduce again.
  cc.onPacketLost(1200);
  cc.onCongestionEvent(0, 120);
  t.is(cc.congestionWindow, 9000);
  t.is(cc.recoveryStartTime, 100);
  // Acks of packets sent before recovery start do not grow the window.
  ackN(cc, 3, 0, 130);
  t.is(cc.congestionWindow, 9000);
  // A packet sent during recovery acknowledged: congestion avoidance, + mds·acked/cwnd.
  sendN(cc, 1, 150);
  ackN(cc, 1, 150, 250);
  t.is(cc.congestionWindow, 9000 + Math.floor((1200 * 1200) / 9000));
  // A loss sent after recovery start: new recovery period.
  sendN(cc, 1, 260);
  cc.onPacketLost(1200);
  cc.onCongestionEvent(260, 300);
  t.is(cc.recoveryStartTime, 300);
  t.is(cc.ssthresh, 9160 / 2);
  t.is(cc.congestionWindow, 4580);
});

test('congestion avoidance adds about one datagram per window', (t) => {
  const cc = new NewReno();
  sendN(cc, 10, 0);
  cc.onCongestionEvent(0, 1); // cwnd 6000
  let now = 10;
  // Acknowledge one full window, packet by packet, in separate ACKs.
  const start = cc.congestionWindow;
  for (let i = 0; i < 5; i++) {
    cc.onPacketSent(2, 0, 1200, now);
    now += 1;
    ackN(cc, 1, now - 1, now);
  }
  const grown = cc.congestionWindow - start;
  t.true(grown >= 1100 && grown <= 1200, `grew ${grown}`);
});

test('minimum window floor and persistent congestion (RFC 9002 §7.6.2)', (t) => {
  const cc = new NewReno();
  sendN(cc, 2, 0);
  cc.onCongestionEvent(0, 10); // 6000
  cc.onCongestionEvent(20, 30); // 3000
  cc.onCongestionEvent(40, 50); // ssthresh 1500, cwnd floored at 2400
  t.is(cc.ssthresh, 1500);
  t.is(cc.congestionWindow, 2400);
  const cc2 = new NewReno();
  sendN(cc2, 10, 0);
  cc2.onCongestionEvent(0, 10);
  cc2.onPersistentCongestion(20);
  t.is(cc2.congestionWindow, 2400);
  t.is(cc2.recoveryStartTime, -Infinity);
  t.true(cc2.inSlowStart(), 'below ssthresh again');
  // The next loss starts a new recovery period even for packets sent earlier than the old one.
  cc2.onCongestionEvent(5, 30);
  t.is(cc2.recoveryStartTime, 30);
});

test('no growth while application limited unless the window was (nearly) full (RFC 9002 §7.8)', (t) => {
  const cc = new NewReno();
  cc.appLimited = true;
  sendN(cc, 2, 0);
  ackN(cc, 2, 0, 100);
  t.is(cc.congestionWindow, 12000, 'only 2400 of 12000 used');
  sendN(cc, 9, 100); // 10800 ≥ cwnd − 3·mds
  ackN(cc, 9, 100, 200);
  t.is(cc.congestionWindow, 12000 + 9 * 1200);
  // Slow start: more than half the window in flight still counts as window limited.
  sendN(cc, 10, 200); // 12000 of 22800
  ackN(cc, 10, 200, 300);
  t.is(cc.congestionWindow, 22800 + 12000);
  cc.appLimited = false;
  sendN(cc, 1, 300);
  ackN(cc, 1, 300, 400);
  t.is(cc.congestionWindow, 34800 + 1200);
});

test('bytes in flight: lost and discarded packets leave, never below zero', (t) => {
  const cc = new NewReno();
  sendN(cc, 3, 0);
  cc.onPacketLost(1200);
  cc.onPacketDiscarded(1200);
  t.is(cc.bytesInFlight, 1200);
  cc.onPacketDiscarded(5000);
  t.is(cc.bytesInFlight, 0);
  t.is(cc.congestionWindow, 12000, 'neither is a congestion event');
});

test('max datagram size change recomputes the initial window; reset', (t) => {
  const cc = new NewReno();
  cc.setMaxDatagramSize(1452);
  t.is(cc.congestionWindow, 14520);
  t.is(cc.minimumWindow, 2904);
  sendN(cc, 1, 0, 1452);
  ackN(cc, 1, 0, 10, 1452);
  cc.setMaxDatagramSize(1200); // not at the initial window any more: kept
  t.is(cc.congestionWindow, 14520 + 1452);
  t.throws(() => cc.setMaxDatagramSize(1199), { instanceOf: RangeError });
  cc.onCongestionEvent(0, 20);
  cc.reset();
  t.is(cc.congestionWindow, 12000);
  t.is(cc.ssthresh, Infinity);
  t.is(cc.bytesInFlight, 0);
  t.is(cc.recoveryStartTime, -Infinity);
});
