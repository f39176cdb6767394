// Tests for src/codec/frames.ts — RFC 9000 §19 frame formats, §12.4 permitted packet types,
// §9.1 probing, §13.2 ack-eliciting, RFC 9221 §4 DATAGRAM. Wire bytes below are written by
// hand from the §19 figures (not produced by the encoder). RFC 9000 App. A.1 varint samples
// (0xc2197c5eff14e88c, 0x9d7f3e7d, 0x7bbd, 0x25, 0x4025) appear inside frame fields.

import test, { type ExecutionContext } from 'ava';
import { TransportError, TransportErrorCode } from '../../src/codec/errors.js';
import {
  type AckFrame,
  ackRangesFromSet,
  checkFrameAllowed,
  countsInFlight,
  decodeFrame,
  encodeAck,
  encodeApplicationClose,
  encodeConnectionClose,
  encodeCrypto,
  encodeCryptoHeader,
  encodeDataBlocked,
  encodeDatagram,
  encodeFrame,
  encodeHandshakeDone,
  encodeMaxData,
  encodeMaxStreamData,
  encodeMaxStreams,
  encodeNewConnectionId,
  encodeNewToken,
  encodePadding,
  encodePathChallenge,
  encodePathResponse,
  encodePing,
  encodeResetStream,
  encodeRetireConnectionId,
  encodeStopSending,
  encodeStream,
  encodeStreamDataBlocked,
  encodeStreamHeader,
  encodeStreamsBlocked,
  fitAckRanges,
  fitCryptoFrame,
  fitStreamFrame,
  type Frame,
  frameAllowedIn,
  FrameParser,
  FrameType,
  frameTypeName,
  isAckEliciting,
  isProbing,
  newStreamFit,
  PacketKind,
  parseFrames,
  sizeAck,
  sizeApplicationClose,
  sizeConnectionClose,
  sizeCrypto,
  sizeDataBlocked,
  sizeDatagram,
  sizeFrame,
  sizeHandshakeDone,
  sizeMaxData,
  sizeMaxStreamData,
  sizeMaxStreams,
  sizeNewConnectionId,
  sizeNewToken,
  sizePathChallenge,
  sizePathResponse,
  sizePing,
  sizeResetStream,
  sizeRetireConnectionId,
  sizeStopSending,
  sizeStream,
  sizeStreamDataBlocked,
  sizeStreamsBlocked,
} from '../../src/codec/frames.js';
import { fromHex, Reader, toHex, utf8, Writer } from '../../src/util/bytes.js';
import { RangeSet } from '../../src/util/range-set.js';

const FEE = TransportErrorCode.FRAME_ENCODING_ERROR;
const PV = TransportErrorCode.PROTOCOL_VIOLATION;
const CID8 = '0102030405060708';
const TOKEN16 = '00112233445566778899aabbccddeeff';
const PATH8 = 'a0a1a2a3a4a5a6a7';

/** Encode with a specific encoder into an exact-size writer; return the bytes and the count. */
function enc(size: number, fn: (w: Writer) => number): { hex: string; n: number } {
  const w = Writer.alloc(size + 8);
  const n = fn(w);
  return { hex: toHex(w.written()), n };
}

function expectTransportError(t: ExecutionContext, fn: () => unknown, code: number, frameType?: number): void {
  const e = t.throws(fn);
  t.true(e instanceof TransportError, `expected TransportError, got ${String(e)}`);
  const te = e as TransportError;
  t.is(te.errorCode, code, te.message);
  if (frameType !== undefined) t.is(te.frameType, frameType, te.message);
}

interface Case {
  name: string;
  hex: string;
  /** Fields the decoded frame must carry. */
  expect: Record<string, unknown>;
  /** The specific encoder for this frame and its size function. */
  encode: (w: Writer) => number;
  size: number;
  /** For frames whose data runs to the end of the packet: prefixes of at least this many bytes are valid. */
  openTail?: number;
}

function fieldValue(v: unknown): unknown {
  return v instanceof Uint8Array ? toHex(v) : v;
}

const cases: Case[] = [
  {
    name: 'PADDING run',
    hex: '000000',
    expect: { kind: FrameType.PADDING, length: 3 },
    encode: (w) => encodePadding(w, 3),
    size: 3,
    openTail: 1,
  },
  { name: 'PING', hex: '01', expect: { kind: FrameType.PING }, encode: encodePing, size: sizePing() },
  {
    // Largest 0x7bbd = 15293, delay 0x25 = 37, two extra ranges.
    name: 'ACK with ranges',
    hex: '02 7bbd 25 02 03 01 02 00 00',
    expect: {
      kind: FrameType.ACK,
      type: 0x02,
      largest: 15293,
      ackDelay: 37,
      firstRange: 3,
      rangeCount: 3,
      ecn: false,
    },
    encode: (w) => encodeAck(w, [15290, 15293, 15285, 15287, 15283, 15283], 3, 37, null),
    size: sizeAck([15290, 15293, 15285, 15287, 15283, 15283], 3, 37, null),
  },
  {
    // Largest 0x9d7f3e7d = 494878333 acknowledged all the way down to 0, with ECN counts.
    name: 'ACK_ECN',
    hex: '03 9d7f3e7d 00 00 9d7f3e7d 01 02 7bbd',
    expect: {
      kind: FrameType.ACK,
      type: 0x03,
      largest: 494878333,
      ackDelay: 0,
      firstRange: 494878333,
      rangeCount: 1,
      ecn: true,
      ect0: 1,
      ect1: 2,
      ce: 15293,
    },
    encode: (w) => encodeAck(w, [0, 494878333], 1, 0, { ect0: 1, ect1: 2, ce: 15293 }),
    size: sizeAck([0, 494878333], 1, 0, { ect0: 1, ect1: 2, ce: 15293 }),
  },
  {
    name: 'RESET_STREAM',
    hex: '04 7bbd 25 9d7f3e7d',
    expect: { kind: FrameType.RESET_STREAM, streamId: 15293, errorCode: 37, finalSize: 494878333 },
    encode: (w) => encodeResetStream(w, 15293, 37, 494878333),
    size: sizeResetStream(15293, 37, 494878333),
  },
  {
    name: 'STOP_SENDING',
    hex: '05 04 8000abcd',
    expect: { kind: FrameType.STOP_SENDING, streamId: 4, errorCode: 0xabcd },
    encode: (w) => encodeStopSending(w, 4, 0xabcd),
    size: sizeStopSending(4, 0xabcd),
  },
  {
    name: 'CRYPTO',
    hex: '06 7bbd 05 68656c6c6f',
    expect: { kind: FrameType.CRYPTO, offset: 15293, data: '68656c6c6f' },
    encode: (w) => encodeCrypto(w, 15293, utf8('hello')),
    size: sizeCrypto(15293, 5),
  },
  {
    name: 'NEW_TOKEN',
    hex: '07 04 deadbeef',
    expect: { kind: FrameType.NEW_TOKEN, token: 'deadbeef' },
    encode: (w) => encodeNewToken(w, fromHex('deadbeef')),
    size: sizeNewToken(4),
  },
  {
    name: 'STREAM 0x08 (no OFF, no LEN, no FIN)',
    hex: '08 00 616263',
    expect: { kind: FrameType.STREAM, type: 0x08, streamId: 0, offset: 0, fin: false, hasLength: false, data: '616263' },
    encode: (w) => encodeStream(w, 0, 0, utf8('abc'), false, false),
    size: sizeStream(0, 0, 3, false),
    openTail: 2,
  },
  {
    name: 'STREAM 0x09 (FIN, empty)',
    hex: '09 00',
    expect: { kind: FrameType.STREAM, type: 0x09, streamId: 0, offset: 0, fin: true, hasLength: false, data: '' },
    encode: (w) => encodeStream(w, 0, 0, new Uint8Array(0), true, false),
    size: sizeStream(0, 0, 0, false),
  },
  {
    name: 'STREAM 0x0a (LEN)',
    hex: '0a 04 02 6869',
    expect: { kind: FrameType.STREAM, type: 0x0a, streamId: 4, offset: 0, fin: false, hasLength: true, data: '6869' },
    encode: (w) => encodeStream(w, 4, 0, utf8('hi'), false, true),
    size: sizeStream(4, 0, 2, true),
  },
  {
    name: 'STREAM 0x0b (LEN, FIN)',
    hex: '0b 01 00',
    expect: { kind: FrameType.STREAM, type: 0x0b, streamId: 1, offset: 0, fin: true, hasLength: true, data: '' },
    encode: (w) => encodeStream(w, 1, 0, new Uint8Array(0), true, true),
    size: sizeStream(1, 0, 0, true),
  },
  {
    name: 'STREAM 0x0c (OFF, no LEN, no FIN)',
    hex: '0c 04 7bbd 6869',
    expect: { kind: FrameType.STREAM, type: 0x0c, streamId: 4, offset: 15293, fin: false, hasLength: false, data: '6869' },
    encode: (w) => encodeStream(w, 4, 15293, utf8('hi'), false, false),
    size: sizeStream(4, 15293, 2, false),
    openTail: 4,
  },
  {
    name: 'STREAM 0x0d (OFF, FIN, no LEN)',
    hex: '0d 02 25 7a',
    expect: { kind: FrameType.STREAM, type: 0x0d, streamId: 2, offset: 37, fin: true, hasLength: false, data: '7a' },
    encode: (w) => encodeStream(w, 2, 37, utf8('z'), true, false),
    size: sizeStream(2, 37, 1, false),
    openTail: 3,
  },
  {
    name: 'STREAM 0x0e (OFF, LEN)',
    hex: '0e 7bbd 9d7f3e7d 03 616263',
    expect: { kind: FrameType.STREAM, type: 0x0e, streamId: 15293, offset: 494878333, fin: false, hasLength: true },
    encode: (w) => encodeStream(w, 15293, 494878333, utf8('abc'), false, true),
    size: sizeStream(15293, 494878333, 3, true),
  },
  {
    name: 'STREAM 0x0f (OFF, LEN, FIN)',
    hex: '0f 7bbd 9d7f3e7d 03 616263',
    expect: { kind: FrameType.STREAM, type: 0x0f, streamId: 15293, offset: 494878333, fin: true, data: '616263' },
    encode: (w) => encodeStream(w, 15293, 494878333, utf8('abc'), true, true),
    size: sizeStream(15293, 494878333, 3, true),
  },
  {
    name: 'MAX_DATA',
    hex: '10 9d7f3e7d',
    expect: { kind: FrameType.MAX_DATA, maximum: 494878333 },
    encode: (w) => encodeMaxData(w, 494878333),
    size: sizeMaxData(494878333),
  },
  {
    name: 'MAX_STREAM_DATA',
    hex: '11 7bbd 25',
    expect: { kind: FrameType.MAX_STREAM_DATA, streamId: 15293, maximum: 37 },
    encode: (w) => encodeMaxStreamData(w, 15293, 37),
    size: sizeMaxStreamData(15293, 37),
  },
  {
    name: 'MAX_STREAMS bidi',
    hex: '12 25',
    expect: { kind: FrameType.MAX_STREAMS_BIDI, type: 0x12, bidi: true, maximum: 37 },
    encode: (w) => encodeMaxStreams(w, true, 37),
    size: sizeMaxStreams(37),
  },
  {
    name: 'MAX_STREAMS uni',
    hex: '13 7bbd',
    expect: { kind: FrameType.MAX_STREAMS_BIDI, type: 0x13, bidi: false, maximum: 15293 },
    encode: (w) => encodeMaxStreams(w, false, 15293),
    size: sizeMaxStreams(15293),
  },
  {
    name: 'DATA_BLOCKED',
    hex: '14 7bbd',
    expect: { kind: FrameType.DATA_BLOCKED, limit: 15293 },
    encode: (w) => encodeDataBlocked(w, 15293),
    size: sizeDataBlocked(15293),
  },
  {
    name: 'STREAM_DATA_BLOCKED',
    hex: '15 00 25',
    expect: { kind: FrameType.STREAM_DATA_BLOCKED, streamId: 0, limit: 37 },
    encode: (w) => encodeStreamDataBlocked(w, 0, 37),
    size: sizeStreamDataBlocked(0, 37),
  },
  {
    name: 'STREAMS_BLOCKED bidi',
    hex: '16 07',
    expect: { kind: FrameType.STREAMS_BLOCKED_BIDI, type: 0x16, bidi: true, limit: 7 },
    encode: (w) => encodeStreamsBlocked(w, true, 7),
    size: sizeStreamsBlocked(7),
  },
  {
    name: 'STREAMS_BLOCKED uni',
    hex: '17 4064',
    expect: { kind: FrameType.STREAMS_BLOCKED_BIDI, type: 0x17, bidi: false, limit: 100 },
    encode: (w) => encodeStreamsBlocked(w, false, 100),
    size: sizeStreamsBlocked(100),
  },
  {
    name: 'NEW_CONNECTION_ID',
    hex: `18 02 01 08 ${CID8} ${TOKEN16}`,
    expect: {
      kind: FrameType.NEW_CONNECTION_ID,
      sequence: 2,
      retirePriorTo: 1,
      connectionId: CID8,
      statelessResetToken: TOKEN16,
    },
    encode: (w) => encodeNewConnectionId(w, 2, 1, fromHex(CID8), fromHex(TOKEN16)),
    size: sizeNewConnectionId(2, 1, 8),
  },
  {
    name: 'RETIRE_CONNECTION_ID',
    hex: '19 7bbd',
    expect: { kind: FrameType.RETIRE_CONNECTION_ID, sequence: 15293 },
    encode: (w) => encodeRetireConnectionId(w, 15293),
    size: sizeRetireConnectionId(15293),
  },
  {
    name: 'PATH_CHALLENGE',
    hex: `1a ${PATH8}`,
    expect: { kind: FrameType.PATH_CHALLENGE, data: PATH8 },
    encode: (w) => encodePathChallenge(w, fromHex(PATH8)),
    size: sizePathChallenge(),
  },
  {
    name: 'PATH_RESPONSE',
    hex: `1b ${PATH8}`,
    expect: { kind: FrameType.PATH_RESPONSE, data: PATH8 },
    encode: (w) => encodePathResponse(w, fromHex(PATH8)),
    size: sizePathResponse(),
  },
  {
    name: 'CONNECTION_CLOSE (transport)',
    hex: '1c 07 08 03 626164',
    expect: { kind: FrameType.CONNECTION_CLOSE, type: 0x1c, app: false, errorCode: 7, frameType: 8, reason: '626164' },
    encode: (w) => encodeConnectionClose(w, 7, 8, utf8('bad')),
    size: sizeConnectionClose(7, 8, 3),
  },
  {
    name: 'CONNECTION_CLOSE (application)',
    hex: '1d 4100 00',
    expect: { kind: FrameType.CONNECTION_CLOSE, type: 0x1d, app: true, errorCode: 0x100, frameType: 0, reason: '' },
    encode: (w) => encodeApplicationClose(w, 0x100, new Uint8Array(0)),
    size: sizeApplicationClose(0x100, 0),
  },
  {
    name: 'HANDSHAKE_DONE',
    hex: '1e',
    expect: { kind: FrameType.HANDSHAKE_DONE },
    encode: encodeHandshakeDone,
    size: sizeHandshakeDone(),
  },
  {
    name: 'DATAGRAM 0x30 (no LEN)',
    hex: '30 78797a',
    expect: { kind: FrameType.DATAGRAM, type: 0x30, hasLength: false, data: '78797a' },
    encode: (w) => encodeDatagram(w, utf8('xyz'), false),
    size: sizeDatagram(3, false),
    openTail: 1,
  },
  {
    name: 'DATAGRAM 0x31 (LEN)',
    hex: '31 03 78797a',
    expect: { kind: FrameType.DATAGRAM, type: 0x31, hasLength: true, data: '78797a' },
    encode: (w) => encodeDatagram(w, utf8('xyz'), true),
    size: sizeDatagram(3, true),
  },
];

for (const c of cases) {
  test(`${c.name}: decode → consumed → encode → identical bytes and size`, (t) => {
    const bytes = fromHex(c.hex);
    // Fresh-object decoder.
    const r = new Reader(bytes);
    const f = decodeFrame(r);
    t.is(r.pos, bytes.length, 'bytes consumed');
    for (const [k, v] of Object.entries(c.expect)) t.deepEqual(fieldValue((f as unknown as Record<string, unknown>)[k]), v, k);
    // Reusable-object decoder gives the same frame.
    const p = new FrameParser();
    p.reset(bytes, PacketKind.ONE_RTT);
    const g = p.next();
    t.truthy(g);
    t.is(p.reader.pos, bytes.length);
    t.is(p.next(), null);
    for (const [k, v] of Object.entries(c.expect)) t.deepEqual(fieldValue((g as unknown as Record<string, unknown>)[k]), v, k);
    // Generic encoder and size.
    t.is(sizeFrame(f), bytes.length, 'sizeFrame');
    const w = Writer.alloc(bytes.length);
    t.is(encodeFrame(w, f), bytes.length);
    t.is(toHex(w.written()), toHex(bytes), 'encodeFrame bytes');
    // Specific encoder and size function.
    t.is(c.size, bytes.length, 'sizeX');
    const e = enc(bytes.length, c.encode);
    t.is(e.hex, toHex(bytes), 'encodeX bytes');
    t.is(e.n, bytes.length, 'encodeX return value');
    // An exactly-sized writer is enough.
    t.is(c.encode(Writer.alloc(bytes.length)), bytes.length);
  });

  test(`${c.name}: every truncated prefix → FRAME_ENCODING_ERROR`, (t) => {
    const bytes = fromHex(c.hex);
    for (let n = 0; n < bytes.length; n++) {
      const prefix = bytes.subarray(0, n);
      if (c.openTail !== undefined && n >= c.openTail) {
        // Data runs to the end of the packet: a shorter packet is a shorter, valid frame.
        const r = new Reader(prefix);
        decodeFrame(r);
        t.is(r.pos, n);
        continue;
      }
      try {
        decodeFrame(new Reader(prefix));
        t.fail(`prefix of ${n} bytes decoded`);
      } catch (e) {
        t.true(e instanceof TransportError, `prefix ${n}: ${String(e)}`);
        t.is((e as TransportError).errorCode, FEE, `prefix ${n}`);
        if (n > 0) t.is((e as TransportError).frameType, bytes[0]!, `prefix ${n} frameType`);
      }
    }
  });
}

test('ACK decodes ranges into the preallocated structure', (t) => {
  const p = new FrameParser();
  p.reset(fromHex('02 7bbd 25 02 03 01 02 00 00'), PacketKind.ONE_RTT);
  const f = p.next() as AckFrame;
  t.deepEqual(f.ranges.slice(0, 2 * f.rangeCount), [15290, 15293, 15285, 15287, 15283, 15283]);
  const arr = f.ranges;
  // A second, smaller ACK reuses the same array and object.
  p.reset(fromHex('02 05 00 00 01'), PacketKind.ONE_RTT);
  const g = p.next() as AckFrame;
  t.is(g, f);
  t.is(g.ranges, arr);
  t.is(g.rangeCount, 1);
  t.deepEqual(g.ranges.slice(0, 2), [4, 5]);
});

test('ACK: ranges going below 0 → FRAME_ENCODING_ERROR', (t) => {
  // First ACK Range larger than Largest Acknowledged.
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('02 05 00 00 06'))), FEE, 0x02);
  // Gap takes the next largest below 0: smallest 3, gap 2 → 3 - 2 - 2 = -1.
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('02 05 00 01 02 02 00'))), FEE, 0x02);
  // Range length takes the smallest below 0: smallest 3, gap 0 → largest 1, length 2 → -1.
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('02 05 00 01 02 00 02'))), FEE, 0x02);
  // Exactly reaching 0 is fine.
  const f = decodeFrame(new Reader(fromHex('02 05 00 01 02 00 01'))) as AckFrame;
  t.deepEqual(f.ranges.slice(0, 4), [3, 5, 0, 1]);
});

test('ACK: packet number above 2^53-1 (App. A 8-byte sample) → FRAME_ENCODING_ERROR', (t) => {
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('02 c2197c5eff14e88c 00 00 00'))), FEE, 0x02);
  // A false huge range count ends at the end of the payload, not in a long loop.
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('02 05 00 bfffffff 00 00 00'))), FEE, 0x02);
});

test('ACK encoder drops the oldest ranges to fit maxBytes', (t) => {
  // Ranges (descending): [100,100], [90,95], [50,60], [10,20], [0,5]
  const ranges = [100, 100, 90, 95, 50, 60, 10, 20, 0, 5];
  const full = sizeAck(ranges, 5, 10, null);
  // type, largest 100 (2), delay (1), count (1), first (1), 4 × (gap, len) of 1 byte = 14
  t.is(full, 1 + 2 + 1 + 1 + 1 + 8);
  t.is(fitAckRanges(ranges, 5, 10, null, full), 5);
  t.is(fitAckRanges(ranges, 5, 10, null, full - 1), 4);
  t.is(fitAckRanges(ranges, 5, 10, null, 6), 1);
  t.is(fitAckRanges(ranges, 5, 10, null, 5), 0);
  const w = Writer.alloc(64);
  t.is(encodeAck(w, ranges, 5, 10, null, full - 1), full - 2);
  const f = decodeFrame(new Reader(w.written())) as AckFrame;
  t.is(f.rangeCount, 4);
  t.deepEqual(f.ranges.slice(0, 8), ranges.slice(0, 8));
  // Nothing fits: nothing written, 0 returned (not an exception).
  const w2 = Writer.alloc(64);
  t.is(encodeAck(w2, ranges, 5, 10, null, 5), 0);
  t.is(w2.pos, 0);
  // The writer's own space also bounds the frame.
  const w3 = Writer.alloc(8);
  const n = encodeAck(w3, ranges, 5, 10, null, 1000);
  t.true(n > 0 && n <= 8);
  t.is((decodeFrame(new Reader(w3.written())) as AckFrame).rangeCount, 2);
});

test('ACK encoder: fitting is exact where the range-count field grows (63 → 64 extra ranges)', (t) => {
  const ranges: number[] = [];
  let pn = 10_000;
  for (let i = 0; i < 70; i++) {
    ranges.push(pn - 1, pn); // [pn-1, pn]
    pn -= 4; // gap of 2 unacknowledged packets → Gap field 1
  }
  for (let max = 10; max < 250; max++) {
    const k = fitAckRanges(ranges, 70, 0, null, max);
    if (k > 0) t.true(sizeAck(ranges, k, 0, null) <= max, `max ${max}: ${k} ranges`);
    if (k < 70) t.true(sizeAck(ranges, k + 1, 0, null) > max, `max ${max}: ${k + 1} ranges should not fit`);
  }
});

test('ACK encoder rejects malformed input ranges with RangeError', (t) => {
  const w = Writer.alloc(64);
  t.throws(() => encodeAck(w, [5, 4], 1, 0, null), { instanceOf: RangeError }); // smallest > largest
  t.throws(() => encodeAck(w, [5, 9, 3, 4], 2, 0, null), { instanceOf: RangeError }); // adjacent (no gap)
  t.throws(() => encodeAck(w, [5, 9, 6, 7], 2, 0, null), { instanceOf: RangeError }); // overlapping
  t.throws(() => encodeAck(w, [5, 9], 0, 0, null), { instanceOf: RangeError });
  t.throws(() => encodeAck(w, [5, 9], 2, 0, null), { instanceOf: RangeError });
  t.throws(() => encodeAck(w, [-1, 9], 1, 0, null), { instanceOf: RangeError });
  t.is(w.pos, 0);
});

test('ackRangesFromSet converts a RangeSet into descending pairs for encodeAck', (t) => {
  const set = new RangeSet();
  for (const pn of [0, 1, 2, 5, 6, 9]) set.add(pn);
  const out: number[] = [];
  const n = ackRangesFromSet(set, out);
  t.is(n, 3);
  t.deepEqual(out.slice(0, 6), [9, 9, 5, 6, 0, 2]);
  t.is(ackRangesFromSet(set, out, 2), 2);
  const w = Writer.alloc(32);
  encodeAck(w, out, n, 3, null);
  // Largest 9, delay 3, 2 extra ranges, first 0; gap 9-6-2 = 1, len 1; gap 5-2-2 = 1, len 2.
  t.is(toHex(w.written()), '020903020001010102');
});

test('App. A varint samples inside frames: saturation, exactness, non-minimal fields', (t) => {
  // MAX_DATA is a limit: an 8-byte value above 2^53 saturates.
  const m = decodeFrame(new Reader(fromHex('10 c2197c5eff14e88c')));
  t.like(m, { kind: FrameType.MAX_DATA, maximum: Number.MAX_SAFE_INTEGER });
  // A stream offset must be exact: the same value is FRAME_ENCODING_ERROR.
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('0e 00 c2197c5eff14e88c 00'))), FEE, 0x0e);
  // Stream IDs too.
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('11 c2197c5eff14e88c 00'))), FEE, 0x11);
  // Fields (unlike frame types) may use a longer varint form: 0x4025 is 37 in two bytes.
  const r = new Reader(fromHex('11 4025 25'));
  const f = decodeFrame(r);
  t.like(f, { kind: FrameType.MAX_STREAM_DATA, streamId: 37, maximum: 37 });
  t.is(r.pos, 4);
  t.is(sizeFrame(f), 3);
});

test('frame type must use the shortest encoding → PROTOCOL_VIOLATION', (t) => {
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('4001'))), PV, 0x01);
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('80000008 00 00'))), PV, 0x08);
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('c000000000000006 00 00'))), PV, 0x06);
});

test('unknown frame types → FRAME_ENCODING_ERROR carrying that type', (t) => {
  for (const type of [0x1f, 0x20, 0x2f, 0x32, 0x3f]) {
    expectTransportError(t, () => decodeFrame(new Reader(Uint8Array.of(type, 0, 0, 0))), FEE, type);
  }
  // A minimal two-byte type (0x4040 = 64) and ACK_FREQUENCY (0xaf, not negotiated).
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('4040'))), FEE, 0x40);
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('40af 00'))), FEE, 0xaf);
  // A type truncated inside its varint.
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('40'))), FEE);
});

test('field violations → FRAME_ENCODING_ERROR', (t) => {
  // STREAM Length beyond the packet.
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('0a 00 05 6162'))), FEE, 0x0a);
  // CRYPTO Length beyond the packet.
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('06 00 05 6162'))), FEE, 0x06);
  // NEW_TOKEN with an empty token (§19.7).
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('07 00'))), FEE, 0x07);
  // MAX_STREAMS / STREAMS_BLOCKED above 2^60 (§19.11, §19.14); exactly 2^60 is allowed.
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('12 d000000000000001'))), FEE, 0x12);
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('13 ffffffffffffffff'))), FEE, 0x13);
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('17 d000000000000001'))), FEE, 0x17);
  t.like(decodeFrame(new Reader(fromHex('12 d000000000000000'))), { maximum: Number.MAX_SAFE_INTEGER });
  t.like(decodeFrame(new Reader(fromHex('16 d000000000000000'))), { limit: Number.MAX_SAFE_INTEGER });
  t.like(decodeFrame(new Reader(fromHex('13 c020000000000000'))), { maximum: Number.MAX_SAFE_INTEGER }); // 2^53
  // NEW_CONNECTION_ID: length 0 and 21, retire_prior_to > sequence (§19.15).
  expectTransportError(t, () => decodeFrame(new Reader(fromHex(`18 01 00 00 ${TOKEN16}`))), FEE, 0x18);
  expectTransportError(t, () => decodeFrame(new Reader(fromHex(`18 01 00 15 ${'11'.repeat(21)} ${TOKEN16}`))), FEE, 0x18);
  expectTransportError(t, () => decodeFrame(new Reader(fromHex(`18 01 02 08 ${CID8} ${TOKEN16}`))), FEE, 0x18);
  const max = decodeFrame(new Reader(fromHex(`18 05 05 14 ${'22'.repeat(20)} ${TOKEN16}`)));
  t.like(max, { sequence: 5, retirePriorTo: 5 });
  // CONNECTION_CLOSE reason phrase longer than the frame.
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('1c 00 00 04 616263'))), FEE, 0x1c);
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('1d 00 09 616263'))), FEE, 0x1d);
  // DATAGRAM Length beyond the packet.
  expectTransportError(t, () => decodeFrame(new Reader(fromHex('31 04 616263'))), FEE, 0x31);
  // Empty input.
  expectTransportError(t, () => decodeFrame(new Reader(new Uint8Array(0))), FEE);
});

test('§12.4 permitted packet types table', (t) => {
  // I = Initial, H = Handshake, 0 = 0-RTT, 1 = 1-RTT (RFC 9000 Table 3; §12.5 0-RTT exclusions;
  // RFC 9221 §4 for DATAGRAM).
  const table: [number, string][] = [
    [0x00, 'IH01'], [0x01, 'IH01'], [0x02, 'IH_1'], [0x03, 'IH_1'], [0x04, '__01'], [0x05, '__01'],
    [0x06, 'IH_1'], [0x07, '___1'], [0x08, '__01'], [0x0f, '__01'], [0x10, '__01'], [0x11, '__01'],
    [0x12, '__01'], [0x13, '__01'], [0x14, '__01'], [0x15, '__01'], [0x16, '__01'], [0x17, '__01'],
    [0x18, '__01'], [0x19, '___1'], [0x1a, '__01'], [0x1b, '___1'], [0x1c, 'IH01'], [0x1d, '__01'],
    [0x1e, '___1'], [0x30, '__01'], [0x31, '__01'],
  ];
  const kinds = [PacketKind.INITIAL, PacketKind.HANDSHAKE, PacketKind.ZERO_RTT, PacketKind.ONE_RTT];
  for (const [type, spec] of table) {
    for (let i = 0; i < 4; i++) {
      const allowed = spec[i] !== '_';
      t.is(frameAllowedIn(type, kinds[i]!), allowed, `${frameTypeName(type)} in kind ${kinds[i]}`);
      if (allowed) t.notThrows(() => checkFrameAllowed(type, kinds[i]!));
      else expectTransportError(t, () => checkFrameAllowed(type, kinds[i]!), PV, type);
    }
  }
  t.false(frameAllowedIn(0x1f, PacketKind.ONE_RTT));
  t.false(frameAllowedIn(0x40, PacketKind.ONE_RTT));
  t.false(frameAllowedIn(0x01, 0 as PacketKind)); // a raw header type bit pattern is not a kind
});

test('FrameParser enforces §12.4 per packet kind and rejects empty payloads', (t) => {
  const p = new FrameParser();
  p.reset(fromHex('0a 04 02 6869'), PacketKind.INITIAL);
  expectTransportError(t, () => p.next(), PV, 0x0a);
  p.reset(fromHex('02 05 00 00 01'), PacketKind.ZERO_RTT);
  expectTransportError(t, () => p.next(), PV, 0x02);
  p.reset(fromHex('1d 00 00'), PacketKind.HANDSHAKE);
  expectTransportError(t, () => p.next(), PV, 0x1d);
  p.reset(fromHex('1c 00 00 00'), PacketKind.INITIAL);
  t.like(p.next(), { kind: FrameType.CONNECTION_CLOSE, app: false });
  p.reset(new Uint8Array(0), PacketKind.ONE_RTT);
  expectTransportError(t, () => p.next(), PV);
  // A payload range inside a larger buffer.
  const buf = fromHex('ff ff 01 00 00 ff');
  p.reset(buf, PacketKind.HANDSHAKE, 2, 5);
  t.like(p.next(), { kind: FrameType.PING });
  t.like(p.next(), { kind: FrameType.PADDING, length: 2 });
  t.is(p.next(), null);
});

test('FrameParser walks a payload of several frames with views into it', (t) => {
  const payload = fromHex(`02 0a 00 00 0a  0e 04 25 03 616263  18 02 01 08 ${CID8} ${TOKEN16}  01  0000  08 08 7879`);
  const seen: string[] = [];
  const starts: number[] = [];
  const p = new FrameParser();
  let streamData: Uint8Array | null = null;
  const count = parseFrames(
    payload,
    PacketKind.ONE_RTT,
    (f: Frame) => {
      seen.push(frameTypeName(f.type));
      starts.push(p.frameStart);
      if (f.kind === FrameType.STREAM && streamData === null) streamData = f.data;
    },
    p,
  );
  t.is(count, 6);
  t.deepEqual(seen, ['ACK', 'STREAM', 'NEW_CONNECTION_ID', 'PING', 'PADDING', 'STREAM']);
  t.deepEqual(starts, [0, 5, 12, 40, 41, 43]);
  // Data fields are views into the payload, not copies.
  const sd = streamData as unknown as Uint8Array;
  t.is(sd.buffer, payload.buffer);
  t.is(sd.byteOffset, 9);
  t.is(toHex(sd), '616263');
});

test('isAckEliciting, isProbing and countsInFlight (RFC 9000 §13.2, §9.1; RFC 9002 §2)', (t) => {
  const nonEliciting = new Set([0x00, 0x02, 0x03, 0x1c, 0x1d]);
  const probing = new Set([0x00, 0x18, 0x1a, 0x1b]);
  for (const type of [...Array(0x1f).keys(), 0x30, 0x31]) {
    t.is(isAckEliciting(type), !nonEliciting.has(type), frameTypeName(type));
    t.is(isProbing(type), probing.has(type), frameTypeName(type));
    t.is(countsInFlight(type), type === 0x00 || !nonEliciting.has(type), frameTypeName(type));
  }
});

test('fitStreamFrame: fits with Length, fills the packet without it, pads, splits', (t) => {
  const fit = newStreamFit();
  // Stream 4, offset 0: header 2 bytes (+1 for Length of up to 63 bytes).
  t.true(fitStreamFrame(fit, 4, 0, 10, true, 100));
  t.like(fit, { dataBytes: 10, withLength: true, fin: true, padding: 0, frameBytes: 13 });
  // Exactly fills without Length.
  t.true(fitStreamFrame(fit, 4, 0, 10, true, 12));
  t.like(fit, { dataBytes: 10, withLength: false, fin: true, padding: 0, frameBytes: 12 });
  // Fits without Length only, with spare bytes → padding before the frame.
  // 100 data bytes need a 2-byte Length: 2 + 2 + 100 = 104; space 103 → no Length, 1 byte padding.
  t.true(fitStreamFrame(fit, 4, 0, 100, false, 103));
  t.like(fit, { dataBytes: 100, withLength: false, fin: false, padding: 1, frameBytes: 102 });
  // Data does not fit: fill the packet, fin dropped.
  t.true(fitStreamFrame(fit, 4, 494878333, 5000, true, 1200));
  t.like(fit, { dataBytes: 1200 - 1 - 1 - 4, withLength: false, fin: false, padding: 0, frameBytes: 1200 });
  // With Length required: the largest n with varintSize(n) + n ≤ avail.
  t.true(fitStreamFrame(fit, 4, 0, 5000, true, 1200, false));
  t.like(fit, { dataBytes: 1200 - 2 - 2, withLength: true, fin: false, frameBytes: 1200 });
  t.true(fitStreamFrame(fit, 4, 0, 5000, true, 67, false)); // avail 65 → n = 63 (1-byte length)
  t.like(fit, { dataBytes: 63, withLength: true, frameBytes: 66 });
  t.true(fitStreamFrame(fit, 4, 0, 5000, true, 68, false)); // avail 66 → n = 64 (2-byte length)
  t.like(fit, { dataBytes: 64, withLength: true, frameBytes: 68 });
  t.true(fitStreamFrame(fit, 4, 0, 5000, true, 65, false)); // avail 63 → n = 62 (1-byte length)
  t.like(fit, { dataBytes: 62, withLength: true, frameBytes: 65 });
  // Nothing fits.
  t.false(fitStreamFrame(fit, 4, 0, 5, false, 2));
  t.false(fitStreamFrame(fit, 4, 0, 5, false, 3, false));
  // Empty FIN frame: header only.
  t.true(fitStreamFrame(fit, 4, 7, 0, true, 3));
  t.like(fit, { dataBytes: 0, withLength: false, fin: true, frameBytes: 3 });
  t.false(fitStreamFrame(fit, 4, 7, 0, true, 2));
  // Every plan encodes to exactly frameBytes and decodes back (with padding ahead).
  for (let space = 1; space < 140; space++) {
    for (const len of [0, 1, 5, 62, 63, 64, 100, 130]) {
      for (const allowNoLength of [true, false]) {
        if (!fitStreamFrame(fit, 8, 64, len, true, space, allowNoLength)) continue;
        const w = Writer.alloc(space);
        encodePadding(w, fit.padding);
        encodeStream(w, 8, 64, new Uint8Array(fit.dataBytes), fit.fin, fit.withLength);
        t.is(w.pos - fit.padding, fit.frameBytes);
        if (!fit.withLength) t.is(w.pos, space, `no Length must end the packet (space ${space}, len ${len})`);
        t.true(w.pos <= space);
        const p = new FrameParser().reset(w.written(), PacketKind.ONE_RTT);
        let got: Frame | null = null;
        for (let f = p.next(); f !== null; f = p.next()) if (f.kind === FrameType.STREAM) got = f;
        t.like(got, { kind: FrameType.STREAM, streamId: 8, offset: 64 });
        t.is((got as { data: Uint8Array }).data.length, fit.dataBytes);
      }
    }
  }
});

test('encodeFrame derives the STREAM type bits from the fields', (t) => {
  // A hand-built frame whose `type` lacks OFF/LEN/FIN still encodes what its fields say.
  const f: Frame = { kind: FrameType.STREAM, type: 0x08, streamId: 4, offset: 37, fin: true, hasLength: true, data: utf8('hi') };
  const w = Writer.alloc(sizeFrame(f));
  encodeFrame(w, f);
  t.is(toHex(w.written()), '0f0425026869');
  t.like(decodeFrame(new Reader(w.written())), { offset: 37, fin: true, hasLength: true });
});

test('fitCryptoFrame and the header-only encoders', (t) => {
  t.is(fitCryptoFrame(0, 10, 100), 10);
  t.is(fitCryptoFrame(0, 10, 13), 10);
  t.is(fitCryptoFrame(0, 10, 12), 9);
  t.is(fitCryptoFrame(0, 1000, 1200), 1000);
  t.is(fitCryptoFrame(0, 5000, 1200), 1200 - 1 - 1 - 2);
  t.is(fitCryptoFrame(0, 1000, 4), 1);
  t.is(fitCryptoFrame(0, 1000, 3), 0);
  for (let space = 0; space < 80; space++) {
    const n = fitCryptoFrame(1000, 70, space);
    if (n > 0) t.true(sizeCrypto(1000, n) <= space);
    if (n < 70) t.true(sizeCrypto(1000, n + 1) > space);
  }
  // Header + separately copied data equals the one-shot encoder.
  const a = Writer.alloc(32);
  encodeCryptoHeader(a, 15293, 3);
  a.bytes(utf8('abc'));
  const b = Writer.alloc(32);
  encodeCrypto(b, 15293, utf8('abc'));
  t.is(toHex(a.written()), toHex(b.written()));
  const c = Writer.alloc(32);
  encodeStreamHeader(c, 4, 0, 3, true, true);
  c.bytes(utf8('abc'));
  t.is(toHex(c.written()), '0b0403616263');
});

test('encoders reject API misuse with RangeError and write nothing', (t) => {
  const w = Writer.alloc(64);
  t.throws(() => encodeNewConnectionId(w, 1, 0, new Uint8Array(0), new Uint8Array(16)), { instanceOf: RangeError });
  t.throws(() => encodeNewConnectionId(w, 1, 0, new Uint8Array(21), new Uint8Array(16)), { instanceOf: RangeError });
  t.throws(() => encodeNewConnectionId(w, 1, 0, new Uint8Array(8), new Uint8Array(15)), { instanceOf: RangeError });
  t.throws(() => encodeNewConnectionId(w, 1, 2, new Uint8Array(8), new Uint8Array(16)), { instanceOf: RangeError });
  t.throws(() => encodePathChallenge(w, new Uint8Array(7)), { instanceOf: RangeError });
  t.throws(() => encodeNewToken(w, new Uint8Array(0)), { instanceOf: RangeError });
  t.throws(() => encodeMaxStreams(w, true, -1), { instanceOf: RangeError });
  t.throws(() => encodeMaxData(w, 1.5), { instanceOf: RangeError });
  t.throws(() => encodeStream(w, -4, 0, new Uint8Array(1), false, true), { instanceOf: RangeError });
  t.throws(() => encodeResetStream(w, 0, 0, Number.MAX_SAFE_INTEGER + 2), { instanceOf: RangeError });
  t.throws(() => encodePadding(w, -1), { instanceOf: RangeError });
  t.is(w.pos, 0);
  // Too little space is a BufferOverflow (a RangeError), also before writing anything.
  const small = Writer.alloc(4);
  t.throws(() => encodeStream(small, 4, 0, new Uint8Array(8), false, true), { instanceOf: RangeError });
  t.throws(() => encodeConnectionClose(small, 1, 2, utf8('long reason')), { instanceOf: RangeError });
  t.is(small.pos, 0);
});
