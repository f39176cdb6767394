// Dynamic table (RFC 9204 §3.2): sizes, absolute indexing, eviction on insert and on capacity
// reduction, the encoder's lookup maps across evictions, evictability and the draining index.
import test from 'ava';
import { DynamicTable, EncoderTable, entrySize } from '../../src/qpack/dynamic-table.js';

test('entry size is name + value + 32 (RFC 9204 §3.2.1)', (t) => {
  t.is(entrySize(':authority', 'www.example.com'), 57);
  t.is(entrySize('', ''), 32);
});

test('insertion evicts the oldest entries; absolute indices never change; thousands of evictions', (t) => {
  const d = new DynamicTable();
  d.setCapacity(102); // three 34-byte entries
  for (let i = 0; i < 5000; i++) {
    const e = d.insert('a', String.fromCharCode(0x30 + (i % 10)));
    t.is(e.index, i);
    if (i >= 2) {
      t.is(d.length, 3);
      t.is(d.dropped, i - 2);
      t.is(d.get(i - 2)!.index, i - 2);
      t.is(d.get(i - 3), undefined);
      t.is(d.oldest()!.index, i - 2);
    }
  }
  t.is(d.size, 102);
  t.is(d.get(5000), undefined);
});

test('reducing the capacity evicts down to it; capacity 0 empties the table', (t) => {
  const d = new DynamicTable();
  d.setCapacity(200);
  d.insert('x', 'aaaa'); // 37
  d.insert('y', 'bbbb'); // 37
  d.insert('z', 'cccc'); // 37
  d.setCapacity(80);
  t.is(d.length, 2);
  t.is(d.size, 74);
  d.setCapacity(0);
  t.is(d.length, 0);
  t.is(d.size, 0);
  t.is(d.insertCount, 3);
});

test('encoder maps point at the newest entry and forget evicted ones', (t) => {
  const e = new EncoderTable();
  e.setCapacity(120);
  e.insert('k', 'v1'); // 0 (35)
  e.insert('k', 'v2'); // 1
  e.insert('k', 'v1'); // 2
  t.is(e.findExact('k', 'v1'), 2);
  t.is(e.findExact('k', 'v2'), 1);
  t.is(e.findName('k'), 2);
  e.insert('j', 'v'); // 3 (34) evicts 0
  t.is(e.findExact('k', 'v1'), 2);
  e.insert('j', 'w'); // evicts 1
  t.is(e.findExact('k', 'v2'), -1);
  t.is(e.findName('k'), 2);
  e.insert('j', 'x'); // evicts 2
  t.is(e.findName('k'), -1);
  t.is(e.findExact('k', 'v1'), -1);
  t.is(e.findName('j'), 5);
});

test('evictability: acknowledged and unreferenced only; draining index keeps headroom', (t) => {
  const e = new EncoderTable();
  e.setCapacity(100);
  e.insert('a', 'b'); // 34
  e.insert('c', 'd'); // 34
  t.true(e.canMakeRoom(32, 0), 'free space suffices without eviction');
  t.false(e.canMakeRoom(34, 0), 'entry 0 unacknowledged');
  t.true(e.canMakeRoom(34, 1));
  e.get(0)!.refs = 1;
  t.false(e.canMakeRoom(34, 2), 'entry 0 referenced');
  e.get(0)!.refs = 0;
  t.true(e.canMakeRoom(66, 2));
  t.false(e.canMakeRoom(101, 2), 'larger than the capacity');
  t.is(e.drainingIndex(25), 0, '32 bytes free ≥ 25');
  t.is(e.drainingIndex(50), 1, 'entry 0 drains');
  t.is(e.drainingIndex(100), 2);
});
