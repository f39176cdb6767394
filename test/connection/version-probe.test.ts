// ConnectionOptions.probeVersion: a client soliciting Version Negotiation with an unsupported
// (reserved, 0x?a?a?a?a) version on its first flight (RFC 9000 §6.3, §17.2.1), then continuing in
// its own version when the server's Version Negotiation packet offers it (the interop case "Quiver
// client offering an unknown version first" against ngtcp2, issue 7 case 7).
import test from 'ava';
import { Connection, QUIC_V1, QUIC_V2, type ConnectionEvent, type QlogEvent } from '../../src/connection/index.js';
import { encodeVersionNegotiation } from '../../src/codec/header.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { Writer } from '../../src/util/bytes.js';
import { StreamApp } from './app.js';
import { Pair, SERVER_ADDR, VIRTUAL_EPOCH, baseClientOptions } from './pair.js';

const PROBE = 0x1a2a3a4a;

/** RFC 9000 §17.2: version, DCID and SCID of a long-header datagram (any version). */
function longHeaderIds(d: Uint8Array): { version: number; dcid: Uint8Array; scid: Uint8Array } {
  const version = ((d[1]! << 24) | (d[2]! << 16) | (d[3]! << 8) | d[4]!) >>> 0;
  const dl = d[5]!;
  const dcid = d.slice(6, 6 + dl);
  const sl = d[6 + dl]!;
  const scid = d.slice(7 + dl, 7 + dl + sl);
  return { version, dcid, scid };
}

/** The Version Negotiation packet a server sends for datagram `d` (RFC 9000 §17.2.1: CIDs swapped). */
function versionNegotiationFor(d: Uint8Array, versions: number[]): Uint8Array {
  const ids = longHeaderIds(d);
  const w = new Writer(new Uint8Array(200));
  const n = encodeVersionNegotiation(w, ids.scid, ids.dcid, versions, 0x15);
  return w.buf.slice(0, n);
}

function closedEvent(events: ConnectionEvent[]) {
  const e = events.find((x) => x.type === 'closed');
  return e?.type === 'closed' ? e.error : undefined;
}

test('probeVersion: first flight carries the probe; VN offering v1 → the flight is resent in v1 and the handshake completes', (t) => {
  const sent: number[] = [];
  const vn: Uint8Array[] = [];
  const qlog: QlogEvent[] = [];
  const p = new Pair({
    client: { probeVersion: PROBE, qlog: (e) => qlog.push(e) },
    filter: (dir, d) => {
      if (dir !== 'up' || (d[0]! & 0x80) === 0) return d;
      const v = longHeaderIds(d).version;
      sent.push(v);
      if (v !== PROBE) return d;
      // A server that does not know the version answers with Version Negotiation (the endpoint's job).
      vn.push(versionNegotiationFor(d, [QUIC_V1, 0x5a6a7a8a]));
      return null;
    },
  });
  t.true(p.runUntil(() => vn.length > 0, 1000));
  const probes = sent.length;
  t.true(probes >= 1 && sent.every((v) => v === PROBE), 'the first flight carries the probe');
  p.client.receive(vn[0]!, SERVER_ADDR, p.now + 1);
  t.is(p.client.state, 'handshaking');
  t.true(p.handshake());
  t.is(p.client.version, QUIC_V1);
  t.is(p.server!.version, QUIC_V1);
  t.true(sent.slice(probes).every((v) => v === QUIC_V1), `versions sent: ${sent.map((v) => v.toString(16))}`);
  t.is(vn.length, probes, 'no probe after the Version Negotiation');
  t.true(qlog.some((e) => e.name === 'transport:packet_received' && (e.data as { header?: { packet_type?: string } }).header?.packet_type === 'version_negotiation'));
  // The connection works afterwards.
  const capp = new StreamApp(p.client);
  const sapp = new StreamApp(p.server!);
  sapp.onFinished = (id, n) => sapp.send(id, n, true);
  p.onEvent = (side, _c, e) => (side === 'client' ? capp : sapp).handle(e);
  capp.send(p.client.openStream(true)!, 20_000, true);
  t.true(p.runUntil(() => capp.finishedCount() === 1, 10_000));
  t.false(capp.anyCorrupt());
});

test('probeVersion: a VN listing the probe is ignored; a second VN after reacting is dropped', (t) => {
  const c = new Connection({ ...baseClientOptions(new SeededRandom(5)), probeVersion: PROBE }, VIRTUAL_EPOCH);
  const buf = new Uint8Array(1500);
  const first = c.send(buf, VIRTUAL_EPOCH)!;
  const d = buf.slice(0, first.length);
  t.is(longHeaderIds(d).version, PROBE);
  c.receive(versionNegotiationFor(d, [PROBE, QUIC_V1]), SERVER_ADDR, VIRTUAL_EPOCH + 5);
  t.is(c.state, 'handshaking');
  // Still probing: nothing was resent.
  t.is(c.send(buf, VIRTUAL_EPOCH + 5), null);
  c.receive(versionNegotiationFor(d, [QUIC_V1]), SERVER_ADDR, VIRTUAL_EPOCH + 6);
  const again = c.send(buf, VIRTUAL_EPOCH + 6)!;
  t.true(again.length >= 1200);
  t.is(longHeaderIds(buf).version, QUIC_V1);
  // A late VN (now without v1) must not close the connection.
  c.receive(versionNegotiationFor(d, [QUIC_V2]), SERVER_ADDR, VIRTUAL_EPOCH + 7);
  t.is(c.state, 'handshaking');
});

test('probeVersion: a VN without our version closes with kind "version"', (t) => {
  const c = new Connection({ ...baseClientOptions(new SeededRandom(6)), probeVersion: PROBE }, VIRTUAL_EPOCH);
  const buf = new Uint8Array(1500);
  const info = c.send(buf, VIRTUAL_EPOCH)!;
  c.receive(versionNegotiationFor(buf.slice(0, info.length), [QUIC_V2, 0xff00001d]), SERVER_ADDR, VIRTUAL_EPOCH + 5);
  t.is(c.state, 'closed');
  const events: ConnectionEvent[] = [];
  for (let e = c.pollEvent(); e; e = c.pollEvent()) events.push(e);
  t.like(closedEvent(events)!, { kind: 'version', errCode: 'ERR_QUIC_VERSION_NEGOTIATION' });
});

test('probeVersion: checked (client only, an unsupported 32-bit version)', (t) => {
  const base = baseClientOptions(new SeededRandom(7));
  t.throws(() => new Connection({ ...base, probeVersion: QUIC_V1 }, VIRTUAL_EPOCH), { instanceOf: RangeError, message: /options\.probeVersion/ });
  t.throws(() => new Connection({ ...base, probeVersion: 0 }, VIRTUAL_EPOCH), { instanceOf: RangeError, message: /options\.probeVersion/ });
  t.throws(() => new Connection({ ...base, probeVersion: 2 ** 32 }, VIRTUAL_EPOCH), { instanceOf: RangeError, message: /options\.probeVersion/ });
  t.throws(() => new Connection({ ...base, probeVersion: 1.5 }, VIRTUAL_EPOCH), { instanceOf: TypeError, message: /options\.probeVersion/ });
  t.throws(() => new Connection({ ...base, role: 'server', initialDcid: new Uint8Array(8), probeVersion: PROBE }, VIRTUAL_EPOCH), { instanceOf: TypeError, message: /options\.probeVersion/ });
});
