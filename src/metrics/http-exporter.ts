// L7: /metrics over plain HTTP/1.1 on a TCP port (node:http), for Prometheus scrapers that do not
// speak HTTP/3. Only GET/HEAD /metrics; everything else is 404/405.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { QuiverMetrics } from './quiver-metrics.js';

export interface MetricsServer {
  server: http.Server;
  address: AddressInfo;
  close(): Promise<void>;
}

export async function serveMetrics(metrics: QuiverMetrics, port: number, host = '127.0.0.1'): Promise<MetricsServer> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port: expected 0..65535, got ${String(port)}`);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    metrics.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(e)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    address: server.address() as AddressInfo,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
