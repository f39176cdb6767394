// L7: `quiver serve` — static files (or the built-in demo) over HTTP/3, POST/PUT /echo, and
// /metrics both over HTTP/3 and over HTTP/1.1 on a TCP port. Without --cert/--key a self-signed
// EC P-256 certificate for localhost / 127.0.0.1 / ::1 is generated at start; its SPKI pin is
// printed for Chromium's --ignore-certificate-errors-spki-list.
//
// --workers N (N > 1, or 'auto' = available parallelism) runs the multi-core server instead
// (src/multicore, DESIGN §3): this thread owns the UDP socket and routes datagrams by connection ID
// to N worker threads, each running the same site (src/cli/serve-site.ts) over its own connections.
// The certificate is made (or read) once here and handed to every worker; /metrics over TCP is
// served from this thread, over HTTP/3 by whichever worker the scraper's connection landed on.
// Differences: one socket (one address family: 'localhost' binds 127.0.0.1). 0-RTT is on in both
// modes; with workers the anti-replay store is one SharedArrayBuffer they all consult.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { generateSelfSigned } from '../pki/self-signed.js';
import { pemDecode } from '../pki/pem.js';
import { parseCertificate } from '../pki/x509.js';
import { createServer, type Http3Server } from '../server/http3-server.js';
import type { AddressInfo } from '../io/quic.js';
import { QuiverMetrics } from '../metrics/quiver-metrics.js';
import { serveMetrics, type MetricsServer } from '../metrics/http-exporter.js';
import { listenMulticore, type MulticoreServer } from '../multicore/server.js';
import { siteListener } from './serve-site.js';
import { UsageError, type ServeArgs } from './args.js';

export interface ServeHandle {
  /** The single-threaded server (--workers 1, the default). */
  server: Http3Server | undefined;
  /** The multi-core server (--workers N > 1). */
  multicore: MulticoreServer | undefined;
  /** Worker threads (1: the single-threaded server). */
  workers: number;
  metrics: QuiverMetrics;
  metricsServer: MetricsServer | undefined;
  /** https://host:port/ */
  url: string;
  /** base64 SHA-256 of the certificate's SubjectPublicKeyInfo. */
  spkiPin: string;
  /** Bound UDP addresses. */
  addresses(): AddressInfo[];
  close(): Promise<void>;
}

/** base64(SHA-256(SPKI)) of the first certificate in a PEM chain. */
export function spkiPinOf(certPem: string): string {
  const der = pemDecode(certPem, 'CERTIFICATE')[0];
  if (der === undefined) throw new UsageError('--cert: no CERTIFICATE in the file');
  const cert = parseCertificate(der);
  return createHash('sha256').update(cert.spki).digest('base64');
}

function urlHost(host: string): string {
  if (host === '::' || host === '0.0.0.0') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startServe(args: ServeArgs): Promise<ServeHandle> {
  let certPem: string;
  let keyPem: string;
  if (args.cert !== undefined && args.key !== undefined) {
    try {
      certPem = readFileSync(args.cert, 'latin1');
      keyPem = readFileSync(args.key, 'latin1');
    } catch (e) {
      throw new UsageError(`--cert/--key: ${(e as Error).message}`);
    }
  } else {
    const hosts = ['localhost', '127.0.0.1', '::1'];
    if (!hosts.includes(args.host) && args.host !== '::' && args.host !== '0.0.0.0') hosts.push(args.host.replace(/^\[|\]$/g, ''));
    const ss = generateSelfSigned({ now: Date.now(), hosts });
    certPem = ss.certPem;
    keyPem = ss.keyPem;
  }
  const spkiPin = spkiPinOf(certPem);
  let root: string | undefined;
  if (args.dir !== undefined) {
    root = resolve(args.dir);
    let ok = false;
    try {
      ok = statSync(root).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok) throw new UsageError(`serve: not a directory: ${args.dir}`);
  }
  const transport = {
    cert: certPem,
    key: keyPem,
    host: args.host,
    port: args.port,
    retry: args.retry,
    ...(args.qlogDir !== undefined ? { qlog: args.qlogDir } : {}),
    ...(args.keylog !== undefined ? { keylog: args.keylog } : {}),
    idleTimeout: 30_000,
    maxStreamsBidi: 256,
    maxStreamData: 2 * 1024 * 1024,
    maxData: 16 * 1024 * 1024,
    // Datagrams start at 1200 B and grow to 1452 B by PMTUD once the handshake is confirmed.
  };
  let server: Http3Server | undefined;
  let multicore: MulticoreServer | undefined;
  let metrics: QuiverMetrics;
  if (args.workers > 1) {
    multicore = await listenMulticore({
      ...transport,
      // 0-RTT as single-process serve; the workers share one anti-replay store (src/multicore/anti-replay.ts).
      enableEarlyData: true,
      workers: args.workers,
      app: { module: 'static', options: root === undefined ? {} : { root } },
    });
    metrics = multicore.prometheus;
  } else {
    metrics = new QuiverMetrics();
    const m = metrics;
    server = createServer(
      {
        ...transport,
        // Resumption with 0-RTT (RFC 9001 §4.6; single-use tickets bound the replay window).
        enableEarlyData: true,
      },
      siteListener(root === undefined ? {} : { root }, async () => ({ contentType: m.contentType, text: await m.metrics() })),
    );
    metrics.watchHttp(server);
    await server.listen();
  }
  const addresses = (): AddressInfo[] => (multicore !== undefined ? [multicore.address()] : server!.addresses());
  let metricsServer: MetricsServer | undefined;
  if (args.metricsPort !== null) {
    const metricsHost = args.host === 'localhost' ? '127.0.0.1' : args.host;
    try {
      metricsServer = await serveMetrics(metrics, args.metricsPort, metricsHost);
    } catch (e) {
      // Not fatal (several servers on one machine): /metrics over HTTP/3 stays.
      process.stderr.write(`quiver: no TCP metrics listener on ${metricsHost}:${args.metricsPort} (${(e as Error).message}); /metrics stays available over HTTP/3\n`);
    }
  }
  const port = addresses()[0]!.port;
  const url = `https://${urlHost(args.host)}:${port}/`;
  return {
    server,
    multicore,
    workers: multicore?.workers ?? 1,
    metrics,
    metricsServer,
    url,
    spkiPin,
    addresses,
    close: async () => {
      await Promise.all([server?.close({ timeout: 1000 }), multicore?.close({ timeout: 1000 }), metricsServer?.close()]);
    },
  };
}

/** The banner `quiver serve` prints. */
export function banner(h: ServeHandle, args: ServeArgs): string[] {
  const addrs = h.addresses().map((a) => (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`));
  const port = h.addresses()[0]!.port;
  const what = args.dir === undefined ? 'the built-in demo site' : resolve(args.dir);
  const lines = [
    `quiver: serving ${what} over HTTP/3 (QUIC v1/v2, TLS 1.3)`,
    `  url:       ${h.url}`,
    `  listening: ${addrs.join(', ')} (UDP)`,
    `  cert:      ${args.cert ?? 'self-signed for localhost, 127.0.0.1, ::1 (generated now, valid 14 days)'}`,
    `  spki pin:  ${h.spkiPin}`,
    `  chromium:  chromium --origin-to-force-quic-on=localhost:${port} --ignore-certificate-errors-spki-list=${h.spkiPin} https://localhost:${port}/`,
    `  upload:    POST/PUT ${h.url}echo echoes the body`,
  ];
  if (h.multicore !== undefined) lines.push(`  workers:   ${h.workers} threads (one UDP socket in the main thread, connections routed by CID; shared 0-RTT anti-replay)`);
  if (h.metricsServer !== undefined) {
    const a = h.metricsServer.address;
    lines.push(`  metrics:   http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/metrics (and ${h.url}metrics over HTTP/3)`);
  } else {
    lines.push(`  metrics:   ${h.url}metrics over HTTP/3`);
  }
  return lines;
}
