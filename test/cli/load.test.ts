// `quiver load` against an in-process Http3Server on 127.0.0.1 port 0: the h2load split of -n/-c/-t
// and its counters (done, succeeded, failed, errored, timeout), status classes, the byte counts
// against the server's own view, POST bodies, 404s, stream resets, a closed port, -T timeouts, -D
// duration mode, the h2load-style text and the JSON report, and every option error.
import test from 'ava';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../src/cli/args.js';
import { parseDuration, parseLoad, type LoadArgs } from '../../src/cli/load-args.js';
import { load, planLoad, runLoad } from '../../src/cli/load.js';
import { formatBytes, formatDuration } from '../../src/cli/load-report.js';
import { createServer, type Http3Server } from '../../src/server/http3-server.js';
import { liveCertificate } from '../io/helpers.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/quiver.js');
const cert = liveCertificate();
const dir = mkdtempSync(join(tmpdir(), 'quiver-load-'));
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, cert.certPem);

/** What the server saw: requests, body bytes sent, request body bytes received, per path. */
interface View {
  requests: number;
  bodyBytesSent: number;
  requestBodyBytes: number;
  bodies: string[];
  methods: Set<string>;
  userAgents: Set<string>;
  custom: Set<string>;
}

async function startServer(): Promise<{ server: Http3Server; base: string; view: View }> {
  const view: View = { requests: 0, bodyBytesSent: 0, requestBodyBytes: 0, bodies: [], methods: new Set(), userAgents: new Set(), custom: new Set() };
  let alt = 0;
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    view.requests++;
    view.methods.add(req.method!);
    view.userAgents.add(String(req.headers['user-agent']));
    if (req.headers['x-load'] !== undefined) view.custom.add(String(req.headers['x-load']));
    const path = new URL(req.url!, 'https://x').pathname;
    const send = (status: number, body: string): void => {
      res.statusCode = status;
      res.setHeader('content-type', 'text/plain');
      view.bodyBytesSent += Buffer.byteLength(body);
      res.end(body);
    };
    if (path === '/echo') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const b = Buffer.concat(chunks);
        view.requestBodyBytes += b.length;
        view.bodies.push(b.toString());
        send(200, `got ${b.length}`);
      });
      return;
    }
    if (path === '/missing') return send(404, 'not here');
    if (path === '/half') return (alt++ % 2 === 0 ? send(200, 'ok') : send(404, 'gone'));
    if (path === '/reset') {
      if (alt++ % 2 === 0) return send(200, 'ok');
      res.destroy(new Error('reset on purpose'));
      return;
    }
    if (path === '/hang') return; // never answers
    if (path === '/slow') {
      setTimeout(() => send(200, 'slow'), 300);
      return;
    }
    send(200, `hello ${path} ${'x'.repeat(100)}`);
  });
  await server.listen(0, '127.0.0.1');
  return { server, base: `https://127.0.0.1:${server.address().port}`, view };
}

function args(url: string, extra: string[] = []): LoadArgs {
  return parseLoad([url, '--cacert', caFile, ...extra]);
}

function sink(): { w: Writable; text: () => string } {
  let s = '';
  const w = new Writable({
    write(chunk: Buffer, _e, cb) {
      s += chunk.toString();
      cb();
    },
  });
  return { w, text: () => s };
}

test('planLoad spreads requests and clients as h2load does', (t) => {
  t.deepEqual(planLoad(200, 4, 2).threads, [
    [50, 50],
    [50, 50],
  ]);
  // h2load.cc splits -n over the threads first (5 + 5), then each thread's share over its clients.
  t.deepEqual(planLoad(10, 3, 2).threads, [[3, 2], [5]]);
  t.deepEqual(planLoad(7, 7, 3).threads, [[1, 1, 1], [1, 1], [1, 1]]);
  t.deepEqual(planLoad(11, 4, 3).threads, [[2, 2], [4], [3]]);
  for (let n = 1; n <= 40; n++) {
    for (let c = 1; c <= n; c++) {
      for (let th = 1; th <= c; th++) {
        const p = planLoad(n, c, th).threads;
        const flat = p.flat();
        if (p.length !== th || flat.length !== c || flat.reduce((a, b) => a + b, 0) !== n || flat.some((x) => x < 1)) {
          t.fail(`planLoad(${n}, ${c}, ${th}) = ${JSON.stringify(p)}`);
          return;
        }
      }
    }
  }
});

test.serial('-n 200 -c 4 -m 10 -t 2: all succeed, spread over both threads, bytes match the server', async (t) => {
  const { server, base, view } = await startServer();
  try {
    const lines: string[] = [];
    const r = await load(args(`${base}/item`, ['-n', '200', '-c', '4', '-m', '10', '-t', '2', '-H', 'X-Load: yes']), (l) => lines.push(l));
    t.deepEqual(r.requests, { total: 200, started: 200, done: 200, succeeded: 200, failed: 0, errored: 0, timeout: 0 });
    t.deepEqual(r.statusCodes, { '1xx': 0, '2xx': 200, '3xx': 0, '4xx': 0, '5xx': 0 });
    t.deepEqual(r.statusExact, { '200': 200 });
    t.is(r.threads, 2);
    t.is(r.clients, 4);
    t.deepEqual(
      r.perThread.map((p) => [p.thread, p.clients, p.started, p.done, p.succeeded]),
      [
        [0, 2, 100, 100, 100],
        [1, 2, 100, 100, 100],
      ],
    );
    t.is(view.requests, 200);
    t.is(server.quic!.stats.endpoint.connectionsAccepted, 4, 'one connection per client');
    t.is(r.traffic.data, view.bodyBytesSent, 'response body bytes as the server sent them');
    // h2load's "total" for HTTP/3: stream data read (frames, decrypted): more than headers + body,
    // less than the UDP payloads (which add packet headers, AEAD tags, handshake and ACKs).
    t.true(r.traffic.total > r.traffic.data + r.traffic.headers, `total ${r.traffic.total}`);
    t.true(r.traffic.udpReceived > r.traffic.total, `UDP ${r.traffic.udpReceived}`);
    t.is(r.completed, 200);
    t.true(r.traffic.headers > 0 && r.traffic.headers < r.traffic.headersDecoded, 'QPACK-compressed headers are smaller than decoded');
    t.true(r.traffic.spaceSavings > 0 && r.traffic.spaceSavings < 100);
    t.true(r.datagrams.received > 0 && r.datagrams.sent > 0);
    t.is(r.timeForRequest.count, 200);
    t.true(r.timeForRequest.min > 0 && r.timeForRequest.min <= r.timeForRequest.p50 && r.timeForRequest.p50 <= r.timeForRequest.max);
    t.is(r.timeForConnect.count, 4);
    t.is(r.timeToFirstByte.count, 4);
    t.true(r.timeToFirstByte.min >= r.timeForConnect.min, 'the first response byte comes after the handshake');
    t.is(r.reqPerSecPerClient.count, 4);
    t.true(r.reqPerSec > 0 && r.durationMs > 0);
    t.is(r.alpn, 'h3');
    t.deepEqual([...view.custom], ['yes']);
    t.deepEqual([...view.userAgents], ['quiver-load']);
    t.deepEqual(lines.slice(0, 3), ['starting benchmark...', 'spawning thread #0: 2 total client(s). 100 total requests', 'spawning thread #1: 2 total client(s). 100 total requests']);
    t.is(lines.at(-1), 'progress: 100% done');
  } finally {
    await server.close();
  }
});

test.serial('POST with -d: every body reaches the server; -d @FILE; -X overrides the method', async (t) => {
  const { server, base, view } = await startServer();
  try {
    const r = await load(args(`${base}/echo`, ['-n', '30', '-c', '3', '-m', '4', '-d', 'hello load']));
    t.is(r.requests.succeeded, 30);
    t.is(view.bodies.length, 30);
    t.true(view.bodies.every((b) => b === 'hello load'));
    t.is(r.traffic.requestBody, 30 * 10);
    t.is(view.requestBodyBytes, 300);
    t.deepEqual([...view.methods], ['POST']);
    const file = join(dir, 'body.bin');
    const big = Buffer.alloc(100_000, 7);
    writeFileSync(file, big);
    const r2 = await load(args(`${base}/echo`, ['-n', '4', '-c', '2', '-m', '2', '-d', `@${file}`, '-X', 'put']));
    t.is(r2.requests.succeeded, 4);
    t.is(r2.traffic.requestBody, 4 * big.length);
    t.is(view.requestBodyBytes, 300 + 4 * big.length, 'the server read every byte of the 100 KB bodies');
    t.true(view.methods.has('PUT'));
  } finally {
    await server.close();
  }
});

test.serial('404s count under 4xx and as failed (not errored); no success → exit status 1', async (t) => {
  const { server, base } = await startServer();
  try {
    const half = await load(args(`${base}/half`, ['-n', '20', '-c', '1', '-m', '1']));
    t.deepEqual(half.statusCodes, { '1xx': 0, '2xx': 10, '3xx': 0, '4xx': 10, '5xx': 0 });
    t.deepEqual(half.requests, { total: 20, started: 20, done: 20, succeeded: 10, failed: 10, errored: 0, timeout: 0 });
    t.is(half.completed, 20, "h2load's req/s counts every response received in full, 404s included");
    t.is(half.reqPerSec, 20 / (half.durationMs / 1000));
    t.is(half.reqPerSecPerClient.count, 1);
    const out = sink();
    const code = await runLoad(args(`${base}/missing`, ['-n', '6', '-c', '2']), { stdout: out.w, stderr: out.w });
    t.is(code, 1);
    t.regex(out.text(), /requests: 6 total, 6 started, 6 done, 0 succeeded, 6 failed, 0 errored, 0 timeout/);
    t.regex(out.text(), /status codes: 0 2xx, 0 3xx, 6 4xx, 0 5xx/);
  } finally {
    await server.close();
  }
});

test.serial('a stream reset by the server: done, failed and errored', async (t) => {
  const { server, base } = await startServer();
  try {
    const r = await load(args(`${base}/reset`, ['-n', '10', '-c', '1', '-m', '1']));
    t.deepEqual(r.requests, { total: 10, started: 10, done: 10, succeeded: 5, failed: 5, errored: 5, timeout: 0 });
    t.is(r.completed, 5, 'reset streams are done but not completed');
    t.true(Object.keys(r.errors).some((k) => /reset by the server/.test(k)), JSON.stringify(r.errors));
  } finally {
    await server.close();
  }
});

test.serial('a server GOAWAY mid-run: accepted requests finish, the rest fail; no crash, no hang', async (t) => {
  const { server, base, view } = await startServer();
  const started = Date.now();
  const running = load(args(`${base}/slow`, ['-n', '20', '-c', '1', '-m', '4']));
  while (view.requests < 4 && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 10));
  const closing = server.close(); // graceful: GOAWAY, then waits for the requests in flight
  const r = await running;
  await closing;
  t.true(Date.now() - started < 5000);
  t.is(r.requests.total, 20);
  t.true(r.requests.succeeded >= 4, `the ${view.requests} requests the server accepted finish: ${JSON.stringify(r.requests)}`);
  t.is(r.requests.succeeded + r.requests.failed, 20);
  t.is(r.requests.failed, r.requests.errored);
  t.is(r.requests.timeout, 0);
  t.true(Object.keys(r.errors).some((k) => /GOAWAY/.test(k)), JSON.stringify(r.errors));
});

test.serial('a closed port: every request errored, non-zero exit, no hang', async (t) => {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = sock.address().port;
  await new Promise<void>((r) => sock.close(() => r()));
  const out = sink();
  const started = Date.now();
  const code = await runLoad(args(`https://127.0.0.1:${port}/`, ['-n', '8', '-c', '2', '-t', '2', '-N', '3s']), { stdout: out.w, stderr: out.w });
  t.is(code, 1);
  t.true(Date.now() - started < 10_000);
  t.regex(out.text(), /requests: 8 total, 0 started, 0 done, 0 succeeded, 8 failed, 8 errored, \d+ timeout/);
  t.regex(out.text(), /error: 2 × /);
});

test.serial('-T: requests still in flight when the connection times out count as timeout', async (t) => {
  const { server, base } = await startServer();
  try {
    const started = Date.now();
    const r = await load(args(`${base}/hang`, ['-n', '4', '-c', '2', '-m', '2', '-T', '300ms']));
    t.true(Date.now() - started < 5_000);
    t.deepEqual(r.requests, { total: 4, started: 4, done: 0, succeeded: 0, failed: 4, errored: 4, timeout: 4 });
  } finally {
    await server.close();
  }
});

test.serial('-D: runs for the duration, then stops; total = started, in-flight requests are not done', async (t) => {
  const { server, base } = await startServer();
  try {
    const started = Date.now();
    const r = await load(args(`${base}/d`, ['-D', '800ms', '-c', '2', '-m', '4', '-t', '2']));
    const elapsed = Date.now() - started;
    t.true(elapsed < 800 + 4000, `took ${elapsed} ms`);
    t.true(r.durationMs >= 800 && r.durationMs < 1000, `${r.durationMs} ms (both lanes run 800 ms; they start within a thread wake-up of each other)`);
    t.true(r.requests.done > 0);
    t.is(r.requests.total, r.requests.started);
    t.true(r.requests.started - r.requests.done <= 2 * 4, 'at most -m per client left in flight');
    t.is(r.requests.failed, 0);
    t.is(r.requests.succeeded, r.requests.done);
  } finally {
    await server.close();
  }
});

test.serial('-D with --warm-up-time: the warm-up runs first and is not counted', async (t) => {
  const { server, base, view } = await startServer();
  try {
    const started = Date.now();
    const r = await load(args(`${base}/w`, ['-D', '500ms', '--warm-up-time', '500ms', '-c', '2', '-m', '2']));
    const elapsed = Date.now() - started;
    t.true(elapsed >= 1000, `took ${elapsed} ms`);
    t.true(r.durationMs >= 500 && r.durationMs < 700, `${r.durationMs}`);
    t.true(r.requests.done > 0);
    t.true(view.requests > r.requests.started, `the server saw ${view.requests} requests, ${r.requests.started} were measured`);
    t.is(r.timeForRequest.count, r.requests.done);
    t.is(r.requests.failed, 0);
  } finally {
    await server.close();
  }
});

test.serial('--json prints the report; the text summary has the h2load lines', async (t) => {
  const { server, base } = await startServer();
  try {
    const out = sink();
    t.is(await runLoad(args(`${base}/j`, ['-n', '10', '-c', '2', '--json']), { stdout: out.w, stderr: out.w }), 0);
    const j = JSON.parse(out.text()) as { requests: { succeeded: number }; traffic: { data: number }; histogramError: number; method: string };
    t.is(j.requests.succeeded, 10);
    t.is(j.method, 'GET');
    t.true(j.traffic.data > 0);
    t.is(j.histogramError, 1 / 256);
    const txt = sink();
    t.is(await runLoad(args(`${base}/j`, ['-n', '10', '-c', '2', '-m', '2']), { stdout: txt.w, stderr: txt.w }), 0);
    const s = txt.text();
    t.regex(s, /^finished in [\d.]+(us|ms|s), [\d.]+ req\/s, [\d.]+[KMG]?B\/s$/m);
    t.regex(s, /^requests: 10 total, 10 started, 10 done, 10 succeeded, 0 failed, 0 errored, 0 timeout$/m);
    t.regex(s, /^status codes: 10 2xx, 0 3xx, 0 4xx, 0 5xx$/m);
    t.regex(s, /^traffic: [\d.]+[KM]?B \(\d+\) total, [\d.]+[KM]?B \(\d+\) headers \(space savings [\d.]+%\), [\d.]+[KM]?B \(\d+\) data$/m);
    t.regex(s, /^time for request: +\S+ +\S+ +\S+ +\S+ +[\d.]+%$/m);
    t.regex(s, /^time for connect: /m);
    t.regex(s, /^time to 1st byte: /m);
    t.regex(s, /^req\/s {11}: /m);
    t.regex(s, /^Application protocol: h3/m);
  } finally {
    await server.close();
  }
});

test('h2load number formats', (t) => {
  t.is(formatDuration(0.225), '225us');
  t.is(formatDuration(1.634), '1.63ms');
  t.is(formatDuration(7100), '7.10s');
  t.is(formatBytes(1000), '1000B');
  t.is(formatBytes(83804), '81.84KB');
  t.is(formatBytes(1582450), '1.51MB');
});

test('option errors name the option', (t) => {
  const bad = (argv: string[], re: RegExp): void => {
    const e = t.throws(() => parseLoad(argv), { instanceOf: UsageError });
    t.regex(e!.message, re, argv.join(' '));
  };
  const u = 'https://localhost:4433/';
  bad([], /exactly one URL/);
  bad([u, u], /exactly one URL/);
  bad(['not a url'], /not a URL/);
  bad(['http://localhost/'], /https:/);
  bad([u, '-n', '0'], /--requests/);
  bad([u, '-n', 'x'], /--requests/);
  bad([u, '-c', '0'], /--clients/);
  bad([u, '-n', '2', '-c', '4'], /--requests: .*-n must be >= -c/);
  bad([u, '-m', '0'], /--max-concurrent-streams/);
  bad([u, '-m', '1000000'], /--max-concurrent-streams/);
  bad([u, '-t', '0'], /--threads/);
  bad([u, '-t', '2'], /--threads: .*-c must be >= -t/);
  bad([u, '-D', 'soon'], /--duration/);
  bad([u, '-D', '0'], /--duration/);
  bad([u, '--warm-up-time', '1s'], /--warm-up-time: needs -D/);
  bad([u, '-D', '1s', '--warm-up-time', 'x'], /--warm-up-time/);
  bad([u, '-T', 'abc'], /--connection-active-timeout/);
  bad([u, '-N', '1x'], /--connection-inactivity-timeout/);
  bad([u, '-H', 'novalue'], /--header/);
  bad([u, '-H', 'bad name: v'], /--header: invalid header name/);
  bad([u, '-H', ':method: GET'], /--header: only :authority and :path/);
  bad([u, '-H', 'Connection: close'], /--header: connection is connection-specific/);
  bad([u, '-H', 'te: gzip'], /--header: the request would be malformed: .*TE value "gzip"/);
  bad([u, '-d', 'hello', '-H', 'content-length: 3'], /--header: .*content-length 3 does not match the 5-byte request body/);
  bad([u, '-H', 'content-length: 3'], /--header: .*content-length 3 does not match the 0-byte/);
  bad([u, '-H', ':path: '], /--header: the request would be malformed/);
  bad([u, '-X', 'G-T'], /--request/);
  bad([u, '-d', '@/nonexistent/file'], /--data: cannot read/);
  bad([u, '-d', '@-'], /--data/);
  bad([u, '--cacert', '/nonexistent/ca.pem'], /--cacert: cannot read/);
  bad([u, '--cacert', BIN], /--cacert: .* no PEM certificate/);
  bad([u, '--bogus'], /bogus/);
  t.is(parseDuration('-D', '1.5s'), 1500);
  t.is(parseDuration('-D', '2m'), 120_000);
  t.is(parseDuration('-D', '250ms'), 250);
  t.is(parseDuration('-D', '3'), 3000);
  const a = parseLoad([u, '-n', '10', '-c', '2', '-m', '3', '-t', '2', '-d', 'x', '-H', 'Host: example.org', '-H', 'accept: */*', '-k']);
  t.is(a.method, 'POST');
  t.deepEqual(a.headers, [
    [':authority', 'example.org'],
    ['accept', '*/*'],
  ]);
  t.true(a.insecure);
  t.is(a.duration, 0);
  t.is(a.idleTimeout, 30_000);
});

test('the CLI: quiver load with a bad option exits 2 naming it; --help lists the options', async (t) => {
  const run = (argv: string[]): Promise<{ code: number; out: string; err: string }> =>
    new Promise((done) => {
      const p = spawn(process.execPath, [BIN, 'load', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.once('exit', (code) => done({ code: code ?? -1, out, err }));
    });
  const bad = await run(['https://localhost:1/', '-c', 'many']);
  t.is(bad.code, 2);
  t.regex(bad.err, /quiver: --clients: expected an integer/);
  t.regex(bad.err, /--max-concurrent-streams/);
  const help = await run(['--help']);
  t.is(help.code, 0);
  t.regex(help.out, /quiver load URL/);
});
