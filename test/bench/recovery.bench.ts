// Recovery hot path (RFC 9002 App. A): ns per packet for onPacketSent + its share of an ACK
// (one ACK frame per 2 packets, as a receiver acknowledging every second packet), with CUBIC and
// NewReno, on a clean path and with 1 % loss (losses found by packet threshold), pacer included.
// The peer in the same run is a naive Map-of-objects record store with a packet-threshold scan and
// a Reno-like window only (no RTT, timers, ECN, pacing): a floor for "just the bookkeeping". For
// scale: AEAD alone costs ~10 µs per packet here (DESIGN §4). Absolute numbers drift on a shared
// machine.
import { performance } from 'node:perf_hooks';
import { LossDetection } from '../../src/transport/loss-detection.js';
import { Pacer } from '../../src/transport/pacer.js';
import type { SentPacketInfo } from '../../src/transport/sent-packets.js';

const PACKETS = 200_000;

function runLossDetection(algorithm: 'cubic' | 'newreno', lossEvery: number): number {
  const ld = new LossDetection({ isServer: true, congestionControl: algorithm });
  ld.onHandshakeConfirmed(0);
  const pacer = new Pacer(1200);
  const info: SentPacketInfo = { pn: 0, size: 1200, ackEliciting: true, inFlight: true, token: null };
  const ranges: number[] = [0, 0];
  let now = 0;
  let acked = 0;
  let lost = 0;
  const start = performance.now();
  for (let pn = 0; pn < PACKETS; pn++) {
    info.pn = pn;
    info.token = pn;
    ld.onPacketSent(2, info, now);
    pacer.releaseTime(now, 1200, ld.congestionWindow, ld.rtt.smoothedRtt);
    pacer.onPacketSent(now, 1200, ld.congestionWindow, ld.rtt.smoothedRtt);
    now += 0.01;
    // Acknowledge two packets per ACK, 200 packets behind; of every lossEvery packets one never
    // arrives (the odd one of the pair whose even member is a multiple of lossEvery).
    if (pn >= 200 && (pn & 1) === 1) {
      const hi = pn - 200;
      const lo = hi - 1;
      ranges[0] = lo;
      ranges[1] = lossEvery > 0 && lo % lossEvery === 0 ? lo : hi;
      const r = ld.onAckReceived(2, ranges, 0, now);
      acked += r.acked.length;
      lost += r.lost.length;
    }
  }
  const ns = ((performance.now() - start) * 1e6) / PACKETS;
  if (acked === 0) throw new Error('nothing acknowledged');
  if (lossEvery > 0 && lost < PACKETS / lossEvery / 2) throw new Error(`only ${lost} packets declared lost`);
  return ns;
}

/** Naive peer: one object per packet in a Map, ACK ranges walked pn by pn, threshold scan. */
function runNaive(lossEvery: number): number {
  interface Rec {
    pn: number;
    time: number;
    size: number;
    token: unknown;
  }
  const sent = new Map<number, Rec>();
  let inFlight = 0;
  let cwnd = 12000;
  let largestAcked = -1;
  let now = 0;
  const start = performance.now();
  for (let pn = 0; pn < PACKETS; pn++) {
    sent.set(pn, { pn, time: now, size: 1200, token: pn });
    inFlight += 1200;
    now += 0.01;
    if (pn >= 200 && (pn & 1) === 1) {
      const hi = pn - 200;
      const lo = hi - 1;
      const top = lossEvery > 0 && lo % lossEvery === 0 ? lo : hi;
      const ackedList: Rec[] = [];
      for (let p = lo; p <= top; p++) {
        const r = sent.get(p);
        if (r) {
          sent.delete(p);
          ackedList.push(r);
        }
      }
      if (top > largestAcked) largestAcked = top;
      for (const [p, r] of sent) {
        if (p > largestAcked) break;
        if (largestAcked >= p + 3) {
          sent.delete(p);
          inFlight -= r.size;
          cwnd = Math.max(cwnd / 2, 2400);
        }
      }
      for (const r of ackedList) {
        inFlight -= r.size;
        cwnd += (1200 * r.size) / cwnd;
      }
    }
  }
  if (inFlight < 0) throw new Error('accounting');
  return ((performance.now() - start) * 1e6) / PACKETS;
}

export async function run(): Promise<void> {
  const rows: [string, number, number][] = [];
  for (const lossEvery of [0, 100]) {
    // Warm up, then measure.
    runLossDetection('cubic', lossEvery);
    runNaive(lossEvery);
    const label = lossEvery === 0 ? 'no loss' : '1 % loss';
    rows.push([`LossDetection + CUBIC, ${label}`, runLossDetection('cubic', lossEvery), runNaive(lossEvery)]);
    rows.push([`LossDetection + NewReno, ${label}`, runLossDetection('newreno', lossEvery), runNaive(lossEvery)]);
  }
  console.log('\nRecovery: ns per packet (send + ½ ACK); peer = naive Map store, threshold scan only');
  console.log(`${'case'.padEnd(38)} ${'quiver'.padStart(9)} ${'naive map'.padStart(10)}`);
  for (const [name, ns, naive] of rows) {
    console.log(`${name.padEnd(38)} ${ns.toFixed(0).padStart(6)} ns ${naive.toFixed(0).padStart(7)} ns`);
  }
}
