// RFC 9218 priority parameters (§4–§5, §7) parsed as an RFC 8941 Structured Field Dictionary.
import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePriority, serializePriority } from '../../../src/h3/wire/index.js';

const CASES: Array<[string | undefined, number, boolean]> = [
  [undefined, 3, false],
  ['', 3, false],
  ['u=5, i', 5, true], // RFC 9218 §4 example
  ['u=0', 0, false],
  ['i', 3, true],
  ['i=?1', 3, true],
  ['i=?0', 3, false],
  ['u=7,i', 7, true],
  ['  u=1 ,\ti  ', 1, true],
  ['u=8', 3, false], // out of range: ignored
  ['u=-1', 3, false],
  ['u=1.5', 3, false], // decimal: wrong type
  ['u="1"', 3, false],
  ['u=?1', 3, false],
  ['i=1', 3, false], // integer: wrong type for i
  ['u=2, u=4', 4, false], // last wins (RFC 8941 §4.2.2)
  ['u=2, u=9', 3, false],
  ['a=1, u=1, foo="bar", baz=(1 2 x);p=?0, tok=ab:c/d, bin=:aGVsbG8=:', 1, false], // unknown keys ignored
  ['u=1;foo=bar, i;x', 1, true], // parameters ignored
  ['u=', 3, false], // malformed → defaults
  ['u=1,', 3, false], // trailing comma
  ['u=1 i', 3, false], // missing comma
  ['U=1', 3, false], // keys are lowercase
  ['u=1, i, ', 3, false],
  ['u=1234567890123456', 3, false], // 16 digits
  ['u=1, x="unterminated', 3, false],
  ['u=1, x=:abc:', 3, false], // base64 length not a multiple of 4
  ['u=1, x=(1 2', 3, false],
  ['u=0, i=?2', 3, false],
  ['u=000003', 3, false],
  ['u=00005', 5, false],
];

for (const [v, u, i] of CASES) {
  test(`parsePriority(${JSON.stringify(v)}) → u=${u}${i ? ', i' : ''}`, (t) => {
    t.deepEqual(parsePriority(v), { urgency: u, incremental: i });
  });
}

test('serializePriority omits defaults and round-trips', (t) => {
  t.is(serializePriority({ urgency: 3, incremental: false }), '');
  t.is(serializePriority({ urgency: 0, incremental: true }), 'u=0, i');
  for (let u = 0; u < 8; u++) for (const i of [false, true]) t.deepEqual(parsePriority(serializePriority({ urgency: u, incremental: i })), { urgency: u, incremental: i });
});

test('fuzz: arbitrary strings never throw and stay in range (10,000 runs)', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[ ui=?0-9,;().:"a-z*-]{0,30}$/)), (s) => {
      const p = parsePriority(s);
      return Number.isInteger(p.urgency) && p.urgency >= 0 && p.urgency <= 7 && typeof p.incremental === 'boolean';
    }),
    { numRuns: 10000 },
  );
  t.pass();
});

test('malformed values are return values, not exceptions (DESIGN §7.6): the parser has no throw', (t) => {
  const src = readFileSync(fileURLToPath(new URL('../../../../src/h3/wire/priority.ts', import.meta.url)), 'utf8');
  const code = src.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
  t.false(/\bthrow\b|\bcatch\b/.test(code));
});
