// The multi-core router (src/multicore/router.ts): short headers by the CID's worker index
// (RFC 8999 §5.2 — the source address plays no part), long headers with our DCIDs likewise, client
// Initial/0-RTT DCIDs (RFC 9000 §7.2: ≥ 8 bytes; §14.1: Initials in ≥ 1200-byte datagrams) through
// the table — least-loaded or keyed hash, released by workers, expired, bounded — unknown versions
// to a worker for Version Negotiation only when ≥ 1200 bytes (RFC 9000 §6.1), and every drop
// counted under its reason.
import test from 'ava';
import fc from 'fast-check';
import { PacketType, QUIC_V1, QUIC_V2 } from '../../src/codec/version.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { WorkerCidCodec } from '../../src/multicore/cid.js';
import { MetricsBlock, ROUTER_SCHEMA } from '../../src/multicore/metrics-block.js';
import { Router, type RouterOptions } from '../../src/multicore/router.js';
import { buildClientInitial, buildLongHeader, buildShort, buildUnknownVersion } from '../support/packets.js';

const KEY = new Uint8Array(16).fill(0x42);
const HASH_KEY = new Uint8Array(16).fill(0x17);

function setup(workers = 3, extra: Partial<RouterOptions> = {}) {
  const codec = new WorkerCidCodec({ key: KEY, workers });
  const load = new Array<number>(workers).fill(0);
  const router = new Router({ codec, hashKey: HASH_KEY, load: (w) => load[w]!, ...extra });
  const rng = new SeededRandom(1);
  return { codec, router, load, rng, m: () => router.metrics.snapshot() };
}

function clientDcid(rng: SeededRandom, n = 8): Uint8Array {
  return rng.randomBytes(n);
}

test('short headers route by the DCID\'s worker index; foreign DCIDs are dropped as unroutable', (t) => {
  const { codec, router, rng, m } = setup(3);
  for (let i = 0; i < 300; i++) {
    const w = i % 3;
    t.is(router.route(buildShort(codec.generate(w, rng), 60), 0), w);
  }
  t.is(router.route(buildShort(rng.randomBytes(8), 60), 0), -1);
  t.is(router.route(buildShort(rng.randomBytes(8), 5), 0), -1, 'shorter than 1 + CID length');
  t.is(router.route(new Uint8Array(0), 0), -1);
  const s = m();
  t.is(s.routed_short, 300);
  t.is(s.dropped_unroutable, 1);
  t.is(s.dropped_bad_header, 1);
  t.is(s.dropped_empty, 1);
  t.is(s.datagrams_received, 303);
  t.is(router.tableSize, 0, 'short headers never touch the table');
});

test('a client Initial gets a table entry; its retransmits and 0-RTT follow it; our CIDs route without it', (t) => {
  const { codec, router, rng, m } = setup(3);
  const dcid = clientDcid(rng);
  const scid = rng.randomBytes(8);
  const w = router.route(buildClientInitial({ dcid, scid }), 0);
  t.true(w >= 0 && w < 3);
  t.is(router.lookup(dcid), w);
  t.is(router.route(buildClientInitial({ dcid, scid, pn: 1 }), 1), w, 'Initial retransmit');
  t.is(router.route(buildLongHeader(PacketType.ZeroRtt, QUIC_V1, dcid, scid, 300), 2), w, '0-RTT');
  // The server's CID (issued by worker w) in a long header: by index, not table.
  const ours = codec.generate(w, rng);
  t.is(router.route(buildLongHeader(PacketType.Handshake, QUIC_V1, ours, scid, 300), 3), w);
  t.is(router.route(buildClientInitial({ dcid: ours, scid, token: new Uint8Array(20) }), 3), w, 'Initial after Retry (DCID = our Retry SCID)');
  const s = m();
  t.is(s.routed_new, 1);
  t.is(s.routed_table, 2);
  t.is(s.routed_long_cid, 2);
  t.is(s.table_entries, 1);
  // The worker releases the entry once past the handshake.
  t.true(router.release(dcid));
  t.false(router.release(dcid));
  t.is(router.tableSize, 0);
  t.is(m().table_released, 1);
  t.is(router.pendingFor(w), 0);
});

test('QUIC v2 long-header type bits are honoured (RFC 9369 §3.2)', (t) => {
  const { router, rng, m } = setup(2);
  const dcid = clientDcid(rng);
  const w = router.route(buildClientInitial({ version: QUIC_V2, dcid, scid: rng.randomBytes(4) }), 0);
  t.true(w >= 0);
  t.is(m().routed_new, 1);
  // A v2 Handshake packet (not a new connection) with an unknown DCID is dropped.
  t.is(router.route(buildLongHeader(PacketType.Handshake, QUIC_V2, clientDcid(rng), rng.randomBytes(4), 300), 0), -1);
  t.is(m().dropped_unknown_long, 1);
});

test('least-loaded: new connections go to the worker with the fewest active + pending', (t) => {
  const { router, load, rng } = setup(3);
  const counts = [0, 0, 0];
  for (let i = 0; i < 30; i++) counts[router.route(buildClientInitial({ dcid: clientDcid(rng), scid: rng.randomBytes(8) }), 0)]!++;
  t.deepEqual(counts, [10, 10, 10], 'pending assignments count as load');
  // Worker 1 reports many active connections: the next ones avoid it.
  load[1] = 100;
  const next = [0, 0, 0];
  for (let i = 0; i < 20; i++) next[router.route(buildClientInitial({ dcid: clientDcid(rng), scid: rng.randomBytes(8) }), 0)]!++;
  t.is(next[1], 0);
  t.is(next[0]! + next[2]!, 20);
});

test('hash balance: stateless and stable per DCID, spread over workers', (t) => {
  const { router, rng } = setup(4, { balance: 'hash' });
  const counts = [0, 0, 0, 0];
  const dcids: Uint8Array[] = [];
  for (let i = 0; i < 400; i++) {
    const dcid = clientDcid(rng, 8 + (i % 13));
    dcids.push(dcid);
    counts[router.route(buildClientInitial({ dcid, scid: rng.randomBytes(8) }), 0)]!++;
  }
  for (const c of counts) t.true(c > 60 && c < 140, `spread ${counts}`);
  // Another router with the same key (e.g. after the table was lost) agrees.
  const again = setup(4, { balance: 'hash' }).router;
  for (const dcid of dcids.slice(0, 50)) t.is(again.route(buildClientInitial({ dcid, scid: rng.randomBytes(8) }), 0), router.lookup(dcid));
});

test('drops: small Initials, short client DCIDs, VN packets, unknown versions below 1200 bytes, garbage', (t) => {
  const { router, rng, m } = setup(2);
  t.is(router.route(buildClientInitial({ dcid: clientDcid(rng), scid: rng.randomBytes(8), size: 1199 }), 0), -1);
  t.is(router.route(buildClientInitial({ dcid: rng.randomBytes(7), scid: rng.randomBytes(8) }), 0), -1);
  t.is(router.route(buildLongHeader(PacketType.ZeroRtt, QUIC_V1, rng.randomBytes(4), rng.randomBytes(8), 200), 0), -1);
  t.is(router.route(buildUnknownVersion(0, rng.randomBytes(8), rng.randomBytes(8), 1200), 0), -1);
  t.is(router.route(buildUnknownVersion(0x1a2a3a4a, rng.randomBytes(8), rng.randomBytes(8), 1199), 0), -1);
  const big = router.route(buildUnknownVersion(0x1a2a3a4a, rng.randomBytes(8), rng.randomBytes(8), 1200), 0);
  t.true(big >= 0, 'unknown version ≥ 1200 bytes: a worker answers with VN');
  t.is(router.route(new Uint8Array([0xc0, 0, 0, 0, 1, 30]), 0), -1, 'truncated long header');
  const over = buildUnknownVersion(QUIC_V1, rng.randomBytes(21), rng.randomBytes(8), 1200);
  t.is(router.route(over, 0), -1, 'v1 DCID > 20 bytes');
  const s = m();
  t.is(s.dropped_initial_too_small, 1);
  t.is(s.dropped_dcid_too_short, 2);
  t.is(s.dropped_version_negotiation, 1);
  t.is(s.dropped_unknown_version_small, 1);
  t.is(s.routed_stateless, 1);
  t.is(s.dropped_bad_header, 2);
  t.is(router.tableSize, 0);
});

test('fast-check: random datagrams never throw and never leave more entries than new-connection routes', (t) => {
  const { router } = setup(3);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1400 }), (d) => {
      const w = router.route(d, 0);
      return Number.isInteger(w) && w >= -1 && w < 3;
    }),
    { numRuns: 5000 },
  );
  const s = router.metrics.snapshot();
  t.is(router.tableSize, s.routed_new);
  let routed = 0;
  let dropped = 0;
  for (const n of ROUTER_SCHEMA.names) {
    if (n.startsWith('routed_')) routed += s[n];
    if (n.startsWith('dropped_')) dropped += s[n];
  }
  t.is(routed + dropped, s.datagrams_received, 'every datagram routed or dropped under one reason');
});

test('table entries expire after tableTtl; a full table falls back to the hash without an entry', (t) => {
  const { router, rng, m } = setup(2, { tableTtl: 100, maxTableEntries: 3 });
  const d = [clientDcid(rng), clientDcid(rng), clientDcid(rng), clientDcid(rng)];
  for (let i = 0; i < 3; i++) router.route(buildClientInitial({ dcid: d[i]!, scid: rng.randomBytes(8) }), i * 10);
  t.is(router.tableSize, 3);
  const w = router.route(buildClientInitial({ dcid: d[3]!, scid: rng.randomBytes(8) }), 30);
  t.true(w >= 0);
  t.is(router.tableSize, 3);
  t.is(m().table_full, 1);
  t.is(router.lookup(d[3]!), -1);
  t.is(router.sweep(105), 1, 'only the first entry is past its expiry');
  t.is(router.sweep(200), 2);
  t.is(router.tableSize, 0);
  t.is(m().table_expired, 3);
  t.is(router.pendingFor(0) + router.pendingFor(1), 0);
});

test('an entry a client keeps using (retransmitted Initials) is refreshed, so it stays on its worker', (t) => {
  const { router, rng, m } = setup(2, { tableTtl: 100 });
  const a = clientDcid(rng);
  const b = clientDcid(rng);
  const w = router.route(buildClientInitial({ dcid: a, scid: rng.randomBytes(8) }), 0);
  router.route(buildClientInitial({ dcid: b, scid: rng.randomBytes(8) }), 10);
  // a's Initial again at 60 (past half its TTL): refreshed to expire at 160, behind b (110).
  t.is(router.route(buildClientInitial({ dcid: a, scid: rng.randomBytes(8) }), 60), w);
  t.is(router.sweep(120), 1, 'b expired, a did not');
  t.is(router.lookup(a), w);
  t.is(router.lookup(b), -1);
  t.is(router.sweep(170), 1);
  t.is(m().table_expired, 2);
  t.is(router.pendingFor(0) + router.pendingFor(1), 0);
});

test('draining: a worker that stops accepting gets no new connections, but its CIDs still route', (t) => {
  const { codec, router, rng, m } = setup(2);
  router.setAccepting(0, false);
  t.false(router.isAccepting(0));
  for (let i = 0; i < 10; i++) t.is(router.route(buildClientInitial({ dcid: clientDcid(rng), scid: rng.randomBytes(8) }), 0), 1);
  t.is(router.route(buildShort(codec.generate(0, rng), 60), 0), 0);
  router.setAccepting(1, false);
  t.is(router.route(buildClientInitial({ dcid: clientDcid(rng), scid: rng.randomBytes(8) }), 0), -1);
  t.is(m().dropped_no_worker, 1);
  router.setAccepting(0, true);
  t.is(router.route(buildClientInitial({ dcid: clientDcid(rng), scid: rng.randomBytes(8) }), 0), 0);
  t.throws(() => router.setAccepting(2, true), { instanceOf: RangeError, message: /worker/ });
});

test('hash balance skips draining workers', (t) => {
  const { router, rng } = setup(3, { balance: 'hash' });
  router.setAccepting(1, false);
  for (let i = 0; i < 100; i++) t.not(router.route(buildClientInitial({ dcid: clientDcid(rng), scid: rng.randomBytes(8) }), 0), 1);
});

test('options are checked and name the option', (t) => {
  const codec = new WorkerCidCodec({ key: KEY, workers: 2 });
  t.throws(() => new Router({ codec, hashKey: new Uint8Array(15) }), { instanceOf: RangeError, message: /hashKey/ });
  t.throws(() => new Router({ codec: {} as WorkerCidCodec, hashKey: HASH_KEY }), { instanceOf: TypeError, message: /codec/ });
  t.throws(() => new Router({ codec, hashKey: HASH_KEY, balance: 'random' as 'hash' }), { instanceOf: TypeError, message: /balance/ });
  t.throws(() => new Router({ codec, hashKey: HASH_KEY, tableTtl: 0 }), { instanceOf: RangeError, message: /tableTtl/ });
  t.throws(() => new Router({ codec, hashKey: HASH_KEY, maxTableEntries: -1 }), { instanceOf: RangeError, message: /maxTableEntries/ });
  // Counting into a caller's block (the server shares it with its scrape).
  const metrics = new MetricsBlock(ROUTER_SCHEMA);
  const r = new Router({ codec, hashKey: HASH_KEY, metrics });
  r.route(new Uint8Array(0), 0);
  t.is(metrics.get('dropped_empty'), 1);
});
