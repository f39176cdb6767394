// Static table (RFC 9204 Appendix A) and its lookup maps.
import test from 'ava';
import { STATIC_TABLE, STATIC_TABLE_SIZE, staticExactIndex, staticNameIndex } from '../../src/qpack/static-table.js';

test('99 entries with the RFC 9204 Appendix A spot values', (t) => {
  t.is(STATIC_TABLE.length, 99);
  t.is(STATIC_TABLE_SIZE, 99);
  t.deepEqual(STATIC_TABLE[0], [':authority', '']);
  t.deepEqual(STATIC_TABLE[1], [':path', '/']);
  t.deepEqual(STATIC_TABLE[17], [':method', 'GET']);
  t.deepEqual(STATIC_TABLE[25], [':status', '200']);
  t.deepEqual(STATIC_TABLE[29], ['accept', '*/*']);
  t.deepEqual(STATIC_TABLE[31], ['accept-encoding', 'gzip, deflate, br']);
  t.deepEqual(STATIC_TABLE[85], ['content-security-policy', "script-src 'none'; object-src 'none'; base-uri 'none'"]);
  t.deepEqual(STATIC_TABLE[98], ['x-frame-options', 'sameorigin']);
});

test('exact and name-only lookups agree with a linear scan', (t) => {
  for (let i = 0; i < STATIC_TABLE.length; i++) {
    const [name, value] = STATIC_TABLE[i]!;
    t.is(staticExactIndex(name, value), STATIC_TABLE.findIndex(([n, v]) => n === name && v === value));
    t.is(staticNameIndex(name), STATIC_TABLE.findIndex(([n]) => n === name));
  }
  t.is(staticExactIndex(':method', 'PATCH'), -1);
  t.is(staticNameIndex(':method'), 15);
  t.is(staticNameIndex('x-unknown'), -1);
  t.is(staticExactIndex('x-unknown', ''), -1);
});
