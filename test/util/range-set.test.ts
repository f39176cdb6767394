// L0 RangeSet: fast-check against a naive bit-array model (10,000 runs), plus edge cases used by
// ACK tracking (RFC 9000 §13.2.3) and stream offset tracking (RFC 9000 §2.2).
import test from 'ava';
import fc from 'fast-check';
import { RangeSet } from '../../src/util/range-set.js';

const DOMAIN = 96;

type Op =
  | { k: 'insert'; s: number; e: number }
  | { k: 'remove'; s: number; e: number }
  | { k: 'removeBelow'; v: number }
  | { k: 'add'; v: number }
  | { k: 'shift' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc
    .tuple(fc.nat(DOMAIN), fc.nat(20))
    .map(([s, l]): Op => ({ k: 'insert', s, e: Math.min(DOMAIN, s + l) })),
  fc
    .tuple(fc.nat(DOMAIN), fc.nat(20))
    .map(([s, l]): Op => ({ k: 'remove', s, e: Math.min(DOMAIN, s + l) })),
  fc.nat(DOMAIN).map((v): Op => ({ k: 'removeBelow', v })),
  fc.nat(DOMAIN - 1).map((v): Op => ({ k: 'add', v })),
  fc.constant<Op>({ k: 'shift' }),
);

function checkInvariants(rs: RangeSet): string | null {
  let prevEnd = -Infinity;
  for (let i = 0; i < rs.length; i++) {
    const s = rs.start(i);
    const e = rs.end(i);
    if (!(s < e)) return `empty range ${s}..${e}`;
    if (!(s > prevEnd)) return `ranges not disjoint/non-adjacent at ${i}`;
    prevEnd = e;
  }
  return null;
}

function modelRanges(m: boolean[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < m.length) {
    if (!m[i]) {
      i++;
      continue;
    }
    const s = i;
    while (i < m.length && m[i]) i++;
    out.push([s, i]);
  }
  return out;
}

test('matches a naive model under random operations (10,000 runs)', (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
      const rs = new RangeSet();
      const m: boolean[] = new Array(DOMAIN + 1).fill(false);
      for (const op of ops) {
        switch (op.k) {
          case 'insert': {
            let expect = 0;
            for (let v = op.s; v < op.e; v++) if (!m[v]) ((m[v] = true), expect++);
            if (rs.insert(op.s, op.e) !== expect) return false;
            break;
          }
          case 'add': {
            const expect = !m[op.v];
            m[op.v] = true;
            if (rs.add(op.v) !== expect) return false;
            break;
          }
          case 'remove': {
            let expect = 0;
            for (let v = op.s; v < op.e; v++) if (m[v]) ((m[v] = false), expect++);
            if (rs.remove(op.s, op.e) !== expect) return false;
            break;
          }
          case 'removeBelow': {
            let expect = 0;
            for (let v = 0; v < op.v; v++) if (m[v]) ((m[v] = false), expect++);
            if (rs.removeBelow(op.v) !== expect) return false;
            break;
          }
          case 'shift': {
            const first = modelRanges(m)[0];
            if (first) for (let v = first[0]; v < first[1]; v++) m[v] = false;
            rs.shift();
            break;
          }
        }
        if (checkInvariants(rs) !== null) return false;
      }
      const expected = modelRanges(m);
      const got = [...rs];
      if (JSON.stringify(expected) !== JSON.stringify(got)) return false;
      if (rs.count() !== m.filter(Boolean).length) return false;
      const members = m.flatMap((b, v) => (b ? [v] : []));
      if (rs.min() !== (members.length ? members[0] : -1)) return false;
      if (rs.max() !== (members.length ? members[members.length - 1] : -1)) return false;
      for (let v = 0; v <= DOMAIN + 1; v++) {
        if (rs.contains(v) !== !!m[v]) return false;
        let gap = v;
        while (m[gap]) gap++;
        if (rs.firstGap(v) !== gap) return false;
        const after = rs.indexAfter(v);
        const expectAfter = expected.findIndex(([, e]) => e > v);
        if (after !== (expectAfter === -1 ? expected.length : expectAfter)) return false;
      }
      for (let s = 0; s < DOMAIN; s += 7) {
        for (let e = s; e < Math.min(DOMAIN, s + 12); e++) {
          let all = true;
          for (let v = s; v < e; v++) all &&= !!m[v];
          if (rs.containsRange(s, e) !== all) return false;
        }
      }
      return true;
    }),
    { numRuns: 10_000 },
  );
  t.pass();
});

test('ascending single inserts (ACK tracking) stay one range and extend in place', (t) => {
  const rs = new RangeSet();
  for (let pn = 0; pn < 100_000; pn++) rs.add(pn);
  t.is(rs.length, 1);
  t.is(rs.max(), 99_999);
  // A gap makes a second range; filling it merges again.
  rs.add(100_001);
  t.is(rs.length, 2);
  t.false(rs.contains(100_000));
  t.is(rs.firstGap(0), 100_000);
  t.true(rs.add(100_000));
  t.false(rs.add(100_000));
  t.is(rs.length, 1);
  t.deepEqual([...rs], [[0, 100_002]]);
});

test('large values beyond 2^32 work (offsets are numbers, not int32)', (t) => {
  const rs = new RangeSet();
  const base = 2 ** 40;
  t.is(rs.insert(base, base + 10), 10);
  t.is(rs.insert(base - 5, base + 3), 5);
  t.deepEqual([...rs], [[base - 5, base + 10]]);
  t.is(rs.remove(base, base + 1), 1);
  t.deepEqual([...rs], [
    [base - 5, base],
    [base + 1, base + 10],
  ]);
  t.is(rs.removeBelow(base + 5), 9);
  t.deepEqual([...rs], [[base + 5, base + 10]]);
});

test('empty intervals are no-ops and forEach visits ascending ranges', (t) => {
  const rs = new RangeSet();
  t.is(rs.insert(5, 5), 0);
  t.is(rs.remove(5, 3), 0);
  t.true(rs.isEmpty);
  t.is(rs.min(), -1);
  rs.insert(10, 12);
  rs.insert(1, 2);
  rs.insert(5, 7);
  const seen: number[] = [];
  rs.forEach((s, e) => seen.push(s, e));
  t.deepEqual(seen, [1, 2, 5, 7, 10, 12]);
  t.is(rs.toString(), 'RangeSet{[1, 2) [5, 7) [10, 12)}');
  rs.clear();
  t.is(rs.length, 0);
});
