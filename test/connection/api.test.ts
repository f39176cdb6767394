// The Connection's API contract: option validation (TypeError/RangeError naming the option),
// argument checks, the client's first Initial (RFC 9000 §14.1 padding, §7.2 DCID ≥ 8 bytes),
// stream calls on released streams, and events for the endpoint's routing table.
import test from 'ava';
import { Connection, QUIC_V2, parseInitial } from '../../src/connection/index.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { StreamApp } from './app.js';
import { Pair, VIRTUAL_EPOCH, baseClientOptions } from './pair.js';

const rng = new SeededRandom(1);

test('option validation names the option', (t) => {
  const base = baseClientOptions(rng);
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ role: 'peer' }, /options\.role/],
    [{ alpn: [] }, /options\.alpn/],
    [{ version: 0x1234 }, /options\.version/],
    [{ rng: {} }, /options\.rng/],
    [{ transport: { initialMaxData: -1 } }, /options\.transport\.initialMaxData/],
    [{ transport: { maxAckDelay: 1 << 14 } }, /options\.transport\.maxAckDelay/],
    [{ transport: { bogus: 1 } }, /options\.transport\.bogus/],
    [{ congestionControl: 'bbr' }, /options\.congestionControl/],
    [{ initialDcid: new Uint8Array(4) }, /options\.initialDcid/],
    [{ remote: undefined }, /options\.remote/],
    [{ maxDatagramSize: 1000 }, /options\.maxDatagramSize/],
    [{ keepAliveInterval: 1.5 }, /options\.keepAliveInterval/],
  ];
  for (const [patch, re] of bad) {
    const e = t.throws(() => new Connection({ ...base, ...patch } as never, VIRTUAL_EPOCH));
    t.true(e instanceof TypeError || e instanceof RangeError, String(e));
    t.regex(e!.message, re);
  }
  t.throws(() => new Connection({ ...base, role: 'server' } as never, VIRTUAL_EPOCH), { message: /initialDcid|certificate/ });
  t.throws(() => new Connection(base, NaN), { instanceOf: TypeError, message: /now/ });
});

test("the client's first datagram: one Initial, padded to 1200, DCID of 8 bytes, its version", (t) => {
  const c = new Connection({ ...baseClientOptions(rng), version: QUIC_V2 }, VIRTUAL_EPOCH);
  const out = new Uint8Array(1500);
  const info = c.send(out, VIRTUAL_EPOCH)!;
  t.is(info.length, 1200);
  t.deepEqual(info.to, { remoteAddress: '10.0.0.2', remotePort: 443 });
  t.true(info.releaseTime <= VIRTUAL_EPOCH);
  const ini = parseInitial(out.subarray(0, info.length))!;
  t.is(ini.version, QUIC_V2);
  t.is(ini.dcid.length, 8);
  t.deepEqual(ini.scid, c.sourceCid);
  t.true(c.nextTimeout() > VIRTUAL_EPOCH && c.nextTimeout() < VIRTUAL_EPOCH + 2000, 'PTO armed');
  t.is(c.send(out, VIRTUAL_EPOCH), null, 'nothing more to send');
});

test('argument checks: TypeError/RangeError naming the argument', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  const c = p.client;
  t.throws(() => c.receive('x' as never, p.clientAddr, p.now), { instanceOf: TypeError, message: /datagram/ });
  t.throws(() => c.receive(new Uint8Array(1), {} as never, p.now), { instanceOf: TypeError, message: /from/ });
  t.throws(() => c.send(new Uint8Array(10), Infinity), { instanceOf: TypeError, message: /now/ });
  t.throws(() => c.openStream('yes' as never), { instanceOf: TypeError, message: /bidirectional/ });
  t.throws(() => c.streamWrite(-1, new Uint8Array(1)), { instanceOf: RangeError, message: /id/ });
  t.throws(() => c.streamWrite(400, new Uint8Array(1)), { instanceOf: RangeError, message: /never opened/ });
  const id = c.openStream(true)!;
  t.throws(() => c.streamReset(id, -3), { instanceOf: RangeError, message: /code/ });
  t.throws(() => c.streamSetPriority(id, 9, true), { instanceOf: RangeError, message: /urgency/ });
  t.throws(() => c.close(1.5), { instanceOf: RangeError, message: /code/ });
  const uni = c.openStream(false)!;
  t.throws(() => c.streamRead(uni, new Uint8Array(10)), { instanceOf: RangeError, message: /send-only/ });
});

test('calls on a finished and released stream are no-ops; the connection reports stream-closed', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  const capp = new StreamApp(p.client);
  const sapp = new StreamApp(p.server!);
  sapp.onFinished = (id, n) => sapp.send(id, n, true);
  p.onEvent = (side, _c, e) => (side === 'client' ? capp : sapp).handle(e);
  const id = p.client.openStream(true)!;
  capp.send(id, 1000, true);
  t.true(p.runUntil(() => p.clientEvents.some((e) => e.type === 'stream-closed' && e.id === id), 5_000));
  t.false(p.client.hasStream(id));
  t.is(p.client.streamWrite(id, new Uint8Array(3)), -1);
  t.deepEqual(p.client.streamRead(id, new Uint8Array(3)), { bytes: 0, fin: true, resetCode: -1 });
  t.notThrows(() => {
    p.client.streamReset(id, 1);
    p.client.streamStopSending(id, 1);
    p.client.streamFinish(id);
    p.client.streamSetPriority(id, 1, false);
  });
});

test('peer reset and STOP_SENDING surface as events with their codes', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  const a = p.client.openStream(true)!;
  p.client.streamWrite(a, new Uint8Array(100));
  p.client.streamReset(a, 77);
  const b = p.client.openStream(true)!;
  p.client.streamWrite(b, new Uint8Array(10));
  p.runUntil(() => p.serverEvents.some((e) => e.type === 'stream-reset'), 2_000);
  const r = p.serverEvents.find((e) => e.type === 'stream-reset');
  t.like(r, { type: 'stream-reset', id: a, code: 77 });
  p.server!.streamStopSending(b, 55);
  p.runUntil(() => p.clientEvents.some((e) => e.type === 'stream-stop-sending'), 2_000);
  t.like(p.clientEvents.find((e) => e.type === 'stream-stop-sending'), { id: b, code: 55 });
  t.is(p.client.streamWrite(b, new Uint8Array(1)), -1, 'our side is reset after STOP_SENDING');
});

test('cid-issued events list every CID the endpoint must route; localCids matches', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  p.runUntil(() => false, 100);
  const issued = p.serverEvents.filter((e) => e.type === 'cid-issued').length;
  t.is(p.server!.localCids.length, issued + 1);
  t.is(p.client.localCids.length, p.clientEvents.filter((e) => e.type === 'cid-issued').length + 1);
});

test('a closing connection turns new work into no-ops (a peer may close at any time)', (t) => {
  const p = new Pair();
  t.true(p.handshake());
  const id = p.client.openStream(true)!;
  p.client.close(0);
  t.is(p.client.openStream(true), null);
  t.is(p.client.streamWrite(id, new Uint8Array(1)), -1);
  t.notThrows(() => p.client.streamFinish(id));
  t.is(p.client.sendDatagram(new Uint8Array(1)), null);
});
