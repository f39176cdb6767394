// Seeded link simulation driving LossDetection + congestion control + pacer (RFC 9002 end to end):
// random loss, delay jitter (reordering) and ACK loss. Invariants: every packet is reported
// exactly once (acked, lost), bytes in flight equal the outstanding in-flight bytes, all data is
// eventually delivered, nothing but the documented results comes out.
import test from 'ava';
import fc from 'fast-check';
import { LossDetection, TimeoutKind } from '../../src/transport/loss-detection.js';
import { Pacer } from '../../src/transport/pacer.js';
import type { SentPacketInfo } from '../../src/transport/sent-packets.js';

interface SimParams {
  seed: number;
  units: number;
  loss: number;
  ackLoss: number;
  delay: number;
  jitter: number;
  algorithm: 'cubic' | 'newreno';
}

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Arrival {
  at: number;
  pn: number;
}
interface AckArrival {
  at: number;
  ranges: number[];
  ackDelay: number;
}

function simulate(p: SimParams): { delivered: number; time: number; lost: number; ptos: number } {
  const rand = rng(p.seed);
  const ld = new LossDetection({ isServer: true, congestionControl: p.algorithm });
  ld.onHandshakeConfirmed(0);
  const pacer = new Pacer(1200);
  const delivered = new Uint8Array(p.units);
  let deliveredCount = 0;
  const retransmit: number[] = [];
  let nextUnit = 0;
  let pn = 0;
  const inFlight = new Map<number, number>(); // pn → size, for the invariant
  const reported = new Set<number>();
  const toReceiver: Arrival[] = [];
  const toSender: AckArrival[] = [];
  const received = new Set<number>();
  let largestRecv = -1;
  let largestRecvAt = 0;
  let unacked = 0;
  let ackTimer = Infinity;
  let now = 0;
  let ptos = 0;
  const info: SentPacketInfo = { pn: 0, size: 1200, ackEliciting: true, inFlight: true, token: null };

  const sendPacket = (unit: number | null): void => {
    info.pn = pn;
    info.token = unit;
    ld.onPacketSent(2, info, now);
    pacer.onPacketSent(now, 1200, ld.congestionWindow, ld.rtt.smoothedRtt);
    inFlight.set(pn, 1200);
    if (rand() >= p.loss) toReceiver.push({ at: now + p.delay + rand() * p.jitter, pn });
    pn++;
  };
  const nextData = (): number | null => {
    while (retransmit.length > 0) {
      const u = retransmit.shift()!;
      if (!delivered[u]) return u;
    }
    return nextUnit < p.units ? nextUnit++ : null;
  };
  const settle = (list: { length: number; pn: number[]; token: unknown[] }, lost: boolean): void => {
    for (let i = 0; i < list.length; i++) {
      const n = list.pn[i]!;
      if (reported.has(n)) throw new Error(`pn ${n} reported twice`);
      reported.add(n);
      inFlight.delete(n);
      const u = list.token[i] as number | null;
      if (u === null) continue;
      if (!lost && !delivered[u]) {
        delivered[u] = 1;
        deliveredCount++;
      } else if (lost && !delivered[u]) retransmit.push(u);
    }
  };
  const checkFlight = (): void => {
    let sum = 0;
    for (const s of inFlight.values()) sum += s;
    if (sum !== ld.bytesInFlight) throw new Error(`bytes in flight ${ld.bytesInFlight} ≠ ${sum}`);
  };
  const sendAck = (): void => {
    const sorted = [...received].sort((a, b) => b - a);
    const ranges: number[] = [];
    let hi = sorted[0]!;
    let lo = hi;
    for (let i = 1; i < sorted.length && ranges.length < 64; i++) {
      if (sorted[i] === lo - 1) lo = sorted[i]!;
      else {
        ranges.push(lo, hi);
        hi = lo = sorted[i]!;
      }
    }
    if (ranges.length < 64) ranges.push(lo, hi);
    unacked = 0;
    ackTimer = Infinity;
    if (rand() < p.ackLoss) return;
    toSender.push({ at: now + p.delay + rand() * p.jitter, ranges, ackDelay: now - largestRecvAt });
  };

  const limit = 600_000;
  let iterations = 0;
  while (deliveredCount < p.units && now < limit) {
    if (++iterations > 1_000_000) {
      throw new Error(`stuck at ${now}: timer ${ld.getLossDetectionTimer()} inflight ${ld.bytesInFlight} cwnd ${ld.congestionWindow} toR ${toReceiver.length} toS ${toSender.length} delivered ${deliveredCount}`);
    }
    // Send what the window and the pacer allow.
    for (;;) {
      if (!ld.cc.canSend(1200)) break;
      const rel = pacer.releaseTime(now, 1200, ld.congestionWindow, ld.rtt.smoothedRtt);
      if (rel > now) break;
      const u = nextData();
      if (u === null) break;
      sendPacket(u);
    }
    // Next event.
    let next = Math.min(ld.getLossDetectionTimer(), ackTimer);
    for (const a of toReceiver) next = Math.min(next, a.at);
    for (const a of toSender) next = Math.min(next, a.at);
    if (ld.cc.canSend(1200) && (retransmit.length > 0 || nextUnit < p.units)) {
      next = Math.min(next, pacer.releaseTime(now, 1200, ld.congestionWindow, ld.rtt.smoothedRtt));
    }
    if (next === Infinity) throw new Error('deadlock: nothing scheduled');
    now = Math.max(now, next);
    // Receiver.
    toReceiver.sort((a, b) => a.at - b.at || a.pn - b.pn);
    while (toReceiver.length > 0 && toReceiver[0]!.at <= now) {
      const a = toReceiver.shift()!;
      received.add(a.pn);
      if (a.pn > largestRecv) {
        largestRecv = a.pn;
        largestRecvAt = now;
      }
      if (++unacked >= 2) sendAck();
      else if (ackTimer === Infinity) ackTimer = now + 25;
    }
    if (ackTimer <= now) sendAck();
    // Sender: ACKs, then timers.
    toSender.sort((a, b) => a.at - b.at);
    while (toSender.length > 0 && toSender[0]!.at <= now) {
      const a = toSender.shift()!;
      const r = ld.onAckReceived(2, a.ranges, a.ackDelay, now);
      settle(r.acked, false);
      settle(r.lost, true);
      checkFlight();
    }
    if (ld.getLossDetectionTimer() <= now) {
      const r = ld.onLossDetectionTimeout(now);
      if (r.kind === TimeoutKind.LOSS) {
        if (r.lost.length === 0) throw new Error(`loss timeout at ${now} without a lost packet`);
        settle(r.lost, true);
      }
      else if (r.kind === TimeoutKind.PTO) {
        ptos++;
        for (let i = 0; i < r.probes; i++) sendPacket(nextData()); // probes bypass cwnd
      }
      checkFlight();
    }
    if (ld.congestionWindow < ld.cc.minimumWindow) throw new Error('cwnd below minimum');
  }
  return { delivered: deliveredCount, time: now, lost: ld.stats.packetsLost, ptos };
}

test('lossless link: all data delivered, no loss, no PTO', (t) => {
  for (const algorithm of ['cubic', 'newreno'] as const) {
    const r = simulate({ seed: 1, units: 500, loss: 0, ackLoss: 0, delay: 20, jitter: 0, algorithm });
    t.is(r.delivered, 500);
    t.is(r.lost, 0);
    t.is(r.ptos, 0);
  }
});

test('random loss, ACK loss and reordering: invariants hold and everything is delivered', (t) => {
  fc.assert(
    fc.property(
      fc.record({
        seed: fc.integer(),
        units: fc.integer({ min: 20, max: 250 }),
        loss: fc.double({ min: 0, max: 0.3, noNaN: true }),
        ackLoss: fc.double({ min: 0, max: 0.3, noNaN: true }),
        delay: fc.integer({ min: 1, max: 150 }),
        jitter: fc.integer({ min: 0, max: 40 }),
        algorithm: fc.constantFrom('cubic' as const, 'newreno' as const),
      }),
      (p) => simulate(p).delivered === p.units,
    ),
    { numRuns: 40, seed: 4242 },
  );
  t.pass();
});

test('blackhole period: PTO backs off and the transfer resumes', (t) => {
  // 100 % loss would never finish; 60 % loss exercises repeated PTOs and persistent congestion.
  const r = simulate({ seed: 7, units: 100, loss: 0.6, ackLoss: 0.2, delay: 30, jitter: 5, algorithm: 'cubic' });
  t.is(r.delivered, 100);
  t.true(r.ptos > 0);
});

