// SPSC SharedArrayBuffer ring (src/multicore/ring.ts): in one thread — layout checks, wraparound
// of slots and of the 32-bit indices, full-ring drop counts, batch publish visibility (nothing
// before publish, everything after one store), in-place reads, out-of-order release, the sleep flag
// and notify only when the consumer sleeps — and across a real worker_thread: ordering and no loss
// when the producer never overfills, wake-ups of a sleeping consumer (Atomics.waitAsync) and of a
// blocking one (Atomics.wait).
import test from 'ava';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import {
  DEFAULT_SLOT_PAYLOAD,
  RING_HEADER_BYTES,
  RingConsumer,
  RingProducer,
  SlotKind,
  createRing,
  ringByteLength,
} from '../../src/multicore/ring.js';

const ECHO_WORKER = new URL('./ring-echo-worker.js', import.meta.url);

function pair(slots = 8, payload = 256): { p: RingProducer; c: RingConsumer; sab: SharedArrayBuffer } {
  const sab = createRing(slots, payload);
  return { p: new RingProducer(sab), c: new RingConsumer(sab), sab };
}

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

test('createRing: power-of-two slot counts, stride a multiple of 64, header checked on attach', (t) => {
  const sab = createRing(4, DEFAULT_SLOT_PAYLOAD);
  t.is(sab.byteLength, ringByteLength(4, DEFAULT_SLOT_PAYLOAD));
  t.is(sab.byteLength, RING_HEADER_BYTES + 4 * 1536);
  const p = new RingProducer(sab);
  t.is(p.capacity, 4);
  t.is(p.payloadCapacity, DEFAULT_SLOT_PAYLOAD);
  t.is(p.views.stride % 64, 0);
  for (const bad of [0, 1, 3, 6, 100, 131072]) t.throws(() => createRing(bad), { instanceOf: RangeError, message: /slots/ });
  t.throws(() => createRing(8, 10), { instanceOf: RangeError, message: /payload/ });
  t.throws(() => new RingConsumer(new SharedArrayBuffer(1024)), { instanceOf: TypeError, message: /magic/ });
  t.throws(() => new RingConsumer(new ArrayBuffer(4096) as unknown as SharedArrayBuffer), { instanceOf: TypeError });
  // A header whose size disagrees with the buffer.
  t.throws(() => new RingConsumer(sab.slice(0, 1024) as SharedArrayBuffer), { instanceOf: RangeError });
});

test('batch publish: nothing is visible before publish(), everything after one store', (t) => {
  const { p, c } = pair(8);
  for (let i = 0; i < 5; i++) t.true(p.push(bytes(10 + i, i), SlotKind.Datagram, 4, new Uint8Array([10, 0, 0, i]), 1000 + i, i));
  t.is(p.pending, 5);
  t.is(c.available(), 0, 'committed but unpublished slots are invisible');
  t.is(c.take(), -1);
  t.is(p.publish(), 5);
  t.is(p.pending, 0);
  t.is(p.publish(), 0, 'an empty publish is free');
  t.is(c.available(), 5);
  for (let i = 0; i < 5; i++) {
    const s = c.take();
    t.is(s, i);
    t.is(c.length(s), 10 + i);
    t.deepEqual(c.data(s), bytes(10 + i, i));
    t.is(c.kind(s), SlotKind.Datagram);
    t.is(c.family(s), 4);
    t.is(c.port(s), 1000 + i);
    t.is(c.aux(s), i);
    t.deepEqual([...c.addressView(s).subarray(0, 4)], [10, 0, 0, i]);
  }
  t.is(c.take(), -1);
  const k = p.counters();
  t.is(k.batches, 1);
  t.is(k.pushed, 5);
  t.is(k.notifies, 0, 'no notify: the consumer never slept');
});

test('reads are in place: the consumer sees (and may modify) the producer-written bytes without a copy', (t) => {
  const { p, c } = pair(4);
  const slot = p.acquire();
  const view = p.payloadView(slot);
  view.set([1, 2, 3]);
  p.commit(slot, 3, SlotKind.Datagram, 6, 443);
  p.publish();
  const s = c.take();
  const d = c.data(s);
  t.is(d.buffer, view.buffer, 'same SharedArrayBuffer');
  t.is(d.byteOffset, view.byteOffset);
  d[0] = 99; // e.g. decrypting in place
  t.is(view[0], 99);
});

test('full ring: acquire/push fail, drops are counted, space returns after release', (t) => {
  const { p, c } = pair(4);
  for (let i = 0; i < 4; i++) t.true(p.push(bytes(8, i), SlotKind.Datagram, 4, undefined, 1));
  t.is(p.acquire(), -1);
  t.false(p.push(bytes(8, 9), SlotKind.Datagram, 4, undefined, 1));
  t.is(p.counters().dropsFull, 2);
  t.false(p.push(new Uint8Array(257), SlotKind.Datagram, 4, undefined, 1), 'larger than a slot');
  t.is(p.counters().dropsOversize, 1);
  p.publish();
  t.is(c.take(), 0);
  t.is(c.take(), 1);
  t.is(p.space(), 0, 'taken but not released slots are still in use');
  c.releaseTaken();
  t.is(p.space(), 2);
  t.true(p.push(bytes(8, 5), SlotKind.Datagram, 4, undefined, 1));
  t.is(p.counters().dropsFull, 2);
  t.is(c.counters().consumed, 2);
});

test('commit checks its slot and length', (t) => {
  const { p } = pair(4, 128);
  const s = p.acquire();
  t.throws(() => p.commit((s + 1) & 3, 1, SlotKind.Datagram, 4, 1), { instanceOf: RangeError, message: /acquire/ });
  t.throws(() => p.commit(s, 129, SlotKind.Datagram, 4, 1), { instanceOf: RangeError, message: /length/ });
  t.notThrows(() => p.commit(s, 128, SlotKind.Datagram, 4, 1));
});

test('wraparound: slot order and contents survive many laps (fast-check batch sizes)', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 7 }), (batches, lag) => {
      const { p, c } = pair(8, 64);
      let sent = 0;
      let got = 0;
      for (const b of batches) {
        for (let i = 0; i < b; i++) {
          const len = 1 + (sent % 64);
          if (!p.push(bytes(len, sent), SlotKind.Datagram, 4, undefined, sent & 0xffff, sent)) break;
          sent++;
        }
        p.publish();
        // The consumer lags behind by up to `lag` slots.
        while (c.available() > lag) {
          const s = c.take();
          if (c.aux(s) !== got || c.length(s) !== 1 + (got % 64) || c.data(s)[0] !== bytes(1, got)[0]) return false;
          got++;
          c.releaseTaken();
        }
      }
      for (let s = c.take(); s >= 0; s = c.take()) {
        if (c.aux(s) !== got) return false;
        got++;
      }
      c.releaseTaken();
      return got === sent && p.counters().pushed === sent;
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('wraparound of the 32-bit indices (head/tail near 2^31 and 2^32)', (t) => {
  for (const start of [0x7ffffffc, -6, 0xfffffffa | 0]) {
    const sab = createRing(4, 64);
    const i32 = new Int32Array(sab);
    i32[16] = start; // HEAD
    i32[32] = start; // TAIL
    const p = new RingProducer(sab);
    const c = new RingConsumer(sab);
    let n = 0;
    for (let lap = 0; lap < 5; lap++) {
      for (let i = 0; i < 4; i++) t.true(p.push(bytes(4, n + i), SlotKind.Datagram, 4, undefined, 0, n + i));
      t.is(p.acquire(), -1, 'full after 4 across the wrap');
      p.publish();
      t.is(c.available(), 4);
      for (let i = 0; i < 4; i++) t.is(c.aux(c.take()), n + i);
      c.releaseTaken();
      n += 4;
    }
  }
});

test('releaseSlot: out-of-order releases advance HEAD only over the contiguous prefix', (t) => {
  const { p, c } = pair(8);
  for (let i = 0; i < 6; i++) p.push(bytes(4, i), SlotKind.Datagram, 4, undefined, 0, i);
  p.publish();
  const taken = [0, 1, 2, 3, 4, 5].map(() => c.take());
  t.is(c.taken, 6);
  c.releaseSlot(taken[2]!);
  c.releaseSlot(taken[1]!);
  t.is(p.space(), 2, 'slot 0 still out: nothing released');
  c.releaseSlot(taken[1]!); // twice: ignored
  c.releaseSlot(taken[0]!);
  t.is(p.space(), 5, 'slots 0..2 released together');
  c.releaseSlot(taken[5]!);
  t.is(p.space(), 5);
  c.releaseTaken(); // covers 3, 4 (and 5 marked before)
  t.is(p.space(), 8);
  t.is(c.taken, 0);
  // The done marks were cleared: a new lap releases correctly.
  for (let i = 0; i < 8; i++) p.push(bytes(4, i), SlotKind.Datagram, 4, undefined, 0, i);
  p.publish();
  const again = [0, 1, 2, 3, 4, 5, 6, 7].map(() => c.take());
  for (const s of again.reverse()) c.releaseSlot(s);
  t.is(p.space(), 8);
  t.is(c.counters().consumed, 14);
});

test('sleep protocol in one thread: waitForData is null with data, notify only when asleep', async (t) => {
  const { p, c } = pair(8);
  // A pending Atomics.waitAsync does not keep Node's event loop alive: hold it open here.
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  p.push(bytes(4, 1), SlotKind.Datagram, 4, undefined, 0);
  p.publish();
  t.is(c.waitForData(), null, 'data already there');
  t.is(c.take(), 0);
  c.releaseTaken();
  const w = c.waitForData();
  t.truthy(w);
  t.true(c.sleeping);
  t.is(c.waitForData(), w, 'one outstanding wait');
  p.push(bytes(4, 2), SlotKind.Datagram, 4, undefined, 0);
  t.is(p.counters().notifies, 0, 'commit alone does not wake');
  p.publish();
  t.is(p.counters().notifies, 1);
  t.is(await w, 'ok');
  t.false(c.sleeping);
  t.is(c.take(), 1);
  // Not asleep now: publishing does not notify.
  p.push(bytes(4, 3), SlotKind.Datagram, 4, undefined, 0);
  p.publish();
  t.is(p.counters().notifies, 1);
  const k = c.counters();
  t.is(k.sleeps, 1);
  t.is(k.wakeups, 1);
  // A timed wait with nothing coming.
  c.take();
  c.releaseTaken();
  t.is(await c.waitForData(20), 'timed-out');
});

interface EchoResult {
  echoed: number;
}

function startEcho(mode: 'ring-async' | 'ring-blocking', slots = 64): { worker: Worker; toWorker: RingProducer; fromWorker: RingConsumer; done: Promise<EchoResult> } {
  const input = createRing(slots, 256);
  const output = createRing(slots, 256);
  const worker = new Worker(ECHO_WORKER, { workerData: { mode, input, output } });
  const done = new Promise<EchoResult>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, toWorker: new RingProducer(input), fromWorker: new RingConsumer(output), done };
}

async function stopEcho(e: ReturnType<typeof startEcho>): Promise<EchoResult> {
  while (!e.toWorker.push(new Uint8Array(0), SlotKind.Control, 0, undefined, 0, 0xdead)) await new Promise((r) => setImmediate(r));
  e.toWorker.publish();
  const r = await e.done;
  await e.worker.terminate();
  return r;
}

for (const mode of ['ring-async', 'ring-blocking'] as const) {
  test.serial(`across a worker_thread (${mode}): 20 000 datagrams come back in order, none lost`, async (t) => {
    const e = startEcho(mode);
    const total = 20_000;
    let sent = 0;
    let got = 0;
    let bad = 0;
    const receive = (): void => {
      let s: number;
      while ((s = e.fromWorker.take()) >= 0) {
        const len = e.fromWorker.length(s);
        const d = e.fromWorker.payloadView(s);
        if (e.fromWorker.aux(s) !== got || len !== 2 + (got % 200) || d[0] !== (got & 0xff) || d[len - 1] !== ((got >> 8) & 0xff) || e.fromWorker.port(s) !== (got & 0xffff)) bad++;
        got++;
      }
      e.fromWorker.releaseTaken();
    };
    while (got < total) {
      // Never overfill: write only what both rings have room for (in flight ≤ the echo ring's size).
      let room = Math.min(e.toWorker.space(), e.fromWorker.capacity - (sent - got));
      const batch = 1 + (sent % 13);
      for (let k = 0; k < batch && room > 0 && sent < total; k++, room--) {
        const len = 2 + (sent % 200);
        const slot = e.toWorker.acquire();
        const v = e.toWorker.payloadView(slot);
        v[0] = sent & 0xff;
        v[len - 1] = (sent >> 8) & 0xff;
        e.toWorker.commit(slot, len, SlotKind.Datagram, 4, sent & 0xffff, sent);
        sent++;
      }
      e.toWorker.publish();
      receive();
      if (got < sent) {
        const w = e.fromWorker.waitForData(1000);
        if (w !== null) await w;
        receive();
      }
    }
    const r = await stopEcho(e);
    t.is(got, total);
    t.is(bad, 0, 'every datagram in order with its bytes, port and aux');
    t.is(r.echoed, total);
    t.is(e.toWorker.counters().dropsFull, 0);
    t.is(e.fromWorker.counters().dropsFull, 0, 'the echo side never found its ring full');
  });

  test.serial(`across a worker_thread (${mode}): a sleeping consumer is woken by notify`, async (t) => {
    const e = startEcho(mode);
    // Wait (bounded) until the worker has said it sleeps: a fixed delay is not enough on a loaded
    // machine, where the worker may still be starting up.
    const asleep = async (): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!e.toWorker.consumerAsleep && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    };
    for (let i = 0; i < 5; i++) {
      await asleep();
      t.true(e.toWorker.consumerAsleep, 'the worker went to sleep');
      const before = e.toWorker.counters().notifies;
      t.true(e.toWorker.push(bytes(32, i), SlotKind.Datagram, 4, undefined, 0, i));
      e.toWorker.publish();
      t.is(e.toWorker.counters().notifies, before + 1, 'the consumer slept, so the producer notified');
      const w = e.fromWorker.waitForData(2000);
      if (w !== null) t.is(await w, 'ok');
      const s = e.fromWorker.take();
      t.is(e.fromWorker.aux(s), i);
      e.fromWorker.releaseTaken();
    }
    await stopEcho(e);
    const k = e.toWorker.counters();
    t.true(k.sleeps >= 5, `worker slept ${k.sleeps} times`);
    t.true(k.wakeups >= 5, `worker woke ${k.wakeups} times`);
  });
}
