// Streams over a live connection (RFC 9000 §2–§4): many concurrent bidirectional streams with flow
// control in both directions, small windows (interop "transfer"), and more streams than the
// concurrency limit (interop "multiplexing").
import test from 'ava';
import { StreamApp } from './app.js';
import { Pair, type PairOptions } from './pair.js';

const MB = 1024 * 1024;

/** Client uploads `perStream` bytes on each of `streams` streams; the server answers each with the same amount. */
function echoTransfer(t: import('ava').ExecutionContext, opts: PairOptions, streams: number, perStream: number, maxMs = 120_000) {
  const p = new Pair(opts);
  t.true(p.handshake(), 'handshake');
  const capp = new StreamApp(p.client);
  const sapp = new StreamApp(p.server!);
  sapp.onFinished = (id, received) => sapp.send(id, received, true);
  p.onEvent = (side, _conn, e) => (side === 'client' ? capp : sapp).handle(e);
  const ids: number[] = [];
  for (let i = 0; i < streams; i++) {
    const id = p.client.openStream(true);
    t.not(id, null);
    ids.push(id!);
    capp.send(id!, perStream, true);
  }
  const done = p.runUntil(() => capp.finishedCount() === streams, maxMs);
  t.true(done, `transfer finished (client got ${capp.totalReceived()} of ${streams * perStream})`);
  t.is(sapp.totalReceived(), streams * perStream);
  t.is(capp.totalReceived(), streams * perStream);
  t.false(capp.anyCorrupt());
  t.false(sapp.anyCorrupt());
  t.is(Pair.internals(p.client).internalError, undefined);
  t.is(Pair.internals(p.server!).internalError, undefined);
  return p;
}

test('10 MB each way on 16 concurrent streams', (t) => {
  const p = echoTransfer(t, {}, 16, (10 * MB) / 16);
  t.log(`virtual time ${p.now - 1735689600000} ms, client stats`, JSON.stringify(p.client.stats));
});

test('flow-control-limited transfer with small windows (1 MB over 4 streams, 16 KiB stream / 32 KiB connection window)', (t) => {
  const small = { initialMaxData: 32 * 1024, initialMaxStreamDataBidiLocal: 16 * 1024, initialMaxStreamDataBidiRemote: 16 * 1024, initialMaxStreamDataUni: 16 * 1024 };
  const p = echoTransfer(t, { client: { transport: small }, server: { transport: small } }, 4, MB / 4);
  const cs = Pair.internals(p.client);
  t.true(cs.streams.connRecv.maxData > 32 * 1024, 'MAX_DATA raised the connection window');
});

test('2000 streams through a limit of 100 concurrent bidirectional streams', (t) => {
  const lim = { initialMaxStreamsBidi: 100 };
  const p = new Pair({ client: { transport: lim }, server: { transport: lim } });
  t.true(p.handshake());
  const capp = new StreamApp(p.client);
  const sapp = new StreamApp(p.server!);
  sapp.onFinished = (id, received) => sapp.send(id, received, true);
  let opened = 0;
  const target = 2000;
  const openMore = () => {
    while (opened < target) {
      const id = p.client.openStream(true);
      if (id === null) return;
      opened++;
      capp.send(id, 1000, true);
    }
  };
  p.onEvent = (side, _c, e) => {
    (side === 'client' ? capp : sapp).handle(e);
    if (side === 'client' && e.type === 'streams-available') openMore();
  };
  openMore();
  t.is(opened, 100, 'the peer limit stops openStream at 100');
  t.true(p.runUntil(() => capp.finishedCount() === target, 120_000), `finished ${capp.finishedCount()}`);
  t.is(sapp.totalReceived(), target * 1000);
  t.false(capp.anyCorrupt());
  t.is(p.client.stats.streamsOpenedLocal, target);
  t.is(p.server!.stats.streamsOpenedRemote, target);
});

test('send backpressure: 1.5 MB writes exceed the 1 MiB send buffer; stream-writable wakes the writer', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  const capp = new StreamApp(p.client);
  const sapp = new StreamApp(p.server!);
  capp.chunk = 1_500_000; // one big write per stream: accepted partially
  sapp.onFinished = (id, received) => sapp.send(id, received, true);
  p.onEvent = (side, _c, e) => (side === 'client' ? capp : sapp).handle(e);
  const id = p.client.openStream(true)!;
  const accepted = p.client.streamWrite(id, new Uint8Array(1_500_000));
  t.true(accepted > 0 && accepted < 1_500_000, `accepted ${accepted}`);
  p.client.streamReset(id, 1);
  for (let i = 0; i < 2; i++) capp.send(p.client.openStream(true)!, 1_500_000, true);
  t.true(p.runUntil(() => capp.finishedCount() === 2, 60_000));
  t.false(capp.anyCorrupt());
  t.true(p.clientEvents.some((e) => e.type === 'stream-writable'));
});

test('streamWriteOwned: the bytes are queued by reference, arrive intact, and the send-buffer limit applies as for streamWrite', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  const id = p.client.openStream(true)!;
  const data = new Uint8Array(3000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  t.is(p.client.streamWriteOwned(id, data, true), 3000);
  const got: number[] = [];
  let fin = false;
  const out = new Uint8Array(4096);
  t.true(
    p.runUntil(() => {
      if (!p.serverEvents.some((e) => e.type === 'stream-opened')) return false;
      for (;;) {
        const r = p.server!.streamRead(id, out);
        for (let i = 0; i < r.bytes; i++) got.push(out[i]!);
        if (r.fin) fin = true;
        if (r.bytes === 0) break;
      }
      return fin;
    }),
  );
  t.deepEqual(Uint8Array.from(got), data);
  const big = p.client.openStream(true)!;
  const accepted = p.client.streamWriteOwned(big, new Uint8Array(1_500_000));
  t.true(accepted > 0 && accepted < 1_500_000, `accepted ${accepted}`);
  t.is(p.client.streamWriteOwned(big, new Uint8Array(10)), 0);
  p.client.close(0, 'done');
  t.is(p.client.streamWriteOwned(big, new Uint8Array(10)), -1);
});
