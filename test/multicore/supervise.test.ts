// The main thread as supervisor (src/multicore/server.ts): a worker that exits is replaced — the
// router stops routing to it at once (its datagrams are dropped and counted, its table entries
// forgotten), a new worker with the same index takes new connections once it answers — and
// session ticket keys rotated in the main thread are pushed to every worker, so a ticket sealed by
// any worker resumes on every worker after rotations (RFC 8446 §4.6.1, RFC 9001 §4.5). A client
// whose worker died gets a stateless reset from the replacement (same index, same reset key) as
// soon as it sends, instead of waiting for its idle timeout (RFC 9000 §10.3).
import test, { type ExecutionContext } from 'ava';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../../src/io/quic.js';
import type { QuicSession } from '../../src/io/session.js';
import { Http3Client } from '../../src/server/client.js';
import { listenMulticore, type MulticoreServer } from '../../src/multicore/server.js';
import { liveCertificate, withTimeout } from '../io/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'quiver-mc-sup-'));
const servers: MulticoreServer[] = [];
test.after.always(async () => {
  await Promise.all(servers.map((s) => s.close({ timeout: 500 })));
});

test.serial('a worker that exits is replaced and takes new connections; nothing else stops', async (t) => {
  const mod = join(dir, 'crashy.mjs');
  writeFileSync(
    mod,
    [
      'export default function (server, ctx) {',
      '  server.on("request", (req, res) => {',
      '    if (req.url === "/crash") { res.end("bye"); setTimeout(() => process.exit(7), 50); return; }',
      '    res.end(`worker ${ctx.worker}`);',
      '  });',
      '}',
    ].join('\n'),
  );
  const cert = liveCertificate();
  const server = await listenMulticore({ workers: 2, host: '127.0.0.1', port: 0, cert: cert.certPem, key: cert.keyPem, idleTimeout: 5000, app: { module: mod } });
  servers.push(server);
  const base = `https://127.0.0.1:${server.address().port}`;
  const exits: Array<[number, number]> = [];
  server.on('worker-exit', (i: number, code: number) => exits.push([i, code]));
  const respawned = once(server, 'worker-respawn');

  const victim = new Http3Client({ rejectUnauthorized: false });
  const who = await (await victim.fetch(`${base}/`)).text();
  const crashed = Number(/worker (\d)/.exec(who)![1]);
  t.is(await (await victim.fetch(`${base}/crash`)).text(), 'bye');
  const [index] = (await withTimeout(respawned, 10_000, 'worker-respawn')) as [number];
  t.is(index, crashed);
  t.deepEqual(exits, [[crashed, 7]]);
  const m = server.metrics();
  t.deepEqual(m.alive, [true, true]);
  t.is(m.router.workers_respawned, 1);
  void victim.close().catch(() => {});

  // New connections: both workers serve again, the replacement included.
  const clients = Array.from({ length: 6 }, () => new Http3Client({ rejectUnauthorized: false }));
  try {
    const answers = await withTimeout(Promise.all(clients.map(async (c) => (await c.fetch(`${base}/`)).text())), 10_000, 'fetches after respawn');
    const workersSeen = new Set(answers.map((a) => /worker (\d)/.exec(a)![1]));
    t.true(workersSeen.has(String(crashed)), `the replacement serves: ${answers.join(', ')}`);
    t.is(workersSeen.size, 2);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  const text = await server.prometheus.metrics();
  t.regex(text, /quiver_worker_respawns_total 1/);
  t.regex(text, new RegExp(`quiver_worker_up\\{worker="${crashed}"\\} 1`));
});

async function deadWorkerReset(t: ExecutionContext, respawn: boolean): Promise<void> {
  const mod = join(dir, 'crashy-reset.mjs');
  writeFileSync(
    mod,
    [
      'export default function (server, ctx) {',
      '  server.on("request", (req, res) => {',
      // Busy for 600 ms before it exits: a control call made meanwhile must still settle.
      '    if (req.url === "/crash") { res.end("bye"); setTimeout(() => { const t = Date.now(); while (Date.now() - t < 600); process.exit(9); }, 50); return; }',
      '    res.end(`worker ${ctx.worker}`);',
      '  });',
      '}',
    ].join('\n'),
  );
  const cert = liveCertificate();
  // A long idle timeout: without the reset the client would wait 30 s.
  const server = await listenMulticore({ workers: 2, host: '127.0.0.1', port: 0, cert: cert.certPem, key: cert.keyPem, idleTimeout: 30_000, app: { module: mod }, respawn });
  servers.push(server);
  const base = `https://127.0.0.1:${server.address().port}`;
  const gone = once(server, respawn ? 'worker-respawn' : 'worker-exit');
  const victim = new Http3Client({ rejectUnauthorized: false, idleTimeout: 30_000 });
  let survivor: Http3Client | undefined;
  try {
    const who = await (await victim.fetch(`${base}/`)).text();
    const crashed = Number(/worker (\d)/.exec(who)![1]);
    const quic = (await victim.session(new URL(base))).quic;
    t.is(server.codec.workerOf(quic.conn.peerCid), crashed);
    // A connection on the other worker, which must live on.
    for (let i = 0; i < 6 && survivor === undefined; i++) {
      const c = new Http3Client({ rejectUnauthorized: false, idleTimeout: 30_000 });
      if ((await (await c.fetch(`${base}/`)).text()) === `worker ${1 - crashed}`) survivor = c;
      else await c.close();
    }
    t.truthy(survivor, 'a connection on the other worker');
    t.is(await (await victim.fetch(`${base}/crash`)).text(), 'bye');
    if (!respawn) {
      // Asked while the worker is stuck, answered when it exits: null for it, not a hang.
      await new Promise((r) => setTimeout(r, 200));
      const stats = await withTimeout(server.stats(), 5000, 'stats() while a worker dies');
      t.is(stats[crashed], null);
      t.truthy(stats[1 - crashed]);
    }
    await withTimeout(gone, 10_000, respawn ? 'worker-respawn' : 'worker-exit');
    if (!respawn) {
      // Its gauges read 0 (the victim's connection was live on it).
      const dead = server.metrics().workers.perBlock[crashed]!;
      t.is(dead.connections_active, 0);
      t.is(dead.http_requests_active, 0);
      t.deepEqual(server.metrics().alive[crashed], false);
    }
    // Who answers: the replacement (same index), or without one the other worker.
    const resetter = respawn ? crashed : 1 - crashed;
    const resetsBefore = server.metrics().workers.perBlock[resetter]!.stateless_reset_sent;
    // The victim's next request goes out on its old connection: the worker that gets it holds no
    // such connection and answers with a stateless reset (RFC 9000 §10.3; the reset key is shared,
    // so the token matches the one the client learned). The client enters the draining period
    // (§10.3.1) and its session ends with kind 'reset' about 3 PTO later.
    const started = performance.now();
    // The request in flight on the dead connection fails with the reset error (not a hang).
    const after = victim.fetch(`${base}/after`).then(
      () => null,
      (e: unknown) => e as { code?: string; kind?: string },
    );
    const closeErr = await withTimeout(
      quic.closed.then(
        () => null,
        (e: unknown) => e as { kind?: string },
      ),
      10_000,
      'the dead connection ends',
    );
    const ms = performance.now() - started;
    t.is(closeErr?.kind, 'reset', `closed by a stateless reset, got ${JSON.stringify(closeErr)}`);
    t.true(ms < 5000, `promptly: ${ms.toFixed(0)} ms (idle timeout 30 s)`);
    const fetchErr = await withTimeout(after, 5000, 'the fetch on the dead connection settles');
    t.is(fetchErr?.code, 'ERR_QUIC_STATELESS_RESET', `fetch rejected with the reset error, got ${JSON.stringify(fetchErr)}`);
    t.is(fetchErr?.kind, 'reset');
    t.log(`session ended by a stateless reset ${ms.toFixed(0)} ms after the request`);
    t.true(server.metrics().workers.perBlock[resetter]!.stateless_reset_sent > resetsBefore, `worker ${resetter} sent it`);
    t.is(server.metrics().router.routed_dead_worker > 0, !respawn);
    // The connection on the other worker is untouched; a new connection works.
    t.is(await (await survivor!.fetch(`${base}/`)).text(), `worker ${1 - crashed}`);
    const fresh = new Http3Client({ rejectUnauthorized: false });
    t.regex(await (await fresh.fetch(`${base}/`)).text(), /^worker \d$/);
    await fresh.close();
  } finally {
    await withTimeout(victim.close(), 2000, 'victim close').catch(() => {});
    await survivor?.close().catch(() => {});
  }
}

test.serial("a dead worker's client gets a stateless reset from its replacement as soon as it sends (not an idle timeout)", (t) => deadWorkerReset(t, true));
test.serial('without a replacement (respawn: false) another worker sends the stateless reset', (t) => deadWorkerReset(t, false));

async function handshake(port: number, session?: Buffer): Promise<{ s: QuicSession; resumed: boolean }> {
  const cert = liveCertificate();
  const s = await connect({ host: '127.0.0.1', port }, { alpn: 'h3', ca: cert.certPem, servername: 'localhost', ...(session ? { session } : {}) });
  const info = await withTimeout(s.opened, 5000, 'handshake');
  return { s, resumed: info.resumed };
}

async function ticketOf(s: QuicSession): Promise<Buffer> {
  if (s.sessionTicket === undefined) await withTimeout(once(s, 'session-ticket'), 5000, 'session ticket');
  return s.sessionTicket!;
}

test.serial('ticket keys rotated in the main thread reach every worker: tickets resume on both workers across rotations', async (t) => {
  const cert = liveCertificate();
  const server = await listenMulticore({ workers: 2, host: '127.0.0.1', port: 0, cert: cert.certPem, key: cert.keyPem, idleTimeout: 5000, app: 'static' });
  servers.push(server);
  const port = server.address().port;
  const first = await handshake(port);
  t.false(first.resumed);
  const oldTicket = await ticketOf(first.s);
  await first.s.close();

  const keysBefore = (await server.stats()).map((s) => s!.ticketKeyIds!);
  t.deepEqual(keysBefore[0], keysBefore[1], 'both workers start with the same keys');
  await server.rotateTicketKeys();
  await server.rotateTicketKeys();
  const keysAfter = (await server.stats()).map((s) => s!.ticketKeyIds!);
  t.deepEqual(keysAfter[0], keysAfter[1], 'both workers got the same pushed keys');
  t.is(keysAfter[0]!.length, keysBefore[0]!.length + 2, 'two new keys; the old one still opens');
  t.deepEqual(keysAfter[0]!.slice(0, keysBefore[0]!.length), keysBefore[0]);

  // 6 connections at once spread over both workers; every one resumes with the pre-rotation ticket.
  const resumed = await Promise.all(Array.from({ length: 6 }, () => handshake(port, oldTicket)));
  const stats = await server.stats();
  const perWorker = stats.map((s) => s?.connections.length ?? 0);
  t.true(perWorker[0]! > 0 && perWorker[1]! > 0, `connections per worker: ${perWorker.join(', ')}`);
  t.deepEqual(
    resumed.map((r) => r.resumed),
    [true, true, true, true, true, true],
  );
  // A ticket sealed after the rotations (newest key) resumes everywhere too.
  const newTicket = await ticketOf(resumed[0]!.s);
  await Promise.all(resumed.map((r) => r.s.close()));
  const again = await Promise.all(Array.from({ length: 4 }, () => handshake(port, newTicket)));
  t.deepEqual(
    again.map((r) => r.resumed),
    [true, true, true, true],
  );
  await Promise.all(again.map((r) => r.s.close()));
});
