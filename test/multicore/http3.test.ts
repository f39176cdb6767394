// HTTP/3 on the multi-core server (src/multicore/http3-app.ts, DESIGN §3): listenMulticore with the
// built-in 'static' app on 2 workers over real loopback. Several clients (the package's own
// Http3Client, one QUIC connection each) download a file and POST to /echo, judged by sha256; the
// connections land on both workers and every CID a worker issued names that worker; /metrics — over
// HTTP/3 from a worker and over HTTP/1.1 from the main thread — shows both workers' counters and
// the router's. Bad datagrams (empty, garbage, short header with an unknown CID, truncated
// Initial, broken long header) are dropped and counted by the router and no thread dies. A client
// behind a NAT-like relay is rebound mid-download and the download completes on its worker. User
// modules: a default export adding a 'request' listener, and a named export returning a
// fetch-style handler.
import test from 'ava';
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Http3Client } from '../../src/server/client.js';
import { serveMetrics } from '../../src/metrics/http-exporter.js';
import { listenMulticore, type MulticoreServer } from '../../src/multicore/server.js';
import { liveCertificate, pattern, sha256, withTimeout } from '../io/helpers.js';
import { NatRelay } from './nat-relay.js';
import { httpGet } from '../support/http-get.js';
const httpGetText = async (url: string): Promise<string> => (await httpGet(url)).body;

const dir = mkdtempSync(join(tmpdir(), 'quiver-mc-h3-'));
const file = pattern(1024 * 1024, 21);
writeFileSync(join(dir, 'file.bin'), file);
const big = pattern(4 * 1024 * 1024, 22);
writeFileSync(join(dir, 'big.bin'), big);

const servers: MulticoreServer[] = [];
test.after.always(async () => {
  await Promise.all(servers.map((s) => s.close({ timeout: 500 })));
});

async function start(app: Parameters<typeof listenMulticore>[0]['app'], workers = 2): Promise<MulticoreServer> {
  const cert = liveCertificate();
  const s = await listenMulticore({ workers, host: '127.0.0.1', port: 0, cert: cert.certPem, key: cert.keyPem, idleTimeout: 10_000, app });
  servers.push(s);
  return s;
}

async function bodySha(res: Response): Promise<string> {
  return sha256(new Uint8Array(await res.arrayBuffer()));
}


function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test.serial('static app on 2 workers: downloads and /echo by sha256, connections on both workers, /metrics from workers and main thread', async (t) => {
  const server = await start({ module: 'static', options: { root: dir } });
  const base = `https://127.0.0.1:${server.address().port}`;
  const clients = Array.from({ length: 6 }, () => new Http3Client({ rejectUnauthorized: false }));
  try {
    const upload = pattern(256 * 1024, 23);
    const results = await withTimeout(
      Promise.all(
        clients.map(async (c) => {
          const got = await bodySha(await c.fetch(`${base}/file.bin`));
          const echoed = await bodySha(await c.fetch(`${base}/echo`, { method: 'POST', body: upload }));
          return got === sha256(file) && echoed === sha256(upload);
        }),
      ),
      20_000,
      'downloads and uploads',
    );
    t.deepEqual(results, clients.map(() => true), 'every download and echo matches by sha256');

    // While the clients are connected: each worker holds some, and every CID it issued names it.
    const stats = await server.stats();
    const counts = stats.map((s) => s?.connections.filter((c) => c.handshakeComplete).length ?? 0);
    t.true(counts[0]! > 0 && counts[1]! > 0, `connections per worker: ${counts.join(', ')}`);
    t.is(counts[0]! + counts[1]!, 6);
    for (const s of stats) {
      for (const c of s!.connections) for (const cid of c.localCids) t.is(server.codec.workerOf(Buffer.from(cid, 'hex')), s!.worker);
    }

    // /metrics over HTTP/3 (answered by a worker, rendered by the main thread) and over TCP.
    const h3 = await (await clients[0]!.fetch(`${base}/metrics`)).text();
    const exporter = await serveMetrics(server.prometheus, 0);
    try {
      const tcp = await httpGetText(`http://127.0.0.1:${exporter.address.port}/metrics`);
      for (const text of [h3, tcp]) {
        for (const w of ['0', '1']) {
          t.true(sample(text, 'quiver_http_requests_total', `status_class="2xx",worker="${w}"`) >= 2, `worker ${w} requests`);
          t.true(sample(text, 'quiver_connections_accepted_total', `worker="${w}"`) >= 1);
          t.true(sample(text, 'quiver_bytes_sent_total', `worker="${w}"`) > 1024 * 1024);
          t.is(sample(text, 'quiver_worker_up', `worker="${w}"`), 1);
          t.true(sample(text, 'quiver_handshake_duration_seconds_count', `worker="${w}"`) >= 1);
        }
        t.true(sample(text, 'quiver_router_routed_total', 'kind="short"') > 100);
        t.true(sample(text, 'quiver_router_routed_total', 'kind="new"') >= 6);
      }
      t.true(sample(tcp, 'quiver_http_requests_total', 'status_class="2xx",worker="0"') + sample(tcp, 'quiver_http_requests_total', 'status_class="2xx",worker="1"') >= 13);
    } finally {
      await exporter.close();
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});

test.serial('bad datagrams are dropped and counted by the router; every thread keeps serving', async (t) => {
  const server = servers[0] ?? (await start({ module: 'static', options: { root: dir } }));
  const port = server.address().port;
  const before = server.metrics().router;
  const sock = dgram.createSocket('udp4');
  const send = (b: Uint8Array): Promise<void> => new Promise((r) => sock.send(b, port, '127.0.0.1', () => r()));
  const garbage = pattern(300, 24);
  garbage[0] = 0x47; // short header form, fixed bit set: a CID that is not ours
  const shortUnknown = Buffer.concat([Buffer.from([0x41]), pattern(8, 25), pattern(60, 26)]);
  // A v1 Initial with a fine header, in a 200-byte datagram (RFC 9000 §14.1: must be ≥ 1200).
  const initial = Buffer.alloc(200);
  Buffer.from([0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0]).copy(initial);
  const brokenLong = Buffer.from([0xc0, 0, 0, 0, 1, 20, 1, 2]); // DCID length 20, 2 bytes of it
  try {
    for (let i = 0; i < 5; i++) {
      await send(new Uint8Array(0));
      await send(garbage);
      await send(shortUnknown);
      await send(initial);
      await send(brokenLong);
      await send(pattern(40 + i, 27 + i)); // random bytes
    }
  } finally {
    sock.close();
  }
  await new Promise((r) => setTimeout(r, 200));
  const after = server.metrics();
  t.true(after.router.dropped_empty - before.dropped_empty >= 5, 'empty');
  t.true(after.router.dropped_unroutable - before.dropped_unroutable >= 10, 'short headers with unknown CIDs');
  t.true(after.router.dropped_initial_too_small - before.dropped_initial_too_small >= 5, 'truncated Initial');
  t.true(after.router.dropped_bad_header - before.dropped_bad_header >= 5, 'broken long header');
  t.deepEqual(after.alive, [true, true], 'no worker died');
  t.is(after.workers.total.core_errors, 0);
  const client = new Http3Client({ rejectUnauthorized: false });
  try {
    t.is(await bodySha(await client.fetch(`https://127.0.0.1:${port}/file.bin`)), sha256(file));
  } finally {
    await client.close();
  }
});

test.serial('NAT rebinding mid-download through a relay: the download completes on its worker', async (t) => {
  const server = servers[0] ?? (await start({ module: 'static', options: { root: dir } }));
  const relay = new NatRelay(server.address().port);
  const front = await relay.start();
  const client = new Http3Client({ rejectUnauthorized: false });
  try {
    const firstPort = relay.upstreamPort;
    const res = await client.fetch(`https://127.0.0.1:${front}/big.bin`);
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    let got = 0;
    let rebound = 0;
    for (;;) {
      const { done, value } = await withTimeout(reader.read(), 10_000, 'body chunk');
      if (done) break;
      chunks.push(value);
      got += value.length;
      if (rebound === 0 && got > 512 * 1024) rebound = await relay.rebind();
    }
    t.true(rebound > 0 && rebound !== firstPort, 'the relay changed its upstream port mid-transfer');
    t.is(sha256(Buffer.concat(chunks)), sha256(big));
    const stats = await server.stats();
    const conn = stats.flatMap((s) => (s?.connections ?? []).map((c) => ({ ...c, worker: s!.worker }))).find((c) => c.remotePort === rebound);
    t.truthy(conn, 'the server moved the connection to the new port');
    t.true(conn!.pathChanges >= 1);
    for (const cid of conn!.localCids) t.is(server.codec.workerOf(Buffer.from(cid, 'hex')), conn!.worker, 'still on the worker its CIDs name');
  } finally {
    await client.close();
    relay.close();
  }
});

test.serial('user modules: a default export with a request listener, a named export returning a fetch handler', async (t) => {
  const mod = join(dir, 'app.mjs');
  writeFileSync(
    mod,
    [
      'export default function (server, ctx) {',
      '  server.on("request", (req, res) => { res.setHeader("content-type", "text/plain"); res.end(`${ctx.options.greeting} from ${ctx.worker}/${ctx.workers} ${req.url}`); });',
      '}',
      'export function fetchStyle(server, ctx) {',
      '  return async (request) => Response.json({ worker: ctx.worker, path: new URL(request.url).pathname, method: request.method });',
      '}',
    ].join('\n'),
  );
  const a = await start({ module: pathToFileURL(mod).href, options: { greeting: 'hi' } });
  const b = await start({ module: mod, export: 'fetchStyle' }, 1);
  const client = new Http3Client({ rejectUnauthorized: false });
  try {
    const ra = await client.fetch(`https://127.0.0.1:${a.address().port}/x?y=1`);
    t.regex(await ra.text(), /^hi from [01]\/2 \/x\?y=1$/);
    const rb = await client.fetch(`https://127.0.0.1:${b.address().port}/p`, { method: 'POST', body: 'z' });
    t.deepEqual(await rb.json(), { worker: 0, path: '/p', method: 'POST' });
  } finally {
    await client.close();
  }
  await t.throwsAsync(start({ module: mod, export: 'missing' }, 1), { message: /no function export "missing"/ });
  await t.throwsAsync(listenMulticore({ app: { module: mod, options: { f: () => 1 } } } as never), { instanceOf: TypeError, message: /options\.app\.options/ });
});
