// HTTP/3 request rate for small GETs with a browser-like header set (RFC 9114 + QPACK RFC 9204):
// over the in-memory fake QUIC transport (test/h3/support: the cost of H3 + QPACK alone), with the
// QPACK dynamic table against static-only in the same run, plus header bytes on the wire per
// request; then over the real sans-IO QUIC pair on the virtual network (TLS 1.3, packet protection,
// recovery included).

import { H3Pair } from '../h3/support/h3-pair.js';
import { QuicH3 } from '../h3/support/quic-h3.js';
import type { H3Connection } from '../../src/h3/connection.js';
import type { H3Event } from '../../src/h3/types.js';
import type { HeaderFieldInput } from '../../src/qpack/index.js';

const BODY = new Uint8Array(64).fill(0x61);
const RESPONSE: HeaderFieldInput[] = [
  [':status', '200'],
  ['content-type', 'text/html; charset=utf-8'],
  ['content-length', String(BODY.length)],
  ['server', 'quiver'],
  ['cache-control', 'max-age=3600'],
  ['alt-svc', 'h3=":443"; ma=86400'],
];

function browserRequest(i: number): HeaderFieldInput[] {
  return [
    [':method', 'GET'],
    [':authority', 'www.example.com'],
    [':scheme', 'https'],
    [':path', `/static/app.${i}.js`],
    ['sec-ch-ua', '"Chromium";v="156", "Not)A;Brand";v="8"'],
    ['sec-ch-ua-mobile', '?0'],
    ['sec-ch-ua-platform', '"Linux"'],
    ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36'],
    ['accept', '*/*'],
    ['sec-fetch-site', 'same-origin'],
    ['sec-fetch-mode', 'no-cors'],
    ['sec-fetch-dest', 'script'],
    ['referer', 'https://www.example.com/'],
    ['accept-encoding', 'gzip, deflate, br, zstd'],
    ['accept-language', 'en-US,en;q=0.9'],
    ['cookie', 'session=0123456789abcdef0123456789abcdef; theme=dark'],
    ['priority', 'u=1'],
  ];
}

const buf = new Uint8Array(4096);

function serve(ev: H3Event, h3: H3Connection): void {
  if (ev.type === 'request') {
    h3.respond(ev.streamId, RESPONSE);
    h3.write(ev.streamId, BODY, true);
  }
}

function consume(ev: H3Event, h3: H3Connection, done: { n: number }): void {
  if (ev.type === 'response' && ev.endStream) done.n++;
  if (ev.type === 'data') {
    for (;;) {
      const r = h3.read(ev.streamId, buf);
      if (r.fin) {
        done.n++;
        break;
      }
      if (r.bytes === 0) break;
    }
  }
}

interface Result {
  reqPerSec: number;
  usPerReq: number;
  bytesUp: number;
  bytesDown: number;
}

function fakeRun(total: number, concurrency: number, dynamic: boolean): Result {
  const settings = dynamic ? {} : { qpackMaxTableCapacity: 0, qpackBlockedStreams: 0 };
  const p = new H3Pair({ fake: { shuffle: false, minChunk: 65536, maxChunk: 65536, maxBidiStreams: 1000 }, client: { settings }, server: { settings } });
  const done = { n: 0 };
  p.onServer = serve;
  p.onClient = (ev, h3) => consume(ev, h3, done);
  p.run();
  const up0 = p.fake.bytesMoved.client;
  const down0 = p.fake.bytesMoved.server;
  const t0 = process.hrtime.bigint();
  let sent = 0;
  while (done.n < total) {
    const batch = Math.min(concurrency, total - sent);
    for (let i = 0; i < batch; i++) p.client.request(browserRequest(sent++), { end: true });
    p.run();
  }
  const ns = Number(process.hrtime.bigint() - t0);
  // Body bytes and DATA frame headers are the same either way; what differs is header compression.
  return {
    reqPerSec: (total / ns) * 1e9,
    usPerReq: ns / total / 1000,
    bytesUp: (p.fake.bytesMoved.client - up0) / total,
    bytesDown: (p.fake.bytesMoved.server - down0) / total,
  };
}

function quicRun(total: number, concurrency: number): Result {
  const q = new QuicH3({ seed: 1 });
  const done = { n: 0 };
  q.onServer = serve;
  q.onClient = (ev, h3) => consume(ev, h3, done);
  if (!q.ready()) throw new Error('h3 over QUIC: no SETTINGS');
  const up0 = q.conn.stats.bytesSent;
  const down0 = q.conn.stats.bytesReceived;
  const t0 = process.hrtime.bigint();
  let sent = 0;
  while (done.n < total) {
    const target = Math.min(total, done.n + concurrency);
    while (sent < target) {
      if (q.client.request(browserRequest(sent), { end: true }) === null) break;
      sent++;
    }
    const want = Math.min(total, sent);
    if (!q.runUntil(() => done.n >= want, 60_000)) throw new Error(`h3 over QUIC stalled at ${done.n}/${total}`);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return {
    reqPerSec: (total / ns) * 1e9,
    usPerReq: ns / total / 1000,
    bytesUp: (q.conn.stats.bytesSent - up0) / total,
    bytesDown: (q.conn.stats.bytesReceived - down0) / total,
  };
}

function row(name: string, r: Result): string {
  return `| ${name.padEnd(44)} | ${r.reqPerSec.toFixed(0).padStart(8)} | ${r.usPerReq.toFixed(1).padStart(7)} | ${r.bytesUp.toFixed(0).padStart(8)} | ${r.bytesDown.toFixed(0).padStart(9)} |`;
}

export async function run(): Promise<void> {
  // Warm-up (JIT), then measure.
  fakeRun(500, 50, true);
  fakeRun(500, 50, false);
  const dyn = fakeRun(5000, 50, true);
  const stat = fakeRun(5000, 50, false);
  quicRun(200, 50);
  const quic = quicRun(2000, 50);
  console.log('| small GET (17 browser headers, 64-byte body)  |  req/s   | µs/req  | up B/req | down B/req |');
  console.log('|----------------------------------------------|----------|---------|----------|------------|');
  console.log(row('fake transport, QPACK dynamic table (16 KiB)', dyn));
  console.log(row('fake transport, QPACK static table only', stat));
  console.log(row('real QUIC pair (TLS, AEAD, ACKs), dynamic', quic));
  console.log(
    `\nheader bytes saved by the dynamic table: ${(stat.bytesUp - dyn.bytesUp).toFixed(0)} B/request up (${(100 * (1 - dyn.bytesUp / stat.bytesUp)).toFixed(0)}%), ` +
      `${(stat.bytesDown - dyn.bytesDown).toFixed(0)} B/response down; QUIC bytes are UDP payload (packet headers, AEAD tags, ACKs included).`,
  );
}
