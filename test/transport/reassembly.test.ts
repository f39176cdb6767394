// L2b reassembly (RFC 9000 §2.2 ordered delivery, §7.5 CRYPTO buffer bound): random chunking,
// overlap, duplication and reordering against the original bytes.
import test from 'ava';
import fc from 'fast-check';
import { Reassembly } from '../../src/transport/reassembly.js';
import { TransportError, TransportErrorCode } from '../../src/codec/errors.js';

interface Piece {
  offset: number;
  len: number;
}

/** Random cover of [0, total) with extra overlapping and duplicated pieces, in random order. */
const scenarioArb = fc
  .record({
    data: fc.uint8Array({ minLength: 0, maxLength: 3000 }),
    cuts: fc.array(fc.nat(3000), { maxLength: 30 }),
    extras: fc.array(fc.tuple(fc.nat(3000), fc.nat(400)), { maxLength: 10 }),
    seed: fc.integer(),
    readEvery: fc.integer({ min: 1, max: 8 }),
    readSize: fc.integer({ min: 1, max: 700 }),
    usePeek: fc.boolean(),
    minCapacity: fc.constantFrom(16, 64, 1024),
  })
  .map((s) => {
    const total = s.data.length;
    const points = [...new Set([0, total, ...s.cuts.map((c) => c % (total + 1))])].sort((a, b) => a - b);
    const pieces: Piece[] = [];
    for (let i = 0; i + 1 < points.length; i++) pieces.push({ offset: points[i]!, len: points[i + 1]! - points[i]! });
    for (const [o, l] of s.extras) {
      if (total === 0) break;
      const offset = o % total;
      pieces.push({ offset, len: Math.min(l, total - offset) });
    }
    // Deterministic shuffle from the seed.
    let x = s.seed >>> 0 || 1;
    for (let i = pieces.length - 1; i > 0; i--) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const j = (x >>> 0) % (i + 1);
      [pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!];
    }
    return { ...s, pieces };
  });

test('random chunking, overlap, duplication and reorder reproduce the original bytes', (t) => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const total = s.data.length;
      const r = new Reassembly({ maxBuffered: 4096, detectConflicts: true, minCapacity: s.minCapacity });
      const out = new Uint8Array(total);
      let got = 0;
      const drain = (): void => {
        if (s.usePeek) {
          for (;;) {
            const view = r.peek();
            if (view.length === 0) break;
            const n = Math.min(view.length, s.readSize);
            out.set(view.subarray(0, n), got);
            got += n;
            r.consume(n);
          }
        } else {
          for (;;) {
            const n = r.read(out.subarray(0, Math.min(total, got + s.readSize)), got);
            if (n === 0) break;
            got += n;
          }
        }
      };
      s.pieces.forEach((p, k) => {
        // Copy the input so the test proves the reassembly does not keep references to it.
        const chunk = s.data.slice(p.offset, p.offset + p.len);
        r.insert(p.offset, chunk);
        chunk.fill(0xee);
        if (k % s.readEvery === 0) drain();
      });
      drain();
      if (got !== total) return false;
      if (r.readOffset !== total || r.buffered !== 0 || r.readable !== 0) return false;
      return Buffer.compare(Buffer.from(out), Buffer.from(s.data)) === 0;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('duplicates and data below readOffset count zero new bytes', (t) => {
  const r = new Reassembly({ maxBuffered: 100 });
  t.is(r.insert(10, new Uint8Array(10).fill(1)), 10);
  t.is(r.insert(10, new Uint8Array(10).fill(1)), 0);
  t.is(r.insert(5, new Uint8Array(10).fill(1)), 5);
  t.is(r.readable, 0);
  t.is(r.insert(0, new Uint8Array(5).fill(1)), 5);
  t.is(r.readable, 20);
  t.is(r.read(new Uint8Array(20)), 20);
  t.is(r.insert(0, new Uint8Array(20)), 0);
  t.is(r.highest, 20);
  t.is(r.buffered, 0);
});

test('conflicting retransmitted bytes → PROTOCOL_VIOLATION when detection is on', (t) => {
  const r = new Reassembly({ maxBuffered: 100, detectConflicts: true, frameType: 0x08 });
  r.insert(4, Uint8Array.of(1, 2, 3, 4));
  r.insert(2, Uint8Array.of(9, 9, 1, 2)); // agrees on the overlap
  const err = t.throws(() => r.insert(5, Uint8Array.of(2, 7)), { instanceOf: TransportError });
  t.is(err?.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
  t.is(err?.frameType, 0x08);
  // Without detection the first copy wins and nothing throws.
  const lax = new Reassembly({ maxBuffered: 100 });
  lax.insert(0, Uint8Array.of(1, 2, 3));
  lax.insert(1, Uint8Array.of(7, 7));
  const out = new Uint8Array(3);
  lax.read(out);
  t.deepEqual([...out], [1, 2, 3]);
});

test('data beyond readOffset + maxBuffered → the configured error (CRYPTO_BUFFER_EXCEEDED)', (t) => {
  const r = new Reassembly({ maxBuffered: 4096, overflowError: TransportErrorCode.CRYPTO_BUFFER_EXCEEDED, frameType: 0x06 });
  r.insert(4095, Uint8Array.of(1));
  const err = t.throws(() => r.insert(4096, Uint8Array.of(1)), { instanceOf: TransportError });
  t.is(err?.errorCode, TransportErrorCode.CRYPTO_BUFFER_EXCEEDED);
  // Reading moves the window.
  r.insert(0, new Uint8Array(4095));
  t.is(r.read(new Uint8Array(100)), 100);
  t.is(r.insert(4096, new Uint8Array(100)), 100);
  t.true(r.capacity <= 4096);
});

test('ring grows only to the span used, wraps, and peek returns the contiguous part', (t) => {
  const r = new Reassembly({ maxBuffered: 1 << 20, minCapacity: 16 });
  r.insert(0, Uint8Array.of(1, 2, 3));
  t.is(r.capacity, 16);
  const out = new Uint8Array(3);
  r.read(out);
  // Fill so that the ring wraps: head at 3 after the read… buffered is 0 so head realigns to 0.
  r.insert(3, new Uint8Array(10).map((_, i) => i));
  r.consume(8);
  r.insert(13, new Uint8Array(12).map((_, i) => 100 + i)); // span 14 ≤ 16: wraps around the ring
  t.is(r.capacity, 16);
  t.is(r.readable, 14);
  const first = r.peek();
  t.true(first.length < 14);
  const all = new Uint8Array(14);
  t.is(r.read(all), 14);
  t.deepEqual([...all], [8, 9, ...Array.from({ length: 12 }, (_, i) => 100 + i)]);
  // A far-away byte grows the ring by doubling.
  r.insert(27 + 100, Uint8Array.of(5));
  t.is(r.capacity, 128);
});

test('skipTo discards without delivering and keeps later data', (t) => {
  const r = new Reassembly({ maxBuffered: 1000, minCapacity: 16 });
  r.insert(0, new Uint8Array(10).fill(1));
  r.insert(20, new Uint8Array(5).fill(2));
  t.is(r.skipTo(22), 12);
  t.is(r.readOffset, 22);
  t.is(r.readable, 3);
  const out = new Uint8Array(3);
  r.read(out);
  t.deepEqual([...out], [2, 2, 2]);
  r.release();
  t.is(r.capacity, 0);
  t.is(r.insert(25, Uint8Array.of(3)), 1);
  t.is(r.readable, 1);
});

test('consume beyond readable is API misuse (RangeError)', (t) => {
  const r = new Reassembly({ maxBuffered: 10 });
  r.insert(0, Uint8Array.of(1));
  t.throws(() => r.consume(2), { instanceOf: RangeError });
  t.throws(() => new Reassembly({ maxBuffered: 0 }), { instanceOf: RangeError });
});
