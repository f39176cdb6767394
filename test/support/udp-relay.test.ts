// Tests of the loopback UDP impairment relay (test/support/udp-relay.ts) with a tiny echo exchange:
// pass-through, seeded loss (reproducible per seed), drop list, delay, reorder, duplication and
// client-side port rebinding at time T.
import test from 'ava';
import dgram from 'node:dgram';
import { UdpRelay, amplificationCheck, isLoopback, type TapRecord, type UdpRelayOptions } from './udp-relay.js';

interface Echo {
  port: number;
  /** Sequence numbers in arrival order, with the source port they came from. */
  seen: Array<{ seq: number; port: number }>;
  sock: dgram.Socket;
}

async function echoServer(): Promise<Echo> {
  const sock = dgram.createSocket('udp4');
  const e: Echo = { port: 0, seen: [], sock };
  sock.on('message', (msg, rinfo) => {
    e.seen.push({ seq: msg.readUInt32BE(0), port: rinfo.port });
    sock.send(msg, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  e.port = sock.address().port;
  return e;
}

interface Client {
  sock: dgram.Socket;
  replies: Array<{ seq: number; at: number }>;
  sentAt: Map<number, number>;
  send(seq: number): void;
}

async function client(relay: UdpRelay): Promise<Client> {
  const sock = dgram.createSocket('udp4');
  const c: Client = {
    sock,
    replies: [],
    sentAt: new Map(),
    send(seq: number) {
      const b = Buffer.alloc(64);
      b.writeUInt32BE(seq, 0);
      c.sentAt.set(seq, performance.now());
      sock.send(b, relay.port, relay.host);
    },
  };
  sock.on('message', (msg) => c.replies.push({ seq: msg.readUInt32BE(0), at: performance.now() }));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `count()` has not changed for `quietMs` (max `maxMs`): in-flight datagrams have landed. */
async function settle(count: () => number, quietMs: number, maxMs = 5000): Promise<void> {
  const end = performance.now() + maxMs;
  let last = -1;
  let since = performance.now();
  while (performance.now() < end) {
    const n = count();
    if (n !== last) {
      last = n;
      since = performance.now();
    } else if (performance.now() - since >= quietMs) return;
    await sleep(10);
  }
}

async function run(opts: Omit<UdpRelayOptions, 'target'>, n: number, gapMs = 0) {
  const echo = await echoServer();
  const relay = await UdpRelay.start({ ...opts, target: { host: '127.0.0.1', port: echo.port } });
  const c = await client(relay);
  try {
    for (let i = 1; i <= n; i++) {
      c.send(i);
      if (gapMs) await sleep(gapMs);
      else if (i % 50 === 0) await sleep(1); // let the kernel drain
    }
    const maxDelay = (opts.both?.delayMs ?? 0) + (opts.toServer?.delayMs ?? 0) + (opts.toClient?.delayMs ?? 0);
    const gap = Math.max(opts.both?.reorderGapMs ?? 0, opts.toServer?.reorderGapMs ?? 0, opts.toClient?.reorderGapMs ?? 0);
    await settle(() => relay.stats.toServer.received + relay.stats.toClient.received + c.replies.length, 100 + 2 * maxDelay + gap);
    return { echoSeen: echo.seen, replies: c.replies, sentAt: c.sentAt, stats: structuredClone(relay.stats), ports: relay.upstreamPorts() };
  } finally {
    await relay.close();
    await new Promise<void>((r) => c.sock.close(() => r()));
    await new Promise<void>((r) => echo.sock.close(() => r()));
  }
}

test('pass-through: every datagram reaches the server and comes back', async (t) => {
  const r = await run({}, 200);
  t.is(r.echoSeen.length, 200);
  t.is(r.replies.length, 200);
  t.deepEqual(r.echoSeen.map((x) => x.seq), Array.from({ length: 200 }, (_, i) => i + 1));
  t.is(r.stats.toServer.forwarded, 200);
  t.is(r.stats.toClient.forwarded, 200);
  t.is(r.stats.flows, 1);
});

test('seeded loss: the same seed drops the same datagrams; another seed others', async (t) => {
  const opts = (seed: number): Omit<UdpRelayOptions, 'target'> => ({ seed, toServer: { loss: 0.3 } });
  const a = await run(opts(7), 300);
  const b = await run(opts(7), 300);
  const c = await run(opts(8), 300);
  const arrived = (x: typeof a) => x.echoSeen.map((e) => e.seq).join(',');
  t.is(arrived(a), arrived(b));
  t.not(arrived(a), arrived(c));
  const lossRate = a.stats.toServer.droppedLoss / 300;
  t.true(lossRate > 0.18 && lossRate < 0.42, `loss rate ${lossRate}`);
  t.is(a.stats.toClient.droppedLoss, 0);
  t.is(a.replies.length, a.echoSeen.length);
});

test('loss burst cap and drop list', async (t) => {
  const capped = await run({ seed: 3, toClient: { loss: 0.9, lossBurst: 2 } }, 90);
  // at most 2 consecutive drops, then one passes: ≥ 1/3 of replies arrive
  t.true(capped.replies.length >= 30, `${capped.replies.length} replies`);
  const taps: TapRecord[] = [];
  const listed = await run({ toServer: { dropList: [1, 3, 5] }, tap: (r) => taps.push(r) }, 10);
  t.deepEqual(listed.echoSeen.map((e) => e.seq), [2, 4, 6, 7, 8, 9, 10]);
  t.is(listed.stats.toServer.droppedList, 3);
  const toServer = taps.filter((r) => r.dir === 'toServer');
  t.deepEqual(toServer.map((r) => r.fate), ['droppedList', 'forwarded', 'droppedList', 'forwarded', 'droppedList', 'forwarded', 'forwarded', 'forwarded', 'forwarded', 'forwarded']);
  t.deepEqual(toServer.map((r) => r.index), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  t.true(toServer.every((r) => r.length === 64));
  t.is(taps.filter((r) => r.dir === 'toClient').length, 7);
});

test('delay: round trip ≥ the configured one-way delays, order kept under jitter', async (t) => {
  const r = await run({ toServer: { delayMs: 25, jitterMs: 10 }, toClient: { delayMs: 15 } }, 40);
  t.is(r.replies.length, 40);
  for (const rep of r.replies) {
    const rtt = rep.at - r.sentAt.get(rep.seq)!;
    t.true(rtt >= 15 + 15 - 1, `rtt ${rtt.toFixed(1)} ms for #${rep.seq}`);
  }
  t.deepEqual(r.echoSeen.map((e) => e.seq), Array.from({ length: 40 }, (_, i) => i + 1));
});

test('reorder: some datagrams are overtaken, none is lost', async (t) => {
  const r = await run({ seed: 11, toServer: { reorder: 0.25, reorderGapMs: 20 } }, 100, 1);
  const order = r.echoSeen.map((e) => e.seq);
  t.is(order.length, 100);
  t.deepEqual([...order].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i + 1));
  t.notDeepEqual(order, [...order].sort((x, y) => x - y));
  t.true(r.stats.toServer.reordered > 5);
});

test('duplicate: every datagram delivered twice at probability 1', async (t) => {
  const r = await run({ toServer: { duplicate: 1 } }, 20);
  t.is(r.echoSeen.length, 40);
  t.is(r.stats.toServer.duplicated, 20);
});

test('rebinding at T: the server sees a new source port; replies to the old one are dropped', async (t) => {
  const echo = await echoServer();
  const relay = await UdpRelay.start({ target: { host: '127.0.0.1', port: echo.port }, rebindAtMs: 80 });
  const c = await client(relay);
  t.teardown(async () => {
    await relay.close();
    c.sock.close();
    echo.sock.close();
  });
  for (let i = 1; i <= 12; i++) {
    c.send(i);
    await sleep(15);
  }
  await settle(() => c.replies.length + relay.stats.toClient.droppedOldBinding, 60);
  const ports = [...new Set(echo.seen.map((e) => e.port))];
  t.is(ports.length, 2, `ports ${ports}`);
  t.deepEqual(relay.upstreamPorts(), [ports]);
  t.is(relay.stats.rebinds, 1);
  t.is(echo.seen.length, 12);
  // A reply in flight at the moment of the rebind is lost like behind a real NAT.
  const lostInFlight = relay.stats.toClient.droppedOldBinding;
  t.is(c.replies.length + lostInFlight, 12);
  // A late reply to the forgotten binding never reaches the client.
  const before = c.replies.length;
  echo.sock.send(Buffer.alloc(8), ports[0]!, '127.0.0.1');
  await settle(() => relay.stats.toClient.droppedOldBinding, 40);
  t.is(c.replies.length, before);
  t.is(relay.stats.toClient.droppedOldBinding, lostInFlight + 1);
});

test('immediate rebinding tied to progress: after N datagrams to the client, the server sees the new port at once', async (t) => {
  const echo = await echoServer();
  const relay = await UdpRelay.start({ target: { host: '127.0.0.1', port: echo.port }, rebindAfterToClient: 5, rebindMode: 'immediate' });
  const c = await client(relay);
  t.teardown(async () => {
    await relay.close();
    c.sock.close();
    echo.sock.close();
  });
  for (let i = 1; i <= 10; i++) {
    c.send(i);
    await settle(() => c.replies.length, 20, 1000);
  }
  t.is(c.replies.length, 10);
  const ports = echo.seen.map((e) => e.port);
  t.is(new Set(ports.slice(0, 5)).size, 1);
  t.is(new Set(ports.slice(5)).size, 1);
  t.not(ports[0], ports[5]);
  t.is(relay.stats.rebinds, 1);
  await t.throwsAsync(UdpRelay.start({ target: { host: '127.0.0.1', port: 9 }, rebindMode: 'later' as 'immediate' }), { instanceOf: RangeError, message: /opts\.rebindMode/ });
  await t.throwsAsync(UdpRelay.start({ target: { host: '127.0.0.1', port: 9 }, rebindAfterToClient: 0 }), { instanceOf: RangeError, message: /opts\.rebindAfterToClient/ });
});

test('only loopback targets and listen addresses are accepted; bad options name themselves', async (t) => {
  t.true(isLoopback('127.0.0.1') && isLoopback('127.3.2.1') && isLoopback('::1'));
  t.false(isLoopback('10.0.0.1') || isLoopback('8.8.8.8') || isLoopback('fe80::1'));
  await t.throwsAsync(UdpRelay.start({ target: { host: '8.8.8.8', port: 443 } }), { instanceOf: RangeError, message: /opts\.target\.host/ });
  await t.throwsAsync(UdpRelay.start({ target: { host: '127.0.0.1', port: 443 }, listenHost: '0.0.0.0' }), { instanceOf: RangeError, message: /opts\.listenHost/ });
  await t.throwsAsync(UdpRelay.start({ target: { host: '127.0.0.1', port: 0 } }), { instanceOf: RangeError, message: /opts\.target\.port/ });
  await t.throwsAsync(UdpRelay.start({ target: { host: '127.0.0.1', port: 443 }, toServer: { loss: 5 } }), { instanceOf: RangeError, message: /toServer\.loss/ });
});

test('amplificationCheck: 3× of the bytes that reached the server, until a client Handshake packet', (t) => {
  let i = { toServer: 0, toClient: 0 };
  const rec = (dir: TapRecord['dir'], length: number, firstByte: number, fate: TapRecord['fate'] = 'forwarded'): TapRecord => ({
    dir, index: ++i[dir], length, fate, at: 0, firstByte,
  });
  const initial = 0xc0;
  const handshakeV1 = 0xe0;
  const ok = amplificationCheck([rec('toServer', 1200, initial), rec('toClient', 1200, initial), rec('toClient', 1200, 0xe0), rec('toClient', 1200, 0xe0), rec('toServer', 100, handshakeV1), rec('toClient', 5000, 0x40)]);
  t.deepEqual(ok, { ok: true, receivedBeforeValidation: 1200, sentBeforeValidation: 3600, maxRatio: 3, validatedAtIndex: 2 });
  i = { toServer: 0, toClient: 0 };
  const dropped = amplificationCheck([rec('toServer', 1200, initial), rec('toServer', 1200, initial, 'droppedLoss'), rec('toClient', 3601, initial)]);
  t.false(dropped.ok);
  t.is(dropped.receivedBeforeValidation, 1200);
  t.is(dropped.validatedAtIndex, null);
  i = { toServer: 0, toClient: 0 };
  // v2 (RFC 9369): Handshake is type 0b11; a v1-type-2 packet (0Rtt in v2) does not validate.
  const v2 = amplificationCheck([rec('toServer', 1200, 0xd0), rec('toClient', 1000, 0xd0), rec('toServer', 80, 0xe0), rec('toServer', 80, 0xf0)], 0x30);
  t.is(v2.validatedAtIndex, 3);
  t.is(v2.receivedBeforeValidation, 1280);
});
