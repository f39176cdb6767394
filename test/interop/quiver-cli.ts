// Interop harness: Quiver's own CLI (issue 7) as a peer, driven exactly as a user would run it:
//   node dist/src/cli/quiver.js serve DIR --host H --port P --cert F --key F
//   node dist/src/cli/quiver.js get URL -o FILE -k [extra args]
// Judged like the ngtcp2 peers: by the downloaded file's sha256 (and `get`'s exit status, which unlike
// gtlsclient's is meaningful: non-zero on any failure).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToExit, startUdpServer, type CertFiles, type ExitInfo, type Scope, type UdpServerProcess } from './peers.js';

/** dist/src/cli/quiver.js, next to this compiled file's dist/test/interop/ (QUIVER_CLI overrides, for harness tests). */
export const QUIVER_CLI = process.env['QUIVER_CLI'] || join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'quiver.js');

export function quiverCliAvailable(): boolean {
  return existsSync(QUIVER_CLI);
}

export interface QuiverServeOptions {
  /** CLI script (default QUIVER_CLI). */
  cli?: string;
  www: string;
  cert: CertFiles;
  host?: string;
  /** Extra CLI arguments (e.g. --retry). */
  extraArgs?: string[];
  /** TCP /metrics listener on an OS-picked port (default true; its URL is in the banner), or none. */
  metrics?: boolean;
  env?: NodeJS.ProcessEnv;
  logDir?: string;
}

/** `quiver serve` on an OS-picked free port; ready when its process owns the UDP socket. */
export async function startQuiverServe(scope: Scope, o: QuiverServeOptions): Promise<UdpServerProcess> {
  const cli = o.cli ?? QUIVER_CLI;
  if (!existsSync(cli)) throw new Error(`quiver CLI not built: ${cli} (npm run build)`);
  const host = o.host ?? '127.0.0.1';
  return startUdpServer(scope, {
    what: 'quiver-serve',
    cmd: process.execPath,
    argsFor: (port) => [
      cli, 'serve', o.www, '--host', host, '--port', String(port), '--cert', o.cert.certPath, '--key', o.cert.keyPath,
      ...(o.metrics === false ? ['--no-metrics'] : ['--metrics-port', '0']),
      ...(o.extraArgs ?? []),
    ],
    host,
    logDir: o.logDir ?? scope.tempDir('quiver-serve-'),
    readyTimeoutMs: 15_000,
    ...(o.env ? { env: o.env } : {}),
  });
}

export interface QuiverGetResult extends ExitInfo {
  logPath: string;
  out: string;
}

/** `quiver get URL -o OUT -k [...extra]`, killed by PID after `timeoutMs`. */
export async function runQuiverGet(
  scope: Scope,
  o: { url: string; out: string; extraArgs?: string[]; timeoutMs?: number; env?: NodeJS.ProcessEnv; cli?: string },
): Promise<QuiverGetResult> {
  const cli = o.cli ?? QUIVER_CLI;
  if (!existsSync(cli)) throw new Error(`quiver CLI not built: ${cli} (npm run build)`);
  const logPath = join(scope.tempDir('quiver-get-'), 'quiver-get.log');
  const r = await runToExit(scope, process.execPath, [cli, 'get', o.url, '-o', o.out, '-k', ...(o.extraArgs ?? [])], logPath, o.timeoutMs ?? 60_000, o.env);
  return { ...r, logPath, out: o.out };
}
