// L7: HTTP/3 (RFC 9114) inside a shard worker. Handlers cannot cross threads, a module path can:
// listenMulticore({ app: { module, export, options } }) names a module every worker imports; its
// export gets an Http3Server (src/server/http3-server.ts — the same request/response objects,
// fetch-style handlers and statistics as a single-threaded server) and a small context. Each new
// connection of the shard is wrapped in a QuicSession whose driver is the shard
// (src/io/session-driver.ts) and adopted by that Http3Server before its first event, so everything
// above the connection — streams, QPACK, H3 framing, GOAWAY — runs unchanged in the worker.
//
// The export: (server, context) => void | FetchHandler | Promise<…>. It adds 'request' listeners
// (node:http style) or returns a fetch-style handler (Request) => Response; neither → 404.
// Built in: 'static' (src/cli/serve-site.ts: what `quiver serve` serves — a directory or the demo
// site, POST/PUT /echo, /metrics of the whole server).
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Connection } from '../connection/index.js';
import { H3ErrorCode } from '../h3/wire/index.js';
import { QuicSession } from '../io/session.js';
import { Http3Server, type Http3ServerOptions } from '../server/http3-server.js';
import type { FetchHandler } from '../server/fetch-handler.js';
import type { ShardApp, ShardAppContext, ShardConnectionHandler } from './app.js';
import type { WorkerSessionMetrics } from './worker-metrics.js';

/** What listenMulticore({ app }) accepts: a built-in name, or a module every worker imports. */
export type MulticoreApp = 'echo' | 'static' | MulticoreAppModule;

export interface MulticoreAppModule {
  /** A file: URL, an absolute or relative (to the working directory) path, a package specifier, or the built-in name 'static'. */
  module: string;
  /** The export to call (default 'default'). */
  export?: string;
  /** Handed to the export as context.options (structured-cloned into every worker). */
  options?: unknown;
}

/** What the export of an app module gets besides the server. */
export interface WorkerAppContext {
  /** This worker's index and the number of workers. */
  readonly worker: number;
  readonly workers: number;
  /** The app's `options` (a structured clone). */
  readonly options: unknown;
  /** Prometheus text of the whole server (every worker and the router), rendered by the main thread. */
  metrics(): Promise<{ contentType: string; text: string }>;
}

export type WorkerAppSetup = (server: Http3Server, context: WorkerAppContext) => void | FetchHandler | Promise<void | FetchHandler>;

/** The app as it crosses to the workers (validated and resolved in the main thread). */
export type ResolvedApp = { kind: 'echo' } | { kind: 'http3'; module: string; export: string; options: unknown };

const STATIC_MODULE = new URL('../cli/serve-site.js', import.meta.url).href;

/** Main thread: check `app` and turn it into what crosses to the workers. */
export function resolveApp(app: unknown): ResolvedApp {
  if (app === undefined || app === 'echo') return { kind: 'echo' };
  if (app === 'static') return { kind: 'http3', module: STATIC_MODULE, export: 'workerApp', options: {} };
  if (app === null || typeof app !== 'object') throw new TypeError(`options.app: expected 'echo', 'static' or { module, export?, options? }`);
  const a = app as Record<string, unknown>;
  const mod = a['module'];
  if (typeof mod !== 'string' || mod.length === 0) throw new TypeError('options.app.module: expected a module URL, path or name');
  const exp = a['export'] ?? 'default';
  if (typeof exp !== 'string' || exp.length === 0) throw new TypeError('options.app.export: expected an export name');
  for (const k of Object.keys(a)) if (k !== 'module' && k !== 'export' && k !== 'options') throw new TypeError(`options.app: unknown key ${JSON.stringify(k)}`);
  const options = a['options'] ?? {};
  try {
    structuredClone(options);
  } catch (e) {
    throw new TypeError(`options.app.options: must cross to worker threads (structured clone): ${(e as Error).message}`);
  }
  if (mod === 'static') return { kind: 'http3', module: STATIC_MODULE, export: a['export'] === undefined ? 'workerApp' : exp, options };
  let url: string;
  if (/^[a-z][a-z0-9+.-]*:/i.test(mod) && !/^[a-z]:[\\/]/i.test(mod)) url = mod;
  else if (isAbsolute(mod) || mod.startsWith('./') || mod.startsWith('../')) url = pathToFileURL(resolve(mod)).href;
  else url = mod; // a package specifier, resolved by import() in the worker
  return { kind: 'http3', module: url, export: exp, options };
}

/** Worker: import the app module and call its export. */
export async function loadAppSetup(app: Extract<ResolvedApp, { kind: 'http3' }>): Promise<WorkerAppSetup> {
  const mod = (await import(app.module)) as Record<string, unknown>;
  const fn = mod[app.export];
  if (typeof fn !== 'function') throw new TypeError(`options.app: ${app.module} has no function export ${JSON.stringify(app.export)}`);
  return fn as WorkerAppSetup;
}

export interface Http3AppInit {
  worker: number;
  workers: number;
  setup: WorkerAppSetup;
  options: unknown;
  /** Http3Server options (maxHeaderSize, qpackTableCapacity). */
  serverOptions: Http3ServerOptions;
  metrics(): Promise<{ contentType: string; text: string }>;
  recorder?: WorkerSessionMetrics;
  /** A session ended (qlog writers close here). */
  onGone?: (conn: Connection) => void;
}

/** The ShardApp that runs an Http3Server over the shard's connections. */
export class Http3ShardApp implements ShardApp {
  readonly server: Http3Server;
  /** Sessions not yet ended (handshaking or open). */
  readonly sessions = new Set<QuicSession>();
  private readonly adopt: (s: QuicSession) => void;
  private readonly recorder: WorkerSessionMetrics | undefined;
  private readonly onGone: ((conn: Connection) => void) | undefined;

  private constructor(server: Http3Server, init: Http3AppInit) {
    this.server = server;
    this.adopt = server.sessionAdopter();
    this.recorder = init.recorder;
    this.onGone = init.onGone;
    init.recorder?.watchHttp(server.stats);
  }

  static async create(init: Http3AppInit): Promise<Http3ShardApp> {
    let fetchImpl: FetchHandler | undefined;
    const server = new Http3Server({
      ...init.serverOptions,
      // Used only when the app adds no 'request' listener: its returned fetch handler, else 404.
      fetch: (request, info) => (fetchImpl !== undefined ? fetchImpl(request, info) : new Response('not found\n', { status: 404 })),
    });
    const app = new Http3ShardApp(server, init);
    const context: WorkerAppContext = { worker: init.worker, workers: init.workers, options: init.options, metrics: init.metrics };
    const r = await init.setup(server, context);
    if (typeof r === 'function') fetchImpl = r;
    return app;
  }

  onConnection(conn: Connection, ctx: ShardAppContext): ShardConnectionHandler {
    const server = this.server;
    const session = new QuicSession({
      conn,
      driver: ctx.driver,
      role: 'server',
      ownsDriver: false,
      onGone: (s) => {
        this.sessions.delete(s);
        this.onGone?.(conn);
      },
      // Synchronously, so 'session' listeners see the session before its first stream event.
      onOpened: (s) => server.emit('session', s),
    });
    this.sessions.add(session);
    this.adopt(session);
    this.recorder?.watch(session);
    return session;
  }

  /**
   * Graceful close (RFC 9114 §5.2): GOAWAY on every session, then wait up to `timeoutMs` for
   * requests in flight; returns the sessions still open (the shard closes them).
   */
  async shutdown(timeoutMs: number): Promise<number> {
    const hs = [...this.server.h3Sessions];
    for (const h of hs) {
      if (!h.closed) {
        h.h3.shutdown();
        h.kick();
      }
    }
    const all = Promise.all(hs.map((h) => h.quic.closed.catch(() => {})));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    return this.sessions.size;
  }
}

/** The application close code a worker running HTTP/3 uses when it shuts down. */
export const HTTP3_CLOSE_CODE = H3ErrorCode.H3_NO_ERROR;
