// HTTP/3 frame codec (RFC 9114 §7, RFC 9218 §7.2): round trips with byte-exact re-encoding and size
// functions, every truncated prefix of every frame type, stream-kind rules, limits, reserved and
// HTTP/2-only types, and arbitrary chunking of the streaming reader.
import test from 'ava';
import fc from 'fast-check';
import { concat, fromHex, toHex } from '../../../src/util/bytes.js';
import {
  FrameReader,
  H3Error,
  H3ErrorCode,
  H3FrameType,
  decodeFramePayload,
  defaultSettings,
  frameBytes,
  frameSize,
  reservedValue,
  type FrameStreamKind,
  type H3Frame,
  type H3FrameEvent,
} from '../../../src/h3/wire/index.js';

function readAll(r: FrameReader, chunks: Uint8Array[], fin = true): H3FrameEvent[] {
  const out: H3FrameEvent[] = [];
  for (const c of chunks) {
    r.push(c);
    for (let ev = r.read(); ev; ev = r.read()) out.push(ev);
  }
  if (fin) r.end();
  return out;
}

function h3code(t: any, fn: () => unknown): number {
  const e = t.throws(fn, { instanceOf: H3Error }) as H3Error;
  return e.errorCode;
}

const settings = { ...defaultSettings(), qpackMaxTableCapacity: 65536, qpackBlockedStreams: 100, maxFieldSectionSize: 262144, h3Datagram: true, unknown: [[0x1f * 7 + 0x21, 42]] as Array<[number, number]> };

const SAMPLES: Array<[string, H3Frame, string]> = [
  ['HEADERS', { type: 'headers', fieldSection: fromHex('0000d1d7') }, '01 04 0000d1d7'],
  ['CANCEL_PUSH', { type: 'cancel_push', pushId: 3 }, '03 01 03'],
  ['SETTINGS', { type: 'settings', settings }, '04 12 01 80010000 06 80040000 07 4064 33 01 40fa 2a'],
  ['PUSH_PROMISE', { type: 'push_promise', pushId: 300, fieldSection: fromHex('0000d1') }, '05 05 412c 0000d1'],
  ['GOAWAY', { type: 'goaway', id: 4 }, '07 01 04'],
  ['MAX_PUSH_ID', { type: 'max_push_id', pushId: 16384 }, '0d 04 80004000'],
  ['PRIORITY_UPDATE (request)', { type: 'priority_update', push: false, elementId: 0, priority: 'u=0, i' }, '800f0700 07 00 753d302c2069'],
  ['PRIORITY_UPDATE (push)', { type: 'priority_update', push: true, elementId: 1, priority: 'u=5' }, '800f0701 04 01 753d35'],
];

for (const [name, frame, hex] of SAMPLES) {
  test(`${name}: wire bytes, decode, re-encode, size, and every truncated prefix`, (t) => {
    const bytes = frameBytes(frame);
    t.is(toHex(bytes), toHex(fromHex(hex)));
    t.is(frameSize(frame), bytes.length);
    const events = readAll(new FrameReader(), [bytes]);
    t.is(events.length, 1);
    t.deepEqual(events[0], frame);
    t.is(toHex(frameBytes(events[0] as H3Frame)), toHex(bytes));
    for (let cut = 1; cut < bytes.length; cut++) {
      const r = new FrameReader();
      const ev = readAll(r, [bytes.subarray(0, cut)], false);
      t.deepEqual(ev, [], `prefix ${cut} yields nothing`);
      const e = t.throws(() => r.end(), { instanceOf: H3Error });
      t.is(e.errorCode, H3ErrorCode.H3_FRAME_ERROR, `prefix ${cut}`);
    }
  });
}

test('DATA: payload reported incrementally as views into the pushed chunks; truncated prefixes', (t) => {
  const body = new Uint8Array(1000).map((_, i) => i & 0xff);
  const frame = concat(fromHex('00 43e8'), body);
  const r = new FrameReader({ kind: 'request', maxFramePayload: 10 });
  const c1 = frame.subarray(0, 2);
  const c2 = frame.subarray(2, 500);
  const c3 = frame.subarray(500);
  r.push(c1);
  t.is(r.read(), null);
  t.true(r.inFrame);
  r.push(c2);
  const e1 = r.read()!;
  t.is(e1.type, 'data');
  t.is((e1 as { data: Uint8Array }).data.length, 497);
  t.is((e1 as { data: Uint8Array }).data.buffer, frame.buffer, 'no copy');
  t.is(r.read(), null);
  r.push(c3);
  const e2 = r.read()! as { type: 'data'; data: Uint8Array };
  t.is(e2.data.length, 503);
  t.is(r.read(), null);
  r.end();
  t.deepEqual(concat((e1 as { data: Uint8Array }).data, e2.data), body);
  for (let cut = 1; cut < frame.length; cut++) {
    const rr = new FrameReader();
    readAll(rr, [frame.subarray(0, cut)], false);
    t.is(h3code(t, () => rr.end()), H3ErrorCode.H3_FRAME_ERROR);
  }
  // Empty DATA frames produce no event.
  t.deepEqual(readAll(new FrameReader(), [fromHex('0000 0000')]), []);
});

test('decodeFramePayload: malformed single-varint payloads and truncated PUSH_PROMISE/PRIORITY_UPDATE → H3_FRAME_ERROR', (t) => {
  for (const type of [H3FrameType.CANCEL_PUSH, H3FrameType.GOAWAY, H3FrameType.MAX_PUSH_ID]) {
    t.is(h3code(t, () => decodeFramePayload(type, new Uint8Array(0))), H3ErrorCode.H3_FRAME_ERROR);
    t.is(h3code(t, () => decodeFramePayload(type, fromHex('40'))), H3ErrorCode.H3_FRAME_ERROR);
    t.is(h3code(t, () => decodeFramePayload(type, fromHex('0400'))), H3ErrorCode.H3_FRAME_ERROR, 'extra byte');
  }
  t.is(h3code(t, () => decodeFramePayload(H3FrameType.PUSH_PROMISE, fromHex(''))), H3ErrorCode.H3_FRAME_ERROR);
  t.is(h3code(t, () => decodeFramePayload(H3FrameType.PUSH_PROMISE, fromHex('80'))), H3ErrorCode.H3_FRAME_ERROR);
  t.is(h3code(t, () => decodeFramePayload(H3FrameType.PRIORITY_UPDATE_REQUEST, fromHex(''))), H3ErrorCode.H3_FRAME_ERROR);
  t.is(h3code(t, () => decodeFramePayload(H3FrameType.SETTINGS, fromHex('01'))), H3ErrorCode.H3_FRAME_ERROR);
  t.is(decodeFramePayload(0x21, fromHex('ff')), null, 'reserved type ignored');
  t.is(decodeFramePayload(0xabcdef, fromHex('')), null, 'unknown type ignored');
});

test('HTTP/2-only frame types → H3_FRAME_UNEXPECTED', (t) => {
  for (const type of [0x02, 0x06, 0x08, 0x09]) {
    t.is(h3code(t, () => readAll(new FrameReader(), [Uint8Array.of(type, 0)])), H3ErrorCode.H3_FRAME_UNEXPECTED);
    t.is(h3code(t, () => decodeFramePayload(type, new Uint8Array(0))), H3ErrorCode.H3_FRAME_UNEXPECTED);
  }
});

test('reserved and unknown frame types are skipped without buffering, split anywhere', (t) => {
  const big = new Uint8Array(100_000);
  const stream = concat(fromHex('4040 80018000'), big, fromHex('21 00'), fromHex('01 02 0000'));
  for (const cut of [1, 2, 3, 5, 6, 50_000, 100_006, 100_007, 100_008, 100_009]) {
    const events = readAll(new FrameReader({ maxFramePayload: 16 }), [stream.subarray(0, cut), stream.subarray(cut)]);
    t.deepEqual(events, [{ type: 'headers', fieldSection: fromHex('0000') }]);
  }
  t.is(reservedValue(0), 0x21);
  t.is(reservedValue(1), 0x40);
});

test('control stream: SETTINGS first, once; request/push frames rejected', (t) => {
  const s = frameBytes({ type: 'settings', settings: defaultSettings() });
  const ctl = () => new FrameReader({ kind: 'control' });
  t.is(h3code(t, () => readAll(ctl(), [frameBytes({ type: 'goaway', id: 0 })])), H3ErrorCode.H3_MISSING_SETTINGS);
  t.is(h3code(t, () => readAll(ctl(), [fromHex('21 00')])), H3ErrorCode.H3_MISSING_SETTINGS, 'even a reserved frame');
  t.is(h3code(t, () => readAll(ctl(), [s, s])), H3ErrorCode.H3_FRAME_UNEXPECTED);
  for (const f of [fromHex('00 00'), fromHex('01 02 0000'), frameBytes({ type: 'push_promise', pushId: 0, fieldSection: fromHex('0000') })]) {
    t.is(h3code(t, () => readAll(ctl(), [s, f])), H3ErrorCode.H3_FRAME_UNEXPECTED);
  }
  const ok = readAll(ctl(), [
    s,
    fromHex('21 03 aabbcc'),
    frameBytes({ type: 'priority_update', push: false, elementId: 4, priority: 'u=1' }),
    frameBytes({ type: 'max_push_id', pushId: 8 }),
    frameBytes({ type: 'cancel_push', pushId: 1 }),
    frameBytes({ type: 'goaway', id: 8 }),
  ]);
  t.deepEqual(
    ok.map((e) => e.type),
    ['settings', 'priority_update', 'max_push_id', 'cancel_push', 'goaway'],
  );
});

test('request and push streams reject control frames', (t) => {
  const control: H3Frame[] = [
    { type: 'settings', settings: defaultSettings() },
    { type: 'goaway', id: 0 },
    { type: 'max_push_id', pushId: 0 },
    { type: 'cancel_push', pushId: 0 },
    { type: 'priority_update', push: false, elementId: 0, priority: '' },
  ];
  for (const kind of ['request', 'push'] as FrameStreamKind[]) {
    for (const f of control) {
      t.is(h3code(t, () => readAll(new FrameReader({ kind }), [frameBytes(f)])), H3ErrorCode.H3_FRAME_UNEXPECTED, `${f.type} on ${kind}`);
    }
  }
  const pp = frameBytes({ type: 'push_promise', pushId: 0, fieldSection: fromHex('0000') });
  t.is(h3code(t, () => readAll(new FrameReader({ kind: 'push' }), [pp])), H3ErrorCode.H3_FRAME_UNEXPECTED);
  t.is(readAll(new FrameReader({ kind: 'request' }), [pp]).length, 1);
});

test('size limits: oversized HEADERS → H3_EXCESSIVE_LOAD; a varint frame with Length > 8 → H3_FRAME_ERROR at once', (t) => {
  const r = new FrameReader({ kind: 'request', maxFramePayload: 100 });
  r.push(fromHex('01 4065'));
  t.is(h3code(t, () => r.read()), H3ErrorCode.H3_EXCESSIVE_LOAD);
  t.is(readAll(new FrameReader({ maxFramePayload: 100 }), [concat(fromHex('01 4064'), new Uint8Array(100))]).length, 1);
  const g = new FrameReader();
  g.push(fromHex('07 09'));
  t.is(h3code(t, () => g.read()), H3ErrorCode.H3_FRAME_ERROR);
  const z = new FrameReader();
  z.push(fromHex('0d 00'));
  t.is(h3code(t, () => z.read()), H3ErrorCode.H3_FRAME_ERROR);
});

test('push() before the previous chunk is read is API misuse', (t) => {
  const r = new FrameReader();
  r.push(fromHex('01 00 01 00'));
  t.throws(() => r.push(fromHex('00')), { instanceOf: RangeError });
});

// ---- properties ---------------------------------------------------------------------------

const frameArb: fc.Arbitrary<H3Frame | { type: 'data'; data: Uint8Array } | { type: 'reserved'; n: number; payload: Uint8Array }> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((data) => ({ type: 'data' as const, data })),
  fc.uint8Array({ maxLength: 100 }).map((fieldSection) => ({ type: 'headers' as const, fieldSection })),
  fc.record({ type: fc.constant('push_promise' as const), pushId: fc.maxSafeNat(), fieldSection: fc.uint8Array({ maxLength: 50 }) }),
  fc.record({ type: fc.constant('cancel_push' as const), pushId: fc.maxSafeNat() }),
  fc.record({ type: fc.constant('goaway' as const), id: fc.maxSafeNat() }),
  fc.record({ type: fc.constant('max_push_id' as const), pushId: fc.maxSafeNat() }),
  fc.record({ type: fc.constant('priority_update' as const), push: fc.boolean(), elementId: fc.maxSafeNat(), priority: fc.stringMatching(/^[ -~]{0,30}$/) }),
  fc
    .record({
      qpackMaxTableCapacity: fc.maxSafeNat(),
      qpackBlockedStreams: fc.nat(),
      maxFieldSectionSize: fc.oneof(fc.constant(Infinity), fc.nat()),
      enableConnectProtocol: fc.boolean(),
      h3Datagram: fc.boolean(),
      unknown: fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }).map((n) => 0x1f * n + 0x21), fc.maxSafeNat()), { maxLength: 3 }),
    })
    .map((settings) => ({ type: 'settings' as const, settings })),
  fc.record({ type: fc.constant('reserved' as const), n: fc.integer({ min: 0, max: 10000 }), payload: fc.uint8Array({ maxLength: 40 }) }),
);

function encodeAny(f: H3Frame | { type: 'data'; data: Uint8Array } | { type: 'reserved'; n: number; payload: Uint8Array }): Uint8Array {
  if (f.type === 'data') return concat(encodeHeader(0, f.data.length), f.data);
  if (f.type === 'reserved') return concat(encodeHeader(reservedValue(f.n), f.payload.length), f.payload);
  return frameBytes(f);
}

function encodeHeader(type: number, len: number): Uint8Array {
  const vi = (v: number) => {
    if (v < 0x40) return Uint8Array.of(v);
    if (v < 0x4000) return Uint8Array.of(0x40 | (v >> 8), v & 0xff);
    if (v < 0x4000_0000) return Uint8Array.of(0x80 | (v >>> 24), (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    const hi = Math.floor(v / 2 ** 32);
    return Uint8Array.of(0xc0 | (hi >>> 24), (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  };
  return concat(vi(type), vi(len));
}

test('property: any frame sequence split at arbitrary points reads back the same frames and DATA bytes', (t) => {
  fc.assert(
    fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
      const stream = concat(...frames.map(encodeAny));
      const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let prev = 0;
      for (const p of points) {
        chunks.push(stream.subarray(prev, p));
        prev = p;
      }
      chunks.push(stream.subarray(prev));
      const events = readAll(new FrameReader({ maxFramePayload: 1 << 20 }), chunks);
      // Merge adjacent DATA pieces per frame is not possible to recover; compare the DATA byte stream
      // and the sequence of non-DATA frames.
      const wantFrames = frames.filter((f) => f.type !== 'data' && f.type !== 'reserved');
      const gotFrames = events.filter((e) => e.type !== 'data');
      const wantData = concat(...frames.filter((f) => f.type === 'data').map((f) => (f as { data: Uint8Array }).data));
      const gotData = concat(...events.filter((e) => e.type === 'data').map((e) => (e as { data: Uint8Array }).data));
      t.deepEqual(gotFrames, wantFrames);
      t.deepEqual(gotData, wantData);
    }),
    { numRuns: 2000 },
  );
});

test('fuzz: random bytes in random chunks into the frame reader fail only with H3Error (10,000 runs)', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 80 }),
      fc.constantFrom<FrameStreamKind>('control', 'request', 'push', 'any'),
      fc.array(fc.nat({ max: 20 }), { maxLength: 5 }),
      fc.boolean(),
      (bytes, kind, cuts, prefixSettings) => {
        const data = prefixSettings ? concat(fromHex('04 00'), bytes) : bytes;
        const r = new FrameReader({ kind, maxFramePayload: 64 });
        try {
          let pos = 0;
          for (const c of [...cuts, data.length]) {
            const end = Math.min(data.length, pos + c);
            r.push(data.subarray(pos, end));
            while (r.read());
            pos = end;
          }
          r.push(data.subarray(pos));
          while (r.read());
          r.end();
        } catch (e) {
          if (!(e instanceof H3Error)) throw e;
        }
        return true;
      },
    ),
    { numRuns: 10000 },
  );
  t.pass();
});

test('fuzz: decodeFramePayload with random types and payloads fails only with H3Error (10,000 runs)', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.integer({ min: 1, max: 0x0f }), fc.constantFrom(0xf0700, 0xf0701, 0x21, 0x40)), fc.uint8Array({ maxLength: 40 }), (type, payload) => {
      try {
        decodeFramePayload(type, payload);
      } catch (e) {
        if (!(e instanceof H3Error)) throw e;
      }
      return true;
    }),
    { numRuns: 10000 },
  );
  t.pass();
});
