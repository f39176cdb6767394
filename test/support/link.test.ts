// The link simulator's impairments do what they claim, and a seed reproduces them exactly.
import test from 'ava';
import { Link, type LinkConfig } from './link.js';

function run(seed: number, config: LinkConfig, n = 2000, size = 100, spacing = 1) {
  const link = new Link(seed, config);
  const out: Array<{ i: number; at: number; data: Uint8Array }> = [];
  const lost: number[] = [];
  for (let i = 0; i < n; i++) {
    const d = new Uint8Array(size).fill(i & 0xff);
    d[0] = i >> 8;
    d[1] = i & 0xff;
    const r = link.transmit(d, i * spacing);
    if (r.length === 0) lost.push(i);
    for (const x of r) out.push({ i, at: x.at, data: x.data });
  }
  return { link, out, lost };
}

test('a clean link delivers everything once, in order, after the delay', (t) => {
  const { link, out } = run(1, { delay: 20 }, 100);
  t.is(out.length, 100);
  out.forEach((o, i) => {
    t.is(o.i, i);
    t.is(o.at, i + 20);
  });
  t.is(link.counters.deliveredDatagrams, 100);
  t.is(link.counters.bytes, 100 * 100);
});

test('the same seed gives the same fate to every datagram; another seed does not', (t) => {
  const cfg: LinkConfig = { loss: 0.1, lossBurst: 3, corrupt: 0.05, reorder: 0.05, duplicate: 0.05, jitter: 5 };
  const a = run(7, cfg);
  const b = run(7, cfg);
  const c = run(8, cfg);
  t.deepEqual(a.lost, b.lost);
  t.deepEqual(a.out.map((o) => o.at), b.out.map((o) => o.at));
  t.deepEqual(a.out.map((o) => Array.from(o.data)), b.out.map((o) => Array.from(o.data)));
  t.notDeepEqual(a.lost, c.lost);
});

test('loss rate is near the target and bursts never exceed the cap', (t) => {
  const { lost } = run(3, { loss: 0.02, lossBurst: 4 }, 50_000);
  const rate = lost.length / 50_000;
  t.true(rate > 0.014 && rate < 0.026, `rate ${rate}`);
  let run1 = 1;
  let longest = 1;
  for (let k = 1; k < lost.length; k++) {
    run1 = lost[k] === lost[k - 1]! + 1 ? run1 + 1 : 1;
    longest = Math.max(longest, run1);
  }
  t.true(longest <= 4, `longest ${longest}`);
  t.true(longest >= 2);
  const heavy = run(4, { loss: 0.3 }, 20_000).lost.length / 20_000;
  t.true(heavy > 0.27 && heavy < 0.33, `heavy ${heavy}`);
  const heavyBursts = run(4, { loss: 0.3, lossBurst: 3 }, 20_000).lost.length / 20_000;
  t.true(heavyBursts > 0.27 && heavyBursts < 0.33, `heavy bursts ${heavyBursts}`);
});

test('lossWhen limits loss to a phase', (t) => {
  const { lost } = run(5, { loss: 0.5, lossWhen: (now) => now < 100 }, 1000);
  t.true(lost.every((i) => i < 100));
  t.true(lost.length > 20);
});

test('corruption changes bytes of a copy, never the caller buffer', (t) => {
  const link = new Link(9, { corrupt: 1, corruptBytes: 2 });
  const d = new Uint8Array(50).fill(0xaa);
  const [r] = link.transmit(d, 0);
  t.true(d.every((b) => b === 0xaa));
  const changed = r!.data.filter((b) => b !== 0xaa).length;
  t.true(changed >= 1 && changed <= 2);
  t.is(link.counters.corrupted, 1);
});

test('duplication and reordering', (t) => {
  const dup = run(11, { duplicate: 0.5 }, 1000);
  t.true(dup.out.length > 1400 && dup.out.length < 1600);
  const re = run(12, { reorder: 0.2, reorderDelay: 10 }, 1000);
  const arrival = [...re.out].sort((a, b) => a.at - b.at).map((o) => o.i);
  let inversions = 0;
  for (let k = 1; k < arrival.length; k++) if (arrival[k]! < arrival[k - 1]!) inversions++;
  t.true(inversions > 100, `inversions ${inversions}`);
  t.true(re.link.counters.reordered > 150);
  const fifo = run(13, { jitter: 30, fifoJitter: true }, 1000);
  const ats = fifo.out.map((o) => o.at);
  t.deepEqual(ats, [...ats].sort((a, b) => a - b));
});

test('blackhole schedule: on/off phases from the start time', (t) => {
  const { lost, link } = run(14, { blackhole: { on: 5000, off: 2000, start: 0 } }, 20, 100, 1000);
  // t = 0..19 s: lost during [5,7), [12,14), [19,21)
  t.deepEqual(lost, [5, 6, 12, 13, 19]);
  t.is(link.counters.dropped.blackhole, 5);
  const until = run(14, { blackhole: { on: 1000, off: 1000, start: 0, until: 4000 } }, 10, 100, 1000).lost;
  t.deepEqual(until, [1, 3]);
});

test('drop list drops exactly the listed datagrams (1-based)', (t) => {
  const { lost, link } = run(15, { dropList: [2, 3, 4, 5, 6, 7] }, 10);
  t.deepEqual(lost, [1, 2, 3, 4, 5, 6]);
  t.is(link.counters.dropped.droplist, 6);
});

test('rate limit serialises datagrams and tail-drops beyond the queue', (t) => {
  const link = new Link(16, { rate: 100_000, delay: 0, queueBytes: 1000 });
  const ats: number[] = [];
  for (let i = 0; i < 15; i++) for (const d of link.transmit(new Uint8Array(100), 0)) ats.push(d.at);
  t.is(ats.length, 10);
  ats.forEach((at, i) => t.is(at, (i + 1) * 1));
  t.is(link.counters.dropped.queue, 5);
  t.is(link.transmit(new Uint8Array(100), 20)[0]!.at, 21);
});

test('invalid configurations are refused with the option named', (t) => {
  t.throws(() => new Link(1, { loss: 1.5 }), { instanceOf: RangeError, message: /config\.loss/ });
  t.throws(() => new Link(1, { delay: -1 }), { instanceOf: RangeError, message: /config\.delay/ });
  t.throws(() => new Link(1, { blackhole: { on: 0, off: 1 } }), { instanceOf: RangeError, message: /blackhole/ });
});
