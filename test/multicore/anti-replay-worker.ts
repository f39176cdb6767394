// Test worker: races on a shared anti-replay store (src/multicore/anti-replay.ts). Waits on a start
// flag so every thread begins at once, then checks keys 0..count-1 (each key a 32-byte "binder")
// in the given order and adds 1 to wins[key] for each key it was allowed to accept.
import { workerData, parentPort } from 'node:worker_threads';
import { SharedAntiReplay } from '../../src/multicore/anti-replay.js';

export interface RaceWorkerData {
  store: SharedArrayBuffer;
  /** Int32: [0] start flag, [1 + key] wins per key. */
  shared: SharedArrayBuffer;
  count: number;
  reverse: boolean;
  now: number;
}

const d = workerData as RaceWorkerData;
const store = new SharedAntiReplay(d.store);
const shared = new Int32Array(d.shared);
const keys: Uint8Array[] = [];
for (let k = 0; k < d.count; k++) {
  const b = new Uint8Array(32);
  new DataView(b.buffer).setUint32(0, k);
  b[31] = 0x5a;
  keys.push(b);
}
Atomics.wait(shared, 0, 0);
let accepted = 0;
for (let i = 0; i < d.count; i++) {
  const k = d.reverse ? d.count - 1 - i : i;
  if (store.check(new Uint8Array(0), 0, keys[k]!, d.now, d.now)) {
    Atomics.add(shared, 1 + k, 1);
    accepted++;
  }
}
parentPort!.postMessage(accepted);
