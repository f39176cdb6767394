// The UDP driver's deadline heap with many connections: a flush re-reads only the deadlines of the
// connections it touched (not every connection's), due connections get onTimeout in order, moved
// and removed deadlines never fire, and a deadline changed behind the driver's back is still
// honoured within the safety sweep (SWEEP_MS). No sockets: flush() and the timer need none.
import test from 'ava';
import type { ConnectionEvent, PathInfo, SendInfo } from '../../src/connection/types.js';
import { UdpDriver, type DriverConnection, type DriverEndpoint, type DriverEndpointEvent } from '../../src/io/udp-driver.js';

class TimedConn implements DriverConnection {
  state = 'established';
  timeout = Infinity;
  /** nextTimeout() calls (the cost the heap saves). */
  reads = 0;
  fired: number[] = [];
  readonly id: number;
  constructor(id: number) {
    this.id = id;
  }
  send(_out: Uint8Array, _now: number): SendInfo | null {
    return null;
  }
  nextTimeout(): number {
    this.reads++;
    return this.timeout;
  }
  onTimeout(now: number): void {
    this.fired.push(now);
    this.timeout = Infinity;
  }
  pollEvent(): ConnectionEvent | undefined {
    return undefined;
  }
}

class ManyEndpoint implements DriverEndpoint<TimedConn> {
  readonly conns: TimedConn[] = [];
  readonly events: DriverEndpointEvent<TimedConn>[] = [];
  constructor(n: number) {
    for (let i = 0; i < n; i++) this.conns.push(new TimedConn(i));
  }
  handle(_d: Uint8Array, _from: PathInfo, _now: number): TimedConn | undefined {
    return undefined;
  }
  sendEndpointPacket(_out: Uint8Array): SendInfo | null {
    return null;
  }
  poll(): DriverEndpointEvent<TimedConn> | undefined {
    return this.events.shift();
  }
  connections(): Iterable<TimedConn> {
    return this.conns;
  }
  touch(): void {}
  remove(c: TimedConn): void {
    this.conns.splice(this.conns.indexOf(c), 1);
    this.events.push({ type: 'connection-closed', connection: c });
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function reads(ep: ManyEndpoint): number {
  return ep.conns.reduce((a, c) => a + c.reads, 0);
}

test.serial('500 connections: a flush re-reads only the touched connections, timers fire in order', async (t) => {
  const ep = new ManyEndpoint(500);
  const driver = new UdpDriver(ep, {});
  const now = driver.clock();
  for (const c of ep.conns) c.timeout = now + 60_000; // far away: idle timers
  driver.flush(); // first flush: the sweep reads every deadline once
  t.is(reads(ep), 500);
  // Ten connections act (a receive or a write marks them dirty) and get near deadlines.
  const near = ep.conns.slice(100, 110);
  const deadline = new Map<(typeof near)[number], number>();
  near.forEach((c, i) => {
    c.timeout = now + 40 + 5 * (9 - i);
    deadline.set(c, c.timeout);
    driver.markDirty(c);
  });
  const before = reads(ep);
  driver.flush();
  t.is(reads(ep) - before, 10, 'only the ten touched connections were asked');
  await sleep(200);
  const fired = near.filter((c) => c.fired.length === 1);
  t.is(fired.length, 10, 'every near deadline fired once');
  for (const c of near) t.true(c.fired[0]! >= deadline.get(c)!, 'not early');
  // Earliest deadline first: in deadline order (109 first … 100 last) the firing times never go
  // back. (Two deadlines may fire in the same timer callback — equal times — when the event loop
  // was held up past both, as on a loaded machine.)
  const byDeadline = [...near].sort((a, b) => deadline.get(a)! - deadline.get(b)!);
  t.deepEqual(byDeadline.map((c) => c.id), [109, 108, 107, 106, 105, 104, 103, 102, 101, 100]);
  for (let i = 1; i < byDeadline.length; i++) {
    t.true(byDeadline[i]!.fired[0]! >= byDeadline[i - 1]!.fired[0]!, `connection ${byDeadline[i]!.id} fired before ${byDeadline[i - 1]!.id}, whose deadline is earlier`);
  }
  t.is(ep.conns.filter((c) => c.fired.length > 0).length, 10, 'no far connection fired');
  await driver.close();
});

test.serial('many connections: a deadline moved later or removed with its connection does not fire', async (t) => {
  const ep = new ManyEndpoint(100);
  const driver = new UdpDriver(ep, {});
  const now = driver.clock();
  for (const c of ep.conns) c.timeout = Infinity;
  const moved = ep.conns[5]!;
  const gone = ep.conns[6]!;
  const kept = ep.conns[7]!;
  for (const c of [moved, gone, kept]) {
    c.timeout = now + 30;
    driver.markDirty(c);
  }
  driver.flush();
  // Earlier, then later again: the heap holds stale entries for `moved`.
  moved.timeout = now + 10;
  driver.markDirty(moved);
  driver.flush();
  moved.timeout = now + 400;
  driver.markDirty(moved);
  driver.flush();
  ep.remove(gone);
  driver.markDirty(kept); // any flush polls the endpoint's events
  driver.flush();
  await sleep(150);
  t.is(kept.fired.length, 1);
  t.is(gone.fired.length, 0, 'removed connection: its entry is dead');
  t.is(moved.fired.length, 0, 'moved later: the earlier entries are dead');
  await sleep(400);
  t.is(moved.fired.length, 1, 'fires at its new deadline');
  t.true(moved.fired[0]! >= now + 400);
  await driver.close();
});

test.serial('many connections: a deadline set without markDirty is honoured by the safety sweep', async (t) => {
  const ep = new ManyEndpoint(200);
  const driver = new UdpDriver(ep, {});
  const now = driver.clock();
  driver.flush();
  const sneaky = ep.conns[42]!;
  sneaky.timeout = now + 20; // no markDirty: nothing tells the driver
  await sleep(1500);
  t.is(sneaky.fired.length, 1, 'fired within the sweep period');
  t.true(sneaky.fired[0]! >= now + 20);
  await driver.close();
});

test.serial('few connections: every flush and timer re-reads all deadlines (no markDirty needed)', async (t) => {
  const ep = new ManyEndpoint(3);
  const driver = new UdpDriver(ep, {});
  const now = driver.clock();
  driver.flush();
  ep.conns[1]!.timeout = now + 30;
  driver.flush();
  await sleep(120);
  t.is(ep.conns[1]!.fired.length, 1);
  t.is(ep.conns[0]!.fired.length + ep.conns[2]!.fired.length, 0);
  await driver.close();
});
