// Scenarios (issue 5): key update mid-transfer by either side (RFC 9001 §6), stateless reset after
// the server lost its state (RFC 9000 §10.3), idle timeout (§10.1), and closing with each error
// class (§10.2: application and transport CONNECTION_CLOSE, TLS alert → CRYPTO_ERROR).
import test from 'ava';
import { TransportErrorCode } from '../../src/codec/errors.js';
import { World, describe, scenarioSeeds } from '../support/world.js';

for (const initiator of ['client', 'server'] as const) {
  for (const seed of scenarioSeeds([1, 2])) {
    test(`key update initiated by the ${initiator} mid-transfer, three times; both sides follow (seed ${seed})`, (t) => {
      const w = new World({ seed, up: { delay: 10, loss: 0.01 }, down: { delay: 10, loss: 0.01 } });
      t.true(w.handshake(3000), w.summary());
      const [client] = w.transfer(Array.from({ length: 4 }, () => ({ upload: 200_000, download: 500_000 })));
      const updater = () => (initiator === 'client' ? w.conn : w.serverConns[0]!);
      let started = 0;
      for (const at of [300_000, 900_000, 1_500_000]) {
        t.true(w.net.runUntil(() => client!.bytesDownloaded >= at, 30_000), w.summary());
        // An update may be refused while the previous one is unacknowledged (RFC 9001 §6.5): retry.
        t.true(w.net.runUntil(() => updater().updateKeys(), 5000), `update at ${at} never allowed`);
        started++;
      }
      t.true(w.runTransfers(60_000), w.summary());
      t.deepEqual(w.errors(), []);
      t.is(client!.bytesDownloaded, 2_000_000);
      const sc = w.serverConns[0]!;
      t.is(started, 3);
      t.true(w.conn.stats.keyUpdates >= 3, `client keyUpdates ${w.conn.stats.keyUpdates}`);
      t.true(sc.stats.keyUpdates >= 3, `server keyUpdates ${sc.stats.keyUpdates}`);
      const phases = w.clients[0]!.events('key-updated').map((e) => e.phase);
      t.true(phases.length >= 3, `client key-updated events ${JSON.stringify(phases)}`);
      t.true(w.server.events('key-updated').length >= 3);
    });
  }
}

for (const seed of scenarioSeeds([1, 2])) {
  test(`stateless reset: the server forgets the connection; the client's next packets draw a reset and it closes with kind "reset" (seed ${seed})`, (t) => {
    const w = new World({ seed });
    t.true(w.handshake(3000));
    w.transfer([{ upload: 1000, download: 1000 }]);
    t.true(w.runTransfers(5000));
    const sc = w.serverConns[0]!;
    w.server.endpoint.forget(sc); // state lost (crash/restart with the same static key)
    // the client sends more: a new request
    w.transfer([{ upload: 5000, download: 5000 }]);
    t.true(w.net.runUntil(() => w.conn.state === 'closed' || w.conn.state === 'draining', 10_000), w.summary());
    t.is(w.conn.error?.kind, 'reset', w.conn.error ? describe(w.conn.error) : 'no error');
    t.true(w.server.endpoint.stats.statelessResetSent >= 1);
    t.true(w.server.endpoint.stats.dropped.unknown_cid >= 1);
    // after draining the client is gone from its endpoint
    t.true(w.net.runUntil(() => w.clients[0]!.endpoint.connectionCount === 0, 10_000));
    t.is(w.clients[0]!.events('closed')[0]?.error.kind, 'reset');
  });
}

for (const seed of scenarioSeeds([1, 2])) {
  test(`idle timeout: both sides close silently after the negotiated 2 s of inactivity (seed ${seed})`, (t) => {
    const w = new World({ seed, server: { transport: { maxIdleTimeout: 5000 } }, client: { transport: { maxIdleTimeout: 2000 } } });
    t.true(w.handshake(3000));
    w.transfer([{ upload: 1000, download: 1000 }]);
    t.true(w.runTransfers(5000));
    const idleFrom = w.net.now;
    const sc = w.serverConns[0]!;
    let datagramsAfter = 0;
    w.net.tap((kind) => {
      if (kind === 'transmit') datagramsAfter++;
    });
    t.true(w.net.runUntil(() => w.conn.state === 'closed' && sc.state === 'closed', 20_000), w.summary());
    const closedAt = w.clients[0]!.log.find((e) => e.event.type === 'closed')!.time;
    t.is(w.conn.error?.kind, 'idle');
    t.is(sc.error?.kind, 'idle');
    const idle = closedAt - idleFrom;
    t.true(idle >= 2000 && idle < 2500, `client closed after ${idle} ms idle`);
    t.true(datagramsAfter <= 4, `${datagramsAfter} datagrams sent while idle (an idle close is silent)`);
    t.is(w.server.endpoint.connectionCount, 0);
    t.is(w.clients[0]!.endpoint.connectionCount, 0);
  });
}

test('application close: the peer sees kind "application" with our code and reason', (t) => {
  const w = new World({ seed: 1 });
  t.true(w.handshake(3000));
  w.conn.close(0x1234, 'done here');
  t.true(w.net.runUntil(() => w.serverConns.length === 0 || w.serverConns[0]!.state === 'draining' || w.serverConns[0]!.state === 'closed', 5000));
  t.true(w.net.runUntil(() => w.server.events('closed').length === 1 && w.clients[0]!.events('closed').length === 1, 10_000), w.summary());
  const remote = w.server.events('closed')[0]!.error;
  t.is(remote.kind, 'application');
  t.is(remote.code, 0x1234);
  t.is(remote.reason, 'done here');
  t.true(remote.remote);
  const local = w.clients[0]!.events('closed')[0]!.error;
  t.is(local.kind, 'application');
  t.false(local.remote);
});

test('transport close: the server closes with PROTOCOL_VIOLATION; the client sees kind "transport"', (t) => {
  const w = new World({ seed: 2 });
  t.true(w.handshake(3000));
  w.serverConns[0]!.close(TransportErrorCode.PROTOCOL_VIOLATION, 'test violation', false);
  t.true(w.net.runUntil(() => w.clients[0]!.events('closed').length === 1, 10_000), w.summary());
  const e = w.clients[0]!.events('closed')[0]!.error;
  t.is(e.kind, 'transport');
  t.is(e.code, TransportErrorCode.PROTOCOL_VIOLATION);
  t.true(e.remote);
  t.is(e.errCode.startsWith('ERR_QUIC'), true);
});

test('TLS failure: a client that does not trust the certificate closes with CRYPTO_ERROR; the server sees it', (t) => {
  const w = new World({ seed: 3, connect: false });
  const conn = w.connect(w.clients[0]!, { ca: [] as Uint8Array[] });
  t.true(w.net.runUntil(() => conn.state === 'closed' || conn.state === 'draining', 10_000), w.summary());
  const e = conn.error!;
  t.is(e.kind, 'transport', describe(e));
  t.true(e.code >= 0x100 && e.code <= 0x1ff, describe(e));
  t.false(e.remote);
  t.true(w.net.runUntil(() => w.server.events('closed').length === 1, 10_000), w.summary());
  const se = w.server.events('closed')[0]!.error;
  t.is(se.code, e.code);
  t.true(se.remote);
});

test('close during a transfer: streams stop, both ends reach closed and leave their endpoints', (t) => {
  const w = new World({ seed: 4 });
  t.true(w.handshake(3000));
  w.transfer(Array.from({ length: 4 }, () => ({ upload: 100_000, download: 400_000 })));
  t.true(w.net.runUntil(() => w.app.bytesUploaded > 100_000, 10_000));
  w.conn.close(7, 'abort');
  t.true(w.net.runUntil(() => w.server.endpoint.connectionCount === 0 && w.clients[0]!.endpoint.connectionCount === 0, 10_000), w.summary());
  t.is(w.server.events('closed')[0]!.error.code, 7);
  t.is(w.server.endpoint.routingEntries, 0);
  t.is(w.clients[0]!.endpoint.routingEntries, 0);
});
