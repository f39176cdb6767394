// Property tests for src/codec/frames.ts (RFC 9000 §19, §12.4; RFC 9221 §4): peer input into the
// frame decoder throws nothing but TransportError, and every encodable frame round-trips.

import test from 'ava';
import fc from 'fast-check';
import { TransportError } from '../../src/codec/errors.js';
import {
  decodeFrame,
  encodeAck,
  encodeApplicationClose,
  encodeConnectionClose,
  encodeCrypto,
  encodeDatagram,
  encodeFrame,
  encodeMaxStreams,
  encodeNewConnectionId,
  encodeNewToken,
  encodePathChallenge,
  encodeResetStream,
  encodeStream,
  encodeStreamsBlocked,
  type Frame,
  FrameParser,
  frameTypeName,
  isKnownFrameType,
  PacketKind,
  sizeFrame,
} from '../../src/codec/frames.js';
import { Reader, toHex, Writer } from '../../src/util/bytes.js';

const RUNS = 10_000;
const KINDS = [PacketKind.INITIAL, PacketKind.ZERO_RTT, PacketKind.HANDSHAKE, PacketKind.ONE_RTT];

/** Parse a whole payload; return normally or throw TransportError, anything else fails. */
function parseAll(payload: Uint8Array, kind: PacketKind, p: FrameParser): void {
  p.reset(payload, kind);
  for (let f = p.next(); f !== null; f = p.next()) {
    // Touch the frame the way a consumer would.
    sizeFrame(f);
  }
}

function onlyTransportErrors(fn: () => void): boolean {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof TransportError)) throw e;
  }
  return true;
}

// Frame-type-biased random payloads: the first byte is usually a real frame type so the body
// decoders see random input too, not only the unknown-type branch.
const frameTypeByte = fc.oneof(
  fc.integer({ min: 0x00, max: 0x1e }),
  fc.constantFrom(0x30, 0x31, 0x40, 0x80, 0xc0),
  fc.integer({ min: 0, max: 255 }),
);
const randomPayload = fc
  .tuple(frameTypeByte, fc.uint8Array({ maxLength: 48 }))
  .map(([t, rest]) => Uint8Array.of(t, ...rest));

test('random bytes into FrameParser throw only TransportError', (t) => {
  const p = new FrameParser();
  fc.assert(
    fc.property(randomPayload, fc.constantFrom(...KINDS), (payload, kind) =>
      onlyTransportErrors(() => parseAll(payload, kind, p)),
    ),
    { numRuns: RUNS },
  );
  t.pass();
});

test('random bytes into decodeFrame (fresh objects) throw only TransportError', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) =>
      onlyTransportErrors(() => {
        const r = new Reader(bytes);
        while (r.pos < r.end) decodeFrame(r);
      }),
    ),
    { numRuns: RUNS },
  );
  t.pass();
});

// Each body decoder on its own (DESIGN §6: ≥ 10 000 runs per decoder): RUNS random bodies after
// every known frame type byte. The mixed-payload properties above spread their runs over all types.
const KNOWN_TYPES = Array.from({ length: 0x40 }, (_, i) => i).filter(isKnownFrameType);

for (const type of KNOWN_TYPES) {
  test(`${frameTypeName(type)} (0x${type.toString(16)}): ${RUNS} random bodies throw only TransportError`, (t) => {
    const p = new FrameParser();
    const r = new Reader();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (body) => {
        const bytes = new Uint8Array(1 + body.length);
        bytes[0] = type;
        bytes.set(body, 1);
        onlyTransportErrors(() => {
          r.reset(bytes);
          const f = p.parse(r);
          if (f.type !== type) throw new Error(`decoded type 0x${f.type.toString(16)}`);
          if (r.pos > bytes.length) throw new Error('read past the end');
          sizeFrame(f);
        });
        return true;
      }),
      { numRuns: RUNS },
    );
    t.pass();
  });
}

// Valid encodings to mutate.
function build(fn: (w: Writer) => number): Uint8Array {
  const w = Writer.alloc(256);
  fn(w);
  return w.written().slice();
}
const token = Uint8Array.from({ length: 16 }, (_, i) => i);
const seeds: Uint8Array[] = [
  build((w) => encodeAck(w, [990, 1000, 900, 950, 10, 800, 0, 5], 4, 12, null)),
  build((w) => encodeAck(w, [0, 70000], 1, 1 << 20, { ect0: 5, ect1: 0, ce: 70000 })),
  build((w) => encodeResetStream(w, 2 ** 40, 0x1234, 2 ** 33)),
  build((w) => encodeCrypto(w, 70000, new Uint8Array(20))),
  build((w) => encodeNewToken(w, new Uint8Array(30).fill(7))),
  build((w) => encodeStream(w, 4, 2 ** 31, new Uint8Array(12), true, true)),
  build((w) => encodeStream(w, 2 ** 20, 0, new Uint8Array(12), false, false)),
  build((w) => encodeMaxStreams(w, false, 2 ** 40)),
  build((w) => encodeStreamsBlocked(w, true, 300)),
  build((w) => encodeNewConnectionId(w, 9, 3, new Uint8Array(20).fill(1), token)),
  build((w) => encodePathChallenge(w, new Uint8Array(8).fill(9))),
  build((w) => encodeConnectionClose(w, 0x10a, 0x08, new Uint8Array(10).fill(0x41))),
  build((w) => encodeApplicationClose(w, 2 ** 35, new Uint8Array(3))),
  build((w) => encodeDatagram(w, new Uint8Array(9), true)),
];

const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) }),
);

function mutate(src: Uint8Array, muts: { op: string; at: number; value: number }[]): Uint8Array {
  let b = Array.from(src);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % (b.length + (m.op === 'insert' ? 1 : 0));
    if (m.op === 'flip' && b.length > 0) b[at] = m.value;
    else if (m.op === 'cut') b = b.slice(0, at);
    else if (m.op === 'insert') b.splice(at, 0, m.value);
    else if (m.op === 'delete' && b.length > 0) b.splice(at, 1);
  }
  return Uint8Array.from(b);
}

test('mutated valid frames (concatenated) throw only TransportError', (t) => {
  const p = new FrameParser();
  fc.assert(
    fc.property(
      fc.array(fc.nat({ max: seeds.length - 1 }), { minLength: 1, maxLength: 4 }),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      fc.constantFrom(...KINDS),
      (picks, muts, kind) => {
        const joined = Uint8Array.from(picks.flatMap((i) => Array.from(seeds[i]!)));
        return onlyTransportErrors(() => parseAll(mutate(joined, muts), kind, p));
      },
    ),
    { numRuns: RUNS },
  );
  t.pass();
});

// Arbitrary valid frames: encode → decode → same fields → same bytes.
const exact = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const bytesArb = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.constant<Frame>({ kind: 0x01, type: 0x01 }),
  fc.constant<Frame>({ kind: 0x1e, type: 0x1e }),
  fc.record({ streamId: exact, errorCode: exact, finalSize: exact }).map(
    (v): Frame => ({ kind: 0x04, type: 0x04, ...v }),
  ),
  fc.record({ streamId: exact, errorCode: exact }).map((v): Frame => ({ kind: 0x05, type: 0x05, ...v })),
  fc.record({ offset: fc.integer({ min: 0, max: 2 ** 40 }), data: bytesArb(0, 40) }).map(
    (v): Frame => ({ kind: 0x06, type: 0x06, ...v }),
  ),
  bytesArb(1, 40).map((token): Frame => ({ kind: 0x07, type: 0x07, token })),
  fc
    .record({ streamId: exact, offset: fc.integer({ min: 0, max: 2 ** 50 }), fin: fc.boolean(), data: bytesArb(0, 40) })
    .map((v): Frame => ({ kind: 0x08, type: 0x0a | (v.offset > 0 ? 4 : 0) | (v.fin ? 1 : 0), hasLength: true, ...v })),
  exact.map((maximum): Frame => ({ kind: 0x10, type: 0x10, maximum })),
  fc.record({ streamId: exact, maximum: exact }).map((v): Frame => ({ kind: 0x11, type: 0x11, ...v })),
  fc.record({ bidi: fc.boolean(), maximum: exact }).map((v): Frame => ({ kind: 0x12, type: v.bidi ? 0x12 : 0x13, ...v })),
  exact.map((limit): Frame => ({ kind: 0x14, type: 0x14, limit })),
  fc.record({ streamId: exact, limit: exact }).map((v): Frame => ({ kind: 0x15, type: 0x15, ...v })),
  fc.record({ bidi: fc.boolean(), limit: exact }).map((v): Frame => ({ kind: 0x16, type: v.bidi ? 0x16 : 0x17, ...v })),
  fc
    .record({ sequence: exact, back: exact, connectionId: bytesArb(1, 20), statelessResetToken: bytesArb(16, 16) })
    .map(
      (v): Frame => ({
        kind: 0x18,
        type: 0x18,
        sequence: v.sequence,
        retirePriorTo: v.back % (v.sequence + 1),
        connectionId: v.connectionId,
        statelessResetToken: v.statelessResetToken,
      }),
    ),
  exact.map((sequence): Frame => ({ kind: 0x19, type: 0x19, sequence })),
  bytesArb(8, 8).map((data): Frame => ({ kind: 0x1a, type: 0x1a, data })),
  bytesArb(8, 8).map((data): Frame => ({ kind: 0x1b, type: 0x1b, data })),
  fc
    .record({ app: fc.boolean(), errorCode: exact, frameType: exact, reason: bytesArb(0, 30) })
    .map((v): Frame => ({ kind: 0x1c, type: v.app ? 0x1d : 0x1c, ...v, frameType: v.app ? 0 : v.frameType })),
  bytesArb(0, 40).map((data): Frame => ({ kind: 0x30, type: 0x31, hasLength: true, data })),
  // ACK: build descending ranges from random gaps and lengths.
  fc
    .record({
      top: fc.integer({ min: 0, max: 2 ** 50 }),
      parts: fc.array(fc.tuple(fc.nat(3000), fc.nat(3000)), { minLength: 1, maxLength: 12 }),
      ackDelay: exact,
      ecn: fc.option(fc.record({ ect0: exact, ect1: exact, ce: exact }), { nil: null }),
    })
    .map(({ top, parts, ackDelay, ecn }): Frame => {
      const ranges: number[] = [];
      let hi = top;
      for (const [len, gap] of parts) {
        const lo = Math.max(0, hi - len);
        ranges.push(lo, hi);
        hi = lo - gap - 2;
        if (hi < 0) break;
      }
      return {
        kind: 0x02,
        type: ecn ? 0x03 : 0x02,
        largest: ranges[1]!,
        ackDelay,
        firstRange: ranges[1]! - ranges[0]!,
        rangeCount: ranges.length / 2,
        ranges,
        ecn: ecn !== null,
        ect0: ecn?.ect0 ?? 0,
        ect1: ecn?.ect1 ?? 0,
        ce: ecn?.ce ?? 0,
      };
    }),
);

function canon(f: Frame): string {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) {
    if (k === 'ranges') o[k] = (v as number[]).slice(0, 2 * (f as { rangeCount: number }).rangeCount);
    else o[k] = v instanceof Uint8Array ? toHex(v) : v;
  }
  return JSON.stringify(o, Object.keys(o).sort());
}

test('arbitrary valid frames round-trip: encode → decode → same frame → same bytes', (t) => {
  const p = new FrameParser();
  fc.assert(
    fc.property(frameArb, (f) => {
      const size = sizeFrame(f);
      const w = Writer.alloc(size);
      if (encodeFrame(w, f) !== size || w.pos !== size) return false;
      p.reset(w.written(), PacketKind.ONE_RTT);
      const g = p.next();
      if (g === null || p.reader.pos !== size || p.next() !== null) return false;
      if (canon(f) !== canon(g)) return false;
      const w2 = Writer.alloc(size);
      encodeFrame(w2, g);
      return toHex(w2.written()) === toHex(w.written());
    }),
    { numRuns: RUNS },
  );
  t.pass();
});
