// fast-check: random and mutated datagrams into Endpoint.handle() never throw, never reach a
// connection their DCID does not name, and every refused datagram is counted exactly once.
import test from 'ava';
import fc from 'fast-check';
import { Endpoint, type PathInfo } from '../../src/endpoint/index.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { equal } from '../../src/util/bytes.js';
import { FakeConnection, fakeFactory } from './fake-connection.js';
import { buildClientInitial, buildShort } from '../support/packets.js';

const T0 = 1_700_000_000_000;
const A: PathInfo = { remoteAddress: '192.0.2.1', remotePort: 1000 };
const B: PathInfo = { remoteAddress: '192.0.2.2', remotePort: 2000 };

function world() {
  const conns: FakeConnection[] = [];
  const ep = new Endpoint<FakeConnection>({
    rng: new SeededRandom(42),
    server: { alpn: ['h3'] },
    connectionFactory: fakeFactory(conns),
    statelessResetRate: 1e9,
    statelessResetBurst: 1e9,
  });
  ep.handle(buildClientInitial({ dcid: new Uint8Array(8).fill(0xa1), scid: new Uint8Array(8).fill(0xa2) }), A, T0);
  ep.handle(buildClientInitial({ dcid: new Uint8Array(8).fill(0xb1), scid: new Uint8Array(8).fill(0xb2) }), B, T0);
  const [a, b] = conns as [FakeConnection, FakeConnection];
  a.state = 'established';
  b.state = 'established';
  ep.touch(a);
  ep.touch(b);
  a.issue();
  b.issue();
  return { ep, conns, a, b };
}

/** Which connection (if any) a datagram's DCID names, judged independently of the endpoint. */
function owner(d: Uint8Array, conns: FakeConnection[]): FakeConnection | undefined {
  if (d.length === 0) return undefined;
  let dcid: Uint8Array;
  if ((d[0]! & 0x80) === 0) {
    if (d.length < 9) return undefined;
    dcid = d.subarray(1, 9);
  } else {
    // RFC 8999 invariants: version, DCID, SCID must be present.
    if (d.length < 7) return undefined;
    const dl = d[5]!;
    if (d.length < 7 + dl || d.length < 7 + dl + d[6 + dl]!) return undefined;
    dcid = d.subarray(6, 6 + dl);
    const version = ((d[1]! << 24) | (d[2]! << 16) | (d[3]! << 8) | d[4]!) >>> 0;
    if (version === 0) return undefined; // a server never takes Version Negotiation
    const typeBits = (d[0]! >> 4) & 3;
    const initial = version === 1 ? typeBits === 0 : (version === 0x6b3343cf || version === 0x709a50c4) && typeBits === 1;
    if (initial && d.length < 1200) return undefined; // RFC 9000 §14.1
  }
  return conns.find((c) => c.issued.some((i) => equal(i.cid, dcid)));
}

function checkRun(t: import('ava').ExecutionContext, datagrams: Uint8Array[], froms: PathInfo[]): void {
  const { ep, conns, a, b } = world();
  const before = conns.length;
  const baseA = a.received.length;
  const baseB = b.received.length;
  let expectA = 0;
  let expectB = 0;
  let dropped = ep.stats.datagramsDropped;
  datagrams.forEach((d, i) => {
    const o = owner(d, [a, b]);
    const routedBefore = ep.stats.datagramsRouted;
    const created = conns.length;
    ep.handle(d, froms[i % froms.length]!, T0 + i);
    if (o === a) expectA++;
    if (o === b) expectB++;
    const routed = ep.stats.datagramsRouted - routedBefore;
    const nowDropped = ep.stats.datagramsDropped - dropped;
    dropped = ep.stats.datagramsDropped;
    // every datagram is routed, dropped (counted), buffered, answered, or creates a connection
    const buffered = ep.stats.zeroRttBuffered;
    t.true(routed + nowDropped >= 1 || conns.length > created || buffered > 0 || ep.queuedPackets > 0, `datagram ${i} vanished`);
  });
  t.is(a.received.length - baseA, expectA);
  t.is(b.received.length - baseB, expectB);
  // new connections only from ≥ 1200-byte datagrams
  for (const c of conns.slice(before)) t.true(c.received[0]!.data.length >= 1200);
  const buf = new Uint8Array(1500);
  for (let s = ep.sendEndpointPacket(buf); s !== null; s = ep.sendEndpointPacket(buf)) t.true(s.length > 0);
}

test('random datagrams never throw and never reach a connection they do not name', (t) => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 1400 }), { minLength: 1, maxLength: 20 }), (ds) => {
      checkRun(t, ds, [A, B, { remoteAddress: '::1', remotePort: 9 }]);
    }),
    { numRuns: 300, seed: 1 },
  );
});

test('mutated valid datagrams (Initials, short headers to live CIDs) never throw and stay with their owner', (t) => {
  const { a, b } = world();
  const seeds: Uint8Array[] = [
    buildClientInitial({ dcid: new Uint8Array(8).fill(0xc1), scid: new Uint8Array(8).fill(0xc2) }),
    buildClientInitial({ dcid: new Uint8Array(8).fill(0xa1), scid: new Uint8Array(8).fill(0xa2), pn: 3 }),
    buildShort(a.issued[0]!.cid, 80),
    buildShort(b.issued[1]!.cid, 1200),
    buildShort(new Uint8Array(8).fill(0xee), 60),
  ];
  const mutation = fc.record({
    which: fc.nat(seeds.length - 1),
    edits: fc.array(fc.tuple(fc.nat(1399), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
    cut: fc.option(fc.nat(1400), { nil: undefined }),
  });
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 12 }), (ms) => {
      const ds = ms.map((m) => {
        const base = seeds[m.which]!;
        let d = base.slice();
        for (const [pos, v] of m.edits) if (pos < d.length) d[pos] = v;
        if (m.cut !== undefined) d = d.slice(0, m.cut % (d.length + 1));
        return d;
      });
      checkRun(t, ds, [A, B]);
    }),
    { numRuns: 300, seed: 2 },
  );
});

test('a flood of unknown-CID short headers cannot exceed the reset rate limit and resets are always smaller', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 1400 }), { minLength: 1, maxLength: 200 }), (sizes) => {
      const ep = new Endpoint<FakeConnection>({ rng: new SeededRandom(7), server: { alpn: ['h3'] }, connectionFactory: fakeFactory([]), statelessResetRate: 5, statelessResetBurst: 3 });
      const buf = new Uint8Array(1500);
      for (const n of sizes) {
        ep.handle(buildShort(new Uint8Array(8).fill(n & 0xff), n), A, T0);
        const s = ep.sendEndpointPacket(buf);
        if (s !== null) {
          t.true(s.length < n && s.length >= 21);
          t.is(buf[0]! & 0xc0, 0x40);
        }
      }
      t.true(ep.stats.statelessResetSent <= 3);
    }),
    { numRuns: 100, seed: 3 },
  );
});
