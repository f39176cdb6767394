// Multi-core data path (DESIGN §3/§4): what handing a 1200-byte datagram between threads costs
// through the SPSC SharedArrayBuffer ring (src/multicore/ring.ts), compared in the same run with
// the peer — worker_threads postMessage of the same payloads (structured clone).
//   1. In one thread: producer copy + commit, consumer take + in-place read + release, with one
//      publish per 32-slot batch vs one publish per packet (an Atomics.store + flag load each).
//   2. main → worker → main round trip through two rings (the echo worker sleeps with
//      Atomics.waitAsync like a shard, or blocks in Atomics.wait), pipelined in batches of 32,
//      and one packet at a time (ping-pong: every packet pays a wake-up).
//   3. The peer: postMessage of each payload, and of batches of 32 payloads per message.
import { Worker } from 'node:worker_threads';
import { RingConsumer, RingProducer, SlotKind, createRing } from '../../src/multicore/ring.js';
import { WorkerCidCodec } from '../../src/multicore/cid.js';
import { Router } from '../../src/multicore/router.js';
import { encodeAddress } from '../../src/multicore/address.js';
import { SeededRandom } from '../../src/crypto/random.js';

const ECHO_WORKER = new URL('../multicore/ring-echo-worker.js', import.meta.url);
const SIZE = 1200;
const payload = new Uint8Array(SIZE).fill(0x5a);
let sink = 0;

function nowNs(): bigint {
  return process.hrtime.bigint();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** In-thread handoff: ns per packet. */
function inThread(batch: number, packets: number): number {
  const sab = createRing(1024, 1504);
  const p = new RingProducer(sab);
  const c = new RingConsumer(sab);
  const addr = new Uint8Array([127, 0, 0, 1]);
  const run = (): number => {
    const t0 = nowNs();
    let sent = 0;
    while (sent < packets) {
      for (let i = 0; i < batch; i++) {
        const s = p.acquire();
        p.payloadView(s).set(payload, 0);
        p.addressView(s).set(addr, 0);
        p.commit(s, SIZE, SlotKind.Datagram, 4, 4433);
        if (batch === 1) p.publish();
      }
      if (batch > 1) p.publish();
      sent += batch;
      for (let s = c.take(); s >= 0; s = c.take()) {
        const d = c.payloadView(s);
        sink += d[0]! + d[c.length(s) - 1]! + c.port(s);
        if (batch === 1) c.releaseTaken();
      }
      c.releaseTaken();
    }
    return Number(nowNs() - t0) / packets;
  };
  run();
  const r: number[] = [];
  for (let i = 0; i < 5; i++) r.push(run());
  return median(r);
}

/** The main thread's per-datagram work: route a short header by its CID, copy into the RX ring. */
function routeAndPush(packets: number): { route: number; routePush: number } {
  const codec = new WorkerCidCodec({ key: new Uint8Array(16).fill(1), workers: 4 });
  const router = new Router({ codec, hashKey: new Uint8Array(16).fill(2) });
  const rng = new SeededRandom(1);
  const datagrams: Uint8Array[] = [];
  for (let i = 0; i < 64; i++) {
    const d = new Uint8Array(SIZE).fill(0x33);
    d[0] = 0x40;
    d.set(codec.generate(i & 3, rng), 1);
    datagrams.push(d);
  }
  const rings = [0, 1, 2, 3].map(() => createRing(1024, 1504));
  const producers = rings.map((r) => new RingProducer(r));
  const consumers = rings.map((r) => new RingConsumer(r));
  const onlyRoute = (): number => {
    const t0 = nowNs();
    for (let i = 0; i < packets; i++) sink += router.route(datagrams[i & 63]!, 0);
    return Number(nowNs() - t0) / packets;
  };
  const both = (): number => {
    const t0 = nowNs();
    for (let i = 0; i < packets; i++) {
      const d = datagrams[i & 63]!;
      const w = router.route(d, 0);
      const p = producers[w]!;
      const s = p.acquire();
      p.payloadView(s).set(d, 0);
      encodeAddress('192.0.2.10', p.addressView(s));
      p.commit(s, d.length, SlotKind.Datagram, 4, 50000);
      if ((i & 31) === 31) {
        for (let k = 0; k < 4; k++) {
          producers[k]!.publish();
          const c = consumers[k]!;
          while (c.take() >= 0) {}
          c.releaseTaken();
        }
      }
    }
    return Number(nowNs() - t0) / packets;
  };
  onlyRoute();
  both();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 5; i++) {
    a.push(onlyRoute());
    b.push(both());
  }
  return { route: median(a), routePush: median(b) };
}

interface Echo {
  worker: Worker;
  toWorker: RingProducer;
  fromWorker: RingConsumer;
}

async function startRingEcho(mode: 'ring-async' | 'ring-blocking'): Promise<Echo> {
  const input = createRing(1024, 1504);
  const output = createRing(1024, 1504);
  const worker = new Worker(ECHO_WORKER, { workerData: { mode, input, output } });
  const e = { worker, toWorker: new RingProducer(input), fromWorker: new RingConsumer(output) };
  // Warm the worker up (module load, JIT) with one round trip.
  await ringRoundTrips(e, 64, 32, 256);
  return e;
}

async function stopRingEcho(e: Echo): Promise<void> {
  const done = new Promise((r) => e.worker.once('message', r));
  e.toWorker.push(new Uint8Array(0), SlotKind.Control, 0, undefined, 0, 0xdead);
  e.toWorker.publish();
  await done;
  await e.worker.terminate();
}

/** `total` packets main → worker → main, `window` in flight, published every `batch`. ns per packet. */
async function ringRoundTrips(e: Echo, total: number, batch: number, window: number): Promise<number> {
  let sent = 0;
  let got = 0;
  const t0 = nowNs();
  while (got < total) {
    let staged = 0;
    while (sent < total && sent - got < window && staged < batch) {
      const s = e.toWorker.acquire();
      if (s < 0) break;
      e.toWorker.payloadView(s).set(payload, 0);
      e.toWorker.commit(s, SIZE, SlotKind.Datagram, 4, 4433);
      sent++;
      staged++;
    }
    e.toWorker.publish();
    let n = 0;
    for (let s = e.fromWorker.take(); s >= 0; s = e.fromWorker.take()) {
      sink += e.fromWorker.payloadView(s)[0]!;
      n++;
    }
    e.fromWorker.releaseTaken();
    got += n;
    if (n === 0 && (sent - got >= window || sent === total)) {
      const w = e.fromWorker.waitForData(1000);
      if (w !== null) await w;
    }
  }
  return Number(nowNs() - t0) / total;
}

async function messageRoundTrips(worker: Worker, total: number, batch: number, window: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    let got = 0;
    const t0 = nowNs();
    const pump = (): void => {
      while (sent < total && sent - got < window) {
        if (batch === 1) {
          worker.postMessage(payload);
          sent++;
        } else {
          const list: Uint8Array[] = [];
          for (let i = 0; i < batch && sent < total; i++, sent++) list.push(payload);
          worker.postMessage(list);
        }
      }
    };
    const onMessage = (m: Uint8Array | Uint8Array[]): void => {
      got += Array.isArray(m) ? m.length : 1;
      sink += Array.isArray(m) ? m[0]![0]! : m[0]!;
      if (got >= total) {
        worker.off('message', onMessage);
        resolve(Number(nowNs() - t0) / total);
        return;
      }
      pump();
    };
    worker.on('message', onMessage);
    pump();
  });
}

function fmt(ns: number): string {
  return ns >= 10_000 ? `${(ns / 1000).toFixed(0)} µs` : ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
}

export async function run(): Promise<void> {
  const rows: Array<[string, number, string]> = [];
  const batched = inThread(32, 200_000);
  const single = inThread(1, 200_000);
  rows.push(['ring, one thread: copy in + read in place, publish per 32', batched, '']);
  rows.push(['ring, one thread: publish per packet', single, `${(single / batched).toFixed(2)}× batched`]);
  const rp = routeAndPush(200_000);
  rows.push(['main thread: router.route(short header) alone', rp.route, '2 SipHash-2-4 calls (CID check)']);
  rows.push(['main thread: route + address + copy into RX ring (publish per 32)', rp.routePush, 'per datagram, before dgram costs']);

  const total = 60_000;
  const results: Record<string, number> = {};
  for (const mode of ['ring-async', 'ring-blocking'] as const) {
    const e = await startRingEcho(mode);
    const r: number[] = [];
    for (let i = 0; i < 3; i++) r.push(await ringRoundTrips(e, total, 32, 512));
    results[`${mode} batched`] = median(r);
    const pp: number[] = [];
    for (let i = 0; i < 3; i++) pp.push(await ringRoundTrips(e, 2000, 1, 1));
    results[`${mode} ping-pong`] = median(pp);
    await stopRingEcho(e);
  }
  const mw = new Worker(ECHO_WORKER, { workerData: { mode: 'message' } });
  await messageRoundTrips(mw, 2000, 1, 64);
  const m1: number[] = [];
  const m32: number[] = [];
  const mpp: number[] = [];
  for (let i = 0; i < 3; i++) {
    m1.push(await messageRoundTrips(mw, total / 4, 1, 512));
    m32.push(await messageRoundTrips(mw, total, 32, 512));
    mpp.push(await messageRoundTrips(mw, 2000, 1, 1));
  }
  mw.postMessage('stop');
  await mw.terminate();
  const peer1 = median(m1);
  const peer32 = median(m32);
  const peerPP = median(mpp);
  const best = Math.min(results['ring-async batched']!, results['ring-blocking batched']!);
  rows.push(['round trip main→worker→main, ring, worker waitAsync, batches of 32', results['ring-async batched']!, `${(peer32 / results['ring-async batched']!).toFixed(1)}× faster than postMessage ×32`]);
  rows.push(['round trip, ring, worker Atomics.wait, batches of 32', results['ring-blocking batched']!, '']);
  rows.push(['round trip, postMessage per packet (peer)', peer1, `${(peer1 / best).toFixed(1)}× the best ring`]);
  rows.push(['round trip, postMessage of 32 payloads per message (peer)', peer32, `${(peer32 / best).toFixed(1)}× the best ring`]);
  rows.push(['ping-pong (1 in flight), ring, worker waitAsync', results['ring-async ping-pong']!, 'every packet wakes a sleeper']);
  rows.push(['ping-pong, ring, worker Atomics.wait', results['ring-blocking ping-pong']!, '']);
  rows.push(['ping-pong, postMessage (peer)', peerPP, '']);
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'case'.padEnd(w)}  ${'per packet'.padStart(10)}  note`);
  for (const [name, ns, note] of rows) console.log(`${name.padEnd(w)}  ${fmt(ns).padStart(10)}  ${note}`);
  console.log(`(1200-byte datagrams; ${total} per round-trip run, median of 3; sink ${sink & 1})`);
}
