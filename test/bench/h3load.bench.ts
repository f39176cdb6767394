// `quiver load` side by side against two servers on loopback: `quiver serve` (one Node thread) and
// ngtcp2's gtlsserver (C, GnuTLS + nghttp3), with the load spread over 1 and 2 threads (-t). Each
// run is `quiver load URL -D S -c 8 -m 10 -t T --json` as a child process for S seconds
// (QUIVER_BENCH_LOAD_S, default 4) fetching a 1 KB file; median and best req/s of
// QUIVER_BENCH_RUNS runs (default 3), the latency percentiles of the median run, and the CPU
// seconds each side spent per run (client: our cutime/cstime; server: /proc/PID/stat). A run with
// failed requests is reported as such, not as a figure. On this 2-core machine the client and the
// server share the cores: -t 2 helps only while the client, not the server, is the bottleneck.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Scope, makeCert, makeWww, requirePeer, startGtlsServer, type UdpServerProcess } from '../interop/peers.js';
import { QUIVER_CLI, quiverCliAvailable, startQuiverServe } from '../interop/quiver-cli.js';
import { median, procCpu } from './proc-stats.js';

const FILE = 'index.bin';
const SIZE = 1024;

interface LoadJson {
  reqPerSec: number;
  requests: { succeeded: number; failed: number; done: number };
  timeForRequest: { p50: number; p99: number; mean: number };
}

interface Row {
  server: string;
  threads: number;
  rps: number[];
  p50: number[];
  p99: number[];
  clientCpu: number[];
  serverCpu: number[];
  failures: string[];
}

function runLoad(url: string, seconds: number, threads: number): Promise<{ code: number; json: LoadJson | null; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [QUIVER_CLI, 'load', url, '-k', '-D', `${seconds}s`, '-c', '8', '-m', '10', '-t', String(threads), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), (seconds + 30) * 1000);
    p.once('exit', (code) => {
      clearTimeout(timer);
      let json: LoadJson | null = null;
      try {
        json = JSON.parse(out) as LoadJson;
      } catch {
        err += out.slice(0, 500);
      }
      resolve({ code: code ?? -1, json, err });
    });
  });
}

export async function run(): Promise<void> {
  const runs = Math.max(1, Number(process.env['QUIVER_BENCH_RUNS'] ?? 3) | 0);
  const seconds = Math.max(1, Number(process.env['QUIVER_BENCH_LOAD_S'] ?? 4));
  if (!quiverCliAvailable()) {
    console.log(`h3load: not available (${QUIVER_CLI} missing: npm run build)`);
    return;
  }
  requirePeer('gtlsserver');
  const scope = new Scope();
  try {
    const dir = scope.tempDir('quiver-bench-h3load-');
    makeWww(join(dir, 'www'), { [FILE]: SIZE });
    const www = join(dir, 'www');
    const cert = makeCert(dir);
    const servers: Array<[string, () => Promise<UdpServerProcess>]> = [
      ['quiver serve', () => startQuiverServe(scope, { www, cert, metrics: false })],
      ['gtlsserver', () => startGtlsServer(scope, { www, cert })],
    ];
    const rows: Row[] = [];
    for (const [name, start] of servers) {
      for (const threads of [1, 2]) {
        const row: Row = { server: name, threads, rps: [], p50: [], p99: [], clientCpu: [], serverCpu: [], failures: [] };
        rows.push(row);
        let srv: UdpServerProcess;
        try {
          srv = await start();
        } catch (e) {
          row.failures.push(`server did not start: ${(e as Error).message.split('\n')[0]}`);
          continue;
        }
        try {
          for (let i = 0; i < runs; i++) {
            const c0 = procCpu('self', true);
            const s0 = procCpu(srv.pid);
            const r = await runLoad(`https://127.0.0.1:${srv.port}/${FILE}`, seconds, threads);
            const c1 = procCpu('self', true);
            const s1 = procCpu(srv.pid);
            const j = r.json;
            if (!Number.isFinite(s1)) row.failures.push(`run ${i + 1}: the server process was gone when the run ended`);
            if (j === null || r.code !== 0 || j.requests.failed > 0) {
              row.failures.push(`run ${i + 1}: exit ${r.code}${j ? `, ${j.requests.failed} failed` : ''} ${r.err.split('\n')[0] ?? ''}`.trim());
              continue;
            }
            row.rps.push(j.reqPerSec);
            row.p50.push(j.timeForRequest.p50);
            row.p99.push(j.timeForRequest.p99);
            row.clientCpu.push(c1 - c0);
            row.serverCpu.push(s1 - s0);
          }
        } finally {
          await srv.stop();
        }
      }
    }
    console.log(`quiver load -D ${seconds}s -c 8 -m 10 -t T, GET of a ${SIZE}-byte file, ${runs} run(s) per row (medians; CPU s per run)`);
    console.log('server          -t   median req/s   best req/s   p50 ms   p99 ms   client CPU s   server CPU s   runs ok');
    for (const r of rows) {
      const ok = `${r.rps.length}/${runs}`;
      const f = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : '-');
      console.log(
        `${r.server.padEnd(15)} ${String(r.threads).padStart(2)}   ${f(median(r.rps), 0).padStart(12)}   ${f(r.rps.length ? Math.max(...r.rps) : NaN, 0).padStart(10)}   ${f(median(r.p50)).padStart(6)}   ${f(median(r.p99)).padStart(6)}   ${f(median(r.clientCpu)).padStart(12)}   ${f(median(r.serverCpu)).padStart(12)}   ${ok}`,
      );
      for (const m of r.failures) console.log(`    ${m}`);
    }
  } finally {
    await scope.close();
  }
}
