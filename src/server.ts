// `quiver/server`: HTTP/3 for applications — createServer() with node:http-style (req, res) or
// fetch-style handlers, an HTTP/3 client with fetch() and request(), a static file handler, and
// Prometheus metrics (prom-client) with a TCP /metrics exporter, and the multi-core server.
export { createServer, Http3Server, type Http3ServerOptions, type Http3ServerStats, type RequestListener } from './server/http3-server.js';
export { Http3IncomingMessage, type Http3SocketInfo } from './server/incoming-message.js';
export { Http3ServerResponse } from './server/server-response.js';
export type { FetchHandler } from './server/fetch-handler.js';
export { Http3Client, Http3ClientRequest, fetch, request, type Http3ClientOptions, type Http3RequestOptions } from './server/client.js';
export { staticHandler, contentTypeFor, MIME_TYPES, type StaticOptions, type VirtualFile } from './server/static.js';
export { QuiverMetrics, METRIC_PREFIX, type QuiverMetricsOptions } from './metrics/quiver-metrics.js';
export { serveMetrics, type MetricsServer } from './metrics/http-exporter.js';
// The multi-core server: one UDP socket in this thread, connections routed by CID to worker threads
// that run the application — 'static', or a module whose export gets an Http3Server in each worker.
export { listenMulticore, MulticoreServer, type MulticoreOptions, type MulticoreMetrics } from './multicore/server.js';
export type { MulticoreApp, MulticoreAppModule, WorkerAppContext, WorkerAppSetup } from './multicore/http3-app.js';
// What a request or connection failure carries (code, kind, errorCode, remote, reason, h3Code), and
// the HTTP/3 byte counters per connection (Http3Client.connectionStats) and per request (.stats).
export type { ConnectionEndError } from './server/h3-session.js';
export type { H3Stats, H3StreamStats } from './h3/index.js';
