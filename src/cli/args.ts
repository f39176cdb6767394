// L7: command-line parsing for `quiver` (node:util parseArgs plus value checks). Every bad value is
// a UsageError naming the flag; the CLI prints it with the usage text and exits with status 2.
import { availableParallelism } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  readonly code = 'ERR_QUIVER_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage:
  quiver serve [DIR] [options]    serve DIR (default: a built-in demo site) over HTTP/3
      --host H              address to bind; 'localhost' = 127.0.0.1 and ::1 (default localhost)
  -p, --port P              UDP port (default 4433; 0 = any)
      --cert FILE           certificate chain (PEM); without it a self-signed one is generated
      --key FILE            private key (PEM) of --cert
      --metrics-port M      Prometheus /metrics over HTTP/1.1 on TCP port M (default 9090; 0 = any)
      --no-metrics          no TCP metrics listener (/metrics over HTTP/3 stays)
      --retry               validate client addresses with Retry (RFC 9000 §8.1.2)
      --qlog-dir D          write one qlog file per connection into D (default $QLOGDIR)
      --keylog FILE         append TLS secrets for Wireshark (default $SSLKEYLOGFILE)
      --workers N|auto      worker threads (default 1: single-threaded; auto = available cores);
                            N > 1: one UDP socket, connections routed by CID to N workers
  -q, --quiet               print only the URL line

  quiver get URL [options]        fetch URL over HTTP/3 (curl-like)
  -o, --output FILE         write the body to FILE (default stdout)
  -k, --insecure            do not verify the server certificate
      --cacert FILE         trust the CA certificate(s) in FILE
  -H, --header 'Name: v'    add a request header (repeatable)
  -X, --request METHOD      request method (default GET, or POST with -d)
  -d, --data DATA|@FILE     request body (@- reads stdin)
  -I, --head                HEAD request; print the response headers
  -i, --include             print the response headers before the body
  -v, --verbose             handshake details and headers on stderr
  -f, --fail                exit 22 on HTTP status >= 400
      --connect-timeout S   give up the handshake after S seconds (default 10)
      --version V           QUIC version of the first Initial: v1 (default), v2, v2draft or hex;
                            an unsupported hex version (e.g. 0x1a2a3a4a) is offered first to
                            solicit Version Negotiation, then the handshake continues in v1
      --session-file F      resume with the ticket/token saved in F (0-RTT when the server allows),
                            then save the new ones there
      --key-update MS       initiate a TLS key update MS ms after the handshake is confirmed
      --qlog-dir D, --keylog FILE   as for serve

  quiver --version | --help
`;

export interface ServeArgs {
  dir: string | undefined;
  host: string;
  port: number;
  cert: string | undefined;
  key: string | undefined;
  metricsPort: number | null;
  retry: boolean;
  qlogDir: string | undefined;
  keylog: string | undefined;
  quiet: boolean;
  /** Worker threads (1 = the single-threaded server). */
  workers: number;
}

export interface GetArgs {
  url: URL;
  output: string | undefined;
  insecure: boolean;
  cacert: string | undefined;
  headers: Array<[string, string]>;
  method: string;
  data: string | undefined;
  head: boolean;
  include: boolean;
  verbose: boolean;
  fail: boolean;
  connectTimeout: number;
  qlogDir: string | undefined;
  keylog: string | undefined;
  version: number | undefined;
  /** An unsupported --version: offered first to solicit Version Negotiation (RFC 9000 §6.3). */
  probeVersion: number | undefined;
  sessionFile: string | undefined;
  keyUpdate: number | undefined;
}

const VERSION_NAMES: Record<string, number> = { v1: 0x00000001, v2: 0x6b3343cf, v2draft: 0x709a50c4 };

function version(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const named = VERSION_NAMES[v.toLowerCase()];
  if (named !== undefined) return named;
  if (/^0x[0-9a-f]{1,8}$/i.test(v)) return Number.parseInt(v.slice(2), 16);
  throw new UsageError(`--version: expected v1, v2, v2draft or a hex version like 0x00000001, got ${JSON.stringify(v)}`);
}

function port(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`${flag}: expected a port number 0..65535, got ${JSON.stringify(v)}`);
  return Number(v);
}

function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as { values: Record<string, unknown>; positionals: string[] };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

export function parseServe(argv: string[]): ServeArgs {
  const { values, positionals } = parse(argv, {
    host: { type: 'string' },
    port: { type: 'string', short: 'p' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'metrics-port': { type: 'string' },
    'no-metrics': { type: 'boolean' },
    retry: { type: 'boolean' },
    'qlog-dir': { type: 'string' },
    keylog: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    workers: { type: 'string' },
  });
  if (positionals.length > 1) throw new UsageError(`serve: one directory at most, got ${positionals.length}`);
  const w = values['workers'] as string | undefined;
  let workers = 1;
  if (w === 'auto') workers = availableParallelism();
  else if (w !== undefined) {
    if (!/^\d+$/.test(w) || Number(w) < 1 || Number(w) > 256) throw new UsageError(`--workers: expected 1..256 or auto, got ${JSON.stringify(w)}`);
    workers = Number(w);
  }
  const v = values as Record<string, string | boolean | undefined>;
  const cert = v['cert'] as string | undefined;
  const key = v['key'] as string | undefined;
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--cert and --key go together');
  const host = (v['host'] as string | undefined) ?? 'localhost';
  if (host.length === 0) throw new UsageError('--host: expected a host name or address');
  return {
    dir: positionals[0],
    host,
    port: port('--port', v['port'] as string | undefined, 4433),
    cert,
    key,
    metricsPort: v['no-metrics'] === true ? null : port('--metrics-port', v['metrics-port'] as string | undefined, 9090),
    retry: v['retry'] === true,
    qlogDir: v['qlog-dir'] as string | undefined,
    keylog: v['keylog'] as string | undefined,
    quiet: v['quiet'] === true,
    workers,
  };
}

export function parseGet(argv: string[]): GetArgs {
  const { values, positionals } = parse(argv, {
    output: { type: 'string', short: 'o' },
    insecure: { type: 'boolean', short: 'k' },
    cacert: { type: 'string' },
    header: { type: 'string', short: 'H', multiple: true },
    request: { type: 'string', short: 'X' },
    data: { type: 'string', short: 'd' },
    head: { type: 'boolean', short: 'I' },
    include: { type: 'boolean', short: 'i' },
    verbose: { type: 'boolean', short: 'v' },
    fail: { type: 'boolean', short: 'f' },
    'connect-timeout': { type: 'string' },
    'qlog-dir': { type: 'string' },
    keylog: { type: 'string' },
    version: { type: 'string' },
    'session-file': { type: 'string' },
    'key-update': { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(`get: expected exactly one URL, got ${positionals.length}`);
  let url: URL;
  try {
    url = new URL(positionals[0]!);
  } catch {
    throw new UsageError(`get: not a URL: ${JSON.stringify(positionals[0])}`);
  }
  if (url.protocol !== 'https:') throw new UsageError(`get: HTTP/3 needs an https:// URL, got ${url.protocol}`);
  const v = values as Record<string, string | boolean | string[] | undefined>;
  const headers: Array<[string, string]> = [];
  for (const h of (v['header'] as string[] | undefined) ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`--header: expected 'Name: value', got ${JSON.stringify(h)}`);
    const name = h.slice(0, i).trim();
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new UsageError(`--header: invalid header name ${JSON.stringify(name)}`);
    headers.push([name.toLowerCase(), h.slice(i + 1).trim()]);
  }
  const data = v['data'] as string | undefined;
  const head = v['head'] === true;
  let method = (v['request'] as string | undefined) ?? (head ? 'HEAD' : data !== undefined ? 'POST' : 'GET');
  if (!/^[A-Za-z]+$/.test(method)) throw new UsageError(`--request: invalid method ${JSON.stringify(method)}`);
  method = method.toUpperCase();
  const ct = v['connect-timeout'] as string | undefined;
  const connectTimeout = ct === undefined ? 10 : Number(ct);
  if (!(connectTimeout > 0) || !Number.isFinite(connectTimeout)) throw new UsageError(`--connect-timeout: expected seconds > 0, got ${JSON.stringify(ct)}`);
  return {
    url,
    output: v['output'] as string | undefined,
    insecure: v['insecure'] === true,
    cacert: v['cacert'] as string | undefined,
    headers,
    method,
    data,
    head,
    include: v['include'] === true,
    verbose: v['verbose'] === true,
    fail: v['fail'] === true,
    connectTimeout,
    qlogDir: v['qlog-dir'] as string | undefined,
    keylog: v['keylog'] as string | undefined,
    ...versionArgs(version(v['version'] as string | undefined)),
    sessionFile: v['session-file'] as string | undefined,
    keyUpdate: keyUpdate(v['key-update'] as string | undefined),
  };
}

function versionArgs(v: number | undefined): { version: number | undefined; probeVersion: number | undefined } {
  if (v === undefined || Object.values(VERSION_NAMES).includes(v)) return { version: v, probeVersion: undefined };
  if (v === 0) throw new UsageError('--version: 0 is the Version Negotiation packet, not a version');
  return { version: undefined, probeVersion: v };
}

function keyUpdate(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/ms$/, ''));
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--key-update: expected milliseconds >= 0, got ${JSON.stringify(v)}`);
  return n;
}
