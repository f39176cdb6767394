// QPACK encoder: decoder-stream instructions and their errors (RFC 9204 §4.4), the blocked-streams
// budget (§2.1.2), eviction that never drops referenced or unacknowledged entries (§2.1.1),
// Duplicate for draining entries (§2.1.1.1), never-indexed literals (§7.1.3) and the default policy.
import test from 'ava';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { BLOCKED, QpackDecoder, QpackEncoder, QpackError, QpackErrorCode } from '../../src/qpack/index.js';
import type { HeaderField } from '../../src/qpack/index.js';

const DSE = QpackErrorCode.DECODER_STREAM_ERROR;

function pair(capacity = 4096, blocked = 16) {
  const enc = new QpackEncoder({ maxTableCapacity: capacity });
  const dec = new QpackDecoder({ maxTableCapacity: capacity, maxBlockedStreams: blocked });
  enc.applyPeerSettings(capacity, blocked);
  return { enc, dec };
}

const CHROME: HeaderField[] = [
  [':method', 'GET'],
  [':authority', 'localhost:4433'],
  [':scheme', 'https'],
  [':path', '/index.html'],
  ['sec-ch-ua', '"Chromium";v="156", "Not)A;Brand";v="24"'],
  ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36'],
  ['accept-encoding', 'gzip, deflate, br, zstd'],
];

test('decoder-stream errors → QPACK_DECODER_STREAM_ERROR', (t) => {
  const { enc } = pair();
  const e1 = t.throws(() => enc.receiveDecoderStream(fromHex('84')), { instanceOf: QpackError });
  t.is(e1.errorCode, DSE);
  t.regex(e1.message, /no unacknowledged field section/);
  const e2 = t.throws(() => enc.receiveDecoderStream(fromHex('00')), { instanceOf: QpackError });
  t.is(e2.errorCode, DSE);
  const e3 = t.throws(() => enc.receiveDecoderStream(fromHex('01')), { instanceOf: QpackError });
  t.is(e3.errorCode, DSE);
  t.regex(e3.message, /beyond/);
  // Stream Cancellation of an unknown stream is harmless.
  enc.receiveDecoderStream(fromHex('48'));
  t.pass();
});

test('a Section Acknowledgment for a stream whose sections are all acknowledged is an error', (t) => {
  const { enc, dec } = pair();
  const out = enc.encodeFieldSection(0, CHROME);
  dec.receiveEncoderStream(out.encoderStream);
  dec.decodeFieldSection(0, out.fieldSection);
  const ack = dec.takeDecoderStreamBytes();
  enc.receiveDecoderStream(ack);
  const e = t.throws(() => enc.receiveDecoderStream(Uint8Array.of(0x80)), { instanceOf: QpackError });
  t.is(e.errorCode, DSE);
});

test('decoder-stream input split at every byte boundary', (t) => {
  // Ack stream 300 (7-bit prefix: 0xff 0xad 0x01), cancel 4, increment 1.
  for (let cut = 0; cut <= 5; cut++) {
    const { enc, dec } = pair();
    const a = enc.encodeFieldSection(300, CHROME);
    dec.receiveEncoderStream(a.encoderStream);
    dec.decodeFieldSection(300, a.fieldSection);
    t.true(enc.insert('x-spec', '1'));
    dec.receiveEncoderStream(enc.takeEncoderStreamBytes());
    dec.cancelStream(4);
    const bytes = dec.takeDecoderStreamBytes();
    t.is(toHex(bytes), 'ffad01' + '44' + '01');
    enc.receiveDecoderStream(bytes.subarray(0, cut));
    enc.receiveDecoderStream(bytes.subarray(cut));
    t.is(enc.knownReceivedCount, enc.insertCount);
  }
});

test('repeat requests reference the dynamic table; :path is never inserted', (t) => {
  const { enc, dec } = pair();
  const first = enc.encodeFieldSection(0, CHROME);
  t.true(first.encoderStream.length > 100);
  dec.receiveEncoderStream(first.encoderStream);
  t.deepEqual(dec.decodeFieldSection(0, first.fieldSection), CHROME);
  enc.receiveDecoderStream(dec.takeDecoderStreamBytes());
  const second = enc.encodeFieldSection(4, CHROME.map((h) => (h[0] === ':path' ? [':path', '/app.js'] : h)) as HeaderField[]);
  t.is(second.encoderStream.length, 0);
  t.true(second.fieldSection.length < 20, `second request is ${second.fieldSection.length} bytes`);
  for (let abs = 0; abs < enc.insertCount; abs++) t.not(dec.entry(abs)![0], ':path');
  t.deepEqual((dec.decodeFieldSection(4, second.fieldSection) as HeaderField[]).find((h) => h[0] === ':path'), [':path', '/app.js']);
});

test('blocked-streams budget: the stream over the limit references only acknowledged entries', (t) => {
  const { enc, dec } = pair(4096, 1);
  const a = enc.encodeFieldSection(0, [['x-a', '1']]);
  t.is(enc.blockingStreams, 1);
  // Stream 4 may not block: x-a=1 is unacknowledged, so it goes as a literal, and x-b is inserted
  // speculatively but not referenced.
  const b = enc.encodeFieldSection(4, [
    ['x-a', '1'],
    ['x-b', '2'],
  ]);
  t.is(toHex(b.fieldSection.subarray(0, 2)), '0000', 'Required Insert Count 0');
  t.is(enc.blockingStreams, 1);
  // Stream 0 is already blocking: it may reference the unacknowledged entries.
  const c = enc.encodeFieldSection(0, [['x-b', '2']]);
  t.not(c.fieldSection[0], 0);
  // Decode everything (out of order: sections first).
  t.is(dec.decodeFieldSection(0, a.fieldSection), BLOCKED);
  t.deepEqual(dec.decodeFieldSection(4, b.fieldSection), [
    ['x-a', '1'],
    ['x-b', '2'],
  ]);
  dec.receiveEncoderStream(a.encoderStream);
  dec.receiveEncoderStream(b.encoderStream);
  t.deepEqual(dec.decodeFieldSection(0, c.fieldSection), [['x-b', '2']]);
  enc.receiveDecoderStream(dec.takeDecoderStreamBytes());
  t.is(enc.blockingStreams, 0);
  t.is(enc.knownReceivedCount, 2);
  // Now both are acknowledged: any stream references them.
  const d = enc.encodeFieldSection(8, [
    ['x-a', '1'],
    ['x-b', '2'],
  ]);
  t.is(d.fieldSection.length, 4);
});

test('SETTINGS_QPACK_BLOCKED_STREAMS 0: only acknowledged entries are referenced', (t) => {
  const { enc, dec } = pair(4096, 0);
  const a = enc.encodeFieldSection(0, [['x-a', '1']]);
  t.is(toHex(a.fieldSection.subarray(0, 2)), '0000');
  t.true(a.encoderStream.length > 0, 'inserted for later use');
  dec.receiveEncoderStream(a.encoderStream);
  t.deepEqual(dec.decodeFieldSection(0, a.fieldSection), [['x-a', '1']]);
  enc.receiveDecoderStream(dec.takeDecoderStreamBytes()); // Insert Count Increment
  const b = enc.encodeFieldSection(4, [['x-a', '1']]);
  t.is(toHex(b.fieldSection), '020080');
});

test('eviction never drops an unacknowledged or referenced entry', (t) => {
  // 100-byte table: entries of 36 bytes (x-N = v) — two fit.
  const { enc, dec } = pair(100, 8);
  const s0 = enc.encodeFieldSection(0, [['x-1', 'a']]);
  const s1 = enc.encodeFieldSection(4, [['x-2', 'b']]);
  t.is(enc.insertCount, 2);
  // Table full, nothing acknowledged: x-3 cannot be inserted (evicting x-1 is not allowed).
  const s2 = enc.encodeFieldSection(8, [['x-3', 'c']]);
  t.is(enc.insertCount, 2);
  t.is(s2.encoderStream.length, 0);
  dec.receiveEncoderStream(s0.encoderStream);
  dec.receiveEncoderStream(s1.encoderStream);
  t.deepEqual(dec.decodeFieldSection(8, s2.fieldSection), [['x-3', 'c']]);
  // Acknowledge stream 4 only: x-1 is acknowledged (Known Received Count 2) but still referenced by stream 0.
  dec.decodeFieldSection(4, s1.fieldSection);
  enc.receiveDecoderStream(dec.takeDecoderStreamBytes());
  t.is(enc.knownReceivedCount, 2);
  t.is(enc.referenceCount(0), 1);
  enc.encodeFieldSection(12, [['x-3', 'c']]);
  t.is(enc.insertCount, 2, 'x-1 pinned by the unacknowledged section on stream 0');
  dec.decodeFieldSection(0, s0.fieldSection);
  enc.receiveDecoderStream(dec.takeDecoderStreamBytes());
  t.is(enc.referenceCount(0), 0);
  const s4 = enc.encodeFieldSection(16, [['x-3', 'c']]);
  t.is(enc.insertCount, 3);
  t.is(enc.referenceCount(0), -1, 'x-1 evicted');
  dec.receiveEncoderStream(s4.encoderStream);
  t.deepEqual(dec.decodeFieldSection(16, s4.fieldSection), [['x-3', 'c']]);
});

test('a wanted entry in the draining area is duplicated and the duplicate referenced', (t) => {
  // Capacity 160: headroom 40. Entries of 40 bytes (x-N, 5-byte value).
  const { enc, dec } = pair(160, 8);
  const sync = (id: number, h: HeaderField[]) => {
    const o = enc.encodeFieldSection(id, h);
    dec.receiveEncoderStream(o.encoderStream);
    const got = dec.decodeFieldSection(id, o.fieldSection);
    enc.receiveDecoderStream(dec.takeDecoderStreamBytes());
    return { o, got };
  };
  sync(0, [['x-1', 'aaaaa']]);
  sync(4, [['x-2', 'bbbbb']]);
  sync(8, [['x-3', 'ccccc']]);
  sync(12, [['x-4', 'ddddd']]);
  t.is(enc.tableSize, 160);
  // x-1 (absolute 0) now drains: referencing it emits a Duplicate (000xxxxx, relative index 3).
  const { o, got } = sync(16, [['x-1', 'aaaaa']]);
  t.is(toHex(o.encoderStream), '03');
  t.deepEqual(got, [['x-1', 'aaaaa']]);
  t.is(enc.insertCount, 5);
  t.is(dec.entry(0), undefined, 'the original was evicted to make room');
  t.deepEqual(dec.entry(4), ['x-1', 'aaaaa']);
});

test('never-indexed literals: credentials and short cookies carry the N bit and stay out of the table', (t) => {
  const { enc, dec } = pair();
  const h: HeaderField[] = [
    ['authorization', 'Bearer abc'],
    ['cookie', 'a=1'],
    ['cookie', 'session=0123456789abcdef0123456789abcdef'],
    ['x-secret', 'hunter2', true],
    ['proxy-authorization', 'Basic Zm9v', false],
  ];
  const out = enc.encodeFieldSection(0, h);
  dec.receiveEncoderStream(out.encoderStream);
  const got = dec.decodeFieldSection(0, out.fieldSection) as HeaderField[];
  t.deepEqual(got, [
    ['authorization', 'Bearer abc', true],
    ['cookie', 'a=1', true],
    ['cookie', 'session=0123456789abcdef0123456789abcdef'],
    ['x-secret', 'hunter2', true],
    ['proxy-authorization', 'Basic Zm9v'],
  ]);
  const names = [];
  for (let i = 0; i < enc.insertCount; i++) names.push(dec.entry(i)!.join('='));
  t.deepEqual(names, ['cookie=session=0123456789abcdef0123456789abcdef', 'proxy-authorization=Basic Zm9v']);
});

test('static table only before SETTINGS or with a zero capacity: no encoder-stream bytes', (t) => {
  const enc = new QpackEncoder();
  const dec = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
  for (let i = 0; i < 3; i++) {
    const out = enc.encodeFieldSection(i * 4, CHROME);
    t.is(out.encoderStream.length, 0);
    t.deepEqual(dec.decodeFieldSection(i * 4, out.fieldSection), CHROME);
  }
  enc.applyPeerSettings(0, 100);
  t.is(enc.encodeFieldSection(12, CHROME).encoderStream.length, 0);
  t.false(enc.insert('a', 'b'));
  t.is(dec.takeDecoderStreamBytes().length, 0);
});

test('API misuse throws TypeError/RangeError', (t) => {
  const enc = new QpackEncoder();
  t.throws(() => enc.encodeFieldSection(0, [['café', '€']]), { instanceOf: TypeError });
  t.throws(() => enc.encodeFieldSection(-1, []), { instanceOf: RangeError });
  t.throws(() => enc.applyPeerSettings(-5, 0), { instanceOf: RangeError });
  enc.applyPeerSettings(100, 0);
  t.throws(() => enc.applyPeerSettings(200, 0), { instanceOf: RangeError });
  t.throws(() => new QpackDecoder({ maxTableCapacity: -1, maxBlockedStreams: 0 }), { instanceOf: RangeError });
});

test('Latin-1 values (obs-text) round-trip unchanged', (t) => {
  const { enc, dec } = pair();
  const h: HeaderField[] = [['x-bin', '\u0000\u00ff\u0080caf\u00e9']];
  const out = enc.encodeFieldSection(0, h);
  dec.receiveEncoderStream(out.encoderStream);
  t.deepEqual(dec.decodeFieldSection(0, out.fieldSection), h);
});

test('a peer that never acknowledges cannot grow the encoder’s bookkeeping: static only past the cap', (t) => {
  const enc = new QpackEncoder({ maxUnacknowledgedSections: 2 });
  const dec = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 100 });
  enc.applyPeerSettings(4096, 100);
  const outs = [0, 4, 8].map((id) => enc.encodeFieldSection(id, [['x-a', '1']]));
  t.is(enc.unacknowledgedSections, 2);
  t.is(toHex(outs[2]!.fieldSection.subarray(0, 2)), '0000', 'third section uses no dynamic reference');
  for (const [i, o] of outs.entries()) {
    dec.receiveEncoderStream(o.encoderStream);
    t.deepEqual(dec.decodeFieldSection(i * 4, o.fieldSection), [['x-a', '1']]);
  }
  enc.receiveDecoderStream(dec.takeDecoderStreamBytes());
  t.is(enc.unacknowledgedSections, 0);
  t.not(enc.encodeFieldSection(12, [['x-a', '1']]).fieldSection[0], 0);
});
