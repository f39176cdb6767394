// L7: options of `quiver load` (modelled on nghttp2's h2load: -n, -c, -m, -t, -D, -d, -H, -T, -N).
// Every bad value is a UsageError naming the flag; the CLI prints it with the usage text, status 2.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from './args.js';
import { checkRequest } from './load-lane.js';

export const LOAD_USAGE = `  quiver load URL [options]       HTTP/3 load generator (h2load-like)
  -n, --requests N          requests across all clients (default 1; ignored with -D)
  -c, --clients N           concurrent clients, one QUIC connection each (default 1)
  -m, --max-concurrent-streams N   requests in flight per connection (default 1)
  -t, --threads N           threads (default 1); clients are spread over them
  -D, --duration D          run for D (e.g. 10, 10s, 500ms, 2m) instead of -n requests
      --warm-up-time W      with -D: run W before the measurement starts (not counted)
  -d, --data DATA|@FILE     request body (method POST unless -X)
  -X, --request METHOD      request method (default GET, or POST with -d)
  -H, --header 'Name: v'    add or override a request header (repeatable)
  -k, --insecure            do not verify the server certificate
      --cacert FILE         trust the CA certificate(s) in FILE
  -T, --connection-active-timeout D      close a connection D after its last request was
                            issued; requests still in flight count as timeout
  -N, --connection-inactivity-timeout D  QUIC idle timeout (default 30s)
      --json                print the result as JSON instead of h2load's text summary
`;

export interface LoadArgs {
  url: URL;
  requests: number;
  clients: number;
  maxConcurrent: number;
  threads: number;
  /** ms; 0 = count mode (-n). */
  duration: number;
  /** ms of warm-up before a -D measurement; 0 = none. */
  warmUp: number;
  method: string;
  headers: Array<[string, string]>;
  /** Request body, or null. */
  data: Uint8Array | null;
  insecure: boolean;
  /** PEM text of --cacert. */
  cacert: string | undefined;
  cacertFile: string | undefined;
  /** ms; 0 = none. */
  activeTimeout: number;
  /** ms. */
  idleTimeout: number;
  json: boolean;
}

const LIMIT = 1_000_000_000;

function count(flag: string, v: string | undefined, dflt: number, min: number, max = LIMIT): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${flag}: expected an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** h2load's <DURATION>: a number with an optional unit h, m, s or ms (default seconds). */
export function parseDuration(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (m === null) throw new UsageError(`${flag}: expected a duration like 10, 10s, 500ms, 2m or 1h, got ${JSON.stringify(v)}`);
  const n = Number(m[1]);
  const ms = n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as Record<string, number>)[m[2] ?? 's']!;
  if (!(ms > 0) || ms > 2 ** 31 - 1) throw new UsageError(`${flag}: expected a duration > 0 and at most 24 days, got ${JSON.stringify(v)}`);
  return ms;
}

export function parseLoad(argv: string[]): LoadArgs {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        requests: { type: 'string', short: 'n' },
        clients: { type: 'string', short: 'c' },
        'max-concurrent-streams': { type: 'string', short: 'm' },
        threads: { type: 'string', short: 't' },
        duration: { type: 'string', short: 'D' },
        'warm-up-time': { type: 'string' },
        data: { type: 'string', short: 'd' },
        request: { type: 'string', short: 'X' },
        header: { type: 'string', short: 'H', multiple: true },
        insecure: { type: 'boolean', short: 'k' },
        cacert: { type: 'string' },
        'connection-active-timeout': { type: 'string', short: 'T' },
        'connection-inactivity-timeout': { type: 'string', short: 'N' },
        json: { type: 'boolean' },
      },
    }) as { values: Record<string, unknown>; positionals: string[] };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
  const { values, positionals } = parsed;
  const v = values as Record<string, string | boolean | string[] | undefined>;
  if (positionals.length !== 1) throw new UsageError(`load: expected exactly one URL, got ${positionals.length}`);
  let url: URL;
  try {
    url = new URL(positionals[0]!);
  } catch {
    throw new UsageError(`load: not a URL: ${JSON.stringify(positionals[0])}`);
  }
  if (url.protocol !== 'https:') throw new UsageError(`load: HTTP/3 needs an https:// URL, got ${url.protocol}`);

  const duration = v['duration'] === undefined ? 0 : parseDuration('--duration', v['duration'] as string);
  const wu = v['warm-up-time'] as string | undefined;
  if (wu !== undefined && duration === 0) throw new UsageError('--warm-up-time: needs -D/--duration (timing-based mode)');
  const warmUp = wu === undefined ? 0 : parseDuration('--warm-up-time', wu);
  const clients = count('--clients', v['clients'] as string | undefined, 1, 1, 100_000);
  const requests = count('--requests', v['requests'] as string | undefined, 1, 1);
  if (duration === 0 && requests < clients) throw new UsageError(`--requests: ${requests} requests cannot keep ${clients} clients busy: -n must be >= -c`);
  const maxConcurrent = count('--max-concurrent-streams', v['max-concurrent-streams'] as string | undefined, 1, 1, 100_000);
  const threads = count('--threads', v['threads'] as string | undefined, 1, 1, 256);
  if (threads > clients) throw new UsageError(`--threads: ${threads} threads for ${clients} clients: -c must be >= -t`);

  const headers: Array<[string, string]> = [];
  for (const h of (v['header'] as string[] | undefined) ?? []) {
    const i = h.indexOf(':', 1);
    if (i <= 0) throw new UsageError(`--header: expected 'Name: value', got ${JSON.stringify(h)}`);
    let name = h.slice(0, i).trim().toLowerCase();
    const value = h.slice(i + 1).trim();
    if (name === 'host') name = ':authority';
    if (name.startsWith(':')) {
      if (name !== ':authority' && name !== ':path') throw new UsageError(`--header: only :authority and :path may be overridden, got ${JSON.stringify(name)}`);
    } else if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name)) {
      throw new UsageError(`--header: invalid header name ${JSON.stringify(name)}`);
    }
    if (/[\r\n\0]/.test(value)) throw new UsageError(`--header: the value of ${name} contains CR, LF or NUL`);
    if (['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'].includes(name)) throw new UsageError(`--header: ${name} is connection-specific and not allowed in HTTP/3 (RFC 9114 §4.2)`);
    const at = headers.findIndex((x) => x[0] === name);
    if (at >= 0 && name.startsWith(':')) headers[at] = [name, value];
    else headers.push([name, value]);
  }

  let data: Uint8Array | null = null;
  const d = v['data'] as string | undefined;
  if (d !== undefined) {
    if (d.startsWith('@')) {
      const file = d.slice(1);
      if (file.length === 0 || file === '-') throw new UsageError('--data: @FILE needs a file name (stdin is not supported: every request sends the same body)');
      try {
        data = new Uint8Array(readFileSync(file));
      } catch (e) {
        throw new UsageError(`--data: cannot read ${file}: ${(e as Error).message}`);
      }
    } else data = new Uint8Array(Buffer.from(d, 'utf8'));
  }
  let method = (v['request'] as string | undefined) ?? (data !== null ? 'POST' : 'GET');
  if (!/^[A-Za-z]+$/.test(method)) throw new UsageError(`--request: invalid method ${JSON.stringify(method)}`);
  method = method.toUpperCase();
  if (method === 'CONNECT') throw new UsageError('--request: CONNECT is not a request quiver load can make');

  const bad = checkRequest(url, method, headers, data);
  if (bad !== null) throw new UsageError(`--header: the request would be malformed: ${bad}`);

  const cacertFile = v['cacert'] as string | undefined;
  let cacert: string | undefined;
  if (cacertFile !== undefined) {
    try {
      cacert = readFileSync(cacertFile, 'latin1');
    } catch (e) {
      throw new UsageError(`--cacert: cannot read ${cacertFile}: ${(e as Error).message}`);
    }
    if (!cacert.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--cacert: ${cacertFile} holds no PEM certificate`);
  }
  const at = v['connection-active-timeout'] as string | undefined;
  const it = v['connection-inactivity-timeout'] as string | undefined;
  return {
    url,
    requests,
    clients,
    maxConcurrent,
    threads,
    duration,
    warmUp,
    method,
    headers,
    data,
    insecure: v['insecure'] === true,
    cacert,
    cacertFile,
    activeTimeout: at === undefined ? 0 : parseDuration('--connection-active-timeout', at),
    idleTimeout: it === undefined ? 30_000 : parseDuration('--connection-inactivity-timeout', it),
    json: v['json'] === true,
  };
}
