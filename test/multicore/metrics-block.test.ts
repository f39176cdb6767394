// Per-thread SAB counter blocks (src/multicore/metrics-block.ts): a block written in one thread is
// read by another through the same SharedArrayBuffer (a real worker_thread), attach refuses a
// block of another schema, collect() returns plain numbers per block and summed, and the worker
// schema carries every endpoint drop reason.
import test from 'ava';
import { Worker } from 'node:worker_threads';
import { DROP_REASONS } from '../../src/endpoint/index.js';
import { MetricsBlock, ROUTER_SCHEMA, WORKER_SCHEMA, collect, defineSchema } from '../../src/multicore/metrics-block.js';

test('one writer, any reader: values written through one view are seen through another', (t) => {
  const a = new MetricsBlock(WORKER_SCHEMA);
  const b = new MetricsBlock(WORKER_SCHEMA, a.buffer);
  a.add('datagrams_received');
  a.add('bytes_received', 1200);
  a.set('connections_active', 7);
  t.is(b.get('datagrams_received'), 1);
  t.is(b.get('bytes_received'), 1200);
  t.is(b.snapshot().connections_active, 7);
  // Float64 counts exactly far beyond 2^32.
  a.set('bytes_sent', 2 ** 40);
  a.add('bytes_sent', 1);
  t.is(b.get('bytes_sent'), 2 ** 40 + 1);
});

test('attach refuses another schema or a foreign buffer', (t) => {
  const w = new MetricsBlock(WORKER_SCHEMA);
  t.throws(() => new MetricsBlock(ROUTER_SCHEMA, w.buffer), { instanceOf: TypeError });
  t.throws(() => new MetricsBlock(WORKER_SCHEMA, new SharedArrayBuffer(8)), { instanceOf: TypeError });
  t.throws(() => new MetricsBlock(WORKER_SCHEMA, new SharedArrayBuffer(WORKER_SCHEMA.names.length * 8 + 64)), { instanceOf: TypeError });
  t.throws(() => defineSchema(9, ['a', 'a']), { instanceOf: RangeError });
});

test('collect: plain numbers per block and summed; mixed schemas refused', (t) => {
  const blocks = [new MetricsBlock(WORKER_SCHEMA), new MetricsBlock(WORKER_SCHEMA)];
  blocks[0]!.add('connections_accepted', 3);
  blocks[1]!.add('connections_accepted', 4);
  blocks[1]!.add('dropped_unknown_cid', 2);
  const c = collect(blocks);
  t.is(c.total.connections_accepted, 7);
  t.is(c.total.dropped_unknown_cid, 2);
  t.deepEqual(c.perBlock.map((s) => s.connections_accepted), [3, 4]);
  for (const v of Object.values(c.total)) t.is(typeof v, 'number');
  t.throws(() => collect([]), { instanceOf: RangeError });
  t.throws(() => collect([blocks[0]!, new MetricsBlock(ROUTER_SCHEMA)] as unknown as MetricsBlock<'datagrams_received'>[]), { instanceOf: TypeError });
});

test('the worker schema has a field for every endpoint drop reason', (t) => {
  for (const r of DROP_REASONS) t.true(WORKER_SCHEMA.names.includes(`dropped_${r}`), r);
});

test('across a worker_thread: the worker writes, the main thread reads at any time', async (t) => {
  const block = new MetricsBlock(WORKER_SCHEMA);
  const src = `
    const { workerData, parentPort } = require('node:worker_threads');
    const v = new Float64Array(workerData.buffer);
    for (let i = 0; i < 100000; i++) v[workerData.index] += 1;
    parentPort.postMessage('done');
  `;
  const worker = new Worker(src, { eval: true, workerData: { buffer: block.buffer, index: WORKER_SCHEMA.index.datagrams_received } });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  t.is(block.get('datagrams_received'), 100000);
});
