// L2b receive stream: RFC 9000 §3.2 states, §4.5 final size (FINAL_SIZE_ERROR), §4.1 stream flow
// control (FLOW_CONTROL_ERROR), §3.5 STOP_SENDING, §19.4 RESET_STREAM.
import test from 'ava';
import { RecvStream, RecvState, READ_END, READ_RESET } from '../../src/transport/recv-stream.js';
import { TransportError, TransportErrorCode as E } from '../../src/codec/errors.js';

function errCode(t: { throws: Function }, fn: () => void): number | undefined {
  const err = (t.throws as (f: () => void, o: object) => TransportError | undefined)(fn, { instanceOf: TransportError });
  return err?.errorCode;
}

const bytes = (n: number, v = 1): Uint8Array => new Uint8Array(n).fill(v);

test('in-order and out-of-order data, FIN, READ_END after the last byte', (t) => {
  const r = new RecvStream(1, { window: 1000 });
  r.onData(5, Uint8Array.of(6, 7, 8), true);
  t.is(r.state, RecvState.SizeKnown);
  t.is(r.finalSize, 8);
  t.is(r.readable, 0);
  r.onData(0, Uint8Array.of(1, 2, 3, 4, 5), false);
  t.is(r.state, RecvState.DataRecvd);
  const out = new Uint8Array(5);
  t.is(r.read(out), 5);
  t.deepEqual([...out], [1, 2, 3, 4, 5]);
  t.is(r.read(out, 2), 3);
  t.deepEqual([...out], [1, 2, 6, 7, 8]);
  t.is(r.state, RecvState.DataRecvd, 'the end is not observed yet');
  t.is(r.read(out), READ_END);
  t.true(r.isFinished);
  t.true(r.isTerminal);
  t.is(r.released, 8);
  t.is(r.read(out), READ_END);
  // Retransmissions after the end are ignored (but still checked).
  r.onData(0, Uint8Array.of(1), false);
  t.is(errCode(t, () => r.onData(7, Uint8Array.of(1, 2), false)), E.FINAL_SIZE_ERROR);
});

test('a zero-length FIN on an empty stream ends it', (t) => {
  const r = new RecvStream(1, { window: 10 });
  r.onData(0, new Uint8Array(0), true);
  t.is(r.state, RecvState.DataRecvd);
  t.is(r.read(new Uint8Array(4)), READ_END);
});

test('peek/consume deliver zero-copy views', (t) => {
  const r = new RecvStream(1, { window: 100 });
  r.onData(0, Uint8Array.of(1, 2, 3), true);
  const v = r.peek();
  t.deepEqual([...v], [1, 2, 3]);
  r.consume(2);
  t.deepEqual([...r.peek()], [3]);
  r.consume(1);
  t.is(r.peek().length, 0);
  t.is(r.read(new Uint8Array(1)), READ_END);
  t.throws(() => r.consume(1), { instanceOf: RangeError });
});

test('final-size violations → FINAL_SIZE_ERROR (RFC 9000 §4.5)', (t) => {
  // Data beyond a known final size.
  const a = new RecvStream(1, { window: 1000 });
  a.onData(0, bytes(10), true);
  t.is(errCode(t, () => a.onData(10, bytes(1), false)), E.FINAL_SIZE_ERROR);
  // A FIN that changes the final size (smaller or larger).
  const b = new RecvStream(1, { window: 1000 });
  b.onData(0, bytes(10), true);
  t.is(errCode(t, () => b.onData(0, bytes(9), true)), E.FINAL_SIZE_ERROR);
  t.is(errCode(t, () => b.onData(5, bytes(10), true)), E.FINAL_SIZE_ERROR);
  b.onData(5, bytes(5), true); // the same FIN again is fine
  // A FIN below data already received.
  const c = new RecvStream(1, { window: 1000 });
  c.onData(20, bytes(10), false);
  t.is(errCode(t, () => c.onData(0, bytes(10), true)), E.FINAL_SIZE_ERROR);
  // RESET_STREAM with a final size different from the FIN's, or below the received data.
  const d = new RecvStream(1, { window: 1000 });
  d.onData(0, bytes(10), true);
  t.is(errCode(t, () => d.onReset(0, 11)), E.FINAL_SIZE_ERROR);
  const e = new RecvStream(1, { window: 1000 });
  e.onData(0, bytes(30), false);
  t.is(errCode(t, () => e.onReset(0, 29)), E.FINAL_SIZE_ERROR);
  // After a reset the final size is fixed too.
  const f = new RecvStream(1, { window: 1000 });
  f.onReset(3, 50);
  t.is(errCode(t, () => f.onData(45, bytes(10), false)), E.FINAL_SIZE_ERROR);
  t.is(errCode(t, () => f.onReset(3, 51)), E.FINAL_SIZE_ERROR);
  f.onReset(3, 50);
  f.onData(40, bytes(10), true);
});

test('flow-control violations → FLOW_CONTROL_ERROR', (t) => {
  const r = new RecvStream(1, { window: 100 });
  r.onData(0, bytes(100), false);
  const err = t.throws(() => r.onData(100, bytes(1), false), { instanceOf: TransportError });
  t.is(err?.errorCode, E.FLOW_CONTROL_ERROR);
  t.is(err?.frameType, 0x08);
  const s = new RecvStream(1, { window: 100 });
  t.is(errCode(t, () => s.onReset(0, 101)), E.FLOW_CONTROL_ERROR);
  const big = new RecvStream(1, { window: 100 });
  t.is(errCode(t, () => big.onData(2 ** 62 - 1, bytes(1), false)), E.FLOW_CONTROL_ERROR);
});

test('highest offset, not byte count, is the credit consumed', (t) => {
  const r = new RecvStream(1, { window: 1000 });
  r.onData(500, bytes(10), false);
  t.is(r.highest, 510);
  r.onData(0, bytes(10), false);
  t.is(r.highest, 510);
  r.onReset(9, 600);
  t.is(r.highest, 600, 'reset final size counts toward connection credit');
  t.is(r.released, 600, 'and all of it is returned');
});

test('RESET_STREAM: Reset Recvd, READ_RESET, buffered data dropped; suppressed once all data arrived', (t) => {
  const r = new RecvStream(1, { window: 1000 });
  r.onData(0, bytes(10), false);
  r.onReset(77, 20);
  t.is(r.state, RecvState.ResetRecvd);
  t.is(r.resetCode, 77);
  t.is(r.readable, 0);
  t.is(r.read(new Uint8Array(10)), READ_RESET);
  t.is(r.state, RecvState.ResetRead);
  t.true(r.isTerminal);

  const done = new RecvStream(1, { window: 1000 });
  done.onData(0, bytes(10), true);
  done.onReset(5, 10);
  t.is(done.state, RecvState.DataRecvd, 'data fully received: the reset is suppressed');
  t.is(done.read(new Uint8Array(20)), 10);
});

test('STOP_SENDING: data discarded and credited, frame queued once, reset then completes the stream', (t) => {
  const r = new RecvStream(1, { window: 1000 });
  r.onData(0, bytes(10), false);
  r.onData(20, bytes(10), false);
  t.true(r.stop(9));
  t.false(r.stop(9));
  t.is(r.released, 30);
  t.true(r.stopPending);
  t.is(r.takeStopSending(), 9);
  t.true(r.onStopSendingLost());
  r.onData(30, bytes(10), false);
  t.is(r.released, 40, 'data after STOP_SENDING still counts and is returned at once');
  t.false(r.wantsMaxStreamData());
  t.is(r.read(new Uint8Array(10)), READ_END);
  r.onReset(9, 40);
  t.is(r.state, RecvState.ResetRead);
  t.false(r.onStopSendingLost());
  // Stopping after everything arrived just finishes the stream.
  const all = new RecvStream(1, { window: 1000 });
  all.onData(0, bytes(5), true);
  t.false(all.stop(1));
  t.is(all.state, RecvState.DataRead);
  t.is(all.released, 5);
  // And a stopped stream whose remaining data arrives completes without a reset.
  const rest = new RecvStream(1, { window: 1000 });
  rest.stop(1);
  rest.onData(5, bytes(5), true);
  rest.onData(0, bytes(5), false);
  t.is(rest.state, RecvState.DataRead);
  t.is(rest.released, 10);
});

test('MAX_STREAM_DATA after a quarter of the window is read; lost value resent only if current', (t) => {
  const r = new RecvStream(1, { window: 100 });
  r.onData(0, bytes(100), false);
  r.read(new Uint8Array(24));
  t.false(r.wantsMaxStreamData());
  r.read(new Uint8Array(1));
  t.true(r.wantsMaxStreamData());
  t.is(r.takeMaxStreamData(0, 0), 125);
  t.false(r.wantsMaxStreamData());
  t.true(r.onMaxStreamDataLost(125));
  r.read(new Uint8Array(25));
  t.is(r.takeMaxStreamData(1, 0), 150);
  t.false(r.onMaxStreamDataLost(125), 'superseded');
  r.onData(100, bytes(10), true);
  t.false(r.onMaxStreamDataLost(150), 'Size Known: no more MAX_STREAM_DATA');
});
