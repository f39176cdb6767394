// Connection errors (RFC 9114 §6.2 stream types, §6.2.1 control stream, §7.2 frames per stream,
// §7.2.4 SETTINGS, §7.2.5–7.2.7 push, §5.2 GOAWAY, §8; RFC 9204 §4.2/§6 QPACK streams; RFC 9218 §7
// PRIORITY_UPDATE; RFC 9297 §2.1 datagrams): a hand-driven peer breaks each rule and the H3Connection
// must close with the code the RFC names — and must ignore what the RFC says to ignore.
import test, { type ExecutionContext } from 'ava';
import { concat, utf8 } from '../../src/util/bytes.js';
import { H3ErrorCode as E, H3FrameType, reservedValue } from '../../src/h3/wire/index.js';
import { RawPair, frame, rawFrame, varint } from './support/raw-peer.js';
import { get, ofType } from './support/h3-pair.js';
import type { FakeQuicOptions } from './support/fake-quic.js';

const REQ: Array<[string, string]> = get('/') as Array<[string, string]>;

function closesWith(t: ExecutionContext, code: number, p: RawPair): void {
  p.run();
  t.is(p.closeCode, code, `closed with 0x${code.toString(16)}`);
  t.true(p.h3.closed);
  const closed = ofType(p.h3Events, 'closed');
  t.is(closed.length, 1);
  t.is(closed[0]!.error.code, code);
  t.false(closed[0]!.error.remote);
  t.regex(closed[0]!.error.errCode, /^ERR_(H3|QPACK)_/);
}

const server = (fake?: FakeQuicOptions): RawPair => new RawPair({ h3Role: 'server', ...(fake ? { fake } : {}) });
const client = (fake?: FakeQuicOptions): RawPair => new RawPair({ h3Role: 'client', ...(fake ? { fake } : {}) });

// ---- control stream (§6.2.1, §7.2.4) --------------------------------------------------------

test('first control frame not SETTINGS → H3_MISSING_SETTINGS', (t) => {
  const p = server();
  p.uni(concat(new Uint8Array([0x00]), frame({ type: 'goaway', id: 0 })));
  closesWith(t, E.H3_MISSING_SETTINGS, p);
});

test('a reserved frame first on the control stream is not SETTINGS either → H3_MISSING_SETTINGS', (t) => {
  const p = server();
  p.uni(concat(new Uint8Array([0x00]), rawFrame(reservedValue(3), new Uint8Array(2))));
  closesWith(t, E.H3_MISSING_SETTINGS, p);
});

test('second control stream → H3_STREAM_CREATION_ERROR', (t) => {
  const p = server();
  p.control();
  p.control();
  closesWith(t, E.H3_STREAM_CREATION_ERROR, p);
});

test('second QPACK encoder stream → H3_STREAM_CREATION_ERROR', (t) => {
  const p = client();
  p.uni(new Uint8Array([0x02]));
  p.uni(new Uint8Array([0x02]));
  closesWith(t, E.H3_STREAM_CREATION_ERROR, p);
});

test('second QPACK decoder stream → H3_STREAM_CREATION_ERROR', (t) => {
  const p = client();
  p.uni(new Uint8Array([0x03]));
  p.uni(new Uint8Array([0x03]));
  closesWith(t, E.H3_STREAM_CREATION_ERROR, p);
});

test('control stream closed (FIN) → H3_CLOSED_CRITICAL_STREAM', (t) => {
  const p = server();
  const id = p.control();
  p.run();
  t.false(p.h3.closed);
  p.raw.streamFinish(id);
  closesWith(t, E.H3_CLOSED_CRITICAL_STREAM, p);
});

test('control stream reset → H3_CLOSED_CRITICAL_STREAM', (t) => {
  const p = client();
  const id = p.control();
  p.run();
  p.raw.streamReset(id, E.H3_NO_ERROR);
  closesWith(t, E.H3_CLOSED_CRITICAL_STREAM, p);
});

test('QPACK encoder stream closed → H3_CLOSED_CRITICAL_STREAM', (t) => {
  const p = server();
  p.control();
  p.uni(new Uint8Array([0x02]), true);
  closesWith(t, E.H3_CLOSED_CRITICAL_STREAM, p);
});

test('QPACK decoder stream reset → H3_CLOSED_CRITICAL_STREAM', (t) => {
  const p = server();
  p.control();
  const id = p.uni(new Uint8Array([0x03]));
  p.run();
  p.raw.streamReset(id, 0x21);
  closesWith(t, E.H3_CLOSED_CRITICAL_STREAM, p);
});

test('STOP_SENDING on our control stream → H3_CLOSED_CRITICAL_STREAM', (t) => {
  const p = server();
  p.control();
  p.run();
  // The server's control stream is its first unidirectional stream (3).
  p.raw.streamStopSending(3, E.H3_NO_ERROR);
  closesWith(t, E.H3_CLOSED_CRITICAL_STREAM, p);
});

test('second SETTINGS → H3_FRAME_UNEXPECTED', (t) => {
  const p = server();
  p.control({}, frame({ type: 'settings', settings: { qpackMaxTableCapacity: 0, maxFieldSectionSize: Infinity, qpackBlockedStreams: 0, enableConnectProtocol: false, h3Datagram: false, unknown: [] } }));
  closesWith(t, E.H3_FRAME_UNEXPECTED, p);
});

test('DATA on the control stream → H3_FRAME_UNEXPECTED', (t) => {
  const p = server();
  p.control({}, rawFrame(H3FrameType.DATA, utf8('x')));
  closesWith(t, E.H3_FRAME_UNEXPECTED, p);
});

test('HEADERS on the control stream → H3_FRAME_UNEXPECTED', (t) => {
  const p = client();
  p.control({}, rawFrame(H3FrameType.HEADERS, new Uint8Array([0, 0])));
  closesWith(t, E.H3_FRAME_UNEXPECTED, p);
});

test('HTTP/2-only frame type (0x06 PING) → H3_FRAME_UNEXPECTED', (t) => {
  const p = server();
  p.control({}, rawFrame(0x06, new Uint8Array(8)));
  closesWith(t, E.H3_FRAME_UNEXPECTED, p);
});

test('SETTINGS with an HTTP/2 setting (0x04) → H3_SETTINGS_ERROR', (t) => {
  const p = server();
  p.control({ unknown: [[0x04, 65535]] });
  closesWith(t, E.H3_SETTINGS_ERROR, p);
});

test('SETTINGS with a duplicate setting → H3_SETTINGS_ERROR', (t) => {
  const p = server();
  p.uni(concat(new Uint8Array([0x00]), rawFrame(H3FrameType.SETTINGS, concat(varint(0x06), varint(100), varint(0x06), varint(200)))));
  closesWith(t, E.H3_SETTINGS_ERROR, p);
});

test('SETTINGS_H3_DATAGRAM=1 without QUIC DATAGRAM support → H3_SETTINGS_ERROR (RFC 9297 §2.1.1)', (t) => {
  const p = server({ maxDatagramSize: 0 });
  p.control({ h3Datagram: true });
  closesWith(t, E.H3_SETTINGS_ERROR, p);
});

test('GREASE settings, reserved frames and unknown settings are ignored (§7.2.4.1, §7.2.8, §9)', (t) => {
  const p = server();
  p.control({ unknown: [[reservedValue(5), 77], [0x4242, 1]] }, concat(rawFrame(reservedValue(9), utf8('grease')), rawFrame(0x2a2a, new Uint8Array(3))));
  const id = p.raw.openStream(true)!;
  p.write(id, concat(rawFrame(reservedValue(1), new Uint8Array(1)), p.headers(id, REQ), rawFrame(reservedValue(2), new Uint8Array(0))), true);
  p.run();
  t.false(p.h3.closed);
  t.deepEqual(p.h3.peerSettings!.unknown, [[reservedValue(5), 77], [0x4242, 1]]);
  t.is(ofType(p.h3Events, 'request').length, 1);
});

// ---- unidirectional stream types (§6.2) -----------------------------------------------------

test('reserved stream type: reading aborted with H3_STREAM_CREATION_ERROR, connection unaffected (§6.2.3)', (t) => {
  const p = server();
  p.control();
  const id = p.uni(concat(varint(reservedValue(12)), utf8('padding padding')));
  p.run();
  t.false(p.h3.closed);
  t.deepEqual(p.h3Side.calls.stopSending, [[id, E.H3_STREAM_CREATION_ERROR]]);
});

test('unknown stream type (0x54 WebTransport) is ignored too; a type split across reads works', (t) => {
  const p = server({ minChunk: 1, maxChunk: 1 });
  p.control();
  const id = p.uni(concat(varint(0x4054), utf8('xyz')));
  p.run();
  t.false(p.h3.closed);
  t.deepEqual(p.h3Side.calls.stopSending, [[id, E.H3_STREAM_CREATION_ERROR]]);
});

test('a unidirectional stream closed before its type is tolerated (§6.2)', (t) => {
  const p = server();
  p.control();
  const id = p.raw.openStream(false)!;
  p.raw.streamFinish(id);
  const id2 = p.raw.openStream(false)!;
  p.write(id2, new Uint8Array([0x40]), true); // half a two-byte varint, then FIN
  p.run();
  t.false(p.h3.closed);
});

test('push stream received by a client (no MAX_PUSH_ID sent) → H3_ID_ERROR (§4.6)', (t) => {
  const p = client();
  p.control();
  p.uni(concat(varint(0x01), varint(0)));
  closesWith(t, E.H3_ID_ERROR, p);
});

test('push stream from a client → H3_STREAM_CREATION_ERROR (§6.2.2)', (t) => {
  const p = server();
  p.control();
  p.uni(concat(varint(0x01), varint(0)));
  closesWith(t, E.H3_STREAM_CREATION_ERROR, p);
});

test('server-initiated bidirectional stream → H3_STREAM_CREATION_ERROR (§6.1)', (t) => {
  const p = client();
  p.control();
  const id = p.raw.openStream(true)!;
  p.write(id, utf8('hi'));
  closesWith(t, E.H3_STREAM_CREATION_ERROR, p);
});

// ---- push and GOAWAY frames (§5.2, §7.2.3, §7.2.5–7.2.7) ----------------------------------------

test('MAX_PUSH_ID from a server → H3_FRAME_UNEXPECTED (§7.2.7)', (t) => {
  const p = client();
  p.control({}, frame({ type: 'max_push_id', pushId: 3 }));
  closesWith(t, E.H3_FRAME_UNEXPECTED, p);
});

test('MAX_PUSH_ID decreasing → H3_ID_ERROR (§7.2.7)', (t) => {
  const p = server();
  p.control({}, concat(frame({ type: 'max_push_id', pushId: 5 }), frame({ type: 'max_push_id', pushId: 4 })));
  closesWith(t, E.H3_ID_ERROR, p);
});

test('CANCEL_PUSH to a client that never allowed pushes → H3_ID_ERROR (§7.2.3)', (t) => {
  const p = client();
  p.control({}, frame({ type: 'cancel_push', pushId: 0 }));
  closesWith(t, E.H3_ID_ERROR, p);
});

test('CANCEL_PUSH to a server that never promised → H3_ID_ERROR (§7.2.3)', (t) => {
  const p = server();
  p.control({}, concat(frame({ type: 'max_push_id', pushId: 10 }), frame({ type: 'cancel_push', pushId: 1 })));
  closesWith(t, E.H3_ID_ERROR, p);
});

test('PUSH_PROMISE to a client → H3_ID_ERROR (§7.2.5)', (t) => {
  const p = client();
  p.control();
  const id = p.h3.request(REQ, { end: true })!;
  p.run();
  p.write(id, frame({ type: 'push_promise', pushId: 0, fieldSection: new Uint8Array([0, 0]) }));
  closesWith(t, E.H3_ID_ERROR, p);
});

test('PUSH_PROMISE from a client → H3_FRAME_UNEXPECTED (§7.2.5)', (t) => {
  const p = server();
  p.control();
  p.request([frame({ type: 'push_promise', pushId: 0, fieldSection: new Uint8Array([0, 0]) })]);
  closesWith(t, E.H3_FRAME_UNEXPECTED, p);
});

test('GOAWAY with a stream ID that is not client-initiated bidirectional → H3_ID_ERROR (§7.2.6)', (t) => {
  const p = client();
  p.control({}, frame({ type: 'goaway', id: 2 }));
  closesWith(t, E.H3_ID_ERROR, p);
});

test('GOAWAY ID increasing → H3_ID_ERROR (§5.2)', (t) => {
  const p = client();
  p.h3.request(REQ); // in progress: the client does not close after the first GOAWAY
  p.control({}, concat(frame({ type: 'goaway', id: 8 }), frame({ type: 'goaway', id: 12 })));
  closesWith(t, E.H3_ID_ERROR, p);
});

test('GOAWAY 2^62-4 (saturated) then a real ID is accepted (§5.2 graceful shutdown)', (t) => {
  const p = client();
  const id = p.h3.request(REQ)!;
  const ctl = p.control({}, rawFrame(H3FrameType.GOAWAY, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc])));
  p.run();
  t.false(p.h3.closed, 'the request may still complete');
  t.is(p.h3.activeStreams, 1);
  p.write(ctl, frame({ type: 'goaway', id: 0 }));
  p.run();
  t.is(p.h3.goawayId, 0);
  t.deepEqual(ofType(p.h3Events, 'reset').map((r) => [r.streamId, r.code, r.remote]), [[id, E.H3_REQUEST_REJECTED, false]]);
  t.is(p.closeCode, E.H3_NO_ERROR, 'then the idle client closes gracefully');
});

test('GOAWAY on a request stream → H3_FRAME_UNEXPECTED (§7.2.6)', (t) => {
  const p = server();
  p.control();
  p.request([p.headers(0, REQ), frame({ type: 'goaway', id: 0 })]);
  closesWith(t, E.H3_FRAME_UNEXPECTED, p);
});

test('SETTINGS on a request stream → H3_FRAME_UNEXPECTED (§7.2.4)', (t) => {
  const p = server();
  p.control();
  p.request([frame({ type: 'settings', settings: { qpackMaxTableCapacity: 0, maxFieldSectionSize: Infinity, qpackBlockedStreams: 0, enableConnectProtocol: false, h3Datagram: false, unknown: [] } })]);
  closesWith(t, E.H3_FRAME_UNEXPECTED, p);
});

test('GOAWAY frame with a two-varint payload → H3_FRAME_ERROR (§7.1)', (t) => {
  const p = client();
  p.control({}, rawFrame(H3FrameType.GOAWAY, concat(varint(4), varint(4))));
  closesWith(t, E.H3_FRAME_ERROR, p);
});

// ---- PRIORITY_UPDATE (RFC 9218 §7) ------------------------------------------------------------

test('PRIORITY_UPDATE to a client → H3_FRAME_UNEXPECTED (RFC 9218 §7)', (t) => {
  const p = client();
  p.control({}, frame({ type: 'priority_update', push: false, elementId: 0, priority: 'u=1' }));
  closesWith(t, E.H3_FRAME_UNEXPECTED, p);
});

test('PRIORITY_UPDATE for a non-request stream ID → H3_ID_ERROR (RFC 9218 §7.1)', (t) => {
  const p = server();
  p.control({}, frame({ type: 'priority_update', push: false, elementId: 2, priority: 'u=1' }));
  closesWith(t, E.H3_ID_ERROR, p);
});

test('PRIORITY_UPDATE for a push that was never promised → H3_ID_ERROR (RFC 9218 §7.2)', (t) => {
  const p = server();
  p.control({}, frame({ type: 'priority_update', push: true, elementId: 0, priority: 'u=1' }));
  closesWith(t, E.H3_ID_ERROR, p);
});

// ---- request stream framing (§4.1, §7.1) -------------------------------------------------------

test('DATA before HEADERS → H3_FRAME_UNEXPECTED (§4.1)', (t) => {
  const p = server();
  p.control();
  p.request([p.data(utf8('early')), p.headers(0, REQ)]);
  closesWith(t, E.H3_FRAME_UNEXPECTED, p);
});

test('HEADERS after the trailer section → H3_FRAME_UNEXPECTED (§4.1)', (t) => {
  const p = server();
  p.onH3 = (ev, h3) => {
    if (ev.type === 'data') h3.read(ev.streamId, new Uint8Array(100));
  };
  p.control();
  p.request([p.headers(0, REQ), p.data(utf8('x')), p.headers(0, [['x-t', '1']]), p.headers(0, [['x-t', '2']])]);
  closesWith(t, E.H3_FRAME_UNEXPECTED, p);
});

test('DATA after the trailer section → H3_FRAME_UNEXPECTED (§4.1)', (t) => {
  const p = client();
  p.onH3 = (ev, h3) => {
    if (ev.type === 'data') h3.read(ev.streamId, new Uint8Array(100));
  };
  p.control();
  const id = p.h3.request(REQ, { end: true })!;
  p.run();
  p.write(id, concat(p.headers(id, [[':status', '200']]), p.headers(id, [['x-t', '1']]), p.data(utf8('late'))), true);
  closesWith(t, E.H3_FRAME_UNEXPECTED, p);
});

test('HEADERS on an established CONNECT tunnel → H3_FRAME_UNEXPECTED (§4.4)', (t) => {
  const p = client();
  p.onH3 = (ev, h3) => {
    if (ev.type === 'data') h3.read(ev.streamId, new Uint8Array(100));
  };
  p.control();
  const id = p.h3.request([[':method', 'CONNECT'], [':authority', 'example.com:443']])!;
  p.run();
  p.write(id, concat(p.headers(id, [[':status', '200']]), p.data(utf8('tunnel bytes')), p.headers(id, [['x', '1']])));
  closesWith(t, E.H3_FRAME_UNEXPECTED, p);
});

test('request stream ending inside a frame → H3_FRAME_ERROR (§7.1)', (t) => {
  const p = server();
  p.control();
  const hdr = p.headers(0, REQ);
  p.request([hdr.subarray(0, hdr.length - 1)]);
  closesWith(t, E.H3_FRAME_ERROR, p);
});

// ---- QPACK (RFC 9204 §4.2, §6) ----------------------------------------------------------------

test('garbage on the QPACK encoder stream → QPACK_ENCODER_STREAM_ERROR', (t) => {
  const p = server();
  p.control();
  // Insert With Name Reference to dynamic entry 0 of an empty table.
  p.uni(new Uint8Array([0x02, 0x80, 0x01, 0x61]));
  closesWith(t, E.QPACK_ENCODER_STREAM_ERROR, p);
});

test('Set Dynamic Table Capacity above our maximum → QPACK_ENCODER_STREAM_ERROR', (t) => {
  const p = server();
  p.control();
  p.uni(concat(new Uint8Array([0x02]), new Uint8Array([0x3f, 0xe1, 0xff, 0x03]))); // 65536+…
  closesWith(t, E.QPACK_ENCODER_STREAM_ERROR, p);
});

test('garbage on the QPACK decoder stream → QPACK_DECODER_STREAM_ERROR', (t) => {
  const p = server();
  p.control();
  // Section Acknowledgment for stream 0, which has no outstanding section.
  p.uni(new Uint8Array([0x03, 0x80]));
  closesWith(t, E.QPACK_DECODER_STREAM_ERROR, p);
});

test('a field section referencing a dynamic entry that cannot exist → QPACK_DECOMPRESSION_FAILED', (t) => {
  const p = server();
  p.control();
  // Required Insert Count encoded as 2 with our 16384-byte table: entry 1 never inserted and QPACK
  // blocks; then an encoder stream that inserts nothing leaves it blocked — use an invalid RIC instead.
  p.request([rawFrame(H3FrameType.HEADERS, new Uint8Array([0xff, 0xff, 0xff, 0x7f, 0x00]))]);
  closesWith(t, E.QPACK_DECOMPRESSION_FAILED, p);
});

test('a field section over SETTINGS_MAX_FIELD_SECTION_SIZE → stream error H3_EXCESSIVE_LOAD, not a connection error', (t) => {
  const p = new RawPair({ h3Role: 'server', h3: { settings: { maxFieldSectionSize: 300 } } });
  p.control();
  // Many fields, each short (a single literal longer than the limit: the next test).
  const many: Array<[string, string]> = Array.from({ length: 8 }, (_, i) => [`x-field-${i}`, 'v'.repeat(20)]);
  const id = p.request([p.headers(0, [...REQ, ...many])], false);
  p.run();
  t.false(p.h3.closed);
  t.deepEqual(p.h3Side.calls.reset, [[id, E.H3_EXCESSIVE_LOAD]]);
  t.is(ofType(p.h3Events, 'request').length, 0);
});

const decoderStreams = new WeakMap<RawPair, number>();

/** New bytes the H3 side wrote on its QPACK decoder stream (type 0x03), after the type byte. */
function decoderStreamBytes(p: RawPair): Uint8Array {
  const known = decoderStreams.get(p);
  if (known !== undefined) return p.readRaw(known);
  for (const ev of p.rawEvents) {
    if (ev.type !== 'stream-opened' || ev.bidirectional) continue;
    const b = p.readRaw(ev.id);
    if (b[0] === 0x03) {
      decoderStreams.set(p, ev.id);
      return b.subarray(1);
    }
  }
  return new Uint8Array(0);
}

test('a single literal longer than SETTINGS_MAX_FIELD_SECTION_SIZE → the same stream error H3_EXCESSIVE_LOAD; one Stream Cancellation', (t) => {
  const p = new RawPair({ h3Role: 'server', h3: { settings: { maxFieldSectionSize: 300, qpackMaxTableCapacity: 220, qpackBlockedStreams: 2 } } });
  p.control();
  // Encoder stream: Set Dynamic Table Capacity 220, insert :authority = www.example.com (RFC 9204 B.2).
  p.uni(concat(new Uint8Array([0x02]), new Uint8Array([0x3f, 0xbd, 0x01, 0xc0, 0x0f]), utf8('www.example.com')));
  p.run();
  // RIC 1 (encoded 2), Base 1; indexed dynamic 0; :path (static 1) with a 400-byte value (0x7f + 273).
  const section = concat(new Uint8Array([0x02, 0x00, 0x80, 0x51, 0x7f, 0x91, 0x02]), utf8('/'.repeat(400)));
  const id = p.request([rawFrame(H3FrameType.HEADERS, section)], false);
  p.run();
  t.false(p.h3.closed);
  t.deepEqual(p.h3Side.calls.reset, [[id, E.H3_EXCESSIVE_LOAD]]);
  t.is(ofType(p.h3Events, 'request').length, 0);
  // Insert Count Increment 1 (0x01), then exactly one Stream Cancellation for stream 0 (0x40).
  t.deepEqual([...decoderStreamBytes(p)], [0x01, 0x40]);
  // The connection goes on: a request using the same table entry decodes and is acknowledged.
  const id2 = p.request([rawFrame(H3FrameType.HEADERS, new Uint8Array([0x02, 0x00, 0x80, 0xd1, 0xd7, 0xc1]))]);
  p.run();
  t.is(ofType(p.h3Events, 'request').length, 1);
  t.deepEqual([...decoderStreamBytes(p)], [0x80 | id2]);
});

// ---- HTTP Datagrams (RFC 9297 §2.1) ---------------------------------------------------------------

test('HTTP datagram with a Quarter Stream ID above 2^60-1 → H3_DATAGRAM_ERROR', (t) => {
  const p = new RawPair({ h3Role: 'server', h3: { settings: { h3Datagram: true } } });
  p.control({ h3Datagram: true });
  p.run();
  p.raw.sendDatagram(new Uint8Array([0xd0, 0, 0, 0, 0, 0, 0, 0, 0x41]));
  closesWith(t, E.H3_DATAGRAM_ERROR, p);
});

test('HTTP datagram with a truncated Quarter Stream ID → H3_DATAGRAM_ERROR', (t) => {
  const p = new RawPair({ h3Role: 'server', h3: { settings: { h3Datagram: true } } });
  p.control({ h3Datagram: true });
  p.run();
  p.raw.sendDatagram(new Uint8Array([0x80, 0x01]));
  closesWith(t, E.H3_DATAGRAM_ERROR, p);
});

test('a datagram for a stream not open is dropped; without H3_DATAGRAM every datagram is dropped', (t) => {
  const p = new RawPair({ h3Role: 'server', h3: { settings: { h3Datagram: true } } });
  p.control({ h3Datagram: true });
  p.run();
  p.raw.sendDatagram(new Uint8Array([0x05, 1, 2, 3]));
  p.run();
  t.false(p.h3.closed);
  t.is(p.h3.stats.datagramsDropped, 1);
  const q = server();
  q.control();
  q.run();
  q.raw.sendDatagram(new Uint8Array([0xd0]));
  q.run();
  t.false(q.h3.closed);
  t.is(q.h3.stats.datagramsDropped, 1);
});
