// 0-RTT on a multi-core server (src/multicore/anti-replay.ts wired through listenMulticore): the
// anti-replay store is shared by the workers, so
// - the SAME ClientHello (byte for byte: two client connections built from one seeded RNG at the
//   same instant, differing only in the QUIC DCID) sent to two workers at once gets 0-RTT accepted
//   by exactly one; the other worker answers in 1-RTT and the client's data still arrives (once
//   per connection, resent in 1-RTT) — RFC 8446 §8, RFC 9001 §4.6.1 / §9.2;
// - one session ticket used by two clients at once (single-use mode, RFC 8446 §8.1) carries 0-RTT
//   once, whichever workers they land on;
// - real HTTP/3 clients resuming with saved tickets get 0-RTT accepted on both workers.
import test from 'ava';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, type PathInfo } from '../../src/connection/index.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { monotonicNow } from '../../src/io/clock.js';
import { connect } from '../../src/io/quic.js';
import { Http3Client } from '../../src/server/client.js';
import { listenMulticore, type MulticoreServer } from '../../src/multicore/server.js';
import { liveCertificate, pattern, sha256, withTimeout } from '../io/helpers.js';

const servers: MulticoreServer[] = [];
test.after.always(async () => {
  await Promise.all(servers.map((s) => s.close({ timeout: 500 })));
});

/** Wait until no worker holds a connection (closed ones drain first), so new ones spread evenly. */
async function idle(server: MulticoreServer): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (server.metrics().workers.total.connections_active === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A sans-IO client Connection driven over its own UDP socket (the test controls its RNG and DCID). */
class RawClient {
  readonly conn: Connection;
  readonly socket: Socket;
  readonly echoed: Buffer[] = [];
  finished = false;
  private readonly out = new Uint8Array(65536);
  private timer: NodeJS.Timeout | undefined;
  private readonly stream: number;

  constructor(conn: Connection, socket: Socket, payload: Uint8Array) {
    this.conn = conn;
    this.socket = socket;
    // Opened and written before the first send: the data goes in 0-RTT packets.
    this.stream = conn.openStream(true)!;
    conn.streamWrite(this.stream, payload, true);
    socket.on('message', (msg: Buffer, rinfo) => {
      conn.receive(new Uint8Array(msg), { remoteAddress: rinfo.address, remotePort: rinfo.port }, monotonicNow());
      this.pump();
    });
  }

  pump(now = monotonicNow()): void {
    const c = this.conn;
    if (c.nextTimeout() <= now) c.onTimeout(now);
    for (let ev = c.pollEvent(); ev !== undefined; ev = c.pollEvent()) {
      if (ev.type === 'stream-readable' && ev.id === this.stream) {
        for (;;) {
          const buf = new Uint8Array(65536);
          const r = c.streamRead(this.stream, buf);
          if (r.bytes > 0) this.echoed.push(Buffer.from(buf.subarray(0, r.bytes)));
          if (r.fin) this.finished = true;
          if (r.bytes === 0) break;
        }
      }
    }
    for (let info = c.send(this.out, now); info !== null; info = c.send(this.out, now)) {
      this.socket.send(Buffer.from(this.out.subarray(0, info.length)), info.to.remotePort, info.to.remoteAddress);
    }
    clearTimeout(this.timer);
    const next = c.nextTimeout();
    if (Number.isFinite(next)) this.timer = setTimeout(() => this.pump(), Math.max(0, next - monotonicNow()));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.socket.close();
  }
}

test.serial('the same ClientHello sent to two workers at once: exactly one accepts its 0-RTT, the other completes in 1-RTT', async (t) => {
  const cert = liveCertificate();
  const server = await listenMulticore({
    workers: 2,
    host: '127.0.0.1',
    port: 0,
    alpn: 'echo',
    cert: cert.certPem,
    key: cert.keyPem,
    idleTimeout: 5000,
    enableEarlyData: true,
    // Keyed by the PSK binder: only a byte-identical ClientHello counts as a replay (RFC 8446 §8.2).
    antiReplay: { mode: 'window' },
  });
  servers.push(server);
  const port = server.address().port;
  const first = await connect({ host: '127.0.0.1', port }, { alpn: 'echo', ca: cert.certPem, servername: 'localhost' });
  await withTimeout(first.opened, 5000, 'first handshake');
  if (first.sessionTicket === undefined) await withTimeout(once(first, 'session-ticket'), 5000, 'ticket');
  const ticket = first.sessionTicket!;
  await first.close();
  await idle(server);

  const remote: PathInfo = { remoteAddress: '127.0.0.1', remotePort: port };
  const now = monotonicNow();
  const payload = pattern(3000, 5);
  const clients: RawClient[] = [];
  for (const dcidByte of [0x11, 0x22]) {
    const conn = new Connection(
      {
        role: 'client',
        // Same seed, same instant: the same ClientHello (random, key share, binder, transport parameters).
        rng: new SeededRandom(4242),
        initialDcid: new Uint8Array(8).fill(dcidByte),
        alpn: ['echo'],
        serverName: 'localhost',
        ca: cert.certPem,
        remote,
        session: ticket,
        enableEarlyData: true,
      },
      now,
    );
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    clients.push(new RawClient(conn, socket, payload));
  }
  try {
    // Both first flights (Initial + 0-RTT) in the same turn.
    for (const c of clients) c.pump(now);
    const until = monotonicNow() + 10_000;
    while (!clients.every((c) => c.finished && c.conn.handshakeComplete) && monotonicNow() < until) await new Promise((r) => setTimeout(r, 10));
    const workers = clients.map((c) => server.codec.workerOf(c.conn.peerCid));
    t.deepEqual([...workers].sort(), [0, 1], `one connection per worker (peer CIDs name workers ${workers.join(', ')})`);
    t.true(
      clients.every((c) => c.conn.handshakeComplete && c.conn.resumed),
      'both handshakes complete (resumed)',
    );
    t.deepEqual(
      clients.map((c) => c.conn.earlyDataAccepted).sort(),
      [false, true],
      'exactly one accepted 0-RTT',
    );
    for (const c of clients) {
      t.true(c.finished);
      t.is(sha256(Buffer.concat(c.echoed)), sha256(payload), 'the data arrived (0-RTT, or resent in 1-RTT)');
    }
    const ar = server.metrics().antiReplay!;
    t.is(ar.accepted, 1);
    t.is(ar.replayed + ar.raced, 1, JSON.stringify(ar));
  } finally {
    for (const c of clients) {
      c.conn.close(0, '', true, monotonicNow());
      c.pump();
      c.stop();
    }
  }
});

test.serial('HTTP/3: clients resuming with saved tickets get 0-RTT on both workers; one ticket used twice at once carries 0-RTT once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-mc-0rtt-'));
  const mod = join(dir, 'who.mjs');
  writeFileSync(
    mod,
    [
      'export default function (server, ctx) {',
      '  server.on("request", (req, res) => {',
      '    let n = 0;',
      '    req.on("data", (c) => (n += c.length));',
      '    req.on("end", () => res.end(`worker ${ctx.worker} ${req.method} ${n}`));',
      '  });',
      '}',
    ].join('\n'),
  );
  const cert = liveCertificate();
  const server = await listenMulticore({ workers: 2, host: '127.0.0.1', port: 0, cert: cert.certPem, key: cert.keyPem, idleTimeout: 5000, enableEarlyData: true, app: { module: mod } });
  servers.push(server);
  const base = `https://127.0.0.1:${server.address().port}`;
  const opts = { ca: cert.certPem, servername: 'localhost' };

  const c0 = new Http3Client(opts);
  t.regex(await (await c0.fetch(`${base}/`)).text(), /^worker \d GET 0$/);
  let ticket = c0.sessionTicket(base);
  for (let i = 0; i < 20 && ticket === undefined; i++) {
    await new Promise((r) => setTimeout(r, 50));
    ticket = c0.sessionTicket(base);
  }
  await c0.close();
  t.truthy(ticket);

  // A chain of resumptions, each with the ticket the previous connection got: 0-RTT every time.
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) {
    await idle(server);
    const c = new Http3Client({ ...opts, session: ticket!, enableEarlyData: true });
    const body = i % 2 === 0 ? undefined : pattern(2000, i);
    const res = await withTimeout(c.fetch(`${base}/r${i}`, body === undefined ? {} : { method: 'POST', body }), 5000, `resumption ${i}`);
    const text = await res.text();
    const info = await c.session(new URL(base)).then((s) => s.quic.opened);
    t.true(info.resumed, `resumption ${i} resumed`);
    t.true(info.earlyDataAccepted, `resumption ${i}: 0-RTT accepted (${text})`);
    t.regex(text, new RegExp(`^worker \\d ${body === undefined ? 'GET 0' : 'POST 2000'}$`));
    seen.add(text.split(' ')[1]!);
    for (let k = 0; k < 20 && c.sessionTicket(base) === undefined; k++) await new Promise((r) => setTimeout(r, 50));
    ticket = c.sessionTicket(base) ?? ticket;
    await c.close();
  }
  t.deepEqual([...seen].sort(), ['0', '1'], '0-RTT accepted on both workers');

  // The same ticket in two clients at once (one per worker): 0-RTT once; both requests answered.
  await idle(server);
  const pair = [0, 1].map(() => new Http3Client({ ...opts, session: ticket!, enableEarlyData: true }));
  const texts = await withTimeout(Promise.all(pair.map(async (c, i) => (await c.fetch(`${base}/twice${i}`)).text())), 5000, 'pair');
  const infos = await Promise.all(pair.map((c) => c.session(new URL(base)).then((s) => s.quic.opened)));
  await Promise.all(pair.map((c) => c.close()));
  t.deepEqual(
    texts.map((x) => x.split(' ').slice(2).join(' ')),
    ['GET 0', 'GET 0'],
  );
  t.deepEqual(
    new Set(texts.map((x) => x.split(' ')[1])).size,
    2,
    `the two clients landed on both workers: ${texts.join(' | ')}`,
  );
  t.deepEqual(
    infos.map((x) => x.earlyDataAccepted).sort(),
    [false, true],
  );
  t.true(infos.every((x) => x.resumed));
  const ar = server.metrics().antiReplay!;
  t.is(ar.accepted, 7);
  t.true(ar.replayed + ar.raced >= 1);
});
