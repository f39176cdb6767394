// L2b streams end to end, without a connection: two StreamMaps over a simulated link with seeded
// loss, reordering and ACK loss (test/transport/stream-link.ts). Checks the issue-5 scenarios at
// the stream layer: 10 MB over 50 streams with small flow-control windows, auto-tuned windows, and
// 2,000 streams through a peer limit of 1000 / 100 / 1 (MAX_STREAMS replenishment, RFC 9000 §4.6).
import test from 'ava';
import { READ_END, READ_RESET, type StreamLimits, type StreamMapOptions, StreamFrameType as FT } from '../../src/transport/stream-map.js';
import { Link, mulberry32, type Side } from './stream-link.js';

function limits(over: Partial<StreamLimits>): StreamLimits {
  return {
    initialMaxData: 64 * 1024,
    initialMaxStreamDataBidiLocal: 16 * 1024,
    initialMaxStreamDataBidiRemote: 16 * 1024,
    initialMaxStreamDataUni: 16 * 1024,
    initialMaxStreamsBidi: 100,
    initialMaxStreamsUni: 100,
    ...over,
  };
}

function randomBytes(n: number, seed: number): Uint8Array {
  const r = mulberry32(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const v = (r() * 0x1_0000_0000) >>> 0;
    b[i] = v & 0xff;
    if (i + 1 < n) b[i + 1] = (v >>> 8) & 0xff;
    if (i + 2 < n) b[i + 2] = (v >>> 16) & 0xff;
    if (i + 3 < n) b[i + 3] = v >>> 24;
  }
  return b;
}

interface TransferResult {
  steps: number;
  client: Side;
  server: Side;
  link: Link;
}

/**
 * The client uploads `total` bytes split over `streams` bidi streams (FIN at the end); the server
 * checks every byte and answers each stream with its byte count (4 bytes + FIN).
 */
function transfer(
  t: { is: Function; true: Function; fail: Function },
  opts: { seed: number; total: number; streams: number; client: StreamMapOptions; server: StreamMapOptions; loss: number; maxSteps: number },
): TransferResult {
  const link = new Link(opts.client, opts.server, { seed: opts.seed, loss: opts.loss, ackLoss: opts.loss / 2, jitter: 6, rtt: 20 });
  const data = randomBytes(opts.total, opts.seed ^ 0x5eed);
  const per = Math.ceil(opts.total / opts.streams);
  const c = link.client.map;
  const s = link.server.map;
  const plan = new Map<number, { start: number; end: number; written: number; done: boolean }>();
  for (let k = 0; k < opts.streams; k++) {
    const id = c.open(true);
    if (id === null) throw new Error('peer stream limit too small for the test');
    plan.set(id, { start: k * per, end: Math.min(opts.total, (k + 1) * per), written: 0, done: false });
  }
  // One write per call: what does not fit now is retried on the 'writable' event.
  const pump = (id: number): void => {
    const p = plan.get(id)!;
    if (p.done) return;
    const rest = data.subarray(p.start + p.written, p.end);
    const n = c.write(id, rest, true);
    if (n < 0) return;
    p.written += n;
    if (n === rest.length) p.done = true;
  };
  for (const id of plan.keys()) pump(id);

  const got = new Map<number, { buf: Uint8Array; len: number }>();
  const answers = new Map<number, number>();
  const tmp = new Uint8Array(4096);
  let serverDone = 0;
  let clientDone = 0;
  let mismatch = '';
  const onEvent = (side: Side, ev: { type: string; streamId?: number }): void => {
    const id = ev.streamId!;
    if (side === link.client) {
      if (ev.type === 'writable') pump(id);
      if (ev.type === 'readable') {
        for (;;) {
          const n = c.read(id, tmp);
          if (n > 0) {
            answers.set(id, new DataView(tmp.buffer, 0, 4).getUint32(0));
            continue;
          }
          if (n === READ_END) {
            const p = plan.get(id)!;
            if (answers.get(id) !== p.end - p.start) mismatch ||= `stream ${id}: server counted ${answers.get(id)}`;
            clientDone++;
          }
          if (n === READ_RESET) mismatch ||= `stream ${id} reset`;
          break;
        }
      }
      return;
    }
    if (ev.type === 'opened') got.set(id, { buf: new Uint8Array(per), len: 0 });
    if (ev.type === 'readable') {
      const g = got.get(id)!;
      for (;;) {
        const n = s.read(id, g.buf, g.len);
        if (n > 0) {
          g.len += n;
          continue;
        }
        if (n === READ_END) {
          const p = plan.get(id)!;
          const want = data.subarray(p.start, p.end);
          if (g.len !== want.length || Buffer.compare(Buffer.from(g.buf.subarray(0, g.len)), Buffer.from(want)) !== 0) {
            mismatch ||= `stream ${id}: bytes differ`;
          }
          const answer = new Uint8Array(4);
          new DataView(answer.buffer).setUint32(0, g.len);
          s.write(id, answer, true);
          serverDone++;
        }
        break;
      }
    }
  };
  let steps = 0;
  while (steps < opts.maxSteps && !(clientDone === opts.streams && link.idle())) {
    link.step(onEvent);
    steps++;
  }
  t.is(mismatch, '');
  t.is(serverDone, opts.streams);
  t.is(clientDone, opts.streams);
  t.true(link.idle(), 'nothing left in flight');
  t.is(c.size, 0, 'client streams collected');
  t.is(s.size, 0, 'server streams collected');
  return { steps, client: link.client, server: link.server, link };
}

test('10 MB over 50 streams with small fixed windows, 3% loss, reordering and ACK loss', (t) => {
  const fixed = { maxStreamWindow: 0, maxConnectionWindow: 0, sendBufferLimit: 64 * 1024 };
  const r = transfer(t, {
    seed: 1,
    total: 10 * 1024 * 1024,
    streams: 50,
    client: { isClient: true, local: limits({}), ...fixed },
    server: { isClient: false, local: limits({ initialMaxData: 64 * 1024, initialMaxStreamDataBidiRemote: 16 * 1024 }), ...fixed, detectConflicts: true },
    loss: 0.03,
    maxSteps: 60_000,
  });
  t.true(r.client.stats.retransmittedBytes > 0, 'loss forced retransmissions');
  t.true(r.server.countCtrl(FT.MAX_DATA) > 50, 'connection credit was replenished many times');
  t.true(r.server.countCtrl(FT.MAX_STREAM_DATA) > 500);
  t.is(r.server.map.connRecv.window, 64 * 1024, 'fixed window');
  t.log(`steps ${r.steps} ms, client packets ${r.client.stats.packets}, retransmitted ${r.client.stats.retransmittedBytes} B, DATA_BLOCKED ${r.client.countCtrl(FT.DATA_BLOCKED)}, STREAM_DATA_BLOCKED ${r.client.countCtrl(FT.STREAM_DATA_BLOCKED)}`);
});

test('auto-tuned windows grow from small initial values and finish sooner than fixed ones', (t) => {
  const run = (tuned: boolean): TransferResult =>
    transfer(t, {
      seed: 7,
      total: 4 * 1024 * 1024,
      streams: 8,
      client: { isClient: true, local: limits({}) },
      server: {
        isClient: false,
        local: limits({ initialMaxData: 32 * 1024, initialMaxStreamDataBidiRemote: 8 * 1024 }),
        maxStreamWindow: tuned ? 1 << 20 : 0,
        maxConnectionWindow: tuned ? 4 << 20 : 0,
      },
      loss: 0.01,
      maxSteps: 100_000,
    });
  const fixed = run(false);
  const tuned = run(true);
  t.true(tuned.server.map.connRecv.window > 32 * 1024, `connection window grew to ${tuned.server.map.connRecv.window}`);
  t.true(tuned.steps * 2 < fixed.steps, `tuned ${tuned.steps} ms vs fixed ${fixed.steps} ms`);
  t.log(`fixed ${fixed.steps} ms, tuned ${tuned.steps} ms, final connection window ${tuned.server.map.connRecv.window}`);
});

/** The client needs `total` request/response streams through a server limit of `limit`. */
function manyStreams(t: { is: Function; true: Function }, total: number, limit: number, seed: number, loss: number): { steps: number; link: Link } {
  const server = { isClient: false, local: limits({ initialMaxStreamsBidi: limit }) };
  const client = { isClient: true, local: limits({ initialMaxStreamsBidi: 0 }) };
  const link = new Link(client, server, { seed, loss, ackLoss: loss, jitter: 4, rtt: 10, packetsPerMs: 20 });
  const c = link.client.map;
  const s = link.server.map;
  const req = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const resp = new Uint8Array(100).fill(9);
  let opened = 0;
  let completed = 0;
  let peakOpen = 0;
  const buf = new Uint8Array(256);
  const openMore = (): void => {
    while (opened < total) {
      const id = c.open(true);
      if (id === null) break;
      opened++;
      c.write(id, req, true);
    }
  };
  openMore();
  const onEvent = (side: Side, ev: { type: string; streamId?: number }): void => {
    if (side === link.client) {
      if (ev.type === 'streams_available') openMore();
      if (ev.type === 'readable') {
        let len = 0;
        for (;;) {
          const n = c.read(ev.streamId!, buf, len);
          if (n > 0) len += n;
          else {
            if (n === READ_END) completed++;
            break;
          }
        }
      }
      return;
    }
    if (ev.type === 'readable') {
      for (;;) {
        const n = s.read(ev.streamId!, buf);
        if (n === READ_END) {
          s.write(ev.streamId!, resp, true);
          break;
        }
        if (n <= 0) break;
      }
    }
  };
  let steps = 0;
  while (steps < 200_000 && !(completed === total && link.idle())) {
    link.step(onEvent);
    peakOpen = Math.max(peakOpen, s.size);
    steps++;
  }
  t.is(completed, total);
  t.is(c.size, 0);
  t.is(s.size, 0);
  t.true(peakOpen <= limit, `the server never holds more than ${limit} streams (peak ${peakOpen})`);
  if (total > limit) {
    t.true(link.server.countCtrl(FT.MAX_STREAMS_BIDI) > 0, 'MAX_STREAMS replenished the limit');
    t.true(link.client.countCtrl(FT.STREAMS_BLOCKED_BIDI) > 0, 'client reported being blocked');
  }
  return { steps, link };
}

test('2,000 streams through a bidi stream limit of 1000 (MAX_STREAMS replenishment)', (t) => {
  const r = manyStreams(t, 2000, 1000, 11, 0.01);
  t.log(`steps ${r.steps} ms, MAX_STREAMS ${r.link.server.countCtrl(FT.MAX_STREAMS_BIDI)}`);
});

test('2,000 streams through a bidi stream limit of 100 with 2% loss', (t) => {
  const r = manyStreams(t, 2000, 100, 12, 0.02);
  t.log(`steps ${r.steps} ms, MAX_STREAMS ${r.link.server.countCtrl(FT.MAX_STREAMS_BIDI)}`);
});

test('300 strictly sequential streams through a limit of 1', (t) => {
  manyStreams(t, 300, 1, 13, 0.02);
});
