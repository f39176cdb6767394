// QPACK properties (fast-check):
// 1. Round trip: random header lists through encoder → decoder with random table capacities (small
//    ones force evictions), blocked-stream limits, and random delivery: encoder-stream bytes split
//    anywhere and delayed, field sections decoded in any order (so streams block and unblock),
//    decoder-stream bytes split and delayed, streams cancelled. 1,000 runs.
// 2. Random bytes into every QPACK decoder fail only with QpackError: field sections, encoder
//    stream, decoder stream (10,000 runs each), and mutated valid sections (10,000 runs).
import test from 'ava';
import fc from 'fast-check';
import { concat, fromHex } from '../../src/util/bytes.js';
import { BLOCKED, QpackDecoder, QpackEncoder, QpackError } from '../../src/qpack/index.js';
import type { HeaderField } from '../../src/qpack/index.js';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 24 });
const NAMES = [':method', ':path', ':authority', ':scheme', 'user-agent', 'accept', 'cookie', 'authorization', 'x-a', 'x-b', 'x-c', 'content-type', 'sec-ch-ua'];
const VALUES = ['', 'GET', '/', 'a', 'bb', 'text/html', 'example.com', 'session=0123456789abcdef0123456789', '*/*'];

const field: fc.Arbitrary<HeaderField> = fc
  .tuple(
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: latin1 }),
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...VALUES) },
      { weight: 2, arbitrary: latin1 },
      { weight: 1, arbitrary: fc.string({ minLength: 40, maxLength: 160 }).map((s) => s.replace(/[^\x00-\xff]/g, 'x')) },
    ),
    fc.constantFrom<boolean | undefined>(undefined, undefined, undefined, undefined, true, false),
  )
  .map(([n, v, f]) => (f === undefined ? [n, v] : [n, v, f]) as HeaderField);

const scenario = fc.record({
  capacity: fc.oneof(
    { weight: 1, arbitrary: fc.constant(0) },
    { weight: 4, arbitrary: fc.integer({ min: 32, max: 200 }) },
    { weight: 1, arbitrary: fc.integer({ min: 201, max: 600 }) },
    { weight: 1, arbitrary: fc.constant(4096) },
  ),
  blocked: fc.integer({ min: 0, max: 4 }),
  huffman: fc.boolean(),
  sections: fc.array(fc.array(field, { maxLength: 8 }), { minLength: 1, maxLength: 30 }),
  seed: fc.integer(),
});

function strip(h: ReadonlyArray<HeaderField>): Array<[string, string]> {
  return h.map((f) => [f[0], f[1]]);
}

test('property: encoder → decoder round trip under random delivery, blocking, eviction and cancellation', (t) => {
  const seen = { blocked: 0, evicted: 0, cancelled: 0, dynamicRuns: 0 };
  fc.assert(
    fc.property(scenario, ({ capacity, blocked, huffman, sections, seed }) => {
      const rnd = prng(seed);
      const enc = new QpackEncoder({ huffman, maxTableCapacity: capacity });
      const dec = new QpackDecoder({ maxTableCapacity: capacity, maxBlockedStreams: blocked });
      enc.applyPeerSettings(capacity, blocked);
      let encBytes: Uint8Array = new Uint8Array(0);
      let decBytes: Uint8Array = new Uint8Array(0);
      const pending: Array<{ id: number; bytes: Uint8Array; want: HeaderField[] }> = [];
      const waiting = new Map<number, HeaderField[]>();
      let next = 0;
      let decoded = 0;
      let cancelled = 0;

      const check = (id: number, got: HeaderField[], want: HeaderField[]) => {
        if (JSON.stringify(strip(got)) !== JSON.stringify(strip(want))) throw new Error(`stream ${id}: ${JSON.stringify(got)} ≠ ${JSON.stringify(want)}`);
        for (let i = 0; i < want.length; i++) if (want[i]![2] === true && got[i]![2] !== true) throw new Error('N bit lost');
        decoded++;
      };
      const feedEncoder = (n: number) => {
        const chunk = encBytes.subarray(0, n);
        encBytes = encBytes.subarray(n);
        for (const u of dec.receiveEncoderStream(chunk)) {
          const want = waiting.get(u.streamId);
          if (!want) throw new Error(`unexpected unblock of ${u.streamId}`);
          waiting.delete(u.streamId);
          if (u.error) throw u.error;
          check(u.streamId, u.headers!, want);
        }
      };
      const deliverSection = (i: number) => {
        const s = pending.splice(i, 1)[0]!;
        const r = dec.decodeFieldSection(s.id, s.bytes);
        if (r === BLOCKED) {
          waiting.set(s.id, s.want);
          seen.blocked++;
        }
        else check(s.id, r, s.want);
      };
      const feedDecoder = (n: number) => {
        const chunk = decBytes.subarray(0, n);
        decBytes = decBytes.subarray(n);
        enc.receiveDecoderStream(chunk);
      };

      for (let step = 0; step < 2000 && (next < sections.length || pending.length > 0 || encBytes.length > 0); step++) {
        const a = rnd();
        if (a < 0.3 && next < sections.length) {
          const want = sections[next]!;
          const out = enc.encodeFieldSection(next * 4, want);
          if (enc.blockingStreams > blocked) throw new Error('blocked-streams budget exceeded');
          encBytes = concat(encBytes, out.encoderStream);
          pending.push({ id: next * 4, bytes: out.fieldSection, want });
          next++;
        } else if (a < 0.5 && encBytes.length > 0) {
          feedEncoder(Math.floor(rnd() * (encBytes.length + 1)));
        } else if (a < 0.7 && pending.length > 0) {
          deliverSection(Math.floor(rnd() * pending.length));
        } else if (a < 0.8) {
          decBytes = concat(decBytes, dec.takeDecoderStreamBytes());
        } else if (a < 0.95 && decBytes.length > 0) {
          feedDecoder(Math.floor(rnd() * (decBytes.length + 1)));
        } else if (a >= 0.97) {
          // Reset a stream whose section is undelivered or blocked.
          const ids = [...pending.map((p) => p.id), ...waiting.keys()];
          if (ids.length > 0) {
            const id = ids[Math.floor(rnd() * ids.length)]!;
            const pi = pending.findIndex((p) => p.id === id);
            if (pi >= 0) pending.splice(pi, 1);
            waiting.delete(id);
            dec.cancelStream(id);
            cancelled++;
            seen.cancelled++;
          }
        }
      }
      // Drain everything.
      while (next < sections.length) {
        const want = sections[next]!;
        const out = enc.encodeFieldSection(next * 4, want);
        encBytes = concat(encBytes, out.encoderStream);
        pending.push({ id: next * 4, bytes: out.fieldSection, want });
        next++;
      }
      while (pending.length > 0) deliverSection(0);
      feedEncoder(encBytes.length);
      decBytes = concat(decBytes, dec.takeDecoderStreamBytes());
      feedDecoder(decBytes.length);
      if (waiting.size !== 0) throw new Error(`${waiting.size} sections still blocked`);
      if (decoded + cancelled !== sections.length) throw new Error(`decoded ${decoded} + cancelled ${cancelled} ≠ ${sections.length}`);
      if (enc.blockingStreams !== 0) throw new Error('encoder still sees blocking streams');
      if (enc.unacknowledgedSections !== 0) throw new Error('encoder still tracks unacknowledged sections');
      if (enc.knownReceivedCount !== enc.insertCount) throw new Error('inserts not all acknowledged');
      for (let abs = 0; abs < enc.insertCount; abs++) if (enc.referenceCount(abs) > 0) throw new Error(`entry ${abs} still referenced`);
      if (dec.tableSize !== enc.tableSize || dec.insertCount !== enc.insertCount) throw new Error('tables diverged');
      if (enc.insertCount > 0) seen.dynamicRuns++;
      if (enc.referenceCount(0) === -1 && enc.insertCount > 0) seen.evicted++;
      return true;
    }),
    { numRuns: 1000 },
  );
  t.log(seen);
  // The runs must actually exercise blocking, eviction and cancellation.
  t.true(seen.blocked > 100 && seen.evicted > 40 && seen.cancelled > 50 && seen.dynamicRuns > 250, JSON.stringify(seen));
});

function onlyQpackErrors(fn: () => void): boolean {
  try {
    fn();
  } catch (e) {
    if (e instanceof QpackError) return true;
    throw e;
  }
  return true;
}

const B2_ENCODER = fromHex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468 4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565');

test('fuzz: random bytes as a field section fail only with QpackError (10,000 runs)', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 200 }), (bytes, maxSize) => {
      const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 2, maxFieldSectionSize: maxSize < 100 ? maxSize : Infinity });
      dec.receiveEncoderStream(B2_ENCODER);
      return onlyQpackErrors(() => {
        const r = dec.decodeFieldSection(0, bytes);
        if (r !== BLOCKED) for (const h of r) if (typeof h[0] !== 'string' || typeof h[1] !== 'string') throw new Error('bad field');
        dec.takeDecoderStreamBytes();
      });
    }),
    { numRuns: 10000 },
  );
  t.pass();
});

test('fuzz: random encoder-stream bytes in random chunks fail only with QpackError (10,000 runs)', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 96 }), fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), (bytes, cuts, prefixed) => {
      const dec = new QpackDecoder({ maxTableCapacity: 300, maxBlockedStreams: 2 });
      // A blocked section waits on the table: unblocking may run on random state too.
      dec.decodeFieldSection(0, fromHex('0280 10'));
      return onlyQpackErrors(() => {
        const data = prefixed ? concat(fromHex('3fbd01'), bytes) : bytes;
        let pos = 0;
        for (const c of cuts) {
          const end = Math.min(data.length, pos + (c % 16));
          dec.receiveEncoderStream(data.subarray(pos, end));
          pos = end;
        }
        dec.receiveEncoderStream(data.subarray(pos));
        dec.takeDecoderStreamBytes();
      });
    }),
    { numRuns: 10000 },
  );
  t.pass();
});

test('fuzz: random decoder-stream bytes fail only with QpackError (10,000 runs)', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 48 }), fc.nat({ max: 48 }), (bytes, cut) => {
      const enc = new QpackEncoder();
      enc.applyPeerSettings(4096, 4);
      enc.encodeFieldSection(0, [['x-a', '1']]);
      enc.encodeFieldSection(4, [['x-b', '2']]);
      enc.encodeFieldSection(4, [['x-a', '1']]);
      return onlyQpackErrors(() => {
        enc.receiveDecoderStream(bytes.subarray(0, cut));
        enc.receiveDecoderStream(bytes.subarray(cut));
        enc.encodeFieldSection(8, [['x-c', '3']]);
      });
    }),
    { numRuns: 10000 },
  );
  t.pass();
});

test('fuzz: mutated valid field sections fail only with QpackError (10,000 runs)', (t) => {
  const enc = new QpackEncoder();
  enc.applyPeerSettings(4096, 100);
  const headers: HeaderField[] = [
    [':method', 'GET'],
    [':authority', 'example.com'],
    [':path', '/a/b?c=d'],
    ['user-agent', 'fuzz/1.0'],
    ['x-custom', 'value'],
    ['authorization', 'secret'],
  ];
  const first = enc.encodeFieldSection(0, headers);
  const second = enc.encodeFieldSection(4, headers);
  fc.assert(
    fc.property(fc.boolean(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (which, flips, trunc) => {
      const src = which ? first.fieldSection : second.fieldSection;
      const bytes = src.slice(0, src.length - (trunc % 3));
      for (const [i, v] of flips) bytes[i % bytes.length] = v;
      const dec = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 1 });
      dec.receiveEncoderStream(first.encoderStream);
      return onlyQpackErrors(() => void dec.decodeFieldSection(8, bytes));
    }),
    { numRuns: 10000 },
  );
  t.pass();
});
