// HTTP/3 settings across 0-RTT (RFC 9114 §7.2.4.2, RFC 9204 §3.2.3) over the fake QUIC pair: the
// remembered-settings blob, the server's compatibility rule for accepting 0-RTT, and the client
// complying with remembered SETTINGS before the server's arrive — then holding an accepting server
// to them, and refusing new QPACK limits its already encoded sections cannot live with.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { fromUtf8, utf8 } from '../../src/util/bytes.js';
import { H3ErrorCode as E, defaultSettings, type H3Settings } from '../../src/h3/wire/index.js';
import {
  acceptsRememberedSettings,
  decodeRememberedSettings,
  encodeRememberedSettings,
  rememberedSettingsConflict,
  rememberedSettingsFor,
} from '../../src/h3/index.js';
import type { H3LocalSettings } from '../../src/h3/types.js';
import { H3Pair, drain, get, ofType } from './support/h3-pair.js';
import { RawPair } from './support/raw-peer.js';

const settings = (o: Partial<H3Settings>): H3Settings => ({ ...defaultSettings(), ...o });

// ---- the blob -----------------------------------------------------------------------------------

test('remembered settings: round trip; GREASE/unknown ids dropped; version byte', (t) => {
  const s = settings({ qpackMaxTableCapacity: 16384, qpackBlockedStreams: 100, maxFieldSectionSize: 65536, enableConnectProtocol: true, h3Datagram: true, unknown: [[0x21, 7]] });
  const blob = encodeRememberedSettings(s);
  t.is(blob[0], 1);
  t.deepEqual(decodeRememberedSettings(blob), { ...s, unknown: [] });
  t.deepEqual(decodeRememberedSettings(encodeRememberedSettings(defaultSettings())), defaultSettings());
  t.is(encodeRememberedSettings(defaultSettings()).length, 1);
});

test('remembered settings: every truncated prefix, a wrong version, foreign ids → null, never an exception', (t) => {
  const blob = encodeRememberedSettings(settings({ qpackMaxTableCapacity: 300, maxFieldSectionSize: 1 << 20, h3Datagram: true }));
  for (let cut = 0; cut < blob.length; cut++) {
    const d = decodeRememberedSettings(blob.subarray(0, cut));
    // A cut at a setting boundary is a shorter valid blob; inside a setting it is unreadable.
    if (d !== null) t.deepEqual(encodeRememberedSettings(d), blob.subarray(0, cut));
  }
  t.is(decodeRememberedSettings(new Uint8Array(0)), null);
  t.is(decodeRememberedSettings(Uint8Array.of(2)), null);
  t.is(decodeRememberedSettings(Uint8Array.of(1, 0x21, 0x01)), null, 'an unknown id was never written by us');
  t.is(decodeRememberedSettings(Uint8Array.of(1, 0x08, 0x02)), null, 'invalid boolean');
  t.is(decodeRememberedSettings(Uint8Array.of(1, 0x01, 0x01, 0x01, 0x02)), null, 'duplicate');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 24 }), (b) => {
      const d = decodeRememberedSettings(b);
      return d === null || typeof d.qpackMaxTableCapacity === 'number';
    }),
    { numRuns: 5000 },
  );
});

// ---- compatibility (server side: accept 0-RTT or not) ----------------------------------------------

test('rememberedSettingsConflict: lower limits, withdrawn features, a changed non-zero QPACK capacity', (t) => {
  const r = settings({ qpackMaxTableCapacity: 4096, qpackBlockedStreams: 16, maxFieldSectionSize: 16384, enableConnectProtocol: true, h3Datagram: true });
  t.is(rememberedSettingsConflict(r, r), null);
  t.is(rememberedSettingsConflict(r, { ...r, qpackBlockedStreams: 100, maxFieldSectionSize: 65536 }), null, 'raising limits is fine');
  const bad: Array<[Partial<H3Settings>, RegExp]> = [
    [{ qpackMaxTableCapacity: 8192 }, /QPACK_MAX_TABLE_CAPACITY 8192 differs/],
    [{ qpackMaxTableCapacity: 0 }, /QPACK_MAX_TABLE_CAPACITY 0 differs/],
    [{ qpackBlockedStreams: 15 }, /BLOCKED_STREAMS 15/],
    [{ maxFieldSectionSize: 16383 }, /MAX_FIELD_SECTION_SIZE 16383/],
    [{ maxFieldSectionSize: Infinity }, /MAX_FIELD_SECTION_SIZE omitted/],
    [{ enableConnectProtocol: false }, /ENABLE_CONNECT_PROTOCOL/],
    [{ h3Datagram: false }, /H3_DATAGRAM/],
  ];
  for (const [change, re] of bad) t.regex(rememberedSettingsConflict(r, { ...r, ...change }) ?? '', re, JSON.stringify(change));
  // A zero remembered capacity lets the server choose any (RFC 9204 §3.2.3).
  t.is(rememberedSettingsConflict(defaultSettings(), settings({ qpackMaxTableCapacity: 16384, qpackBlockedStreams: 100 })), null);
});

test('server: 0-RTT only when the ticket remembers settings compatible with the current ones', (t) => {
  const before: H3LocalSettings = { qpackMaxTableCapacity: 4096, qpackBlockedStreams: 50, maxFieldSectionSize: 32768, enableConnectProtocol: true };
  const blob = rememberedSettingsFor(before);
  t.true(acceptsRememberedSettings(blob, before));
  t.true(acceptsRememberedSettings(blob, { ...before, qpackBlockedStreams: 100, maxFieldSectionSize: 65536 }));
  t.false(acceptsRememberedSettings(blob, { ...before, maxFieldSectionSize: 1000 }), 'reduced limit');
  t.false(acceptsRememberedSettings(blob, { ...before, qpackMaxTableCapacity: 8192 }), 'changed table capacity');
  t.false(acceptsRememberedSettings(blob, { ...before, enableConnectProtocol: false }), 'withdrawn feature');
  t.false(acceptsRememberedSettings(undefined, before), 'a ticket without settings: cannot tell');
  t.false(acceptsRememberedSettings(Uint8Array.of(9, 9), before), 'unreadable blob');
  // Defaults on both sides (the H3Connection defaults: 16384 / 100 / 65536).
  t.true(acceptsRememberedSettings(rememberedSettingsFor(undefined), undefined));
});

// ---- client: complying with remembered settings, then checking the server's --------------------

const REMEMBERED = settings({ qpackMaxTableCapacity: 220, qpackBlockedStreams: 10, maxFieldSectionSize: 1000, enableConnectProtocol: true });

function client0Rtt(remembered = REMEMBERED): RawPair {
  return new RawPair({ h3Role: 'client', h3: { earlySettings: encodeRememberedSettings(remembered) } });
}

function verdict(p: RawPair, accepted: boolean): void {
  p.h3Side.events.push({ type: 'handshake-completed', earlyDataAccepted: accepted });
}

/** The bytes the H3 client wrote on its QPACK encoder stream so far (type byte first). */
function encoderStream(p: RawPair): Uint8Array {
  for (const ev of p.rawEvents) {
    if (ev.type !== 'stream-opened' || ev.bidirectional) continue;
    const b = p.readRaw(ev.id);
    if (b[0] === 0x02) return b;
  }
  return new Uint8Array(0);
}

function closedWith(t: ExecutionContext, p: RawPair, code: number, re: RegExp): void {
  t.true(p.h3.closed);
  t.is(p.closeCode, code);
  t.regex(ofType(p.h3Events, 'closed')[0]!.error.reason, re);
}

test('client in 0-RTT uses the remembered SETTINGS before the server sends any: QPACK table, field section size, Extended CONNECT', (t) => {
  const p = client0Rtt();
  t.is(p.h3.peerSettings, null);
  const id = p.h3.request(get('/a', [['user-agent', 'quiver-test/1.0']]), { end: true });
  t.is(id, 0);
  p.run();
  // Set Dynamic Table Capacity 220 (0x3f 0xbd 0x01) then inserts, before any server SETTINGS.
  const enc = encoderStream(p);
  t.deepEqual([...enc.subarray(0, 4)], [0x02, 0x3f, 0xbd, 0x01]);
  t.true(p.h3.qpack.encoderInsertCount > 0);
  // The remembered MAX_FIELD_SECTION_SIZE (1000) binds requests now.
  t.throws(() => p.h3.request(get('/b', [['x-big', 'v'.repeat(1000)]])), { instanceOf: RangeError, message: /SETTINGS_MAX_FIELD_SECTION_SIZE 1000/ });
  // Extended CONNECT (RFC 9220) is allowed on the remembered SETTINGS_ENABLE_CONNECT_PROTOCOL.
  t.notThrows(() => p.h3.request([[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/chat']]));
  // Without remembered settings neither holds.
  const q = new RawPair({ h3Role: 'client' });
  q.h3.request(get('/a', [['user-agent', 'quiver-test/1.0']]), { end: true });
  q.run();
  t.is(q.h3.qpack.encoderInsertCount, 0);
  t.throws(() => q.h3.request([[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/chat']]), { instanceOf: TypeError });
});

test('0-RTT accepted, server SETTINGS compatible (higher limits): the connection goes on', (t) => {
  const p = client0Rtt();
  p.h3.request(get('/a', [['user-agent', 'quiver-test/1.0']]), { end: true });
  verdict(p, true);
  p.control({ qpackMaxTableCapacity: 220, qpackBlockedStreams: 20, maxFieldSectionSize: 4000, enableConnectProtocol: true });
  p.run();
  t.false(p.h3.closed);
  t.is(p.h3.peerSettings!.maxFieldSectionSize, 4000);
  t.notThrows(() => p.h3.request(get('/b', [['x-big', 'v'.repeat(1000)]])));
});

for (const [what, change, re] of [
  ['a lower MAX_FIELD_SECTION_SIZE', { maxFieldSectionSize: 999 }, /accepted but SETTINGS_MAX_FIELD_SECTION_SIZE 999/],
  ['MAX_FIELD_SECTION_SIZE omitted', { maxFieldSectionSize: Infinity }, /omitted/],
  ['ENABLE_CONNECT_PROTOCOL withdrawn', { enableConnectProtocol: false }, /ENABLE_CONNECT_PROTOCOL withdrawn/],
] as Array<[string, Partial<H3Settings>, RegExp]>) {
  test(`0-RTT accepted, then SETTINGS with ${what} → H3_SETTINGS_ERROR`, (t) => {
    const p = client0Rtt();
    verdict(p, true);
    p.control({ qpackMaxTableCapacity: 220, qpackBlockedStreams: 10, maxFieldSectionSize: 1000, enableConnectProtocol: true, ...change });
    p.run();
    closedWith(t, p, E.H3_SETTINGS_ERROR, re);
  });
}

test('0-RTT accepted, QPACK capacity changed (no request sent) → H3_SETTINGS_ERROR (RFC 9204 §3.2.3)', (t) => {
  const p = client0Rtt();
  verdict(p, true);
  p.control({ qpackMaxTableCapacity: 4096, qpackBlockedStreams: 10, maxFieldSectionSize: 1000, enableConnectProtocol: true });
  p.run();
  closedWith(t, p, E.H3_SETTINGS_ERROR, /QPACK_MAX_TABLE_CAPACITY 4096 differs/);
});

test('SETTINGS before the 0-RTT verdict: checked when the handshake completes', (t) => {
  const p = client0Rtt();
  p.control({ maxFieldSectionSize: 500, enableConnectProtocol: true, qpackMaxTableCapacity: 220, qpackBlockedStreams: 10 });
  p.run();
  t.false(p.h3.closed);
  verdict(p, true);
  p.run();
  closedWith(t, p, E.H3_SETTINGS_ERROR, /MAX_FIELD_SECTION_SIZE 500/);
});

test('0-RTT rejected: the server may change its SETTINGS; the client adopts them', (t) => {
  const p = client0Rtt();
  p.h3.request(get('/a', [['user-agent', 'quiver-test/1.0']]), { end: true });
  verdict(p, false);
  // Same QPACK table (the replayed section stays decodable), everything else lower.
  p.control({ qpackMaxTableCapacity: 220, qpackBlockedStreams: 10, maxFieldSectionSize: 600 });
  p.run();
  t.false(p.h3.closed);
  t.throws(() => p.h3.request(get('/b', [['x-big', 'v'.repeat(600)]])), { instanceOf: RangeError, message: /600/ });
  t.throws(() => p.h3.request([[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/chat']]), { instanceOf: TypeError });
});

test('0-RTT rejected and a new QPACK capacity: fatal only if sections were already encoded under the remembered table', (t) => {
  const used = client0Rtt();
  used.h3.request(get('/a', [['user-agent', 'quiver-test/1.0']]), { end: true });
  verdict(used, false);
  used.control({ qpackMaxTableCapacity: 100, qpackBlockedStreams: 10 });
  used.run();
  closedWith(t, used, E.H3_SETTINGS_ERROR, /below the remembered ones requests were encoded under/);

  const fewerBlocked = client0Rtt();
  fewerBlocked.h3.request(get('/a', [['user-agent', 'quiver-test/1.0']]), { end: true });
  verdict(fewerBlocked, false);
  fewerBlocked.control({ qpackMaxTableCapacity: 220, qpackBlockedStreams: 2 });
  fewerBlocked.run();
  closedWith(t, fewerBlocked, E.H3_SETTINGS_ERROR, /blocked streams 2/);

  const unused = client0Rtt();
  verdict(unused, false);
  unused.control({ qpackMaxTableCapacity: 4096, qpackBlockedStreams: 1 });
  unused.run();
  t.false(unused.h3.closed);
  unused.h3.request(get('/a', [['user-agent', 'quiver-test/1.0']]), { end: true });
  unused.run();
  // The encoder now works under the server's new capacity (Set Dynamic Table Capacity 4096: 0x3f 0xe1 0x1f).
  t.deepEqual([...encoderStream(unused).subarray(0, 4)], [0x02, 0x3f, 0xe1, 0x1f]);
});

test('earlySettings option checks', (t) => {
  t.throws(() => new RawPair({ h3Role: 'server', h3: { earlySettings: encodeRememberedSettings(REMEMBERED) } }), { instanceOf: TypeError, message: /client role/ });
  t.throws(() => new RawPair({ h3Role: 'client', h3: { earlySettings: 'x' as unknown as Uint8Array } }), { instanceOf: TypeError, message: /earlySettings/ });
  t.throws(() => new RawPair({ h3Role: 'client', h3: { earlySettings: Uint8Array.of(7) } }), { instanceOf: RangeError, message: /earlySettings/ });
});

// ---- the whole round: remember on one connection, resume on the next ----------------------------

function okServer(p: H3Pair): void {
  p.onServer = (ev, h3) => {
    if (ev.type === 'request') {
      const b = utf8(`ok ${ev.path}`);
      h3.respond(ev.streamId, [[':status', '200'], ['content-length', String(b.length)]]);
      h3.write(ev.streamId, b, true);
    }
  };
}

function bodies(p: H3Pair): Map<number, number[]> {
  const out = new Map<number, number[]>();
  p.onClient = (ev, h3) => {
    if (ev.type === 'response') out.set(ev.streamId, []);
    if (ev.type === 'data') drain(h3, ev.streamId, out.get(ev.streamId)!);
  };
  return out;
}

test('remembered on one connection, used by the next: 0-RTT requests with the dynamic table, server accepts', (t) => {
  const serverSettings: H3LocalSettings = { qpackMaxTableCapacity: 4096, qpackBlockedStreams: 20, maxFieldSectionSize: 32768 };
  const first = new H3Pair({ fake: { seed: 3 }, server: { settings: serverSettings } });
  okServer(first);
  t.is(first.client.settingsToRemember, null, 'nothing to remember before the server SETTINGS');
  first.client.request(get('/'), { end: true });
  first.run();
  const remembered = first.client.settingsToRemember!;
  t.deepEqual(decodeRememberedSettings(remembered), { ...defaultSettings(), qpackMaxTableCapacity: 4096, qpackBlockedStreams: 20, maxFieldSectionSize: 32768 });
  // The server's ticket carries what it advertised; the next connection's server decides with it.
  const ticketBlob = rememberedSettingsFor(serverSettings);
  t.true(acceptsRememberedSettings(ticketBlob, serverSettings));

  const second = new H3Pair({ fake: { seed: 4 }, client: { earlySettings: remembered }, server: { settings: serverSettings } });
  okServer(second);
  const got = bodies(second);
  second.fake.client.events.push({ type: 'handshake-completed', earlyDataAccepted: true });
  const ids = [0, 1, 2].map((i) => second.client.request(get(`/${i}`, [['user-agent', 'quiver-test/1.0'], ['accept-language', 'en']]), { end: true })!);
  t.is(second.client.peerSettings, null);
  t.true(second.client.qpack.encoderInsertCount > 0, 'dynamic table used in 0-RTT');
  second.run();
  t.false(second.client.closed);
  for (const [i, id] of ids.entries()) t.is(fromUtf8(new Uint8Array(got.get(id)!)), `ok /${i}`);
  t.is(second.server.qpack.decoderInsertCount, second.client.qpack.encoderInsertCount);

  // A server whose settings shrank would reject 0-RTT; the client's sections (same table) still decode.
  const shrunk: H3LocalSettings = { ...serverSettings, maxFieldSectionSize: 8192 };
  t.false(acceptsRememberedSettings(ticketBlob, shrunk));
  const third = new H3Pair({ fake: { seed: 5 }, client: { earlySettings: remembered }, server: { settings: shrunk } });
  okServer(third);
  const got3 = bodies(third);
  third.fake.client.events.push({ type: 'handshake-completed', earlyDataAccepted: false });
  const id3 = third.client.request(get('/again', [['user-agent', 'quiver-test/1.0']]), { end: true })!;
  third.run();
  t.false(third.client.closed);
  t.is(fromUtf8(new Uint8Array(got3.get(id3)!)), 'ok /again');
  t.is(third.client.peerSettings!.maxFieldSectionSize, 8192);
});
