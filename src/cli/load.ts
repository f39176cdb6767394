// L7: `quiver load` — an h2load-like HTTP/3 load generator. Requests are spread as h2load spreads
// them: -n and -c over the -t threads, then each thread's requests over its clients (remainders to
// the first ones, see planLoad), -m requests in flight per connection. With -t 1 the clients
// run on the main thread; with more, every thread is a piscina worker (workers/load.ts → runLane)
// on its own event loop, the main thread only starts them together (a SharedArrayBuffer go flag),
// prints progress from shared counters and merges their results (latency histograms, counters).
// Exit status: 0 when at least one request succeeded, 1 otherwise, 2 for usage errors.
import type { Writable } from 'node:stream';
import { Piscina } from 'piscina';
import type { LoadArgs } from './load-args.js';
import { runLane, type LaneJob, type LaneResult } from './load-lane.js';
import { formatReport, mergeLanes, type LoadReport } from './load-report.js';

export interface LoadIo {
  stdout: Writable;
  stderr: Writable;
}

export interface LoadPlan {
  /** Per thread: requests per client. */
  threads: number[][];
}

/**
 * h2load's split (h2load.cc main / Worker): -n over the -t threads and -c over the threads (the first
 * n % t threads take one more request, the first c % t one more client), then each thread's requests
 * over its own clients (the first ones one more). With n >= c >= t every client gets at least one.
 */
export function planLoad(requests: number, clients: number, threads: number): LoadPlan {
  const out: number[][] = [];
  for (let t = 0; t < threads; t++) {
    const k = Math.floor(clients / threads) + (t < clients % threads ? 1 : 0);
    const n = Math.floor(requests / threads) + (t < requests % threads ? 1 : 0);
    out.push(Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0)));
  }
  return { threads: out };
}

const WORKER_URL = new URL('../../workers/load.js', import.meta.url);

/** Run the load described by `args`; `onLine` gets the h2load-style preamble and progress lines. */
export async function load(args: LoadArgs, onLine: (line: string) => void = () => {}): Promise<LoadReport> {
  const plan = planLoad(args.requests, args.clients, args.threads);
  const t = args.threads;
  const control = new SharedArrayBuffer(4 * (2 + t));
  const cells = new Int32Array(control);
  const jobs: LaneJob[] = plan.threads.map((clients, lane) => ({
    lane,
    url: args.url.href,
    method: args.method,
    headers: args.headers,
    body: args.data,
    clients,
    maxConcurrent: args.maxConcurrent,
    duration: args.duration,
    warmUp: args.warmUp,
    activeTimeout: args.activeTimeout,
    idleTimeout: args.idleTimeout,
    insecure: args.insecure,
    ca: args.cacert,
    control,
  }));
  onLine('starting benchmark...');
  for (const j of jobs) {
    const n = j.clients.reduce((a, b) => a + b, 0);
    onLine(
      args.duration > 0
        ? `spawning thread #${j.lane}: ${j.clients.length} total client(s). Timing-based test with ${args.warmUp / 1000}s of warm-up time and ${args.duration / 1000}s of main duration for measurements.`
        : `spawning thread #${j.lane}: ${j.clients.length} total client(s). ${n} total requests`,
    );
  }
  const total = args.duration > 0 ? 0 : args.requests;
  let shown = 0;
  const progress = (): void => {
    if (total === 0) return;
    let done = 0;
    for (let i = 0; i < t; i++) done += Atomics.load(cells, 2 + i);
    const tenth = Math.min(10, Math.floor((done * 10) / total));
    while (shown < tenth) onLine(`progress: ${++shown * 10}% done`);
  };
  let results: LaneResult[];
  let pool: Piscina | undefined;
  const ticker = setInterval(progress, 100);
  try {
    if (t === 1) {
      Atomics.store(cells, 0, 1); // no other thread to wait for
      results = [await runLane(jobs[0]!)];
    } else {
      pool = new Piscina({ filename: WORKER_URL.href, minThreads: t, maxThreads: t, idleTimeout: 1000, atomics: 'disabled', concurrentTasksPerWorker: 1 });
      let settledOne = false;
      const running = jobs.map((j) => (pool!.run(j) as Promise<LaneResult>).finally(() => (settledOne = true)));
      // Start every lane at once, after all threads loaded the code and are waiting (or one failed).
      void (async () => {
        while (Atomics.load(cells, 1) < t && !settledOne) await new Promise((r) => setTimeout(r, 5));
        Atomics.store(cells, 0, 1);
        Atomics.notify(cells, 0);
      })();
      try {
        results = await Promise.all(running);
      } catch (e) {
        throw new Error(`load: a worker thread failed: ${(e as Error)?.message ?? String(e)}`);
      }
    }
  } finally {
    clearInterval(ticker);
    if (pool !== undefined) await pool.destroy().catch(() => {});
  }
  progress();
  return mergeLanes(results.sort((a, b) => a.lane - b.lane));
}

/** `quiver load`: run, print h2load's summary (or JSON), return the exit status. */
export async function runLoad(args: LoadArgs, io: LoadIo): Promise<number> {
  const line = (s: string): void => {
    if (!args.json) io.stdout.write(`${s}\n`);
  };
  const report = await load(args, line);
  if (args.json) {
    io.stdout.write(`${JSON.stringify({ url: args.url.href, method: args.method, maxConcurrentStreams: args.maxConcurrent, ...report }, null, 2)}\n`);
  } else {
    if (report.alpn !== '') {
      line('TLS Protocol: TLSv1.3'); // QUIC carries TLS 1.3 only (RFC 9001 §4.2)
      line(`Application protocol: ${report.alpn} (QUIC version 0x${report.quicVersion.toString(16).padStart(8, '0')})`);
    }
    line('');
    for (const l of formatReport(report)) line(l);
  }
  return report.requests.succeeded > 0 ? 0 : 1;
}
