import test from 'ava';
import fc from 'fast-check';
import { ERR_QUEUE_FULL, FixedQueue } from '../../src/util/fixed-queue.js';

test('FIFO order across growth and wrap-around', (t) => {
  const q = new FixedQueue<number>(2);
  t.is(q.capacity, 2);
  for (let i = 0; i < 3; i++) q.push(i);
  t.is(q.shift(), 0);
  for (let i = 3; i < 40; i++) q.push(i);
  t.true(q.capacity >= 39 && (q.capacity & (q.capacity - 1)) === 0);
  const out: number[] = [];
  while (!q.isEmpty()) out.push(q.shift()!);
  t.deepEqual(out, Array.from({ length: 39 }, (_, i) => i + 1));
  t.is(q.shift(), undefined);
  t.is(q.peek(), undefined);
});

test('deque operations, at/set, discard, iterator', (t) => {
  const q = new FixedQueue<string>(4);
  q.push('b');
  t.true(q.tryUnshift('a'));
  q.push('c');
  t.is(q.peek(), 'a');
  t.is(q.peekLast(), 'c');
  t.is(q.at(1), 'b');
  t.is(q.at(3), undefined);
  t.is(q.at(-1), undefined);
  q.set(1, 'B');
  t.deepEqual([...q], ['a', 'B', 'c']);
  t.throws(() => q.set(3, 'x'), { instanceOf: RangeError });
  t.is(q.pop(), 'c');
  q.discard(1);
  t.deepEqual([...q], ['B']);
  q.discard(10);
  t.is(q.length, 0);
  q.push('z');
  q.clear();
  t.is(q.length, 0);
  t.is(q.pop(), undefined);
});

test('capped queue refuses past maxCapacity', (t) => {
  const q = new FixedQueue<number>(2, 3);
  t.true(q.tryPush(1));
  t.true(q.tryPush(2));
  t.true(q.tryPush(3));
  t.false(q.tryPush(4));
  t.false(q.tryUnshift(0));
  const e = t.throws(() => q.push(4), { instanceOf: RangeError }) as RangeError & { code: string };
  t.is(e.code, ERR_QUEUE_FULL);
  q.shift();
  t.true(q.tryPush(4));
  t.deepEqual([...q], [2, 3, 4]);
});

test('constructor argument checks', (t) => {
  t.throws(() => new FixedQueue(0), { instanceOf: RangeError });
  t.throws(() => new FixedQueue(8, 4), { instanceOf: RangeError });
  t.throws(() => new FixedQueue(Infinity), { instanceOf: RangeError });
});

test('behaves like an array-backed deque (property)', (t) => {
  const op = fc.oneof(
    fc.record({ k: fc.constant('push' as const), v: fc.integer() }),
    fc.record({ k: fc.constant('unshift' as const), v: fc.integer() }),
    fc.record({ k: fc.constant('shift' as const) }),
    fc.record({ k: fc.constant('pop' as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const q = new FixedQueue<number>(1);
      const ref: number[] = [];
      for (const o of ops) {
        if (o.k === 'push') {
          q.push(o.v);
          ref.push(o.v);
        } else if (o.k === 'unshift') {
          q.tryUnshift(o.v);
          ref.unshift(o.v);
        } else if (o.k === 'shift') {
          if (q.shift() !== ref.shift()) return false;
        } else if (q.pop() !== ref.pop()) return false;
        if (q.length !== ref.length || q.peek() !== ref[0]) return false;
      }
      return JSON.stringify([...q]) === JSON.stringify(ref);
    }),
  );
  t.pass();
});
