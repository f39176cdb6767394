// RFC 9000 §13.4.2 ECN validation; RFC 9002 §7.1 CE response.
import test from 'ava';
import { ECN_TESTING_PACKETS, EcnCodepoint, EcnSignal, EcnValidator } from '../../src/transport/ecn.js';

function sendTesting(v: EcnValidator, space: number, n: number): void {
  for (let i = 0; i < n; i++) v.onPacketSent(space, v.codepointForNextPacket());
}

test('testing → unknown → capable; CE increase signals congestion', (t) => {
  const v = new EcnValidator(true);
  t.is(v.state, 'testing');
  t.is(v.codepointForNextPacket(), EcnCodepoint.ECT0);
  sendTesting(v, 2, ECN_TESTING_PACKETS);
  t.is(v.state, 'unknown');
  t.is(v.codepointForNextPacket(), EcnCodepoint.NOT_ECT, 'no marking until validated');
  t.is(v.onAck(2, 4, 0, { ect0: 4, ect1: 0, ce: 0 }), EcnSignal.NONE);
  t.is(v.state, 'capable');
  t.is(v.codepointForNextPacket(), EcnCodepoint.ECT0);
  // Two packets acknowledged, one arrived CE-marked.
  t.is(v.onAck(2, 2, 0, { ect0: 5, ect1: 0, ce: 1 }), EcnSignal.CONGESTION);
  t.is(v.ceEvents, 1);
  // Unchanged CE: no new event.
  t.is(v.onAck(2, 1, 0, { ect0: 6, ect1: 0, ce: 1 }), EcnSignal.NONE);
});

test('failure: ECN counts missing for newly acknowledged ECT packets', (t) => {
  const v = new EcnValidator(true);
  sendTesting(v, 2, 3);
  t.is(v.onAck(2, 3, 0, null), EcnSignal.NONE);
  t.is(v.state, 'failed');
  t.is(v.failure, 'counts-missing');
  t.is(v.codepointForNextPacket(), EcnCodepoint.NOT_ECT);
});

test('failure: increase of ECT(0)+CE below the newly acknowledged ECT(0) packets (bleaching)', (t) => {
  const v = new EcnValidator(true);
  sendTesting(v, 2, 5);
  v.onAck(2, 5, 0, { ect0: 3, ect1: 0, ce: 1 });
  t.is(v.state, 'failed');
  t.is(v.failure, 'ect0-undercount');
});

test('failure: ECT(1) undercount', (t) => {
  const v = new EcnValidator(true);
  v.onPacketSent(2, EcnCodepoint.ECT1);
  v.onPacketSent(2, EcnCodepoint.ECT1);
  v.onAck(2, 0, 2, { ect0: 0, ect1: 1, ce: 0 });
  t.is(v.failure, 'ect1-undercount');
});

test('failure: reported ECT count exceeds packets sent with it (remarking)', (t) => {
  const v = new EcnValidator(true);
  sendTesting(v, 2, 2);
  v.onAck(2, 2, 0, { ect0: 2, ect1: 1, ce: 0 });
  t.is(v.failure, 'ect-exceeds-sent');
});

test('failure: counts decrease', (t) => {
  const v = new EcnValidator(true);
  sendTesting(v, 2, 4);
  v.onAck(2, 2, 0, { ect0: 2, ect1: 0, ce: 0 });
  t.is(v.state, 'capable');
  v.onAck(2, 1, 0, { ect0: 1, ect1: 0, ce: 0 });
  t.is(v.failure, 'counts-decreased');
});

test('failure: every testing packet lost', (t) => {
  const v = new EcnValidator(true);
  sendTesting(v, 2, ECN_TESTING_PACKETS);
  v.onEctPacketsLost(4);
  t.is(v.state, 'unknown');
  v.onEctPacketsLost(6);
  t.is(v.state, 'failed');
  t.is(v.failure, 'all-testing-lost');
});

test('counts are per packet-number space', (t) => {
  const v = new EcnValidator(true);
  sendTesting(v, 0, 2);
  sendTesting(v, 2, 2);
  t.is(v.onAck(0, 2, 0, { ect0: 2, ect1: 0, ce: 0 }), EcnSignal.NONE);
  t.is(v.onAck(2, 2, 0, { ect0: 1, ect1: 0, ce: 1 }), EcnSignal.CONGESTION);
  t.is(v.state, 'capable');
  t.deepEqual(v.peerCe, [0, 0, 1]);
});

test('disabled (no marking possible): counts tracked, never a congestion signal', (t) => {
  const v = new EcnValidator(false);
  t.is(v.state, 'disabled');
  t.is(v.codepointForNextPacket(), EcnCodepoint.NOT_ECT);
  t.is(v.onAck(2, 0, 0, { ect0: 0, ect1: 0, ce: 3 }), EcnSignal.NONE);
  t.is(v.ceEvents, 1);
  t.is(v.onAck(2, 0, 0, null), EcnSignal.NONE);
  t.is(v.state, 'disabled');
  v.resetForNewPath(true);
  t.is(v.state, 'testing');
});
