// Test/bench worker: echoes every slot of an input ring into an output ring (same length, kind,
// family, address, port, aux), batch by batch, sleeping with RingConsumer.waitForData() (async,
// like a shard) or waitBlocking(); or, in 'message' mode, echoes postMessage payloads (the peer
// the ring is benchmarked against). A Control slot with aux 0xdead ends it and reports counters.
import { parentPort, workerData } from 'node:worker_threads';
import { RingConsumer, RingProducer, SlotKind } from '../../src/multicore/ring.js';

export interface EchoWorkerData {
  mode: 'ring-async' | 'ring-blocking' | 'message';
  input?: SharedArrayBuffer;
  output?: SharedArrayBuffer;
}

const STOP_AUX = 0xdead; // (tests use the literal: importing this module would run the worker)

const data = workerData as EchoWorkerData;
const port = parentPort!;

if (data.mode === 'message') {
  port.on('message', (m: unknown) => {
    if (m === 'stop') {
      port.close();
      return;
    }
    // Echo the payload back (copied by structured clone both ways, as postMessage does).
    port.postMessage(m);
  });
} else {
  const input = new RingConsumer(data.input!);
  const output = new RingProducer(data.output!);
  let echoed = 0;
  let stopped = false;
  const drain = (): void => {
    let slot: number;
    while ((slot = input.take()) >= 0) {
      const kind = input.kind(slot);
      if (kind === SlotKind.Control && input.aux(slot) === STOP_AUX) {
        stopped = true;
        break;
      }
      const out = output.acquire();
      if (out < 0) continue; // full: dropped and counted by the ring
      const len = input.length(slot);
      output.payloadView(out).set(input.payloadView(slot).subarray(0, len), 0);
      output.addressView(out).set(input.addressView(slot), 0);
      output.commit(out, len, kind as SlotKind, input.family(slot), input.port(slot), input.aux(slot));
      echoed++;
    }
    input.releaseTaken();
    output.publish();
  };
  const finish = (): void => {
    port.postMessage({ echoed, input: input.counters(), output: output.counters() });
    port.close();
  };
  if (data.mode === 'ring-blocking') {
    while (!stopped) {
      drain();
      if (!stopped) input.waitBlocking(1000);
    }
    finish();
  } else {
    const loop = (): void => {
      drain();
      if (stopped) {
        finish();
        return;
      }
      const p = input.waitForData();
      if (p === null) setImmediate(loop);
      else void p.then(loop);
    };
    // The port keeps this thread alive while it waits (a pending waitAsync does not).
    port.on('message', () => {});
    loop();
  }
}
