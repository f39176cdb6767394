// The shard (src/multicore/shard.ts) in process, on a virtual clock: a sans-IO client endpoint
// talks to a Shard through real SAB rings (the test plays the main thread: it pushes the client's
// datagrams into the RX ring with the client's address and delivers TX slots back). Checks: the
// handshake and an echo of 300 KB over the built-in echo app; every CID the server issued carries
// the shard's worker index (RFC 9000 §5.1 CIDs via the pluggable generator); the client's Initial
// DCID comes back as a Control slot once the handshake is done (RFC 9000 §5.2: the router may
// forget it); a NAT rebinding (new source port) is validated and migrated to (RFC 9000 §9.3); a
// TX ring far smaller than the flight defers without losing data; draining refuses new
// connections with CONNECTION_REFUSED (RFC 9000 §5.2.2); closeAll sends CONNECTION_CLOSE.
import test from 'ava';
import { Connection, type ConnectionEvent, type PathInfo } from '../../src/connection/index.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { Endpoint } from '../../src/endpoint/index.js';
import { EchoApp } from '../../src/multicore/app.js';
import { encodeAddress } from '../../src/multicore/address.js';
import { WorkerCidCodec } from '../../src/multicore/cid.js';
import { MetricsBlock, WORKER_SCHEMA } from '../../src/multicore/metrics-block.js';
import { RingConsumer, RingProducer, SlotKind, createRing } from '../../src/multicore/ring.js';
import { Shard } from '../../src/multicore/shard.js';
import { testCertificate, VIRTUAL_EPOCH } from '../support/cert.js';

const SERVER: PathInfo = { remoteAddress: '10.0.0.2', remotePort: 443 };
const KEY = new Uint8Array(16).fill(9);

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

class Harness {
  now = VIRTUAL_EPOCH;
  readonly codec = new WorkerCidCodec({ key: KEY, workers: 4 });
  readonly toShard: RingProducer;
  readonly fromShard: RingConsumer;
  readonly shard: Shard;
  readonly server: Endpoint<Connection>;
  readonly client: Endpoint<Connection>;
  readonly app = new EchoApp();
  readonly metrics = new MetricsBlock(WORKER_SCHEMA);
  /** Client DCIDs the shard released (Control slots). */
  readonly released: string[] = [];
  readonly buf = new Uint8Array(1500);
  readonly addr = new Uint8Array(16);
  clientAddr: PathInfo = { remoteAddress: '10.0.0.1', remotePort: 40000 };
  delivered = 0;

  constructor(opts: { worker?: number; txSlots?: number; seed?: number } = {}) {
    const rng = new SeededRandom(opts.seed ?? 1);
    const cert = testCertificate();
    const rx = createRing(64);
    const tx = createRing(opts.txSlots ?? 64);
    this.toShard = new RingProducer(rx);
    this.fromShard = new RingConsumer(tx);
    const worker = opts.worker ?? 2;
    this.server = new Endpoint<Connection>({
      rng,
      server: { alpn: ['echo'], certificate: cert.certPem, privateKey: cert.keyPem },
      cidGenerator: this.codec.generator(worker, rng),
    });
    this.shard = new Shard({
      index: worker,
      endpoint: this.server,
      rx: new RingConsumer(rx),
      tx: new RingProducer(tx),
      app: this.app,
      clock: () => this.now,
      metrics: this.metrics,
    });
    this.client = new Endpoint<Connection>({ rng: new SeededRandom((opts.seed ?? 1) + 100) });
  }

  connect(): Connection {
    const cert = testCertificate();
    return this.client.connect(SERVER, { alpn: ['echo'], serverName: 'localhost', ca: [cert.certDer] }, this.now);
  }

  /** One round: client datagrams → RX ring → shard → TX ring → client. Returns datagrams moved. */
  round(): number {
    let moved = 0;
    for (const conn of this.client.connections()) {
      for (let info = conn.send(this.buf, this.now); info !== null; info = conn.send(this.buf, this.now)) {
        const family = encodeAddress(this.clientAddr.remoteAddress, this.addr);
        if (this.toShard.space() === 0) this.serve(); // as the worker would, concurrently
        if (!this.toShard.push(this.buf.subarray(0, info.length), SlotKind.Datagram, family, this.addr, this.clientAddr.remotePort)) throw new Error('RX ring full');
        moved++;
      }
    }
    this.serve();
    for (let s = this.fromShard.take(); s >= 0; s = this.fromShard.take()) {
      const data = this.fromShard.data(s);
      if (this.fromShard.kind(s) === SlotKind.Control) {
        this.released.push(hex(data));
        continue;
      }
      // The shard addressed it to where the client appears to be.
      if (this.fromShard.port(s) !== this.clientAddr.remotePort) throw new Error(`datagram to port ${this.fromShard.port(s)}`);
      this.client.handle(data.slice(), SERVER, this.now);
      this.delivered++;
      moved++;
    }
    this.fromShard.releaseTaken();
    return moved;
  }

  /** The shard's side of a turn: publish what the client sent, receive it, flush. */
  serve(): void {
    this.toShard.publish();
    while (this.shard.receive(this.now) > 0) {}
    this.shard.flush(this.now);
  }

  /** Rounds until `done()` (advancing the clock 1 ms per round, or to the next timer when idle). */
  run(done: () => boolean, maxRounds = 20_000): void {
    for (let i = 0; i < maxRounds; i++) {
      if (done()) return;
      const moved = this.round();
      if (moved === 0) {
        let next = Math.min(this.shard.nextDeadline(), this.client.nextTimeout());
        if (next === Infinity) next = this.now + 1;
        this.now = Math.max(this.now + 1, next);
        this.shard.runTimers(this.now);
        this.client.onTimeout(this.now);
      } else this.now += 1;
    }
    throw new Error('did not finish');
  }
}

/** Client side of an echo: write `data` on a new stream, read everything back. */
function echo(conn: Connection, data: Uint8Array) {
  const got: Uint8Array[] = [];
  let gotBytes = 0;
  let fin = false;
  let written = 0;
  let id = -1;
  const scratch = new Uint8Array(65536);
  const step = (): void => {
    if (id < 0 && conn.handshakeComplete) id = conn.openStream(true) ?? -1;
    if (id < 0) return;
    if (written < data.length) {
      const n = conn.streamWrite(id, data.subarray(written), true);
      if (n > 0) written += n;
    }
    for (;;) {
      const r = conn.streamRead(id, scratch);
      if (r.bytes > 0) {
        got.push(scratch.slice(0, r.bytes));
        gotBytes += r.bytes;
      }
      if (r.fin) fin = true;
      if (r.bytes === 0 || r.fin) break;
    }
  };
  return {
    step,
    get done() {
      return fin;
    },
    result(): Uint8Array {
      return Buffer.concat(got);
    },
    get bytes() {
      return gotBytes;
    },
  };
}

function drainEvents(conn: Connection, log: ConnectionEvent[] = []): ConnectionEvent[] {
  for (let e = conn.pollEvent(); e !== undefined; e = conn.pollEvent()) log.push(e);
  return log;
}

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + (i >> 9)) & 0xff;
  return b;
}

test('handshake and a 300 KB echo through the rings; CIDs carry the worker; the Initial DCID is released', (t) => {
  const h = new Harness({ worker: 2 });
  const conn = h.connect();
  const initialDcid = hex(conn.peerCid);
  const data = pattern(300_000);
  const e = echo(conn, data);
  h.run(() => {
    drainEvents(conn);
    e.step();
    return e.done;
  });
  t.true(Buffer.from(data).equals(e.result()), 'echoed bytes equal the sent bytes');
  // The client now sends to a CID the server issued: it carries worker 2.
  t.is(h.codec.workerOf(conn.peerCid), 2);
  const snap = h.shard.snapshot();
  t.is(snap.connections.length, 1);
  for (const c of snap.connections[0]!.localCids) t.is(h.codec.workerOf(Buffer.from(c, 'hex')), 2, 'every issued CID routes to this worker');
  t.deepEqual(h.released, [initialDcid], 'the router entry of the client-chosen DCID is released once');
  const m = h.metrics.snapshot();
  t.is(m.connections_accepted, 1);
  t.is(m.handshakes_completed, 1);
  t.is(m.connections_active, 1);
  t.is(m.dcids_released, 1);
  t.true(m.datagrams_received > 200);
  t.true(m.datagrams_sent > 200);
  t.is(m.core_errors, 0);
  t.is(h.app.bytesEchoed, data.length);
  t.is(snap.connections[0]!.alpn, 'echo');
});

test('NAT rebinding: a new client source port is validated and becomes the path; nothing else changes', (t) => {
  const h = new Harness({ worker: 1 });
  const conn = h.connect();
  const data = pattern(200_000);
  const e = echo(conn, data);
  let rebound = false;
  h.run(() => {
    drainEvents(conn);
    e.step();
    if (!rebound && e.bytes > 50_000) {
      rebound = true;
      h.clientAddr = { remoteAddress: '10.0.0.1', remotePort: 51000 };
    }
    return e.done;
  });
  t.true(Buffer.from(data).equals(e.result()), 'echoed bytes equal the sent bytes');
  const c = h.shard.snapshot().connections[0]!;
  t.is(c.remotePort, 51000);
  t.true(c.pathChanges >= 1, 'path-migrated seen by the shard');
  t.is(h.codec.workerOf(conn.peerCid), 1);
});

test('a TX ring much smaller than a flight defers sends (counted) and loses nothing', (t) => {
  const h = new Harness({ worker: 0, txSlots: 4 });
  const conn = h.connect();
  const data = pattern(150_000);
  const e = echo(conn, data);
  h.run(() => {
    drainEvents(conn);
    e.step();
    return e.done;
  });
  t.true(Buffer.from(data).equals(e.result()), 'echoed bytes equal the sent bytes');
  const m = h.metrics.snapshot();
  t.true(m.tx_ring_full > 0, `tx_ring_full ${m.tx_ring_full}`);
  t.is(h.fromShard.counters().dropsFull, 0, 'the shard never drops on a full TX ring');
  t.is(conn.stats.packetsLost, 0, 'no loss: deferral is not drop');
});

test('draining refuses new connections with CONNECTION_REFUSED; closeAll closes the rest with the application code', (t) => {
  const h = new Harness({ worker: 3 });
  const first = h.connect();
  const log1: ConnectionEvent[] = [];
  h.run(() => {
    drainEvents(first, log1);
    return first.handshakeComplete;
  });
  h.shard.setAccepting(false);
  const second = h.connect();
  const log2: ConnectionEvent[] = [];
  h.run(() => {
    drainEvents(second, log2);
    return second.state === 'draining' || second.state === 'closed';
  });
  // (The 'closed' event follows when the draining period ends; the error is set now.)
  const e2 = second.error;
  t.truthy(e2);
  t.is(e2?.kind, 'transport');
  t.is(e2?.code, 0x02, 'CONNECTION_REFUSED');
  t.true(e2?.remote);
  t.is(h.shard.closeAll(0x77, 'bye'), 1, 'only the established connection was open');
  h.run(() => {
    drainEvents(first, log1);
    return first.state === 'draining' || first.state === 'closed';
  });
  const e1 = first.error;
  t.is(e1?.kind, 'application');
  t.is(e1?.code, 0x77);
  t.true(e1?.remote);
  // Both connections eventually leave the shard; the refused one never completed its handshake.
  h.run(() => h.shard.connectionCount === 0);
  const m = h.metrics.snapshot();
  t.is(m.connections_closed, 2);
  t.is(m.handshakes_failed, 0, 'a refused connection is not a failed handshake');
  t.is(m.connections_accepted, 2);
  t.is(h.released.length, 2, 'both client DCIDs released (one after its handshake, one when it closed)');
});

test('garbage in the RX ring is dropped by the endpoint and counted, never thrown', (t) => {
  const h = new Harness();
  const addr = new Uint8Array(16);
  const fam = encodeAddress('192.0.2.1', addr);
  const rng = new SeededRandom(5);
  let pushed = 0;
  for (let i = 0; i < 300; i++) {
    const d = rng.randomBytes(1 + ((i * 7) % 1400));
    if (i % 3 === 0) d[0] = d[0]! & 0x7f; // some short headers
    t.true(h.toShard.push(d, SlotKind.Datagram, fam, addr, 1000 + i));
    pushed++;
    if (i % 50 === 49) {
      // Control slots in RX are skipped.
      h.toShard.push(new Uint8Array(3), SlotKind.Control, 0, undefined, 0);
      h.toShard.publish();
      while (h.shard.receive(h.now) > 0) h.shard.flush(h.now);
    }
  }
  h.shard.syncEndpointMetrics();
  const m = h.metrics.snapshot();
  t.is(m.core_errors, 0);
  t.is(m.connections_accepted, 0);
  t.is(m.datagrams_received, pushed);
  let drops = 0;
  for (const [k, v] of Object.entries(m)) if (k.startsWith('dropped_')) drops += v;
  // Each one is dropped under a reason, or answered by the endpoint itself (Version Negotiation).
  t.true(m.version_negotiation_sent > 0);
  t.is(drops + m.version_negotiation_sent, m.datagrams_received, 'every garbage datagram counted');
});
