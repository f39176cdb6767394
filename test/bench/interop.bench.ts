// Issue 7 benchmark: one 100 MB HTTP/3 download over loopback, client ← server, for the four pairs
//   gtlsclient ← gtlsserver   (ngtcp2 0.12.1 both sides, GSO on: the reference)
//   gtlsclient ← quiver serve
//   quiver get ← gtlsserver
//   quiver get ← quiver serve
// Every run is judged by the downloaded file's sha256 (a fast wrong answer is a failure, not a
// figure). Mbit/s = 100 MiB × 8 / wall time of the client process (spawn → exit, so process start-up
// is included for both clients). Median and best of QUIVER_BENCH_RUNS runs (default 3); ratios are to
// the ngtcp2 pair's median. Beside the rate, the CPU seconds (user + system) each side spent per
// run (medians): the client's from our own cutime/cstime (it is the only child that exits during a
// run), the server's from /proc/PID/stat. On a shared, oversubscribed machine the wall-clock rate
// moves with other load; CPU seconds per 100 MB hardly do, so they show where a change helped.
// The Quiver rows print "not available yet" only while dist/src/cli/quiver.js does not exist; once
// it does, they run and a failure is reported as such.
import { join } from 'node:path';
import { MB, Scope, judgeDownload, judgeFile, makeCert, makeWww, requirePeer, runGtlsClient, startGtlsServer, type CertFiles, type UdpServerProcess, type WwwFile } from '../interop/peers.js';
import { QUIVER_CLI, quiverCliAvailable, runQuiverGet, startQuiverServe } from '../interop/quiver-cli.js';
import { median, procCpu } from './proc-stats.js';

const SIZE = 100 * MB;
const NAME = '100mb.bin';

interface Row {
  client: string;
  server: string;
  /** Mbit/s per successful run. */
  rates: number[];
  /** CPU seconds (user + system) per successful run: client, server. */
  clientCpu: number[];
  serverCpu: number[];
  failures: string[];
  note?: string;
}

type Runner = (server: UdpServerProcess, i: number) => Promise<{ ms: number; ok: boolean; reason: string }>;

const mbits = (ms: number) => (SIZE * 8) / (ms / 1000) / 1e6;

export async function run(): Promise<void> {
  const runs = Math.max(1, Number(process.env['QUIVER_BENCH_RUNS'] ?? 3) | 0);
  requirePeer('gtlsclient');
  requirePeer('gtlsserver');
  const scope = new Scope();
  try {
    const dir = scope.tempDir('quiver-bench-interop-');
    const www = makeWww(join(dir, 'www'), { [NAME]: SIZE });
    const file = www.files.get(NAME)!;
    const cert = makeCert(dir);
    const cli = quiverCliAvailable();

    const gtlsClient: Runner = async (server) => {
      const r = await runGtlsClient(scope, { port: server.port, paths: [`/${NAME}`], timeoutMs: 120_000 });
      const j = await judgeDownload(r, file);
      return { ms: r.ms, ok: j.ok, reason: j.reason };
    };
    const quiverGet: Runner = async (server, i) => {
      const out = join(scope.tempDir('quiver-bench-get-'), `${NAME}.${i}`);
      const r = await runQuiverGet(scope, { url: `https://127.0.0.1:${server.port}/${NAME}`, out, timeoutMs: 180_000 });
      const j = await judgeFile(out, file);
      const ok = j.ok && r.code === 0;
      return { ms: r.ms, ok, reason: ok ? '' : `exit ${r.timedOut ? 'TIMEOUT' : r.code}; ${j.reason}` };
    };
    const gtlsServer = () => startGtlsServer(scope, { www: www.dir, cert });
    const quiverServe = () => startQuiverServe(scope, { www: www.dir, cert });

    const rows: Row[] = [];
    rows.push(await measure('gtlsclient', 'gtlsserver', gtlsServer, gtlsClient, runs, true));
    rows.push(await measure('gtlsclient', 'quiver serve', quiverServe, gtlsClient, runs, cli));
    rows.push(await measure('quiver get', 'gtlsserver', gtlsServer, quiverGet, runs, cli));
    rows.push(await measure('quiver get', 'quiver serve', quiverServe, quiverGet, runs, cli));
    print(rows, runs, file, cert);
  } finally {
    await scope.close();
  }
}

async function measure(client: string, server: string, start: () => Promise<UdpServerProcess>, runner: Runner, runs: number, available: boolean): Promise<Row> {
  const row: Row = { client, server, rates: [], clientCpu: [], serverCpu: [], failures: [] };
  if (!available) {
    row.note = `not available yet (${QUIVER_CLI} missing)`;
    return row;
  }
  let srv: UdpServerProcess;
  try {
    srv = await start();
  } catch (e) {
    row.failures.push(`server did not start: ${(e as Error).message.split('\n').slice(0, 3).join(' | ')}`);
    return row;
  }
  try {
    for (let i = 0; i < runs; i++) {
      try {
        const c0 = procCpu('self', true);
        const s0 = procCpu(srv.pid);
        const r = await runner(srv, i);
        const c1 = procCpu('self', true);
        const s1 = procCpu(srv.pid);
        if (r.ok) {
          row.rates.push(mbits(r.ms));
          row.clientCpu.push(c1 - c0);
          row.serverCpu.push(s1 - s0);
        }
        else row.failures.push(`run ${i + 1}: ${r.reason.split('\n')[0]}`);
      } catch (e) {
        row.failures.push(`run ${i + 1}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  } finally {
    await srv.stop();
  }
  return row;
}

function print(rows: Row[], runs: number, file: WwwFile, cert: CertFiles): void {
  const ref = rows[0]!.rates.length ? median(rows[0]!.rates) : NaN;
  console.log(`100 MB loopback HTTP/3 download (${file.size} B, sha256 ${file.sha256.slice(0, 16)}…), ${runs} run(s) per pair; certificate: Quiver self-signed P-256 (spki ${cert.spki.slice(0, 12)}…)`);
  console.log('client       ← server         median Mbit/s   best Mbit/s   vs ngtcp2 pair   client CPU s   server CPU s   runs ok');
  for (const r of rows) {
    const pair = `${r.client.padEnd(12)} ← ${r.server.padEnd(14)}`;
    if (r.note) {
      console.log(`${pair} ${r.note}`);
      continue;
    }
    if (r.rates.length === 0) {
      console.log(`${pair} FAILED (${r.failures.length}/${runs}): ${r.failures[0] ?? ''}`);
      continue;
    }
    const med = median(r.rates);
    const best = Math.max(...r.rates);
    const ratio = Number.isFinite(ref) ? `${(med / ref).toFixed(2)}×` : '-';
    const cpu = (xs: number[]) => (xs.every(Number.isFinite) ? median(xs).toFixed(2) : '-');
    console.log(
      `${pair} ${med.toFixed(0).padStart(13)}   ${best.toFixed(0).padStart(11)}   ${ratio.padStart(14)}   ${cpu(r.clientCpu).padStart(12)}   ${cpu(r.serverCpu).padStart(12)}   ${r.rates.length}/${runs}`,
    );
    for (const f of r.failures) console.log(`    failure: ${f}`);
  }
}
