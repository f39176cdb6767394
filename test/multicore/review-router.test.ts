// Review findings on the multi-core router (src/multicore/router.ts), see
// /work/notes/review-multicore.md items R1 and R2. Both FAIL on the router as reviewed; they pass
// once its owner applies the suggested fixes (or equivalent ones):
// - R1: a 0-RTT long header without a table entry must not create one (no 1200-byte floor applies
//   to 0-RTT, RFC 9000 §14.1 covers Initials only), else ~50-byte spoofed datagrams fill the table.
// - R2: a worker's release of a client DCID removes the entry only when that worker owns it.
import test from 'ava';
import { PacketType, QUIC_V1 } from '../../src/codec/version.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { WorkerCidCodec } from '../../src/multicore/cid.js';
import { Router } from '../../src/multicore/router.js';
import { buildClientInitial, buildLongHeader } from '../support/packets.js';

const KEY = new Uint8Array(16).fill(0x42);
const HASH_KEY = new Uint8Array(16).fill(0x17);

test('R1: small 0-RTT datagrams with fresh DCIDs do not grow the client DCID table', (t) => {
  const codec = new WorkerCidCodec({ key: KEY, workers: 2 });
  const router = new Router({ codec, hashKey: HASH_KEY, maxTableEntries: 1000 });
  const rng = new SeededRandom(7);
  for (let i = 0; i < 1000; i++) {
    const w = router.route(buildLongHeader(PacketType.ZeroRtt, QUIC_V1, rng.randomBytes(8), rng.randomBytes(8), 48), i);
    t.true(w === -1 || (w >= 0 && w < 2));
  }
  t.is(router.tableSize, 0, `48-byte 0-RTT datagrams created ${router.tableSize} entries (table_full ${router.metrics.snapshot().table_full})`);
  // A real client still gets an entry from its Initial, and its 0-RTT follows it.
  const dcid = rng.randomBytes(8);
  const w = router.route(buildClientInitial({ dcid, scid: rng.randomBytes(8) }), 2000);
  t.true(w >= 0);
  t.is(router.route(buildLongHeader(PacketType.ZeroRtt, QUIC_V1, dcid, rng.randomBytes(8), 300), 2001), w);
});

test('R2: a release from a worker that does not own the entry leaves it in place', (t) => {
  const codec = new WorkerCidCodec({ key: KEY, workers: 2 });
  const router = new Router({ codec, hashKey: HASH_KEY });
  const rng = new SeededRandom(8);
  const dcid = rng.randomBytes(8);
  const w = router.route(buildClientInitial({ dcid, scid: rng.randomBytes(8) }), 0);
  t.true(w >= 0);
  const other = 1 - w;
  // Proposed signature: release(dcid, worker). As reviewed, release(dcid) ignores the sender.
  (router.release as (d: Uint8Array, worker?: number) => boolean)(dcid, other);
  t.is(router.lookup(dcid), w, 'the owner\'s entry survives a stale release from another worker');
  t.is(router.pendingFor(w), 1);
});
