// L2b stream map: RFC 9000 §2.1 IDs and implicit opening, §3 / §19 frames per direction
// (STREAM_STATE_ERROR), §4.6 stream limits (STREAM_LIMIT_ERROR, MAX_STREAMS, STREAMS_BLOCKED,
// 2^60 → FRAME_ENCODING_ERROR), §4.1 connection flow control (FLOW_CONTROL_ERROR, DATA_BLOCKED).
import test from 'ava';
import fc from 'fast-check';
import {
  StreamMap,
  StreamFrameType as FT,
  READ_END,
  READ_RESET,
  newControlFrameInfo,
  controlFrameSize,
  type StreamLimits,
  type StreamEvent,
} from '../../src/transport/stream-map.js';
import { newStreamFrameInfo } from '../../src/transport/send-stream.js';
import { isUni, isClientInitiated, isBidi, streamIndex, makeStreamId, StreamUsageError } from '../../src/transport/stream-id.js';
import { TransportError, TransportErrorCode as E } from '../../src/codec/errors.js';

const LIMITS: StreamLimits = {
  initialMaxData: 10_000,
  initialMaxStreamDataBidiLocal: 1000,
  initialMaxStreamDataBidiRemote: 1000,
  initialMaxStreamDataUni: 1000,
  initialMaxStreamsBidi: 4,
  initialMaxStreamsUni: 2,
};

function pair(local: Partial<StreamLimits> = {}, peer: Partial<StreamLimits> = {}, isClient = false): StreamMap {
  const m = new StreamMap({ isClient, local: { ...LIMITS, ...local } });
  m.setPeerLimits({ ...LIMITS, ...peer });
  return m;
}

function events(m: StreamMap): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (let e = m.pollEvent(); e; e = m.pollEvent()) out.push(e);
  return out;
}

function code(t: { throws: Function }, fn: () => void): [number, number] | undefined {
  const err = (t.throws as (f: () => void, o: object) => TransportError | undefined)(fn, { instanceOf: TransportError });
  return err ? [err.errorCode, err.frameType] : undefined;
}

test('stream ID encoding (RFC 9000 §2.1)', (t) => {
  t.is(makeStreamId(0, true, true), 0);
  t.is(makeStreamId(0, false, true), 1);
  t.is(makeStreamId(0, true, false), 2);
  t.is(makeStreamId(5, false, false), 23);
  t.true(isUni(23) && !isClientInitiated(23) && streamIndex(23) === 5);
  t.true(isBidi(2 ** 52) && isClientInitiated(2 ** 52));
  t.is(streamIndex(2 ** 52 + 3), 2 ** 50);
});

test('a server opens odd IDs, a client even IDs; limits come from the peer', (t) => {
  const server = pair({}, { initialMaxStreamsBidi: 2, initialMaxStreamsUni: 1 });
  t.is(server.open(true), 1);
  t.is(server.open(true), 5);
  t.is(server.open(true), null, 'bidi limit 2');
  t.is(server.open(false), 3);
  t.is(server.open(false), null);
  const client = pair({}, {}, true);
  t.is(client.open(true), 0);
  t.is(client.open(false), 2);
});

test('open before the peer limits are known is blocked; STREAMS_BLOCKED once per limit; MAX_STREAMS releases', (t) => {
  const m = new StreamMap({ isClient: true, local: LIMITS });
  t.is(m.open(true), null);
  t.is(m.open(true), null);
  const f = newControlFrameInfo();
  t.true(m.pollControlFrame(100, 0, 0, f));
  t.deepEqual([f.frameType, f.value], [FT.STREAMS_BLOCKED_BIDI, 0]);
  t.false(m.pollControlFrame(100, 0, 0, f), 'once per limit');
  m.onControlFrameLost(f);
  t.true(m.pollControlFrame(100, 0, 0, f), 'lost while still blocked: resent');
  m.setPeerLimits({ ...LIMITS, initialMaxStreamsBidi: 1 });
  t.deepEqual(events(m), [{ type: 'streams_available', bidi: true }]);
  t.is(m.open(true), 0);
  t.is(m.open(true), null);
  t.true(m.pollControlFrame(100, 0, 0, f));
  t.deepEqual([f.frameType, f.value], [FT.STREAMS_BLOCKED_BIDI, 1]);
  m.onMaxStreams(true, 1); // not an increase: ignored
  t.is(m.openable(true), 0);
  m.onMaxStreams(true, 3);
  t.is(m.openable(true), 2);
  t.is(m.open(true), 4);
  const err = code(t, () => m.onMaxStreams(false, 2 ** 61));
  t.deepEqual(err, [E.FRAME_ENCODING_ERROR, FT.MAX_STREAMS_UNI]);
  m.onMaxStreams(false, 2 ** 60); // exactly 2^60 is allowed
  t.deepEqual(code(t, () => m.onStreamsBlocked(true, 2 ** 61)), [E.FRAME_ENCODING_ERROR, FT.STREAMS_BLOCKED_BIDI]);
});

test('peer streams open implicitly with all lower-numbered ones; beyond our limit → STREAM_LIMIT_ERROR', (t) => {
  const server = pair();
  server.onStreamFrame(8, 0, Uint8Array.of(1), false); // client bidi #2 opens #0 and #1 too
  t.deepEqual(
    events(server).map((e) => e.type === 'opened' && e.streamId),
    [0, 4, 8, false],
  );
  t.truthy(server.get(0));
  t.truthy(server.get(4));
  // Limit is 4 bidi: IDs 0, 4, 8, 12 allowed; 16 is not.
  server.onStreamFrame(12, 0, new Uint8Array(0), false);
  t.deepEqual(code(t, () => server.onStreamFrame(16, 0, new Uint8Array(0), false)), [E.STREAM_LIMIT_ERROR, FT.STREAM]);
  // Uni limit 2: IDs 2, 6; 10 is over. Any frame that would open it counts.
  t.deepEqual(code(t, () => server.onResetStream(10, 0, 0)), [E.STREAM_LIMIT_ERROR, FT.RESET_STREAM]);
  t.deepEqual(code(t, () => server.onStopSending(16, 0)), [E.STREAM_LIMIT_ERROR, FT.STOP_SENDING]);
  // A saturated (≥ 2^53) stream ID from the varint reader also fails the limit check.
  t.deepEqual(code(t, () => server.onStreamFrame(Number.MAX_SAFE_INTEGER - 3, 0, new Uint8Array(0), false))?.[0], E.STREAM_LIMIT_ERROR);
});

test('frames in the wrong direction → STREAM_STATE_ERROR (RFC 9000 §19.4, §19.5, §19.8, §19.10, §19.13)', (t) => {
  const server = pair();
  const ourUni = server.open(false)!; // 3: send-only for us
  const ourBidi = server.open(true)!; // 1
  t.deepEqual(code(t, () => server.onStreamFrame(ourUni, 0, Uint8Array.of(1), false)), [E.STREAM_STATE_ERROR, FT.STREAM]);
  t.deepEqual(code(t, () => server.onResetStream(ourUni, 0, 0)), [E.STREAM_STATE_ERROR, FT.RESET_STREAM]);
  t.deepEqual(code(t, () => server.onStreamDataBlocked(ourUni, 0)), [E.STREAM_STATE_ERROR, FT.STREAM_DATA_BLOCKED]);
  // Peer uni (client uni 2) is receive-only for us.
  t.deepEqual(code(t, () => server.onMaxStreamData(2, 100)), [E.STREAM_STATE_ERROR, FT.MAX_STREAM_DATA]);
  t.deepEqual(code(t, () => server.onStopSending(2, 0)), [E.STREAM_STATE_ERROR, FT.STOP_SENDING]);
  // Our streams not yet opened.
  t.deepEqual(code(t, () => server.onStreamFrame(ourBidi + 4, 0, Uint8Array.of(1), false)), [E.STREAM_STATE_ERROR, FT.STREAM]);
  t.deepEqual(code(t, () => server.onMaxStreamData(ourUni + 4, 5)), [E.STREAM_STATE_ERROR, FT.MAX_STREAM_DATA]);
  t.deepEqual(code(t, () => server.onStopSending(ourBidi + 4, 5)), [E.STREAM_STATE_ERROR, FT.STOP_SENDING]);
  // Valid directions are accepted.
  server.onStreamFrame(ourBidi, 0, Uint8Array.of(1), false);
  server.onMaxStreamData(ourUni, 5000);
  server.onStopSending(ourBidi, 3);
  t.is(server.get(ourBidi)!.send!.resetCode, 3);
  // API misuse is not a TransportError.
  t.throws(() => server.write(2, Uint8Array.of(1)), { instanceOf: StreamUsageError });
  t.throws(() => server.read(ourUni, new Uint8Array(1)), { instanceOf: StreamUsageError });
  t.throws(() => server.write(999, Uint8Array.of(1)), { instanceOf: StreamUsageError });
});

test('connection flow control counts highest offsets and reset final sizes → FLOW_CONTROL_ERROR', (t) => {
  const server = pair({ initialMaxData: 1500 });
  server.onStreamFrame(0, 900, new Uint8Array(100), false); // highest 1000 counts, not 100 bytes
  t.is(server.connRecv.received, 1000);
  server.onStreamFrame(0, 0, new Uint8Array(100), false);
  t.is(server.connRecv.received, 1000);
  server.onResetStream(4, 0, 500);
  t.is(server.connRecv.received, 1500);
  t.deepEqual(code(t, () => server.onStreamFrame(8, 0, Uint8Array.of(1), false)), [E.FLOW_CONTROL_ERROR, FT.STREAM]);
  const s2 = pair({ initialMaxData: 100 });
  t.deepEqual(code(t, () => s2.onResetStream(0, 0, 101)), [E.FLOW_CONTROL_ERROR, FT.RESET_STREAM]);
});

test('MAX_DATA and MAX_STREAM_DATA are sent as the application reads; lost ones are resent', (t) => {
  const m = pair({ initialMaxData: 1000, initialMaxStreamDataBidiRemote: 400 }, {});
  m.onStreamFrame(0, 0, new Uint8Array(400), false);
  m.onStreamFrame(4, 0, new Uint8Array(400), false);
  const f = newControlFrameInfo();
  t.false(m.pollControlFrame(100, 0, 0, f));
  t.is(m.read(0, new Uint8Array(100)), 100);
  t.true(m.hasPendingControl());
  t.true(m.pollControlFrame(100, 0, 0, f));
  t.deepEqual([f.frameType, f.streamId, f.value], [FT.MAX_STREAM_DATA, 0, 500]);
  t.false(m.pollControlFrame(100, 0, 0, f));
  t.is(m.read(4, new Uint8Array(400)), 400);
  t.true(m.pollControlFrame(100, 0, 0, f));
  t.deepEqual([f.frameType, f.value], [FT.MAX_DATA, 1500]);
  const maxData = { ...f };
  t.true(m.pollControlFrame(100, 0, 0, f));
  t.deepEqual([f.frameType, f.streamId, f.value], [FT.MAX_STREAM_DATA, 4, 800]);
  m.onControlFrameLost(maxData);
  t.true(m.pollControlFrame(100, 0, 0, f));
  t.deepEqual([f.frameType, f.value], [FT.MAX_DATA, 1500]);
  // A frame that does not fit stays queued.
  m.onControlFrameLost(f);
  t.false(m.pollControlFrame(1, 0, 0, f));
  t.true(m.pollControlFrame(controlFrameSize(f), 0, 0, f));
  // A peer reporting it is blocked below our current limit gets the limit again.
  m.onDataBlocked(1000);
  t.true(m.pollControlFrame(100, 0, 0, f));
  t.deepEqual([f.frameType, f.value], [FT.MAX_DATA, 1500]);
  m.onStreamDataBlocked(4, 400);
  t.true(m.pollControlFrame(100, 0, 0, f));
  t.deepEqual([f.frameType, f.streamId, f.value], [FT.MAX_STREAM_DATA, 4, 800]);
});

test('DATA_BLOCKED and STREAM_DATA_BLOCKED are emitted once per limit when sending stalls', (t) => {
  const m = pair({}, { initialMaxData: 150, initialMaxStreamDataBidiRemote: 100 });
  const a = m.open(true)!;
  const b = m.open(true)!;
  m.write(a, new Uint8Array(120));
  m.write(b, new Uint8Array(120));
  const sf = newStreamFrameInfo();
  let total = 0;
  while (m.pollStreamFrame(1200, sf)) total += sf.length;
  t.is(total, 150, 'connection credit caps the sum');
  const types: number[] = [];
  const f = newControlFrameInfo();
  while (m.pollControlFrame(100, 0, 0, f)) types.push(f.frameType, f.value);
  t.deepEqual(types, [FT.DATA_BLOCKED, 150, FT.STREAM_DATA_BLOCKED, 100]);
  t.false(m.hasPendingStreamData());
  m.onMaxData(400);
  t.true(m.hasPendingStreamData());
  while (m.pollStreamFrame(1200, sf)) total += sf.length;
  t.is(total, 200, 'both streams capped at their limit of 100');
  while (m.pollControlFrame(100, 0, 0, f)) types.push(f.frameType, f.value);
  t.deepEqual(types.slice(4), [FT.STREAM_DATA_BLOCKED, 100], 'b now blocked on its stream limit');
  m.onMaxStreamData(a, 1000);
  while (m.pollStreamFrame(1200, sf)) total += sf.length;
  t.is(total, 220);
});

test('retransmissions go out while the connection is blocked on new data', (t) => {
  const m = pair({}, { initialMaxData: 100 });
  const a = m.open(true)!;
  m.write(a, new Uint8Array(200));
  const sf = newStreamFrameInfo();
  t.true(m.pollStreamFrame(1200, sf));
  t.is(sf.length, 100);
  t.false(m.pollStreamFrame(1200, sf));
  m.onStreamFrameLost(a, 0, 100, false);
  t.true(m.hasPendingStreamData());
  t.true(m.pollStreamFrame(1200, sf));
  t.deepEqual([sf.offset, sf.length, sf.newBytes], [0, 100, 0]);
});

test('connection blocked with many streams: no frame, DATA_BLOCKED once; a lost frame or a late FIN still goes out', (t) => {
  const m = pair({}, { initialMaxData: 1000, initialMaxStreamsBidi: 200 });
  const ids: number[] = [];
  for (let i = 0; i < 150; i++) {
    const id = m.open(true)!;
    ids.push(id);
    m.write(id, new Uint8Array(50));
  }
  const sf = newStreamFrameInfo();
  const sent: Array<[number, number, number]> = [];
  while (m.pollStreamFrame(1200, sf)) sent.push([sf.streamId, sf.offset, sf.length]);
  t.is(sent.reduce((a, x) => a + x[2], 0), 1000, 'connection credit caps the sum');
  t.false(m.hasPendingStreamData());
  t.false(m.pollStreamFrame(1200, sf));
  const f = newControlFrameInfo();
  const types: number[] = [];
  while (m.pollControlFrame(100, 0, 0, f)) types.push(f.frameType, f.value);
  t.deepEqual(types, [FT.DATA_BLOCKED, 1000], 'DATA_BLOCKED once for this limit');
  for (let i = 0; i < 5; i++) t.false(m.pollStreamFrame(1200, sf));
  t.false(m.pollControlFrame(100, 0, 0, f), 'no second DATA_BLOCKED at the same limit');
  // A lost frame of some stream in the middle: it is the one frame that may go.
  const [lid, loff, llen] = sent[7]!;
  m.onStreamFrameLost(lid, loff, llen, false);
  t.true(m.hasPendingStreamData());
  t.true(m.pollStreamFrame(1200, sf));
  t.deepEqual([sf.streamId, sf.offset, sf.length, sf.newBytes], [lid, loff, llen, 0]);
  t.false(m.hasPendingStreamData());
  t.false(m.pollStreamFrame(1200, sf));
  // A stream whose data all went out: its FIN needs no credit.
  const [fid, , flen] = sent[3]!;
  t.is(flen, 50);
  m.finish(fid);
  t.true(m.hasPendingStreamData());
  t.true(m.pollStreamFrame(1200, sf));
  t.deepEqual([sf.streamId, sf.offset, sf.length, sf.fin], [fid, 50, 0, true]);
  t.false(m.hasPendingStreamData());
  // More credit: new data flows again.
  m.onMaxData(1100);
  t.true(m.hasPendingStreamData());
  t.true(m.pollStreamFrame(1200, sf));
});

// The lazily checked retransmission candidates must agree with the definition they replace:
// "some scheduled stream has a retransmission" (lost data or a FIN needing no credit).
test('hasPendingStreamData agrees with a walk over every stream under random writes, losses, acks and credit', (t) => {
  type Op = { k: number; i: number; n: number };
  let blockedWithRetransmit = 0;
  const opArb: fc.Arbitrary<Op> = fc.record({ k: fc.nat(11), i: fc.nat(11), n: fc.integer({ min: 0, max: 400 }) });
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 30, maxLength: 120, size: 'max' }), (ops) => {
      const m = pair({}, { initialMaxData: 600, initialMaxStreamsBidi: 12, initialMaxStreamDataBidiRemote: 300 });
      const ids: number[] = [];
      const inFlight: Array<[number, number, number, boolean]> = [];
      const sf = newStreamFrameInfo();
      let maxData = 600;
      for (const op of ops) {
        const id = ids[op.i % Math.max(1, ids.length)];
        try {
          switch (op.k) {
            case 0:
              if (ids.length < 12) ids.push(m.open(true)!);
              break;
            case 1:
            case 2:
            case 3:
              if (id !== undefined) m.write(id, new Uint8Array(op.n), op.n % 7 === 0);
              break;
            case 4:
              if (id !== undefined) m.finish(id);
              break;
            case 5:
            case 6:
            case 7:
              for (let j = 0; j < 1 + (op.n % 4) && m.pollStreamFrame(200 + op.n, sf); j++) inFlight.push([sf.streamId, sf.offset, sf.length, sf.fin]);
              break;
            case 8:
              if (inFlight.length > 0) m.onStreamFrameLost(...inFlight.splice(op.n % inFlight.length, 1)[0]!);
              break;
            case 9:
              if (inFlight.length > 0) m.onStreamFrameAcked(...inFlight.splice(op.n % inFlight.length, 1)[0]!);
              break;
            case 10:
              // Credit grows rarely, so the connection spends much of the run blocked.
              if (op.n % 4 === 0) {
                maxData += op.n;
                m.onMaxData(maxData);
              }
              break;
            case 11:
              if (id !== undefined && op.n % 5 === 0) m.resetStream(id, 1);
              break;
          }
        } catch (e) {
          if (!(e instanceof StreamUsageError) && !(e instanceof RangeError)) throw e;
        }
        let walk = false;
        let anyScheduled = false;
        for (const sid of ids) {
          const s = m.get(sid);
          if (s === undefined || !s.scheduled) continue;
          anyScheduled = true;
          if (s.send!.hasRetransmit) walk = true;
        }
        const want = anyScheduled && (m.connSend.available > 0 || walk);
        if (m.connSend.available === 0 && walk) blockedWithRetransmit++;
        if (m.hasPendingStreamData() !== want) return false;
      }
      return true;
    }),
    { numRuns: 400 },
  );
  t.true(blockedWithRetransmit > 100, `the runs reached "blocked, retransmission waiting" ${blockedWithRetransmit} times`);
});

test('scheduler: round-robin by default, urgency first, non-incremental streams run to completion', (t) => {
  const m = pair({}, { initialMaxStreamsBidi: 10, initialMaxData: 1e6 });
  const ids = [m.open(true)!, m.open(true)!, m.open(true)!];
  for (const id of ids) m.write(id, new Uint8Array(300));
  const sf = newStreamFrameInfo();
  const order: number[] = [];
  while (m.pollStreamFrame(110, sf)) order.push(sf.streamId);
  t.deepEqual(order.slice(0, 6), [ids[0], ids[1], ids[2], ids[0], ids[1], ids[2]]);
  const urgent = m.open(true)!;
  const bulk = m.open(true)!;
  m.write(bulk, new Uint8Array(300));
  m.write(urgent, new Uint8Array(300));
  m.setPriority(urgent, 0, false);
  const order2: number[] = [];
  while (m.pollStreamFrame(110, sf)) order2.push(sf.streamId);
  t.deepEqual(order2.slice(0, 3), [urgent, urgent, urgent]);
  t.is(order2[3], bulk);
});

test('write backpressure: writable event after acks free buffer space', (t) => {
  const m = new StreamMap({ isClient: false, local: LIMITS, sendBufferLimit: 100 });
  m.setPeerLimits(LIMITS);
  const id = m.open(true)!;
  t.is(m.write(id, new Uint8Array(150)), 100);
  const sf = newStreamFrameInfo();
  t.true(m.pollStreamFrame(1200, sf));
  t.deepEqual(events(m), []);
  m.onStreamFrameAcked(id, 0, 100, false);
  t.deepEqual(events(m), [{ type: 'writable', streamId: id }]);
});

test('write backpressure: the writable event waits for 1/16 of the buffer (no runt-sized refills per ACK)', (t) => {
  const m = new StreamMap({ isClient: false, local: LIMITS, sendBufferLimit: 1600 });
  m.setPeerLimits(LIMITS);
  const id = m.open(true)!;
  t.is(m.write(id, new Uint8Array(2000)), 1600);
  const sf = newStreamFrameInfo();
  while (m.pollStreamFrame(60, sf));
  m.onStreamFrameAcked(id, 0, 50, false);
  t.deepEqual(events(m), [], '50 of 1600 bytes free: the writer keeps waiting');
  m.onStreamFrameAcked(id, 50, 50, false);
  t.deepEqual(events(m), [{ type: 'writable', streamId: id }], '100 free');
});

test('stream lifecycle: read to READ_END, send acked → collected; reset → READ_RESET', (t) => {
  const m = pair();
  m.onStreamFrame(0, 0, Uint8Array.of(1, 2, 3), true);
  t.deepEqual(events(m), [
    { type: 'opened', streamId: 0 },
    { type: 'readable', streamId: 0 },
  ]);
  const out = new Uint8Array(10);
  t.is(m.read(0, out), 3);
  t.is(m.read(0, out), READ_END);
  m.write(0, Uint8Array.of(9), true);
  const sf = newStreamFrameInfo();
  t.true(m.pollStreamFrame(100, sf));
  t.true(sf.fin);
  t.truthy(m.get(0));
  m.onStreamFrameAcked(0, 0, 1, true);
  t.deepEqual(events(m), [
    { type: 'send_complete', streamId: 0 },
    { type: 'closed', streamId: 0 },
  ]);
  t.is(m.get(0), undefined);
  t.deepEqual(m.stats(), { openedLocalBidi: 0, openedLocalUni: 0, openedPeerBidi: 1, openedPeerUni: 0, closedPeer: 1, active: 0 });
  // Late frames for the collected stream are ignored, not errors.
  m.onStreamFrame(0, 0, Uint8Array.of(1, 2, 3), true);
  m.onMaxStreamData(0, 10_000);
  t.throws(() => m.read(0, out), { instanceOf: StreamUsageError });

  m.onStreamFrame(4, 0, Uint8Array.of(1), false);
  m.onResetStream(4, 0x10, 5);
  t.deepEqual(events(m).slice(-2), [
    { type: 'readable', streamId: 4 },
    { type: 'reset', streamId: 4, errorCode: 0x10 },
  ]);
  t.is(m.read(4, out), READ_RESET);
  t.is(m.connRecv.consumed, 3 + 5, 'reset final size returned to connection credit');
});

test('STOP_SENDING from the peer resets our side and reports it; our RESET_STREAM ack completes it', (t) => {
  const m = pair();
  const id = m.open(false)!; // uni: send-only
  m.write(id, new Uint8Array(50));
  const sf = newStreamFrameInfo();
  m.pollStreamFrame(30, sf);
  m.onStopSending(id, 0x77);
  t.deepEqual(events(m), [{ type: 'stop_sending', streamId: id, errorCode: 0x77 }]);
  t.is(m.write(id, Uint8Array.of(1)), -1);
  t.false(m.hasPendingStreamData());
  const f = newControlFrameInfo();
  t.true(m.pollControlFrame(100, 0, 0, f));
  t.deepEqual([f.frameType, f.streamId, f.errorCode, f.value], [FT.RESET_STREAM, id, 0x77, sf.length]);
  m.onControlFrameLost(f);
  t.true(m.pollControlFrame(100, 0, 0, f));
  m.onControlFrameAcked(f);
  t.deepEqual(events(m), [{ type: 'closed', streamId: id }]);
});

test('our stopSending queues STOP_SENDING and returns credit for discarded data', (t) => {
  const m = pair({ initialMaxData: 1000 });
  m.onStreamFrame(2, 0, new Uint8Array(800), false); // client uni
  m.stopSending(2, 5);
  t.is(m.connRecv.consumed, 800);
  const f = newControlFrameInfo();
  const got: number[] = [];
  while (m.pollControlFrame(100, 0, 0, f)) got.push(f.frameType);
  t.deepEqual(got.sort(), [FT.STOP_SENDING, FT.MAX_DATA].sort());
  m.onResetStream(2, 5, 900);
  t.is(m.get(2), undefined, 'collected: stopped and reset');
  t.is(m.connRecv.consumed, 900);
});

test('0-RTT rejected (RFC 9001 §4.6.2): streams restart unsent under lower limits; streams above the new limit wait for MAX_STREAMS', (t) => {
  const m = new StreamMap({ isClient: true, local: LIMITS });
  m.setPeerLimits(LIMITS); // remembered: 4 bidi streams, 1000 bytes each, 10 000 in all
  const ids = [m.open(true)!, m.open(true)!, m.open(true)!];
  for (const id of ids) m.write(id, new Uint8Array(900), true);
  const f = newStreamFrameInfo();
  let sent = 0;
  while (m.pollStreamFrame(1200, f)) sent += f.length;
  t.is(sent, 2700, 'everything went out in "0-RTT"');
  m.onEarlyDataRejected();
  t.false(m.hasPendingStreamData(), 'nothing may go before the new limits are known');
  m.setPeerLimits({ ...LIMITS, initialMaxData: 1000, initialMaxStreamDataBidiRemote: 600, initialMaxStreamsBidi: 2 });
  const frames: [number, number, number, boolean][] = [];
  while (m.pollStreamFrame(1200, f)) frames.push([f.streamId, f.offset, f.length, f.fin]);
  // New data from offset 0 within 600 per stream and 1000 in all; stream 8 is above the limit of 2.
  t.deepEqual(frames, [
    [0, 0, 600, false],
    [4, 0, 400, false],
  ]);
  const c = newControlFrameInfo();
  const ctrl: [number, number][] = [];
  while (m.pollControlFrame(100, 0, 0, c)) ctrl.push([c.frameType, c.value]);
  t.true(ctrl.some(([type, v]) => type === FT.STREAMS_BLOCKED_BIDI && v === 2), JSON.stringify(ctrl));
  t.true(ctrl.some(([type]) => type === FT.DATA_BLOCKED));
  m.onMaxData(10_000);
  m.onMaxStreamData(0, 1000);
  m.onMaxStreamData(4, 1000);
  m.onMaxStreams(true, 3);
  const ends = new Map<number, number>();
  while (m.pollStreamFrame(1200, f)) ends.set(f.streamId, f.offset + f.length);
  t.deepEqual([...ends].sort((a, b) => a[0] - b[0]), [
    [0, 900],
    [4, 900],
    [8, 600],
  ]);
});
