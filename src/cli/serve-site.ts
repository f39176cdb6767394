// L7: what `quiver serve` answers, shared by the single-threaded server and the multi-core one's
// workers (src/multicore/http3-app.ts runs `workerApp` in every worker): static files from a
// directory or the built-in demo site (src/server/static.ts), POST/PUT /echo (the body back, for
// upload tests, as quic-go's example server does) and GET/HEAD /metrics (Prometheus text of the
// whole server).
import type { RequestListener, Http3Server } from '../server/http3-server.js';
import type { Http3IncomingMessage } from '../server/incoming-message.js';
import type { Http3ServerResponse } from '../server/server-response.js';
import { staticHandler } from '../server/static.js';
import type { WorkerAppContext } from '../multicore/http3-app.js';
import { demoFiles } from './demo-site.js';

export interface SiteOptions {
  /** Directory to serve (absolute); absent: the built-in demo site. */
  root?: string;
}

/** Echo the request body back. */
function echo(req: Http3IncomingMessage, res: Http3ServerResponse): void {
  res.statusCode = 200;
  res.setHeader('content-type', (req.headers['content-type'] as string | undefined) ?? 'application/octet-stream');
  const len = req.headers['content-length'];
  if (typeof len === 'string' && /^\d+$/.test(len)) res.setHeader('content-length', len);
  req.pipe(res);
  req.once('error', () => res.destroy());
}

/** The request listener of `quiver serve`: /echo, /metrics (from `metrics`), then static files. */
export function siteListener(options: SiteOptions, metrics: () => Promise<{ contentType: string; text: string }>): RequestListener {
  const serveStatic = staticHandler(options.root === undefined ? { files: demoFiles() } : { root: options.root });
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/echo' && (req.method === 'POST' || req.method === 'PUT')) return echo(req, res);
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      req.resume();
      metrics().then(
        (m) => {
          res.writeHead(200, { 'content-type': m.contentType });
          res.end(req.method === 'HEAD' ? undefined : m.text);
        },
        () => {
          res.statusCode = 500;
          res.end();
        },
      );
      return;
    }
    serveStatic(req, res).catch(() => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      } else res.destroy();
    });
  };
}

/** The multi-core server's built-in 'static' app (listenMulticore({ app: 'static' })), run in each worker. */
export function workerApp(server: Http3Server, context: WorkerAppContext): void {
  const o = (context.options ?? {}) as Record<string, unknown>;
  const root = o['root'];
  if (root !== undefined && typeof root !== 'string') throw new TypeError('options.app.options.root: expected a directory name');
  server.on('request', siteListener(root === undefined ? {} : { root }, () => context.metrics()));
}
