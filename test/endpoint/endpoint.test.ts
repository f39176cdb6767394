// Endpoint unit tests (RFC 9000 §5.2 routing, §6 VN, §8.1 Retry/NEW_TOKEN, §10.3 stateless reset,
// §14.1 Initial size) with stand-in connections, so no TLS is involved.
import test from 'ava';
import { Endpoint, type EndpointOptions, type PathInfo } from '../../src/endpoint/index.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { PacketHeader, decodePacketHeader } from '../../src/codec/header.js';
import { PacketType, QUIC_V1, QUIC_V2, QUIC_V2_DRAFT, isReservedVersion } from '../../src/codec/version.js';
import { verifyRetryIntegrity } from '../../src/crypto/retry.js';
import { initialProtection } from '../../src/crypto/initial.js';
import { FrameType, PacketKind, parseFrames } from '../../src/codec/frames.js';
import { equal, fromHex } from '../../src/util/bytes.js';
import { FakeConnection, fakeFactory } from './fake-connection.js';
import { buildClientInitial, buildLongHeader, buildShort, buildUnknownVersion } from '../support/packets.js';

const T0 = 1_700_000_000_000;
const CLIENT: PathInfo = { remoteAddress: '192.0.2.1', remotePort: 40000 };
const SERVER_OPTS = { alpn: ['hq-interop'] };

function makeServer(extra: Partial<EndpointOptions<FakeConnection>> = {}, seed = 1) {
  const conns: FakeConnection[] = [];
  const ep = new Endpoint<FakeConnection>({
    rng: new SeededRandom(seed),
    server: SERVER_OPTS,
    connectionFactory: fakeFactory(conns),
    ...extra,
  });
  return { ep, conns };
}

function dcidN(n: number, len = 8): Uint8Array {
  return new Uint8Array(len).fill(n);
}

function pull(ep: Endpoint<FakeConnection>): Array<{ data: Uint8Array; to: PathInfo }> {
  const out: Array<{ data: Uint8Array; to: PathInfo }> = [];
  const buf = new Uint8Array(1500);
  for (let s = ep.sendEndpointPacket(buf); s !== null; s = ep.sendEndpointPacket(buf)) {
    out.push({ data: buf.slice(0, s.length), to: s.to });
  }
  return out;
}

function decode(pkt: Uint8Array, cidLen = 8): PacketHeader {
  return decodePacketHeader(pkt, 0, pkt.length, cidLen, new PacketHeader());
}

test('a valid Initial ≥ 1200 bytes creates a server connection and routes its retransmissions by the client DCID', (t) => {
  const { ep, conns } = makeServer();
  const dcid = dcidN(1);
  const init = buildClientInitial({ dcid, scid: dcidN(2) });
  const c = ep.handle(init, CLIENT, T0);
  t.is(conns.length, 1);
  t.is(c, conns[0]);
  const ev = ep.poll();
  t.is(ev?.type, 'connection');
  t.deepEqual(conns[0]!.options.initialDcid, dcid);
  t.is(conns[0]!.options.role, 'server');
  t.is(conns[0]!.options.version, QUIC_V1);
  t.false(conns[0]!.options.addressValidated);
  t.is(conns[0]!.received.length, 1);
  // retransmission with the same DCID: routed, no new connection
  ep.handle(buildClientInitial({ dcid, scid: dcidN(2), pn: 1 }), CLIENT, T0 + 10);
  t.is(conns.length, 1);
  t.is(conns[0]!.received.length, 2);
  t.is(ep.stats.connectionsAccepted, 1);
  // after the handshake the client-chosen DCID no longer routes
  conns[0]!.state = 'established';
  ep.touch(conns[0]!);
  t.is(ep.lookup(dcid), undefined);
  t.is(ep.lookup(conns[0]!.issued[0]!.cid), conns[0]);
});

test('Initials in datagrams < 1200 bytes are dropped (RFC 9000 §14.1), also for known connections', (t) => {
  const { ep, conns } = makeServer();
  ep.handle(buildClientInitial({ dcid: dcidN(1), scid: dcidN(2), size: 1199 }), CLIENT, T0);
  t.is(conns.length, 0);
  t.is(ep.stats.dropped.initial_too_small, 1);
  ep.handle(buildClientInitial({ dcid: dcidN(1), scid: dcidN(2) }), CLIENT, T0);
  t.is(conns.length, 1);
  ep.handle(buildClientInitial({ dcid: dcidN(1), scid: dcidN(2), size: 600, pn: 1 }), CLIENT, T0);
  t.is(conns[0]!.received.length, 1);
  t.is(ep.stats.dropped.initial_too_small, 2);
});

test('client Initial DCIDs shorter than 8 bytes and undecryptable Initials create no state', (t) => {
  const { ep, conns } = makeServer();
  ep.handle(buildClientInitial({ dcid: dcidN(1, 7), scid: dcidN(2) }), CLIENT, T0);
  t.is(ep.stats.dropped.initial_dcid_too_short, 1);
  ep.handle(buildClientInitial({ dcid: dcidN(1), scid: dcidN(2), keysDcid: dcidN(9) }), CLIENT, T0);
  t.is(ep.stats.dropped.initial_undecryptable, 1);
  const good = buildClientInitial({ dcid: dcidN(3), scid: dcidN(2) });
  good[good.length - 1]! ^= 1; // break the AEAD tag
  ep.handle(good, CLIENT, T0);
  t.is(ep.stats.dropped.initial_undecryptable, 2);
  t.is(conns.length, 0);
  t.is(ep.routingEntries, 0);
});

test('Version Negotiation for unknown versions in ≥ 1200-byte datagrams only, listing v1, v2, v2draft and a GREASE version', (t) => {
  const { ep } = makeServer();
  const dcid = fromHex('0102030405060708090a');
  const scid = fromHex('a1a2a3');
  ep.handle(buildUnknownVersion(0x1a2a3a4a, dcid, scid, 1199), CLIENT, T0);
  t.is(ep.stats.dropped.unknown_version_small, 1);
  t.is(pull(ep).length, 0);
  ep.handle(buildUnknownVersion(0x1a2a3a4a, dcid, scid, 1200), CLIENT, T0);
  const out = pull(ep);
  t.is(out.length, 1);
  t.deepEqual(out[0]!.to, CLIENT);
  const h = decode(out[0]!.data);
  t.is(h.type, PacketType.VersionNegotiation);
  t.is(h.version, 0);
  t.true((h.firstByte & 0x80) !== 0);
  t.deepEqual(h.dcid, scid);
  t.deepEqual(h.scid, dcid);
  const vs = h.versions();
  for (const v of [QUIC_V1, QUIC_V2, QUIC_V2_DRAFT]) t.true(vs.includes(v));
  t.is(vs.filter(isReservedVersion).length, 1);
  t.is(vs.length, 4);
  t.is(ep.stats.versionNegotiationSent, 1);
  // a VN packet is never answered (RFC 9000 §6.1)
  ep.handle(buildUnknownVersion(0, dcid, scid, 1200), CLIENT, T0);
  t.is(pull(ep).length, 0);
  t.is(ep.stats.dropped.version_negotiation, 1);
});

test('a server restricted to v1 answers v2 Initials with Version Negotiation', (t) => {
  const { ep, conns } = makeServer({ versions: [QUIC_V1] });
  ep.handle(buildClientInitial({ version: QUIC_V2, dcid: dcidN(1), scid: dcidN(2) }), CLIENT, T0);
  t.is(conns.length, 0);
  const out = pull(ep);
  t.is(out.length, 1);
  const vs = decode(out[0]!.data).versions();
  t.true(vs.includes(QUIC_V1));
  t.false(vs.includes(QUIC_V2));
});

test('v2 and provisional v2 Initials are accepted with their own version', (t) => {
  const { ep, conns } = makeServer();
  ep.handle(buildClientInitial({ version: QUIC_V2, dcid: dcidN(1), scid: dcidN(2) }), CLIENT, T0);
  ep.handle(buildClientInitial({ version: QUIC_V2_DRAFT, dcid: dcidN(3), scid: dcidN(4) }), CLIENT, T0);
  t.is(conns.length, 2);
  t.is(conns[0]!.options.version, QUIC_V2);
  t.is(conns[1]!.options.version, QUIC_V2_DRAFT);
});

test('Retry: integrity tag, token round trip, ODCID and retry_source_connection_id passed to the connection', (t) => {
  const { ep, conns } = makeServer({ retry: 'always' });
  const odcid = dcidN(1);
  const cscid = dcidN(2);
  ep.handle(buildClientInitial({ dcid: odcid, scid: cscid }), CLIENT, T0);
  t.is(conns.length, 0);
  const out = pull(ep);
  t.is(out.length, 1);
  const retry = out[0]!.data;
  t.true(verifyRetryIntegrity(QUIC_V1, odcid, retry));
  const h = decode(retry);
  t.is(h.type, PacketType.Retry);
  t.deepEqual(h.dcid, cscid);
  t.is(h.scid.length, 8);
  t.false(equal(h.scid, odcid));
  const token = h.token.slice();
  const rscid = h.scid.slice();
  t.is(ep.stats.retrySent, 1);
  // the client comes back with the token and the Retry's SCID as DCID
  ep.handle(buildClientInitial({ dcid: rscid, scid: cscid, token }), CLIENT, T0 + 50);
  t.is(conns.length, 1);
  const o = conns[0]!.options;
  t.deepEqual(o.originalDcid, odcid);
  t.deepEqual(o.retrySourceCid, rscid);
  t.deepEqual(o.initialDcid, rscid);
  t.true(o.addressValidated);
  t.is(ep.stats.tokens.retryAccepted, 1);
  t.is(pull(ep).length, 0);
});

function expectInvalidTokenClose(t: import('ava').ExecutionContext, ep: Endpoint<FakeConnection>, dcid: Uint8Array, cscid: Uint8Array): void {
  const out = pull(ep);
  t.is(out.length, 1);
  const pkt = out[0]!.data.slice();
  const h = decode(pkt);
  t.is(h.type, PacketType.Initial);
  t.deepEqual(h.dcid, cscid);
  const keys = initialProtection(QUIC_V1, dcid, false);
  const r = keys.open.unprotect(pkt, 0, h.pnOffset, h.packetEnd, -1);
  t.truthy(r);
  const codes: number[] = [];
  parseFrames(pkt.subarray(r!.payloadOffset, r!.payloadOffset + r!.payloadLength), PacketKind.INITIAL, (f) => {
    if (f.kind === FrameType.CONNECTION_CLOSE) codes.push((f as { errorCode: number }).errorCode);
  });
  t.deepEqual(codes, [0x0b]); // INVALID_TOKEN
}

test('Retry token: expired, wrong address, wrong port or wrong DCID → INVALID_TOKEN close, no connection (RFC 9000 §8.1.2)', (t) => {
  const { ep, conns } = makeServer({ retry: 'always', retryTokenLifetime: 3000 });
  const odcid = dcidN(1);
  const cscid = dcidN(2);
  ep.handle(buildClientInitial({ dcid: odcid, scid: cscid }), CLIENT, T0);
  const h = decode(pull(ep)[0]!.data);
  const token = h.token.slice();
  const rscid = h.scid.slice();
  ep.handle(buildClientInitial({ dcid: rscid, scid: cscid, token }), CLIENT, T0 + 3000);
  expectInvalidTokenClose(t, ep, rscid, cscid);
  ep.handle(buildClientInitial({ dcid: rscid, scid: cscid, token }), { remoteAddress: '192.0.2.2', remotePort: 40000 }, T0 + 10);
  expectInvalidTokenClose(t, ep, rscid, cscid);
  ep.handle(buildClientInitial({ dcid: rscid, scid: cscid, token }), { remoteAddress: '192.0.2.1', remotePort: 40001 }, T0 + 10);
  expectInvalidTokenClose(t, ep, rscid, cscid);
  const other = dcidN(7);
  ep.handle(buildClientInitial({ dcid: other, scid: cscid, token }), CLIENT, T0 + 10);
  expectInvalidTokenClose(t, ep, other, cscid);
  const forged = token.slice();
  forged[20]! ^= 0x40;
  ep.handle(buildClientInitial({ dcid: rscid, scid: cscid, token: forged }), CLIENT, T0 + 10);
  expectInvalidTokenClose(t, ep, rscid, cscid);
  t.is(conns.length, 0);
  t.is(ep.stats.tokens.retryRejected, 5);
  t.is(ep.stats.invalidTokenCloseSent, 5);
  t.is(ep.stats.dropped.invalid_token, 5);
  // an invalid Retry token on an undecryptable Initial: dropped without an answer
  ep.handle(buildClientInitial({ dcid: rscid, scid: cscid, token: forged, keysDcid: dcidN(3) }), CLIENT, T0 + 10);
  t.is(pull(ep).length, 0);
});

test('NEW_TOKEN: minted for the address, accepted from another port, once; invalid ones count as no token (RFC 9000 §8.1.3)', (t) => {
  const { ep, conns } = makeServer({ retry: 'always' });
  // a connection validated by Retry mints a NEW_TOKEN for its client
  ep.handle(buildClientInitial({ dcid: dcidN(1), scid: dcidN(2) }), CLIENT, T0);
  const h = decode(pull(ep)[0]!.data);
  ep.handle(buildClientInitial({ dcid: h.scid.slice(), scid: dcidN(2), token: h.token.slice() }), CLIENT, T0);
  const minter = conns[0]!.options.newTokenMinter!;
  t.is(typeof minter, 'function');
  const nt = minter({ remoteAddress: CLIENT.remoteAddress, remotePort: CLIENT.remotePort }, T0 + 100);
  const nt2 = minter({ remoteAddress: CLIENT.remoteAddress, remotePort: CLIENT.remotePort }, T0 + 100);
  t.false(equal(nt, nt2));
  // hours later, from another port: validated, no Retry
  const later = T0 + 3 * 3600_000;
  const from2: PathInfo = { remoteAddress: CLIENT.remoteAddress, remotePort: 50000 };
  ep.handle(buildClientInitial({ dcid: dcidN(5), scid: dcidN(6), token: nt }), from2, later);
  t.is(conns.length, 2);
  t.true(conns[1]!.options.addressValidated);
  t.is(conns[1]!.options.originalDcid, undefined);
  t.is(ep.stats.tokens.newTokenAccepted, 1);
  // replay of the same token: treated as no token → Retry
  ep.handle(buildClientInitial({ dcid: dcidN(7), scid: dcidN(6), token: nt }), from2, later);
  t.is(conns.length, 2);
  t.is(decode(pull(ep)[0]!.data).type, PacketType.Retry);
  // from another IP address: fails → Retry
  ep.handle(buildClientInitial({ dcid: dcidN(8), scid: dcidN(6), token: nt2 }), { remoteAddress: '198.51.100.1', remotePort: 1 }, later);
  t.is(decode(pull(ep)[0]!.data).type, PacketType.Retry);
  // garbage tokens: no token → Retry, never INVALID_TOKEN
  ep.handle(buildClientInitial({ dcid: dcidN(9), scid: dcidN(6), token: new Uint8Array([1, 2, 3]) }), CLIENT, later);
  t.is(decode(pull(ep)[0]!.data).type, PacketType.Retry);
  t.is(ep.stats.tokens.newTokenRejected, 2);
  t.is(ep.stats.tokens.unknownRejected, 1);
  t.is(ep.stats.invalidTokenCloseSent, 0);
});

test('NEW_TOKEN with retry never: an invalid token still creates the connection, unvalidated', (t) => {
  const { ep, conns } = makeServer();
  const bad = new Uint8Array(60).fill(0x4e); // 'N' kind byte, garbage body
  ep.handle(buildClientInitial({ dcid: dcidN(1), scid: dcidN(2), token: bad }), CLIENT, T0);
  t.is(conns.length, 1);
  t.false(conns[0]!.options.addressValidated);
  t.is(ep.stats.tokens.newTokenRejected, 1);
});

test('automatic Retry once handshakes in progress exceed the limit', (t) => {
  const { ep, conns } = makeServer({ retry: { whenHandshakesExceed: 2 } });
  for (let i = 0; i < 3; i++) ep.handle(buildClientInitial({ dcid: dcidN(10 + i), scid: dcidN(2) }), CLIENT, T0);
  t.is(conns.length, 3);
  t.is(ep.handshakesInProgress(), 3);
  ep.handle(buildClientInitial({ dcid: dcidN(20), scid: dcidN(2) }), CLIENT, T0);
  t.is(conns.length, 3);
  t.is(ep.stats.retrySent, 1);
  conns[0]!.state = 'established';
  conns[1]!.state = 'established';
  ep.handle(buildClientInitial({ dcid: dcidN(21), scid: dcidN(2) }), CLIENT, T0);
  t.is(conns.length, 4);
});

test('stateless reset: size below the trigger, ≥ 21 bytes, short-header form, HMAC token of the DCID', (t) => {
  const { ep } = makeServer();
  const dcid = dcidN(0x33);
  for (const trigger of [22, 30, 43, 44, 100, 1200]) {
    ep.handle(buildShort(dcid, trigger), CLIENT, T0);
    const out = pull(ep);
    t.is(out.length, 1, `trigger ${trigger}`);
    const r = out[0]!.data;
    t.true(r.length < trigger);
    t.true(r.length >= 21);
    if (trigger <= 43) t.is(r.length, trigger - 1);
    else t.true(r.length >= 43);
    t.is(r[0]! & 0xc0, 0x40);
    t.deepEqual(r.subarray(r.length - 16), ep.resetTokenFor(dcid));
  }
  t.is(ep.stats.statelessResetSent, 6);
  ep.handle(buildShort(dcid, 21), CLIENT, T0);
  t.is(ep.stats.dropped.reset_too_small, 1);
  ep.handle(buildShort(dcid, 20), CLIENT, T0);
  t.is(ep.stats.dropped.short_packet, 1);
  ep.handle(buildShort(dcid, 5), CLIENT, T0);
  t.is(ep.stats.dropped.short_packet, 2);
  t.is(pull(ep).length, 0);
});

test('stateless reset: unpredictable bits differ between resets; tokens differ per CID', (t) => {
  const { ep } = makeServer();
  ep.handle(buildShort(dcidN(1), 100), CLIENT, T0);
  ep.handle(buildShort(dcidN(1), 100), CLIENT, T0);
  const [a, b] = pull(ep);
  t.notDeepEqual(a!.data.subarray(1, 20), b!.data.subarray(1, 20));
  t.false(equal(ep.resetTokenFor(dcidN(1)), ep.resetTokenFor(dcidN(2))));
});

test('stateless reset rate limit: burst then refill over time', (t) => {
  const { ep } = makeServer({ statelessResetRate: 10, statelessResetBurst: 5 });
  for (let i = 0; i < 8; i++) ep.handle(buildShort(dcidN(i), 60), CLIENT, T0);
  t.is(ep.stats.statelessResetSent, 5);
  t.is(ep.stats.dropped.reset_rate_limited, 3);
  ep.handle(buildShort(dcidN(1), 60), CLIENT, T0 + 100);
  t.is(ep.stats.statelessResetSent, 6);
  ep.handle(buildShort(dcidN(1), 60), CLIENT, T0 + 100);
  t.is(ep.stats.statelessResetSent, 6);
  const { ep: off } = makeServer({ statelessResetRate: 0 });
  off.handle(buildShort(dcidN(1), 60), CLIENT, T0);
  t.is(off.stats.statelessResetSent, 0);
});

test('the same static key gives the same reset tokens after a restart', (t) => {
  const key = new Uint8Array(32).fill(7);
  const a = makeServer({ statelessResetKey: key }, 1).ep;
  const b = makeServer({ statelessResetKey: key }, 2).ep;
  t.deepEqual(a.resetTokenFor(dcidN(4)), b.resetTokenFor(dcidN(4)));
});

test('routing follows CID issuance and retirement; a closed connection leaves the table', (t) => {
  const { ep, conns } = makeServer();
  ep.handle(buildClientInitial({ dcid: dcidN(1), scid: dcidN(2) }), CLIENT, T0);
  const c = conns[0]!;
  c.state = 'established';
  const first = c.issued[0]!;
  t.deepEqual(first.resetToken, ep.resetTokenFor(first.cid));
  const extra = [c.issue(), c.issue(), c.issue()];
  for (const e of extra) t.deepEqual(e.resetToken, ep.resetTokenFor(e.cid));
  ep.handle(buildShort(extra[1]!.cid, 60), CLIENT, T0);
  t.is(c.received.length, 2);
  // migration: the peer now uses the third CID from a new address
  const moved: PathInfo = { remoteAddress: '203.0.113.9', remotePort: 1234 };
  ep.handle(buildShort(extra[2]!.cid, 60), moved, T0);
  t.is(c.received.length, 3);
  t.deepEqual(c.received[2]!.from, moved);
  c.retire(extra[1]!.cid);
  ep.handle(buildShort(extra[1]!.cid, 60), CLIENT, T0);
  t.is(c.received.length, 3);
  t.is(ep.stats.statelessResetSent, 1);
  // close: every CID stops routing, the connection is reported gone
  c.state = 'closed';
  t.is(ep.nextTimeout(), Infinity);
  t.is(ep.connectionCount, 0);
  t.is(ep.routingEntries, 0);
  ep.poll(); // 'connection'
  t.is(ep.poll()?.type, 'connection-closed');
  ep.handle(buildShort(first.cid, 60), CLIENT, T0);
  t.is(c.received.length, 3);
  t.is(ep.stats.connectionsClosed, 1);
});

test('reconciles the table against connection.localCids when a CID is retired without the hook', (t) => {
  const { ep, conns } = makeServer();
  ep.handle(buildClientInitial({ dcid: dcidN(1), scid: dcidN(2) }), CLIENT, T0);
  const c = conns[0]!;
  c.state = 'established';
  ep.touch(c);
  const extra = c.issue();
  t.is(ep.routingEntries, 2);
  c.issued.pop(); // retired inside the connection, no hook call
  ep.onTimeout(T0);
  t.is(ep.routingEntries, 1);
  t.is(ep.lookup(extra.cid), undefined);
});

test('a stateless reset with a random DCID reaches the connection of that address (RFC 9000 §10.3.1)', (t) => {
  const conns: FakeConnection[] = [];
  const client = new Endpoint<FakeConnection>({ rng: new SeededRandom(3), connectionFactory: fakeFactory(conns) });
  const server: PathInfo = { remoteAddress: '10.0.0.1', remotePort: 443 };
  const c = client.connect(server, { alpn: ['h3'] }, T0);
  t.is(c.options.role, 'client');
  t.is(c.options.initialDcid!.length, 8);
  const token = new Uint8Array(16).fill(0xee);
  c.peerResetTokens = [token];
  const reset = buildShort(dcidN(0x77), 40);
  reset.set(token, 24);
  // from another address: not offered; the client endpoint answers with its own smaller reset
  client.handle(reset, { remoteAddress: '10.0.0.2', remotePort: 443 }, T0);
  t.is(c.resets, 0);
  t.is(client.stats.statelessResetSent, 1);
  client.handle(reset, server, T0);
  t.is(c.resets, 1);
  t.is(client.stats.statelessResetReceived, 1);
});

test('client endpoint: VN and server packets route by the client CID; Initials from others are not accepted', (t) => {
  const conns: FakeConnection[] = [];
  const client = new Endpoint<FakeConnection>({ rng: new SeededRandom(4), connectionFactory: fakeFactory(conns) });
  const server: PathInfo = { remoteAddress: '10.0.0.1', remotePort: 443 };
  const c = client.connect(server, { alpn: ['h3'] }, T0);
  const scid = c.issued[0]!.cid;
  client.handle(buildUnknownVersion(0, scid, dcidN(1), 40), server, T0);
  t.is(c.received.length, 1);
  client.handle(buildClientInitial({ dcid: dcidN(9), scid: dcidN(8) }), server, T0);
  t.is(client.stats.dropped.not_server, 1);
  t.is(client.connectionCount, 1);
  // a client does not send VN
  client.handle(buildUnknownVersion(0x1a2a3a4a, dcidN(9), dcidN(8), 1200), server, T0);
  t.is(client.stats.dropped.unknown_version, 1);
  t.is(client.queuedPackets, 0);
});

test('0-RTT packets ahead of their Initial are buffered and replayed after it', (t) => {
  const { ep, conns } = makeServer();
  const dcid = dcidN(1);
  const zrtt = buildLongHeader(PacketType.ZeroRtt, QUIC_V1, dcid, dcidN(2), 300);
  ep.handle(zrtt, CLIENT, T0);
  ep.handle(zrtt, CLIENT, T0);
  t.is(ep.stats.zeroRttBuffered, 2);
  ep.handle(buildClientInitial({ dcid, scid: dcidN(2) }), CLIENT, T0 + 5);
  t.is(conns[0]!.received.length, 3);
  t.deepEqual(conns[0]!.received[1]!.data, zrtt);
  t.is(ep.stats.zeroRttReplayed, 2);
  // expired buffers are not replayed
  ep.handle(buildLongHeader(PacketType.ZeroRtt, QUIC_V1, dcidN(3), dcidN(2), 300), CLIENT, T0);
  ep.handle(buildLongHeader(PacketType.ZeroRtt, QUIC_V1, dcidN(4), dcidN(2), 300), CLIENT, T0 + 5000);
  ep.handle(buildClientInitial({ dcid: dcidN(3), scid: dcidN(2) }), CLIENT, T0 + 5000);
  t.is(conns[1]!.received.length, 1);
});

test('garbage is dropped and counted by reason', (t) => {
  const { ep, conns } = makeServer();
  ep.handle(new Uint8Array(0), CLIENT, T0);
  ep.handle(new Uint8Array([0xc0, 0, 0]), CLIENT, T0); // truncated long header
  ep.handle(buildLongHeader(PacketType.Handshake, QUIC_V1, dcidN(1), dcidN(2), 100), CLIENT, T0);
  const longCid = buildUnknownVersion(QUIC_V1, new Uint8Array(21), dcidN(2), 1200);
  longCid[0] = 0xc0;
  ep.handle(longCid, CLIENT, T0);
  const noFixed = buildClientInitial({ dcid: dcidN(1), scid: dcidN(2) });
  noFixed[0]! &= ~0x40;
  ep.handle(noFixed, CLIENT, T0);
  t.is(ep.stats.dropped.empty, 1);
  t.is(ep.stats.dropped.unknown_cid, 1);
  t.is(ep.stats.dropped.bad_header, 3);
  t.is(ep.stats.datagramsDropped, 5);
  t.is(ep.stats.datagramsReceived, 5);
  t.is(conns.length, 0);
});

test('connection limit (answered with CONNECTION_REFUSED, RFC 9000 §5.2.2) and option validation', (t) => {
  const { ep, conns } = makeServer({ maxConnections: 1 });
  ep.handle(buildClientInitial({ dcid: dcidN(1), scid: dcidN(2) }), CLIENT, T0);
  ep.handle(buildClientInitial({ dcid: dcidN(3), scid: dcidN(2) }), CLIENT, T0);
  t.is(conns.length, 1);
  t.is(ep.stats.dropped.connection_limit, 1);
  t.is(ep.stats.refusedCloseSent, 1);
  const refused = pull(ep)[0]!.data.slice();
  const rh = decode(refused);
  const keys = initialProtection(QUIC_V1, dcidN(3), false);
  const r = keys.open.unprotect(refused, 0, rh.pnOffset, rh.packetEnd, -1)!;
  const codes: number[] = [];
  parseFrames(refused.subarray(r.payloadOffset, r.payloadOffset + r.payloadLength), PacketKind.INITIAL, (f) => {
    if (f.kind === FrameType.CONNECTION_CLOSE) codes.push((f as { errorCode: number }).errorCode);
  });
  t.deepEqual(codes, [0x02]); // CONNECTION_REFUSED
  const rng = new SeededRandom(1);
  t.throws(() => new Endpoint({ rng: undefined as never }), { instanceOf: TypeError, message: /options\.rng/ });
  t.throws(() => new Endpoint({ rng, cidLength: 0 }), { instanceOf: RangeError });
  t.throws(() => new Endpoint({ rng, versions: [0x1a2a3a4a] }), { instanceOf: RangeError, message: /options\.versions/ });
  t.throws(() => new Endpoint({ rng, retry: 'sometimes' as never }), { instanceOf: TypeError, message: /options\.retry/ });
  t.throws(() => new Endpoint({ rng, tokenKey: new Uint8Array(3) }), { instanceOf: RangeError, message: /tokenKey/ });
  t.throws(() => new Endpoint({ rng, cidGenerator: { length: 4, generate: () => new Uint8Array(4) }, cidLength: 8 }), { instanceOf: RangeError });
});

test('a pluggable CID generator decides every issued CID (e.g. a worker index in byte 0)', (t) => {
  let n = 0;
  const gen = { length: 6, generate: () => new Uint8Array([0x42, 0, 0, 0, (n >> 8) & 0xff, n++ & 0xff]) };
  const { ep, conns } = makeServer({ cidGenerator: gen, retry: 'always' });
  ep.handle(buildClientInitial({ dcid: dcidN(1), scid: dcidN(2) }), CLIENT, T0);
  const h = decode(pull(ep)[0]!.data, 6);
  t.is(h.scid[0], 0x42);
  ep.handle(buildClientInitial({ dcid: h.scid.slice(), scid: dcidN(2), token: h.token.slice() }), CLIENT, T0);
  const c = conns[0]!;
  t.is(c.issued[0]!.cid[0], 0x42);
  t.is(c.issue().cid.length, 6);
  // short headers are parsed with the generator's length
  c.state = 'established';
  ep.handle(buildShort(c.issued[1]!.cid, 40), CLIENT, T0);
  t.is(c.received.length, 2);
});

test('onTimeout runs due connection timers; nextTimeout is the minimum', (t) => {
  const { ep, conns } = makeServer();
  ep.handle(buildClientInitial({ dcid: dcidN(1), scid: dcidN(2) }), CLIENT, T0);
  ep.handle(buildClientInitial({ dcid: dcidN(3), scid: dcidN(2) }), CLIENT, T0);
  conns[0]!.timeout = T0 + 50;
  conns[1]!.timeout = T0 + 20;
  t.is(ep.nextTimeout(), T0 + 20);
  ep.onTimeout(T0 + 20);
  t.is(conns[1]!.timeouts, 1);
  t.is(conns[0]!.timeouts, 0);
  t.is(ep.nextTimeout(), T0 + 50);
});
