// RFC 9002 §7.7 pacing: rate N·cwnd/srtt with N = 1.25, burst of 10 datagrams.
import test from 'ava';
import { Pacer } from '../../src/transport/pacer.js';

test('a burst of 10 datagrams leaves at once, then one every size/rate', (t) => {
  const p = new Pacer(1200);
  const cwnd = 12000;
  const srtt = 100;
  t.is(p.rate(cwnd, srtt), 150); // 1.25 · 12000 / 100 bytes per ms
  t.is(p.burstBytes, 12000);
  const times: number[] = [];
  let now = 0;
  for (let i = 0; i < 14; i++) {
    const at = p.releaseTime(now, 1200, cwnd, srtt);
    times.push(at);
    p.onPacketSent(at, 1200, cwnd, srtt);
    now = at;
  }
  t.deepEqual(times.slice(0, 10), new Array(10).fill(0));
  t.deepEqual(times.slice(10), [8, 16, 24, 32]); // 1200 / 150 = 8 ms
});

test('scheduling into the future puts the bucket in debt', (t) => {
  const p = new Pacer(1200, { burstPackets: 1 });
  // Caller builds packets back to back at now = 0, each with the release time the pacer gives.
  const rel: number[] = [];
  for (let i = 0; i < 4; i++) {
    const at = p.releaseTime(0, 1200, 12000, 100);
    rel.push(at);
    p.onPacketSent(at, 1200, 12000, 100);
  }
  t.deepEqual(rel, [0, 8, 16, 24]);
});

test('idle time refills at most one burst', (t) => {
  const p = new Pacer(1200, { burstPackets: 2 });
  for (let i = 0; i < 2; i++) p.onPacketSent(0, 1200, 12000, 100);
  t.is(p.releaseTime(0, 1200, 12000, 100), 8);
  // Long idle: still only 2 packets of credit.
  const now = 10_000;
  t.is(p.releaseTime(now, 1200, 12000, 100), now);
  p.onPacketSent(now, 1200, 12000, 100);
  p.onPacketSent(now, 1200, 12000, 100);
  t.is(p.releaseTime(now, 1200, 12000, 100), now + 8);
});

test('rate follows cwnd and srtt; N configurable; small packets', (t) => {
  const p = new Pacer(1200, { n: 2, burstPackets: 1 });
  t.is(p.rate(24000, 50), 960);
  p.onPacketSent(0, 1200, 24000, 50);
  t.is(p.releaseTime(0, 600, 24000, 50), 600 / 960);
  t.is(p.releaseTime(0, 1200, 6000, 100), 1200 / 120);
  t.throws(() => new Pacer(1200, { n: 0.5 }), { instanceOf: RangeError });
  t.throws(() => new Pacer(1200, { burstPackets: 0 }), { instanceOf: RangeError });
});

test('max datagram size change and reset', (t) => {
  const p = new Pacer(1200);
  p.setMaxDatagramSize(1452);
  t.is(p.burstBytes, 14520);
  for (let i = 0; i < 10; i++) p.onPacketSent(0, 1452, 14520, 100);
  t.true(p.releaseTime(0, 1452, 14520, 100) > 0);
  p.reset();
  t.is(p.releaseTime(0, 1452, 14520, 100), 0);
});
