// RFC 8899 DPLPMTUD for QUIC (RFC 9000 §14.3, §14.4): search, raise timer, black holes.
import test from 'ava';
import { Pmtud } from '../../src/transport/pmtud.js';
import { PacketList, SentFlags } from '../../src/transport/sent-packets.js';

/** Runs probes against a path that drops datagrams larger than `pathMtu`. */
function search(p: Pmtud, pathMtu: number, now = 0, viaLossList = false): { probes: number[]; now: number } {
  const probes: number[] = [];
  let pn = 1000 + now;
  for (let i = 0; i < 100; i++) {
    const size = p.nextProbeSize(now);
    if (size === 0) break;
    p.onProbeSent(pn, size);
    probes.push(size);
    now += 100;
    if (size <= pathMtu) p.onPacketAcked(pn, size, now);
    else if (viaLossList) {
      const lost = new PacketList();
      lost.push(2, pn, size, now - 100, SentFlags.PMTU_PROBE | SentFlags.IN_FLIGHT | SentFlags.ACK_ELICITING, null);
      p.onPacketsLost(lost, now);
    } else p.onProbeLost(pn, now);
    pn++;
  }
  return { probes, now };
}

test('disabled until enabled; defaults', (t) => {
  const p = new Pmtud();
  t.is(p.state, 'disabled');
  t.is(p.plpmtu, 1200);
  t.is(p.maxPlpmtu, 1452);
  t.is(p.nextProbeSize(0), 0);
  t.is(p.nextTimeout(), Infinity);
  t.throws(() => p.onProbeSent(1, 1452), { instanceOf: RangeError });
});

test('path supports the maximum: one probe, search complete', (t) => {
  const p = new Pmtud();
  p.enable(0);
  t.is(p.state, 'searching');
  const { probes } = search(p, 1500);
  t.deepEqual(probes, [1452]);
  t.is(p.state, 'search_complete');
  t.is(p.plpmtu, 1452);
  t.is(p.nextTimeout(), 100 + 600_000);
});

test('search converges below the path MTU; each failing size probed MAX_PROBES times', (t) => {
  const p = new Pmtud({ maxPlpmtu: 1500 });
  p.enable(0);
  const { probes } = search(p, 1400);
  t.is(p.state, 'search_complete');
  t.true(p.plpmtu <= 1400 && p.plpmtu > 1400 - 20, `plpmtu ${p.plpmtu}`);
  t.deepEqual(probes.slice(0, 3), [1500, 1500, 1500]);
  for (const size of new Set(probes)) {
    const n = probes.filter((s) => s === size).length;
    t.is(n, size > 1400 ? 3 : 1, `size ${size}`);
  }
  t.true(probes.length < 20);
  t.is(p.probesLost, probes.filter((s) => s > 1400).length);
});

test('probe losses reported through the loss list (flagged PMTU_PROBE)', (t) => {
  const p = new Pmtud({ maxPlpmtu: 1500 });
  p.enable(0);
  search(p, 1350, 0, true);
  t.is(p.state, 'search_complete');
  t.true(p.plpmtu <= 1350 && p.plpmtu > 1330);
});

test('peer max_udp_payload_size bounds the search', (t) => {
  const p = new Pmtud({ maxPlpmtu: 9000 });
  p.setPeerMaxUdpPayloadSize(1300);
  t.is(p.maxPlpmtu, 1300);
  p.enable(0);
  t.deepEqual(search(p, 9000).probes, [1300]);
  t.is(p.plpmtu, 1300);
  t.throws(() => p.setPeerMaxUdpPayloadSize(1000), { instanceOf: RangeError });
  // Base equals max: nothing to search.
  const q = new Pmtud({ maxPlpmtu: 1200 });
  q.enable(0);
  t.is(q.state, 'search_complete');
  t.is(q.nextProbeSize(0), 0);
});

test('PMTU_RAISE_TIMER restarts the search (RFC 8899 §5.1.1)', (t) => {
  const p = new Pmtud({ maxPlpmtu: 1500 });
  p.enable(0);
  const { now } = search(p, 1400);
  const at = p.nextTimeout();
  t.is(p.nextProbeSize(at - 1), 0);
  t.is(p.nextProbeSize(at), 1500);
  t.is(p.state, 'searching');
  // The path grew meanwhile.
  const r = search(p, 1500, Math.max(now, at));
  t.deepEqual(r.probes, [1500]);
  t.is(p.plpmtu, 1500);
});

function burst(sizes: number[], pn0: number): PacketList {
  const l = new PacketList();
  sizes.forEach((s, i) => l.push(2, pn0 + i, s, 0, SentFlags.IN_FLIGHT | SentFlags.ACK_ELICITING, null));
  return l;
}

test('black hole: repeated bursts of lost full-size packets → back to BASE (RFC 8899 §5.2)', (t) => {
  const p = new Pmtud();
  p.enable(0);
  search(p, 1500);
  t.is(p.plpmtu, 1452);
  t.false(p.onPacketsLost(burst([1452, 1452], 10), 1000));
  t.false(p.onPacketsLost(burst([1452], 20), 2000));
  t.true(p.onPacketsLost(burst([1452, 1452, 1452], 30), 3000));
  t.is(p.plpmtu, 1200);
  t.is(p.state, 'base');
  t.is(p.blackHoles, 1);
  // BASE is confirmed with a base-size probe, then the search resumes.
  t.is(p.nextProbeSize(3000), 1200);
  p.onProbeSent(40, 1200);
  t.is(p.nextProbeSize(3000), 0, 'one probe at a time');
  p.onPacketAcked(40, 1200, 3100);
  t.is(p.state, 'searching');
  search(p, 1300, 3100);
  t.true(p.plpmtu <= 1300 && p.plpmtu > 1280);
});

test('black hole detection ignores mixed bursts and resets on a full-size ACK', (t) => {
  const p = new Pmtud();
  p.enable(0);
  search(p, 1500);
  // Bursts that also lose small packets are ordinary congestion.
  for (let i = 0; i < 5; i++) t.false(p.onPacketsLost(burst([1452, 1000], 10 * i), 1000));
  t.false(p.onPacketsLost(burst([1452], 100), 1000));
  t.false(p.onPacketsLost(burst([1452], 110), 1000));
  p.onPacketAcked(120, 1452, 1100); // a full-size packet got through
  t.false(p.onPacketsLost(burst([1452], 130), 1200));
  t.false(p.onPacketsLost(burst([1452], 140), 1200));
  t.is(p.plpmtu, 1452);
  // Packets of other spaces are ignored.
  const other = new PacketList();
  other.push(1, 1, 1452, 0, SentFlags.IN_FLIGHT, null);
  t.false(p.onPacketsLost(other, 1300));
  t.true(p.onPacketsLost(burst([1452], 150), 1300));
});

test('BASE probes failing MAX_PROBES times → ERROR', (t) => {
  const p = new Pmtud();
  p.enable(0);
  search(p, 1500);
  p.onBlackHole(0);
  for (let i = 0; i < 3; i++) {
    t.is(p.nextProbeSize(0), 1200);
    p.onProbeSent(i, 1200);
    p.onProbeLost(i, 0);
  }
  t.is(p.state, 'error');
  t.is(p.nextProbeSize(0), 0);
  t.is(p.plpmtu, 1200);
});

test('acked list helper, reset for a new path, option checks', (t) => {
  const p = new Pmtud();
  p.enable(0);
  const size = p.nextProbeSize(0);
  p.onProbeSent(7, size);
  const acked = new PacketList();
  acked.push(2, 7, size, 0, SentFlags.PMTU_PROBE, null);
  t.true(p.onPacketsAcked(acked, 10));
  t.is(p.plpmtu, 1452);
  p.resetForNewPath();
  t.is(p.state, 'disabled');
  t.is(p.plpmtu, 1200);
  t.throws(() => new Pmtud({ basePlpmtu: 1000 }), { instanceOf: RangeError });
  t.throws(() => new Pmtud({ maxPlpmtu: 1100 }), { instanceOf: RangeError });
  t.throws(() => new Pmtud({ maxProbes: 0 }), { instanceOf: RangeError });
});
