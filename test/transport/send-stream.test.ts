// L2b send stream: RFC 9000 §3.1 states, §2.2 retransmission of lost ranges, §4.1 flow control,
// §19.4 RESET_STREAM final size, §3.5 STOP_SENDING.
import test from 'ava';
import fc from 'fast-check';
import { SendStream, SendState, newStreamFrameInfo, streamFrameOverhead } from '../../src/transport/send-stream.js';
import { StreamUsageError } from '../../src/transport/stream-id.js';
import { mulberry32 } from './stream-link.js';

function pattern(n: number, seed = 1): Uint8Array {
  const r = mulberry32(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (r() * 256) | 0;
  return b;
}

test('write applies backpressure at the buffer limit; acks of the prefix free room', (t) => {
  const s = new SendStream(0, { maxStreamData: 1_000, bufferLimit: 100 });
  t.is(s.write(new Uint8Array(150)), 100);
  t.is(s.writable, 0);
  t.is(s.write(new Uint8Array(10)), 0);
  const f = newStreamFrameInfo();
  t.true(s.nextFrame(1000, Infinity, f));
  t.is(f.length, 100);
  t.is(s.state, SendState.Send);
  s.onAck(40, 60, false); // acked out of order: no prefix yet
  t.is(s.writable, 0);
  s.onAck(0, 40, false);
  t.is(s.ackedOffset, 100);
  t.is(s.writable, 100);
  // FIN with partial acceptance is not applied.
  t.is(s.write(new Uint8Array(150), true), 100);
  t.false(s.finWritten);
});

test('frames respect maxFrameBytes including the header, and copyData returns the written bytes', (t) => {
  const data = pattern(5000);
  const s = new SendStream(4, { maxStreamData: 1e9 });
  // Written in odd-sized chunks to exercise chunk boundaries.
  for (let off = 0; off < data.length; off += 333) s.write(data.subarray(off, Math.min(data.length, off + 333)));
  s.finish();
  const f = newStreamFrameInfo();
  const got = new Uint8Array(5000);
  let fin = false;
  while (s.nextFrame(700, Infinity, f)) {
    t.true(streamFrameOverhead(f.streamId, f.offset, f.length) + f.length <= 700);
    t.is(f.newBytes, f.length);
    s.copyData(f.offset, f.length, got, f.offset);
    fin ||= f.fin;
  }
  t.true(fin);
  t.deepEqual(got, data);
  t.is(s.state, SendState.DataSent);
  // Too small for any header: nothing.
  const s2 = new SendStream(4, { maxStreamData: 100 });
  s2.write(new Uint8Array(10));
  t.false(s2.nextFrame(3, Infinity, f));
  t.true(s2.nextFrame(4, Infinity, f)); // type + id + length + 1 byte
  t.is(f.length, 1);
});

test('retransmission of lost ranges interleaved with acks reaches Data Recvd with exact bytes (fast-check)', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 20_000 }),
      fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      fc.integer({ min: 12, max: 1500 }),
      (size, seed, maxBytes) => {
        const rnd = mulberry32(seed);
        const data = pattern(size, seed);
        const s = new SendStream(8, { maxStreamData: 2 ** 40, bufferLimit: 1 << 30 });
        s.write(data, true);
        const f = newStreamFrameInfo();
        const inflight: Array<{ offset: number; length: number; fin: boolean }> = [];
        const received = new Uint8Array(size);
        let finAckedSeen = false;
        for (let iter = 0; iter < 100_000 && s.state !== SendState.DataRecvd; iter++) {
          const r = rnd();
          if (r < 0.5) {
            const lostStart = s.nextOffset();
            if (s.nextFrame(maxBytes - ((rnd() * 8) | 0), Infinity, f)) {
              if (lostStart !== f.offset) return false; // retransmissions first, in order
              const chunk = new Uint8Array(f.length);
              s.copyData(f.offset, f.length, chunk, 0);
              for (let k = 0; k < f.length; k++) if (chunk[k] !== data[f.offset + k]) return false;
              inflight.push({ offset: f.offset, length: f.length, fin: f.fin });
            }
          } else if (inflight.length > 0) {
            const k = (rnd() * inflight.length) | 0;
            const fr = inflight.splice(k, 1)[0]!;
            if (rnd() < 0.3) s.onLost(fr.offset, fr.length, fr.fin);
            else {
              received.set(data.subarray(fr.offset, fr.offset + fr.length), fr.offset);
              if (fr.fin) finAckedSeen = true;
              s.onAck(fr.offset, fr.length, fr.fin);
            }
          }
        }
        if (s.state !== SendState.DataRecvd || !finAckedSeen) return false;
        if (s.buffered !== 0) return false;
        return Buffer.compare(Buffer.from(received), Buffer.from(data)) === 0;
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('spurious loss: a range acked after being declared lost is not retransmitted', (t) => {
  const s = new SendStream(0, { maxStreamData: 1e6 });
  s.write(new Uint8Array(3000));
  const f = newStreamFrameInfo();
  s.nextFrame(1100, Infinity, f); // [0, ~1096)
  const first = { ...f };
  s.nextFrame(1100, Infinity, f);
  s.onLost(first.offset, first.length, false);
  s.onAck(first.offset, first.length, false); // the original arrives after all
  t.true(s.nextFrame(1100, Infinity, f));
  t.not(f.offset, 0);
  t.is(f.newBytes, f.length, 'new data, not a retransmission');
  // A loss report covering acked bytes only re-queues the unacked part.
  const s2 = new SendStream(0, { maxStreamData: 1e6 });
  s2.write(new Uint8Array(100));
  s2.nextFrame(200, Infinity, f);
  s2.onAck(20, 30, false);
  s2.onLost(0, 100, false);
  t.true(s2.nextFrame(200, Infinity, f));
  t.deepEqual([f.offset, f.length], [0, 20]);
  t.true(s2.nextFrame(200, Infinity, f));
  t.deepEqual([f.offset, f.length], [50, 50]);
});

test('FIN-only frames: after the data, for an empty stream, and again when lost', (t) => {
  const f = newStreamFrameInfo();
  const s = new SendStream(0, { maxStreamData: 100 });
  s.write(new Uint8Array(10));
  t.true(s.nextFrame(100, Infinity, f));
  t.false(f.fin);
  t.false(s.nextFrame(100, Infinity, f));
  s.finish();
  t.true(s.wantsToSend);
  t.true(s.nextFrame(100, Infinity, f));
  t.deepEqual([f.offset, f.length, f.fin, f.newBytes], [10, 0, true, 0]);
  t.is(s.state, SendState.DataSent);
  s.onLost(10, 0, true);
  t.true(s.hasRetransmit);
  t.true(s.nextFrame(100, 0, f), 'FIN needs no connection credit');
  t.deepEqual([f.offset, f.length, f.fin], [10, 0, true]);
  s.onAck(0, 10, false);
  t.is(s.state, SendState.DataSent);
  s.onAck(10, 0, true);
  t.is(s.state, SendState.DataRecvd);
  t.true(s.isTerminal);

  const empty = new SendStream(2, { maxStreamData: 0 });
  empty.finish();
  t.true(empty.nextFrame(10, 0, f), 'FIN on an empty stream needs no credit');
  t.deepEqual([f.offset, f.length, f.fin], [0, 0, true]);
  empty.onAck(0, 0, true);
  t.is(empty.state, SendState.DataRecvd);
});

test('a lost tail carries the FIN on retransmission', (t) => {
  const f = newStreamFrameInfo();
  const s = new SendStream(0, { maxStreamData: 100 });
  s.write(new Uint8Array(50), true);
  t.true(s.nextFrame(100, Infinity, f));
  t.true(f.fin);
  s.onLost(0, 50, true);
  t.true(s.nextFrame(30, Infinity, f));
  t.false(f.fin, 'first piece does not reach the end');
  t.true(s.nextFrame(100, Infinity, f));
  t.true(f.fin);
  t.is(f.offset + f.length, 50);
  t.false(s.nextFrame(100, Infinity, f), 'no separate FIN-only frame');
});

test('RESET_STREAM: final size is the data sent; no more STREAM frames; reset ack → Reset Recvd', (t) => {
  const f = newStreamFrameInfo();
  const s = new SendStream(0, { maxStreamData: 1000 });
  s.write(new Uint8Array(100));
  s.nextFrame(60, Infinity, f);
  const sent = s.sentOffset;
  t.true(sent > 0 && sent < 100);
  t.true(s.reset(7));
  t.is(s.state, SendState.ResetSent);
  t.is(s.resetFinalSize, sent);
  t.true(s.resetPending);
  t.false(s.reset(8), 'second reset is a no-op');
  t.is(s.resetCode, 7);
  t.is(s.write(new Uint8Array(5)), -1);
  s.onLost(0, sent, false);
  t.false(s.wantsToSend);
  t.false(s.nextFrame(1000, Infinity, f));
  s.takeReset();
  t.false(s.resetPending);
  t.true(s.onResetLost());
  t.true(s.resetPending);
  s.takeReset();
  t.true(s.onResetAcked());
  t.is(s.state, SendState.ResetRecvd);
  t.false(s.onResetLost());
  t.true(s.isTerminal);
});

test('STOP_SENDING answers with RESET_STREAM carrying its code; ignored once all data is acked', (t) => {
  const f = newStreamFrameInfo();
  const s = new SendStream(0, { maxStreamData: 1000 });
  s.write(new Uint8Array(10), true);
  s.nextFrame(100, Infinity, f);
  t.true(s.onStopSending(0x42));
  t.is(s.resetCode, 0x42);
  t.is(s.stopCode, 0x42);
  t.is(s.resetFinalSize, 10);

  const done = new SendStream(0, { maxStreamData: 1000 });
  done.write(new Uint8Array(10), true);
  done.nextFrame(100, Infinity, f);
  done.onAck(0, 10, true);
  t.false(done.onStopSending(1));
  t.is(done.state, SendState.DataRecvd);
});

test('stream credit: sends up to MAX_STREAM_DATA, STREAM_DATA_BLOCKED once per limit', (t) => {
  const f = newStreamFrameInfo();
  const s = new SendStream(0, { maxStreamData: 10 });
  s.write(new Uint8Array(25));
  t.true(s.nextFrame(100, Infinity, f));
  t.is(f.length, 10);
  t.false(s.wantsToSend);
  t.true(s.checkBlocked());
  t.is(s.credit.blockedAt, 10);
  t.false(s.checkBlocked(), 'once per limit');
  t.is(s.credit.takeBlocked(), 10);
  t.true(s.credit.onBlockedLost(10), 'lost while still blocked: resend');
  t.false(s.onMaxStreamData(5), 'smaller limits are ignored');
  t.true(s.onMaxStreamData(15));
  t.false(s.credit.blockedPending);
  t.false(s.credit.onBlockedLost(10), 'stale: limit moved');
  t.true(s.nextFrame(100, 3, f), 'connection credit caps new data');
  t.is(f.length, 3);
  t.is(f.newBytes, 3);
  t.true(s.nextFrame(100, Infinity, f));
  t.is(f.length, 2);
  t.true(s.checkBlocked());
  t.is(s.credit.blockedAt, 15);
});

test('API misuse: write after finish, copyData outside the buffer', (t) => {
  const s = new SendStream(0, { maxStreamData: 10 });
  s.write(new Uint8Array(4), true);
  t.throws(() => s.write(new Uint8Array(1)), { instanceOf: StreamUsageError });
  t.throws(() => s.copyData(2, 5, new Uint8Array(10), 0), { instanceOf: StreamUsageError });
});

test('finish() after the tail was lost: the FIN rides on the retransmission (Send → Data Sent)', (t) => {
  const f = newStreamFrameInfo();
  const s = new SendStream(0, { maxStreamData: 100 });
  s.write(new Uint8Array(20));
  s.nextFrame(100, Infinity, f);
  s.onLost(0, 20, false);
  s.finish();
  t.true(s.nextFrame(100, Infinity, f));
  t.deepEqual([f.offset, f.length, f.fin, f.newBytes], [0, 20, true, 0]);
  t.is(s.state, SendState.DataSent);
  t.false(s.nextFrame(100, Infinity, f));
});

test('usable for CRYPTO data: unlimited credit, no FIN, retransmission of lost ranges', (t) => {
  const f = newStreamFrameInfo();
  const crypto = new SendStream(0, { maxStreamData: Number.MAX_SAFE_INTEGER, bufferLimit: Number.MAX_SAFE_INTEGER });
  const hello = pattern(3000, 9);
  crypto.write(hello);
  const frames: Array<[number, number]> = [];
  while (crypto.nextFrame(1200, Infinity, f)) frames.push([f.offset, f.length]);
  t.is(frames.reduce((a, [, l]) => a + l, 0), 3000);
  crypto.onLost(frames[1]![0], frames[1]![1], false);
  t.true(crypto.nextFrame(1200, Infinity, f));
  t.deepEqual([f.offset, f.length, f.newBytes], [frames[1]![0], frames[1]![1], 0]);
  for (const [o, l] of frames) crypto.onAck(o, l, false);
  t.is(crypto.buffered, 0);
  t.is(crypto.state, SendState.Send, 'never finished');
});
