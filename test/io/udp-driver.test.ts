// The UDP driver over a stand-in endpoint: batching per turn, pooled sends with backpressure,
// pacing via releaseTime, one timer, IPv4 and IPv6, socket buffer sizes.
import test from 'ava';
import dgram from 'node:dgram';
import type { ConnectionEvent, PathInfo, SendInfo } from '../../src/connection/types.js';
import { UdpDriver, type DriverConnection, type DriverEndpoint, type DriverEndpointEvent } from '../../src/io/udp-driver.js';
import { bindUdpSocket, DEFAULT_SOCKET_BUFFER } from '../../src/io/udp-socket.js';

class FakeConn implements DriverConnection {
  state = 'established';
  readonly outbox: Array<{ data: Uint8Array; to: PathInfo; releaseTime: number }> = [];
  readonly events: ConnectionEvent[] = [];
  timeout = Infinity;
  timeouts: number[] = [];
  sendCalls = 0;
  send(out: Uint8Array, _now: number): SendInfo | null {
    this.sendCalls++;
    const d = this.outbox.shift();
    if (!d) return null;
    out.set(d.data, 0);
    return { length: d.data.length, to: d.to, releaseTime: d.releaseTime };
  }
  nextTimeout(): number {
    return this.timeout;
  }
  onTimeout(now: number): void {
    this.timeouts.push(now);
    this.timeout = Infinity;
  }
  pollEvent(): ConnectionEvent | undefined {
    return this.events.shift();
  }
}

/** One connection; every datagram received is echoed back (prefixed with 'E'). */
class EchoEndpoint implements DriverEndpoint<FakeConn> {
  readonly conn = new FakeConn();
  received: Array<{ data: Uint8Array; from: PathInfo }> = [];
  readonly queue: Array<{ data: Uint8Array; to: PathInfo }> = [];
  private announced = false;
  private readonly evq: DriverEndpointEvent<FakeConn>[] = [];
  echo = true;
  handle(datagram: Uint8Array, from: PathInfo, _now: number): FakeConn {
    this.received.push({ data: datagram, from });
    if (!this.announced) {
      this.announced = true;
      this.evq.push({ type: 'connection', connection: this.conn, path: from });
    }
    if (this.echo) this.conn.outbox.push({ data: Buffer.concat([Buffer.from('E'), datagram]), to: from, releaseTime: 0 });
    return this.conn;
  }
  sendEndpointPacket(out: Uint8Array): SendInfo | null {
    const p = this.queue.shift();
    if (!p) return null;
    out.set(p.data);
    return { length: p.data.length, to: p.to, releaseTime: 0 };
  }
  poll(): DriverEndpointEvent<FakeConn> | undefined {
    return this.evq.shift();
  }
  connections(): Iterable<FakeConn> {
    return [this.conn];
  }
  touches = 0;
  touch(): void {
    this.touches++;
  }
}

async function peer(type: 'udp4' | 'udp6', address: string): Promise<{ sock: dgram.Socket; port: number; messages: Buffer[]; times: number[]; waitFor(n: number, ms?: number): Promise<void> }> {
  const sock = dgram.createSocket(type);
  const messages: Buffer[] = [];
  const times: number[] = [];
  let waiters: Array<() => void> = [];
  sock.on('message', (m) => {
    messages.push(m);
    times.push(performance.now());
    for (const w of waiters) w();
  });
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  return {
    sock,
    port: sock.address().port,
    messages,
    times,
    waitFor(n: number, ms = 5000) {
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timeout waiting for ${n} datagrams, have ${messages.length}`)), ms);
        const check = (): void => {
          if (messages.length >= n) {
            clearTimeout(t);
            waiters = waiters.filter((w) => w !== check);
            resolve();
          }
        };
        waiters.push(check);
        check();
      });
    },
  };
}

for (const [type, address] of [
  ['udp4', '127.0.0.1'],
  ['udp6', '::1'],
] as const) {
  test.serial(`${type}: receive → endpoint → echo through the send ring`, async (t) => {
    const ep = new EchoEndpoint();
    const seen: ConnectionEvent[] = [];
    const driver = new UdpDriver(ep, { onConnection: () => ({ onEvent: (e) => seen.push(e) }) });
    const bound = await bindUdpSocket(address, 0);
    t.is(bound.family, type === 'udp4' ? 'IPv4' : 'IPv6');
    driver.addSocket(bound);
    const p = await peer(type, address);
    ep.conn.events.push({ type: 'handshake-confirmed' });
    for (let i = 0; i < 20; i++) p.sock.send(Buffer.from(`m${i}`), bound.port, address);
    await p.waitFor(20);
    t.deepEqual(p.messages.map((m) => m.toString()).sort(), Array.from({ length: 20 }, (_, i) => `Em${i}`).sort());
    t.is(ep.received[0]!.from.remoteAddress, address);
    t.is(ep.received[0]!.from.remotePort, p.port);
    t.is(ep.received[0]!.from.localPort, bound.port);
    t.deepEqual(seen, [{ type: 'handshake-confirmed' }]);
    t.is(driver.stats.datagramsSent, 20);
    t.is(driver.ring.inUse, 0);
    p.sock.close();
    await driver.close();
  });
}

test.serial('receive buffers: at least 4 MiB requested and granted (or the cap is reported)', async (t) => {
  const warnings: string[] = [];
  const bound = await bindUdpSocket('127.0.0.1', 0, { warn: (m) => warnings.push(m) });
  t.true(bound.recvBufferSize >= DEFAULT_SOCKET_BUFFER || warnings.length === 1, `rcvbuf ${bound.recvBufferSize}`);
  t.true(bound.sendBufferSize >= DEFAULT_SOCKET_BUFFER || warnings.length === 1, `sndbuf ${bound.sendBufferSize}`);
  bound.socket.close();
});

test.serial('a burst of received datagrams is handled in few flushes (batching per turn)', async (t) => {
  const ep = new EchoEndpoint();
  ep.echo = false;
  const driver = new UdpDriver(ep, {});
  const bound = await bindUdpSocket('127.0.0.1', 0);
  driver.addSocket(bound);
  const p = await peer('udp4', '127.0.0.1');
  // Several datagrams become readable before the loop turns: they must share flushes.
  for (let i = 0; i < 200; i++) p.sock.send(Buffer.alloc(100, i), bound.port, '127.0.0.1');
  const deadline = Date.now() + 3000;
  while (ep.received.length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.is(ep.received.length, 200);
  t.true(driver.stats.flushes < 200, `flushes ${driver.stats.flushes}`);
  p.sock.close();
  await driver.close();
});

test.serial('backpressure: 2,000 datagrams through a ring of 4 slots all arrive, slots are reused', async (t) => {
  const ep = new EchoEndpoint();
  ep.echo = false;
  const driver = new UdpDriver(ep, { ringSize: 4 });
  const bound = await bindUdpSocket('127.0.0.1', 0);
  driver.addSocket(bound);
  const p = await peer('udp4', '127.0.0.1');
  const to = { remoteAddress: '127.0.0.1', remotePort: p.port };
  for (let i = 0; i < 2000; i++) {
    const d = Buffer.alloc(1200);
    d.writeUInt32BE(i, 0);
    ep.conn.outbox.push({ data: d, to, releaseTime: 0 });
  }
  driver.markDirty(ep.conn);
  await p.waitFor(2000, 10_000);
  const seen = new Set(p.messages.map((m) => m.readUInt32BE(0)));
  t.is(seen.size, 2000);
  t.true(driver.stats.ringExhausted > 0);
  t.is(driver.ring.inUse, 0);
  p.sock.close();
  await driver.close();
});

test.serial('pacing: a datagram with a future releaseTime is held until then; others are not delayed', async (t) => {
  const ep = new EchoEndpoint();
  ep.echo = false;
  const driver = new UdpDriver(ep, {});
  const bound = await bindUdpSocket('127.0.0.1', 0);
  driver.addSocket(bound);
  const p = await peer('udp4', '127.0.0.1');
  const to = { remoteAddress: '127.0.0.1', remotePort: p.port };
  const start = performance.now();
  const now = driver.clock();
  ep.conn.outbox.push({ data: Buffer.from('now'), to, releaseTime: now });
  ep.conn.outbox.push({ data: Buffer.from('later'), to, releaseTime: now + 40 });
  ep.conn.outbox.push({ data: Buffer.from('after'), to, releaseTime: 0 });
  driver.markDirty(ep.conn);
  await p.waitFor(3);
  t.deepEqual(p.messages.map(String), ['now', 'later', 'after']);
  t.true(p.times[0]! - start < 30, `first after ${p.times[0]! - start} ms`);
  t.true(p.times[1]! - start >= 38, `paced after ${p.times[1]! - start} ms`);
  t.is(driver.stats.paced, 1);
  p.sock.close();
  await driver.close();
});

test.serial('one timer: onTimeout runs when nextTimeout passes, then the connection is flushed', async (t) => {
  const ep = new EchoEndpoint();
  ep.echo = false;
  const driver = new UdpDriver(ep, {});
  const bound = await bindUdpSocket('127.0.0.1', 0);
  driver.addSocket(bound);
  const p = await peer('udp4', '127.0.0.1');
  const to = { remoteAddress: '127.0.0.1', remotePort: p.port };
  const armedAt = driver.clock();
  ep.conn.timeout = armedAt + 50;
  const origOnTimeout = ep.conn.onTimeout.bind(ep.conn);
  ep.conn.onTimeout = (now: number) => {
    origOnTimeout(now);
    ep.conn.outbox.push({ data: Buffer.from('pto'), to, releaseTime: 0 });
  };
  driver.flush(); // arms the timer
  await p.waitFor(1);
  t.is(ep.conn.timeouts.length, 1);
  t.true(ep.conn.timeouts[0]! >= armedAt + 50);
  t.true(ep.conn.timeouts[0]! < armedAt + 500);
  t.is(String(p.messages[0]), 'pto');
  p.sock.close();
  await driver.close();
});

test.serial('endpoint packets (VN/Retry/reset) go out too, to the address they name', async (t) => {
  const ep = new EchoEndpoint();
  ep.echo = false;
  const driver = new UdpDriver(ep, {});
  const bound = await bindUdpSocket('127.0.0.1', 0);
  driver.addSocket(bound);
  const p = await peer('udp4', '127.0.0.1');
  ep.queue.push({ data: Buffer.from('vn'), to: { remoteAddress: '127.0.0.1', remotePort: p.port } });
  driver.scheduleFlush();
  await p.waitFor(1);
  t.is(String(p.messages[0]), 'vn');
  p.sock.close();
  await driver.close();
});

test.serial('a datagram the socket cannot send is counted as an error, the slot comes back', async (t) => {
  const ep = new EchoEndpoint();
  ep.echo = false;
  const driver = new UdpDriver(ep, {});
  const bound = await bindUdpSocket('127.0.0.1', 0);
  driver.addSocket(bound);
  try {
    // An IPv6 destination on an IPv4-only socket.
    ep.conn.outbox.push({ data: Buffer.from('x'), to: { remoteAddress: '::1', remotePort: 9 }, releaseTime: 0 });
    driver.markDirty(ep.conn);
    await new Promise((r) => setTimeout(r, 30));
    t.is(driver.stats.sendErrors, 1);
    t.deepEqual(driver.ring.errors, { EINVAL: 1 });
    t.is(driver.ring.inUse, 0);
  } finally {
    await driver.close();
  }
});
