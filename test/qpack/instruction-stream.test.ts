// QPACK instruction streams (RFC 9204 §4.2) arrive split anywhere: InstructionBuffer keeps at most
// one partial instruction and hands every complete one to the reader exactly once.
import test from 'ava';
import fc from 'fast-check';
import type { Reader } from '../../src/util/bytes.js';
import { InstructionBuffer } from '../../src/qpack/instruction-stream.js';

/** A toy instruction: a length byte n, then n payload bytes; returns false when incomplete. */
function lengthPrefixed(out: number[][]): (r: Reader) => boolean {
  return (r) => {
    const n = r.buf[r.pos]!;
    if (r.end - r.pos < 1 + n) return false;
    out.push([...r.buf.subarray(r.pos + 1, r.pos + 1 + n)]);
    r.pos += 1 + n;
    return true;
  };
}

function stream(items: number[][]): Uint8Array {
  const out: number[] = [];
  for (const it of items) out.push(it.length, ...it);
  return Uint8Array.from(out);
}

test('instructions split at every point, delivered in any chunking, come out whole and once', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }), { maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 20 }),
      (items, cuts) => {
        const bytes = stream(items);
        const got: number[][] = [];
        const ib = new InstructionBuffer();
        const fn = lengthPrefixed(got);
        let o = 0;
        for (let i = 0; o < bytes.length; i++) {
          const n = cuts[i % cuts.length]!;
          ib.feed(bytes.subarray(o, o + n), fn);
          o += n;
          if (ib.pending > 255) return false; // never more than one instruction kept
        }
        return ib.pending === 0 && JSON.stringify(got) === JSON.stringify(items);
      },
    ),
    { numRuns: 2000 },
  );
  t.pass();
});

test('a long instruction trickling in byte by byte is kept, then handed over once; the buffer is not the caller\'s chunk', (t) => {
  const payload = Array.from({ length: 200 }, (_, i) => i & 0xff);
  const bytes = stream([payload, [1, 2]]);
  const got: number[][] = [];
  const ib = new InstructionBuffer();
  const fn = lengthPrefixed(got);
  const chunk = new Uint8Array(1);
  for (let i = 0; i < bytes.length; i++) {
    chunk[0] = bytes[i]!; // the caller reuses its chunk buffer: kept bytes must be copies
    ib.feed(chunk, fn);
    if (i < 200) t.is(ib.pending, i + 1);
  }
  t.deepEqual(got, [payload, [1, 2]]);
  t.is(ib.pending, 0);
});
