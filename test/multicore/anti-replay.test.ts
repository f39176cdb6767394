// The 0-RTT anti-replay store shared by a multi-core server's workers (src/multicore/anti-replay.ts;
// RFC 8446 §8.1 single-use tickets, §8.2 ClientHello recording; RFC 9001 §9.2): same answers as the
// single-process AntiReplay for one thread, fail-closed when full or out of range, expired entries
// reused, and worker threads racing on the same keys never both accept one.
import test from 'ava';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { AntiReplay } from '../../src/tls/anti-replay.js';
import { SharedAntiReplay, createAntiReplayBuffer } from '../../src/multicore/anti-replay.js';

const KEY = new Uint8Array(16).fill(7);
const T0 = 1_800_000_000_000;

function binder(n: number): Uint8Array {
  const b = new Uint8Array(32);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

test('window mode: a ClientHello (binder) is accepted once while its window lasts, again after', (t) => {
  const s = new SharedAntiReplay(createAntiReplayBuffer({ mode: 'window', windowMs: 10_000 }, KEY, T0));
  t.is(s.mode, 'window');
  const id = new Uint8Array([1, 2, 3]);
  t.true(s.check(id, T0 + 86_400_000, binder(1), T0));
  t.false(s.check(id, T0 + 86_400_000, binder(1), T0 + 5000), 'replay inside the window');
  t.true(s.check(id, T0 + 86_400_000, binder(2), T0 + 5000), 'another ClientHello with the same ticket');
  // freshUntil stretches the window (a replay stays fresh until then).
  t.true(s.check(id, 0, binder(3), T0, T0 + 30_000));
  t.false(s.check(id, 0, binder(3), T0 + 20_000, T0 + 30_000));
  // After expiry (rounded up to whole seconds: never earlier than asked) the key is free again.
  t.true(s.check(id, 0, binder(1), T0 + 11_001));
  t.deepEqual(s.stats(), { accepted: 4, replayed: 2, full: 0, raced: 0, outOfRange: 0 });
});

test('single-use mode (default): a ticket id carries 0-RTT once until the ticket expires', (t) => {
  const s = new SharedAntiReplay(createAntiReplayBuffer({}, KEY, T0));
  t.is(s.mode, 'single-use');
  const id = new Uint8Array(16).fill(9);
  const expires = T0 + 3600_000;
  t.true(s.check(id, expires, binder(1), T0));
  t.false(s.check(id, expires, binder(2), T0 + 1000), 'same ticket, another ClientHello');
  t.false(s.check(id, expires, binder(3), expires - 1));
  t.true(s.check(new Uint8Array(16).fill(8), expires, binder(1), T0 + 1000), 'another ticket');
});

test('agrees with the single-process AntiReplay on random histories (both modes)', (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom('single-use' as const, 'window' as const),
      fc.array(fc.record({ ticket: fc.nat(5), hello: fc.nat(5), dt: fc.nat(4000), life: fc.integer({ min: 1, max: 30 }) }), { maxLength: 40 }),
      (mode, steps) => {
        const shared = new SharedAntiReplay(createAntiReplayBuffer({ mode, windowMs: 3000 }, KEY, T0));
        const local = new AntiReplay({ mode, windowMs: 3000 });
        let now = T0;
        for (const st of steps) {
          now += st.dt;
          // Whole seconds so that the store's rounding to seconds gives the same answers.
          const expires = T0 + st.life * 1000;
          const nowS = Math.floor(now / 1000) * 1000;
          const id = new Uint8Array([st.ticket, 1, 2, 3]);
          const b = binder(st.hello * 7 + st.ticket);
          if (shared.check(id, expires, b, nowS) !== local.check(id, expires, b, nowS)) return false;
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('bounded: a full bucket rejects 0-RTT (fail closed) until entries expire', (t) => {
  // Capacity 8 = one bucket of 8 words.
  const s = new SharedAntiReplay(createAntiReplayBuffer({ mode: 'window', capacity: 8, windowMs: 1000 }, KEY, T0));
  t.is(s.capacity, 8);
  for (let i = 0; i < 8; i++) t.true(s.check(new Uint8Array(0), 0, binder(i), T0));
  t.is(s.liveEntries(T0), 8);
  t.false(s.check(new Uint8Array(0), 0, binder(100), T0), 'full: a new ClientHello gets no 0-RTT');
  t.false(s.check(new Uint8Array(0), 0, binder(3), T0), 'a replay is still refused');
  t.is(s.stats().full, 1);
  t.is(s.stats().replayed, 1);
  // Once they expired, their words are reused.
  t.true(s.check(new Uint8Array(0), 0, binder(100), T0 + 2000));
  t.is(s.liveEntries(T0 + 2000), 1);
  // An expiry beyond the 28-bit range of seconds is refused rather than truncated.
  const u = new SharedAntiReplay(createAntiReplayBuffer({ mode: 'single-use' }, KEY, T0));
  t.false(u.check(new Uint8Array([1]), T0 + 2 ** 28 * 1000, binder(5), T0 + 2000));
  t.true(u.check(new Uint8Array([1]), T0 + (2 ** 28 - 2) * 1000, binder(5), T0 + 2000));
  t.is(u.stats().outOfRange, 1);
});

test('options are checked', (t) => {
  t.throws(() => createAntiReplayBuffer({ mode: 'x' as 'window' }, KEY, T0), { instanceOf: TypeError, message: /antiReplay\.mode/ });
  t.throws(() => createAntiReplayBuffer({ capacity: 3 }, KEY, T0), { instanceOf: RangeError, message: /antiReplay\.capacity/ });
  t.throws(() => createAntiReplayBuffer({ windowMs: 0 }, KEY, T0), { instanceOf: RangeError, message: /antiReplay\.windowMs/ });
  t.throws(() => new SharedAntiReplay(new SharedArrayBuffer(100)), { instanceOf: TypeError });
});

test('threads racing on the same keys: every key is accepted exactly once', async (t) => {
  const count = 20_000;
  // Capacity for all keys (buckets fill unevenly: room for twice as many).
  const store = createAntiReplayBuffer({ mode: 'window', capacity: 4 * count, windowMs: 60_000 }, KEY, T0);
  const shared = new SharedArrayBuffer(4 * (1 + count));
  const flag = new Int32Array(shared);
  const url = new URL('./anti-replay-worker.js', import.meta.url);
  const workers = [false, false, true].map((reverse) => new Worker(url, { workerData: { store, shared, count, reverse, now: T0 } }));
  const results = workers.map((w) => new Promise<number>((resolve, reject) => w.once('message', resolve).once('error', reject)));
  // Let them all reach Atomics.wait, then start together.
  await new Promise((r) => setTimeout(r, 300));
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  const accepted = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  let once = 0;
  let twice = 0;
  for (let k = 0; k < count; k++) {
    const n = flag[1 + k]!;
    if (n === 1) once++;
    else if (n > 1) twice++;
  }
  t.is(twice, 0, 'no key accepted by two threads');
  t.is(once, count, 'every key accepted by one thread (no spurious refusals with room to spare)');
  t.is(accepted.reduce((a, b) => a + b, 0), count);
  const s = new SharedAntiReplay(store).stats();
  t.is(s.accepted, count);
  t.is(s.replayed + s.raced, 2 * count);
  t.log(`accepted per thread ${accepted.join(', ')}; replays ${s.replayed}, raced ${s.raced}, full ${s.full}`);
});
