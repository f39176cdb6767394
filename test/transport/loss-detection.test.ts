// RFC 9002 §6 / App. A loss detection, PTO and persistent congestion, with a virtual clock.
import test from 'ava';
import { TransportError, TransportErrorCode } from '../../src/codec/errors.js';
import {
  LossDetection,
  PacketNumberSpace,
  TimeoutKind,
  createCongestionController,
  type LossDetectionOptions,
} from '../../src/transport/loss-detection.js';
import { PacketList, SentFlags, type SentPacketInfo } from '../../src/transport/sent-packets.js';

const { INITIAL, HANDSHAKE, APPLICATION_DATA: APP } = PacketNumberSpace;

function mk(opts: Partial<LossDetectionOptions> = {}): LossDetection {
  return new LossDetection({ isServer: true, congestionControl: 'newreno', ...opts });
}

const info: SentPacketInfo = { pn: 0, size: 1200, ackEliciting: true, inFlight: true, token: null };

function send(ld: LossDetection, space: number, pn: number, now: number, extra: Partial<SentPacketInfo> = {}): void {
  info.pn = pn;
  info.size = extra.size ?? 1200;
  info.ackEliciting = extra.ackEliciting ?? true;
  info.inFlight = extra.inFlight ?? true;
  info.pmtuProbe = extra.pmtuProbe ?? false;
  info.zeroRtt = extra.zeroRtt ?? false;
  info.ecn = extra.ecn ?? 0;
  info.token = extra.token ?? `${space}:${pn}`;
  ld.onPacketSent(space, info, now);
}

function pns(list: PacketList): number[] {
  return list.pn.slice(0, list.length);
}

test('packet threshold: 3 packets below the largest acknowledged are lost (RFC 9002 §6.1.1)', (t) => {
  const ld = mk();
  ld.onHandshakeConfirmed(0);
  for (let pn = 0; pn <= 5; pn++) send(ld, APP, pn, pn);
  const r = ld.onAckReceived(APP, [4, 4], 0, 50);
  t.deepEqual(pns(r.acked), [4]);
  t.is(r.acked.token[0], '2:4');
  t.deepEqual(pns(r.lost), [0, 1]);
  t.deepEqual(r.lost.token.slice(0, 2), ['2:0', '2:1']);
  t.true(r.rttUpdated);
  t.is(ld.rtt.latestRtt, 46);
  // 2 and 3 wait for the time threshold: 9/8 · max(46, 46) after their send times.
  t.is(ld.getLossDetectionTimer(), 2 + (9 / 8) * 46);
  t.true(r.congestionEvent);
  t.is(ld.stats.packetsLost, 2);
});

test('time threshold: 9/8 · max(smoothed_rtt, latest_rtt) (RFC 9002 §6.1.2)', (t) => {
  const ld = mk();
  ld.onHandshakeConfirmed(0);
  send(ld, APP, 0, 0);
  ld.onAckReceived(APP, [0, 0], 0, 100); // srtt 100, latest 100
  send(ld, APP, 1, 100);
  send(ld, APP, 2, 110);
  send(ld, APP, 3, 115);
  // latest_rtt 20 < srtt: the threshold uses srtt (now 90) → 9/8 · 90 = 101.25.
  const r = ld.onAckReceived(APP, [3, 3], 0, 135);
  t.is(ld.rtt.latestRtt, 20);
  t.is(ld.rtt.smoothedRtt, 0.875 * 100 + 0.125 * 20);
  t.deepEqual(pns(r.lost), []);
  t.is(ld.getLossDetectionTimer(), 100 + 101.25);
  // Early call does nothing.
  t.is(ld.onLossDetectionTimeout(201).kind, TimeoutKind.NONE);
  const to = ld.onLossDetectionTimeout(201.25);
  t.is(to.kind, TimeoutKind.LOSS);
  t.is(to.space, APP);
  t.deepEqual(pns(to.lost), [1]);
  t.is(to.lost.token[0], '2:1');
  t.true(to.congestionEvent);
  // pn 2 (sent at 110) is next: 110 + 101.25.
  t.is(ld.getLossDetectionTimer(), 211.25);
  const to2 = ld.onLossDetectionTimeout(211.25);
  t.deepEqual(pns(to2.lost), [2]);
  t.false(to2.congestionEvent, 'sent before the recovery period started: same congestion event');
});

test('time threshold uses latest_rtt when it exceeds smoothed_rtt', (t) => {
  const ld = mk();
  ld.onHandshakeConfirmed(0);
  send(ld, APP, 0, 0);
  ld.onAckReceived(APP, [0, 0], 0, 100); // srtt 100
  send(ld, APP, 1, 100);
  send(ld, APP, 2, 101);
  ld.onAckReceived(APP, [2, 2], 0, 401); // latest 300, srtt 125
  t.is(ld.rtt.smoothedRtt, 125);
  t.is(ld.getLossDetectionTimer(), 100 + (9 / 8) * 300);
});

test('time-threshold timer fires exactly at send time + delay despite float rounding (regression)', (t) => {
  // (636.023 + 277.227) − 277.227 < 636.023 in binary floating point.
  const ld = mk();
  ld.onHandshakeConfirmed(0);
  send(ld, APP, 0, 0);
  ld.onAckReceived(APP, [0, 0], 0, 246.424);
  t.is(ld.rtt.smoothedRtt, 246.424);
  send(ld, APP, 1, 636.023);
  send(ld, APP, 2, 650, { ackEliciting: false }); // PADDING only: in flight, no RTT sample
  ld.onAckReceived(APP, [2, 2], 0, 700);
  const at = ld.getLossDetectionTimer();
  t.is(at, 636.023 + 1.125 * 246.424);
  const r = ld.onLossDetectionTimeout(at);
  t.is(r.kind, TimeoutKind.LOSS);
  t.deepEqual(pns(r.lost), [1]);
  t.is(ld.getLossDetectionTimer(), Infinity);
});

test('time threshold never below kGranularity', (t) => {
  const ld = mk();
  ld.onHandshakeConfirmed(0);
  send(ld, APP, 0, 0);
  send(ld, APP, 1, 0.1);
  ld.onAckReceived(APP, [1, 1], 0, 0.2); // rtt 0.1 ms → 9/8·0.1 < 1 ms
  t.is(ld.getLossDetectionTimer(), 0 + 1);
});

test('PTO: period, backoff and App-space max_ack_delay (RFC 9002 §6.2.1)', (t) => {
  const ld = mk();
  ld.onHandshakeConfirmed(0);
  send(ld, APP, 0, 0);
  // 333 + 4·166.5 + 25
  t.is(ld.getLossDetectionTimer(), 1024);
  const to = ld.onLossDetectionTimeout(1024);
  t.is(to.kind, TimeoutKind.PTO);
  t.is(to.space, APP);
  t.is(to.probes, 2);
  t.false(to.antiDeadlock);
  t.is(to.lost.length, 0, 'a PTO never declares packets lost');
  t.is(ld.ptoCount, 1);
  t.is(ld.getLossDetectionTimer(), 0 + 2 * 999 + 2 * 25);
  send(ld, APP, 1, 1024); // the probe
  t.is(ld.getLossDetectionTimer(), 1024 + 2 * 1024);
  ld.onLossDetectionTimeout(3072);
  t.is(ld.ptoCount, 2);
  t.is(ld.getLossDetectionTimer(), 1024 + 4 * 1024);
  // An ACK resets the backoff (server); pn 0 is by now past the time threshold.
  const r = ld.onAckReceived(APP, [1, 1], 0, 3100);
  t.is(ld.ptoCount, 0);
  t.deepEqual(pns(r.lost), [0]);
  t.is(ld.bytesInFlight, 0);
  t.is(ld.getLossDetectionTimer(), Infinity);
});

test('PTO: earliest of Initial/Handshake, without max_ack_delay; App skipped before confirmation', (t) => {
  const ld = mk({ isServer: true });
  send(ld, INITIAL, 0, 0);
  send(ld, HANDSHAKE, 0, 5);
  send(ld, APP, 0, 6);
  t.is(ld.getLossDetectionTimer(), 999);
  t.is(ld.onLossDetectionTimeout(999).space, INITIAL);
  // Backoff applies across spaces: Initial 0 + 2·999 still precedes Handshake 5 + 2·999.
  t.is(ld.getLossDetectionTimer(), 2 * 999);
  ld.discardSpace(INITIAL, 1000);
  t.is(ld.ptoCount, 0, 'key discard resets pto_count');
  t.is(ld.getLossDetectionTimer(), 5 + 999);
  ld.discardSpace(HANDSHAKE, 1001);
  // Only App data in flight and not confirmed: no PTO at all.
  t.is(ld.getLossDetectionTimer(), Infinity);
  ld.onHandshakeConfirmed(1002);
  t.is(ld.getLossDetectionTimer(), 6 + 1024);
  t.true(ld.isDiscarded(INITIAL));
});

test('client: PTO backoff survives Initial ACKs, anti-deadlock PTO without packets in flight', (t) => {
  const ld = mk({ isServer: false });
  send(ld, INITIAL, 0, 0);
  t.is(ld.getLossDetectionTimer(), 999);
  const to = ld.onLossDetectionTimeout(999);
  t.is(to.kind, TimeoutKind.PTO);
  t.is(to.space, INITIAL);
  send(ld, INITIAL, 1, 999);
  ld.onAckReceived(INITIAL, [0, 1], 7, 1100);
  t.is(ld.ptoCount, 1, 'client does not reset the backoff on Initial ACKs (RFC 9002 §6.2.1)');
  t.is(ld.rtt.latestRtt, 101);
  t.is(ld.rtt.smoothedRtt, 101, 'Initial ack delay ignored');
  // Nothing in flight, server may be amplification-blocked: timer from now (App. A.8).
  t.is(ld.bytesInFlight, 0);
  t.is(ld.getLossDetectionTimer(), 1100 + (101 + 4 * 50.5) * 2);
  let d = ld.onLossDetectionTimeout(1706);
  t.is(d.kind, TimeoutKind.PTO);
  t.true(d.antiDeadlock);
  t.is(d.space, INITIAL, 'no Handshake keys: padded Initial');
  t.is(d.probes, 1);
  t.is(ld.ptoCount, 2);
  ld.onHandshakeKeysAvailable(1706);
  d = ld.onLossDetectionTimeout(ld.getLossDetectionTimer());
  t.true(d.antiDeadlock);
  t.is(d.space, HANDSHAKE, 'with Handshake keys: a Handshake packet');
  // A Handshake ACK proves the server validated the address: backoff reset, no timer when idle.
  send(ld, HANDSHAKE, 0, 5000);
  ld.onAckReceived(HANDSHAKE, [0, 0], 0, 5050);
  t.is(ld.ptoCount, 0);
  t.true(ld.peerCompletedAddressValidation());
  t.is(ld.getLossDetectionTimer(), Infinity);
});

test('client: explicit onPeerAddressValidated / handshake confirmation end the anti-deadlock PTO', (t) => {
  for (const how of ['validated', 'confirmed'] as const) {
    const ld = mk({ isServer: false });
    send(ld, INITIAL, 0, 0);
    ld.onAckReceived(INITIAL, [0, 0], 0, 50);
    t.false(ld.peerCompletedAddressValidation());
    t.is(ld.getLossDetectionTimer(), 50 + 50 + 4 * 25, 'anti-deadlock timer armed');
    if (how === 'validated') ld.onPeerAddressValidated(60);
    else ld.onHandshakeConfirmed(60);
    t.true(ld.peerCompletedAddressValidation());
    t.is(ld.getLossDetectionTimer(), Infinity);
  }
});

test('server at the amplification limit arms no PTO; unblocking re-arms (RFC 9002 §6.2.2.1)', (t) => {
  const ld = mk({ isServer: true });
  send(ld, INITIAL, 0, 0);
  t.is(ld.getLossDetectionTimer(), 999);
  ld.setAmplificationLimited(true, 10);
  t.is(ld.getLossDetectionTimer(), Infinity);
  t.is(ld.onLossDetectionTimeout(2000).kind, TimeoutKind.NONE);
  ld.setAmplificationLimited(false, 2000);
  // The PTO is in the past: the connection runs it immediately (App. A.6).
  t.true(ld.getLossDetectionTimer() <= 2000);
  t.is(ld.onLossDetectionTimeout(2000).kind, TimeoutKind.PTO);
});

test('amplification limit does not cancel a time-threshold loss timer', (t) => {
  const ld = mk({ isServer: true });
  send(ld, INITIAL, 0, 0);
  send(ld, INITIAL, 1, 1);
  ld.onAckReceived(INITIAL, [1, 1], 0, 11);
  const lossTimer = ld.getLossDetectionTimer();
  t.is(lossTimer, (9 / 8) * 10);
  ld.setAmplificationLimited(true, 12);
  t.is(ld.getLossDetectionTimer(), lossTimer);
});

test('ACK-only packets neither count in flight nor arm the timer', (t) => {
  const ld = mk();
  ld.onHandshakeConfirmed(0);
  send(ld, APP, 0, 0, { ackEliciting: false, inFlight: false });
  t.is(ld.bytesInFlight, 0);
  t.is(ld.getLossDetectionTimer(), Infinity);
  // An ACK of only non-ack-eliciting packets yields no RTT sample (RFC 9002 §5.1).
  const r = ld.onAckReceived(APP, [0, 0], 1000, 50);
  t.deepEqual(pns(r.acked), [0]);
  t.false(r.rttUpdated);
  t.false(ld.rtt.hasSample);
});

test('ACK of an unsent packet number → PROTOCOL_VIOLATION', (t) => {
  const ld = mk();
  send(ld, APP, 0, 0);
  const e = t.throws(() => ld.onAckReceived(APP, [0, 1], 0, 10), { instanceOf: TransportError }) as TransportError;
  t.is(e.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
  t.is(e.frameType, 0x02);
  // Nothing was sent in Handshake at all.
  const e2 = t.throws(() => ld.onAckReceived(HANDSHAKE, [0, 0], 0, 10), { instanceOf: TransportError }) as TransportError;
  t.is(e2.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
  t.is(ld.bytesInFlight, 1200, 'state untouched');
});

test('ACK of a skipped packet number → PROTOCOL_VIOLATION (RFC 9000 §13.1)', (t) => {
  const ld = mk();
  send(ld, APP, 10, 0);
  ld.onPacketNumberSkipped(APP, 11);
  send(ld, APP, 12, 1);
  const e = t.throws(() => ld.onAckReceived(APP, [10, 12], 0, 10), { instanceOf: TransportError }) as TransportError;
  t.is(e.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
  // Ranges around the gap are fine.
  const r = ld.onAckReceived(APP, [12, 12, 10, 10], 0, 10);
  t.deepEqual(pns(r.acked).sort((a, b) => a - b), [10, 12]);
  t.throws(() => ld.onPacketNumberSkipped(APP, 12), { instanceOf: RangeError });
});

test('malformed ranges → FRAME_ENCODING_ERROR; wrong shape → TypeError', (t) => {
  const ld = mk();
  for (let pn = 0; pn < 10; pn++) send(ld, APP, pn, 0);
  for (const bad of [
    [5, 4], // smallest > largest
    [2, 3, 4, 6], // ascending
    [5, 6, 3, 4], // adjacent (no gap)
    [-1, 2],
  ]) {
    const e = t.throws(() => ld.onAckReceived(APP, bad, 0, 1), { instanceOf: TransportError }) as TransportError;
    t.is(e.errorCode, TransportErrorCode.FRAME_ENCODING_ERROR);
  }
  t.throws(() => ld.onAckReceived(APP, [1], 0, 1), { instanceOf: TypeError });
  t.throws(() => ld.onAckReceived(APP, [1, 2], 0, 1, null, 2), { instanceOf: TypeError });
  // rangeCount reads a prefix of a longer (reused) array; stale pairs after it are ignored.
  const r = ld.onAckReceived(APP, [8, 9, 4, 5, 99, 0], 0, 1, null, 2);
  t.deepEqual(pns(r.acked), [8, 9, 4, 5]);
  t.throws(() => ld.onAckReceived(5, [1, 1], 0, 1), { instanceOf: RangeError });
});

test('duplicate and reordered ACKs: nothing acked twice, largest acked never moves back', (t) => {
  const ld = mk();
  ld.onHandshakeConfirmed(0);
  for (let pn = 0; pn < 6; pn++) send(ld, APP, pn, pn);
  const a = ld.onAckReceived(APP, [5, 5], 0, 100);
  t.deepEqual(pns(a.acked), [5]);
  t.deepEqual(pns(a.lost), [0, 1, 2]);
  const samples = ld.rtt.samples;
  const dup = ld.onAckReceived(APP, [5, 5], 0, 110);
  t.is(dup.acked.length, 0);
  t.false(dup.rttUpdated);
  t.is(ld.rtt.samples, samples);
  // An older ACK frame arriving late (largest 3 < 5).
  const late = ld.onAckReceived(APP, [3, 4], 0, 120);
  t.deepEqual(pns(late.acked), [3, 4]);
  t.is(ld.largestAckedIn(APP), 5);
  // ...and an ACK of packets already declared lost counts as spurious.
  const sp = ld.onAckReceived(APP, [0, 5], 0, 130);
  t.is(sp.acked.length, 0);
  t.is(sp.spuriousLosses, 3);
  t.is(ld.stats.spuriousLosses, 3);
  t.is(ld.outstandingIn(APP), 0);
});

test('ack_delay > max_ack_delay is capped once the handshake is confirmed', (t) => {
  const ld = mk({ maxAckDelay: 25 });
  ld.onHandshakeConfirmed(0);
  send(ld, APP, 0, 0);
  ld.onAckReceived(APP, [0, 0], 0, 100);
  send(ld, APP, 1, 100);
  ld.onAckReceived(APP, [1, 1], 500, 300); // latest 200, delay capped to 25 → 175
  t.is(ld.rtt.smoothedRtt, 0.875 * 100 + 0.125 * 175);
  ld.setMaxAckDelay(100);
  t.is(ld.maxAckDelay, 100);
  t.throws(() => ld.setMaxAckDelay(-1), { instanceOf: RangeError });
});

test('ACK for a discarded space is ignored', (t) => {
  const ld = mk();
  send(ld, INITIAL, 0, 0);
  send(ld, INITIAL, 1, 0, { size: 1000 });
  t.is(ld.bytesInFlight, 2200);
  const out = new PacketList();
  ld.discardSpace(INITIAL, 5, out);
  t.deepEqual(pns(out), [0, 1]);
  t.is(ld.bytesInFlight, 0, 'discarded packets leave bytes in flight (RFC 9002 §6.4)');
  const r = ld.onAckReceived(INITIAL, [0, 1], 0, 10);
  t.true(r.ignored);
  t.is(r.acked.length, 0);
  t.false(ld.rtt.hasSample);
  t.throws(() => send(ld, INITIAL, 2, 11), { instanceOf: RangeError });
  t.throws(() => ld.discardSpace(APP, 11), { instanceOf: RangeError });
});

test('loss of a PMTU probe leaves flight without a congestion event (RFC 9000 §14.4)', (t) => {
  const ld = mk();
  ld.onHandshakeConfirmed(0);
  send(ld, APP, 0, 0, { size: 1452, pmtuProbe: true });
  for (let pn = 1; pn <= 3; pn++) send(ld, APP, pn, 1);
  const cwnd = ld.congestionWindow;
  const r = ld.onAckReceived(APP, [1, 3], 0, 50);
  t.deepEqual(pns(r.lost), [0]);
  t.true(r.lost.isPmtuProbe(0));
  t.false(r.congestionEvent);
  t.is(ld.cc.recoveryStartTime, -Infinity);
  t.true(ld.congestionWindow >= cwnd);
  t.is(ld.bytesInFlight, 0);
});

/**
 * Persistent congestion (RFC 9002 §7.6, App. B.8). RTT samples 60 then 20 ms, max_ack_delay 20:
 * smoothed_rtt 55, rttvar 32.5, so the duration is (55 + 130 + 20) · 3 = 615 ms.
 */
function pcScenario(opts: { firstAckAt: number; firstSentAt: number; p2At: number; ackAlso5?: boolean }): {
  ld: LossDetection;
  pc: boolean;
  lost: number[];
} {
  const ld = mk({ maxAckDelay: 20 });
  ld.onHandshakeConfirmed(0);
  send(ld, APP, 1, opts.firstSentAt);
  if (opts.firstAckAt < opts.p2At) ld.onAckReceived(APP, [1, 1], 0, opts.firstAckAt);
  send(ld, APP, 2, opts.p2At);
  if (opts.firstAckAt >= opts.p2At) ld.onAckReceived(APP, [1, 1], 0, opts.firstAckAt);
  const times = [1100, 1200, 1300, 1400, 1500, 1700, 2200];
  for (let i = 0; i < times.length; i++) send(ld, APP, 3 + i, times[i]!);
  const r = ld.onAckReceived(APP, opts.ackAlso5 ? [9, 9, 5, 5] : [9, 9], 0, 2220);
  return { ld, pc: r.persistentCongestion, lost: pns(r.lost) };
}

test('persistent congestion: lost span > duration, all after the first RTT sample', (t) => {
  const { ld, pc, lost } = pcScenario({ firstSentAt: 945, firstAckAt: 1005, p2At: 1010 });
  t.is(ld.rtt.persistentCongestionDuration(20), 615);
  t.deepEqual(lost, [2, 3, 4, 5, 6, 7, 8]);
  t.true(pc);
  // Collapsed to kMinimumWindow, then #9 (sent after) grows it in slow start: App. A.7 processes
  // losses before acknowledgments.
  t.is(ld.congestionWindow, 2 * 1200 + 1200);
  t.is(ld.cc.recoveryStartTime, -Infinity);
  t.is(ld.rtt.minRtt, 20);
  t.is(ld.stats.persistentCongestions, 1);
});

test('persistent congestion: not when the oldest loss predates the first RTT sample', (t) => {
  // #2 at 1010 was sent before the sample at 1020: the eligible span is 1100..1700 = 600 ≤ 615.
  const { ld, pc, lost } = pcScenario({ firstSentAt: 960, firstAckAt: 1020, p2At: 1010 });
  t.deepEqual(lost, [2, 3, 4, 5, 6, 7, 8]);
  t.false(pc);
  t.true(ld.congestionWindow > 2 * 1200);
});

test('persistent congestion: not when a packet between was acknowledged', (t) => {
  const { pc, lost } = pcScenario({ firstSentAt: 945, firstAckAt: 1005, p2At: 1010, ackAlso5: true });
  t.deepEqual(lost, [2, 3, 4, 6, 7, 8]);
  t.false(pc);
});

test('persistent congestion: strictly longer than the duration', (t) => {
  // 1700 − 1085 = 615 = duration: not established; 616: established.
  t.false(pcScenario({ firstSentAt: 945, firstAckAt: 1005, p2At: 1085 }).pc);
  t.true(pcScenario({ firstSentAt: 945, firstAckAt: 1005, p2At: 1084 }).pc);
});

test('persistent congestion: never without an RTT sample', (t) => {
  const ld = mk({ maxAckDelay: 20 });
  ld.onHandshakeConfirmed(0);
  for (let pn = 0; pn < 8; pn++) send(ld, APP, pn, pn * 1000);
  send(ld, APP, 8, 9000, { ackEliciting: false, inFlight: false });
  const r = ld.onAckReceived(APP, [8, 8], 0, 9010);
  t.false(r.rttUpdated);
  t.deepEqual(pns(r.lost), [0, 1, 2, 3, 4, 5, 6, 7]);
  t.false(r.persistentCongestion);
  t.true(r.congestionEvent);
});

test('0-RTT rejection removes 0-RTT packets from flight without loss', (t) => {
  const ld = mk({ isServer: false });
  send(ld, INITIAL, 0, 0);
  send(ld, APP, 0, 1, { zeroRtt: true });
  send(ld, APP, 1, 2, { zeroRtt: true, size: 500 });
  t.is(ld.bytesInFlight, 2900);
  const out = new PacketList();
  ld.discardZeroRtt(3, out);
  t.deepEqual(pns(out), [0, 1]);
  t.is(ld.bytesInFlight, 1200);
  t.is(ld.stats.packetsLost, 0);
  t.is(ld.outstandingIn(APP), 0);
});

test('Retry resets recovery and congestion state, keeps packet numbers (RFC 9002 §6.3)', (t) => {
  const ld = mk({ isServer: false });
  send(ld, INITIAL, 0, 0);
  send(ld, APP, 0, 1, { zeroRtt: true });
  ld.onLossDetectionTimeout(999);
  t.is(ld.ptoCount, 1);
  const out = new PacketList();
  ld.onRetry(1000, out, 40);
  t.deepEqual(out.space.slice(0, out.length), [INITIAL, APP]);
  t.is(ld.bytesInFlight, 0);
  t.is(ld.ptoCount, 0);
  t.is(ld.rtt.smoothedRtt, 40);
  t.is(ld.congestionWindow, 12000);
  t.throws(() => send(ld, INITIAL, 0, 1001), { instanceOf: RangeError }, 'pn keeps increasing');
  send(ld, INITIAL, 1, 1001);
  t.is(ld.getLossDetectionTimer(), 1001 + 40 + 4 * 20);
  t.throws(() => mk({ isServer: true }).onRetry(0), { instanceOf: TypeError });
});

test('ECN-CE increase on a validated path is a congestion event (RFC 9002 §7.1, App. B.7)', (t) => {
  const ld = mk({ ecnMarking: true });
  ld.onHandshakeConfirmed(0);
  for (let pn = 0; pn < 4; pn++) send(ld, APP, pn, pn, { ecn: ld.ecn.codepointForNextPacket() });
  let r = ld.onAckReceived(APP, [0, 1], 0, 50, { ect0: 2, ect1: 0, ce: 0 });
  t.false(r.ecnCe);
  t.is(ld.ecn.state, 'capable');
  const cwnd = ld.congestionWindow;
  r = ld.onAckReceived(APP, [2, 3], 0, 60, { ect0: 3, ect1: 0, ce: 1 });
  t.true(r.ecnCe);
  t.true(r.congestionEvent);
  t.is(ld.cc.recoveryStartTime, 60);
  t.true(ld.congestionWindow < cwnd + 2 * 1200);
  t.is(ld.stats.ecnCeEvents, 1);
});

test('ECN disabled (Node dgram): CE counts are tracked but never reach congestion control', (t) => {
  const ld = mk();
  ld.onHandshakeConfirmed(0);
  send(ld, APP, 0, 0);
  send(ld, APP, 1, 1);
  const r = ld.onAckReceived(APP, [0, 1], 0, 50, { ect0: 0, ect1: 0, ce: 2 });
  t.false(r.ecnCe);
  t.false(r.congestionEvent);
  t.is(ld.ecn.ceEvents, 1);
  t.is(ld.ecn.state, 'disabled');
});

test('controller factory and option checks', (t) => {
  t.is(createCongestionController().algorithm, 'cubic');
  t.is(createCongestionController('newreno').algorithm, 'newreno');
  t.throws(() => createCongestionController('bbr' as never), { instanceOf: TypeError });
  t.throws(() => new LossDetection({} as never), { instanceOf: TypeError });
  t.throws(() => mk({ packetThreshold: 0 }), { instanceOf: RangeError });
  const ld = mk();
  t.throws(() => send(ld, APP, 0, NaN), { instanceOf: TypeError });
  t.is(new LossDetection({ isServer: true }).cc.algorithm, 'cubic');
});

test('sent-packet store: many packets, ring growth, compaction, flags', (t) => {
  const ld = mk();
  ld.onHandshakeConfirmed(0);
  ld.cc.appLimited = false;
  let now = 0;
  let pn = 0;
  let oldest = 0;
  // Keep ~300 packets outstanding, acknowledging the oldest 100 at a time.
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 100; i++) send(ld, APP, pn++, now);
    now += 10;
    if (pn > 300) {
      const lo = oldest;
      oldest += 100;
      const r = ld.onAckReceived(APP, [lo, lo + 99], 0, now);
      t.is(r.acked.length, 100);
      t.is(r.lost.length, 0);
    }
  }
  t.is(ld.outstandingIn(APP), 300);
  t.is(ld.bytesInFlight, 300 * 1200);
  t.is(SentFlags.ACK_ELICITING | SentFlags.IN_FLIGHT, 3);
});
