// 0-RTT and the server's limits (RFC 9001 §4.6.2, RFC 9000 §7.4.1, RFC 9221 §3): a rejected 0-RTT
// attempt restarts the client's streams under the server's NEW (here lower) limits and the data
// goes again in 1-RTT packets; a server that accepts 0-RTT but lowers a remembered limit draws
// PROTOCOL_VIOLATION; while 0-RTT packets may go out, only the remembered limits apply.
import test from 'ava';
import { TransportErrorCode } from '../../src/codec/errors.js';
import type { ConnectionOptions, QlogEvent } from '../../src/connection/index.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { AntiReplay } from '../../src/tls/anti-replay.js';
import { TicketKeyring } from '../../src/tls/session-ticket.js';
import { StreamApp } from './app.js';
import { Pair } from './pair.js';

/** A session ticket from a first connection to a server with `transport`. */
function ticketFrom(server: Partial<ConnectionOptions>): { ticket: Uint8Array; at: number } {
  const p = new Pair({ server });
  if (!p.handshake()) throw new Error('first handshake failed');
  p.runUntil(() => p.clientEvents.some((e) => e.type === 'session-ticket'), 2_000);
  const ev = p.clientEvents.find((e) => e.type === 'session-ticket');
  if (ev?.type !== 'session-ticket') throw new Error('no session ticket');
  return { ticket: ev.ticket, at: p.now };
}

/** A resumed pair; the server echoes each stream back. */
function resumed(server: Partial<ConnectionOptions>, ticket: Uint8Array, start: number, client: Partial<ConnectionOptions> = {}) {
  const p = new Pair({ seed: 9, start, server, client: { session: ticket, enableEarlyData: true, ...client } });
  const capp = new StreamApp(p.client);
  let sapp: StreamApp | null = null;
  p.onEvent = (side, conn, e) => {
    if (side === 'client') return capp.handle(e);
    if (sapp === null) {
      sapp = new StreamApp(conn);
      sapp.onFinished = (sid, n) => sapp!.send(sid, n, true);
    }
    sapp.handle(e);
  };
  return { p, capp };
}

function serverBase() {
  return { ticketKeys: new TicketKeyring({ random: new SeededRandom(41) }), antiReplay: new AntiReplay(), enableEarlyData: true };
}

test('0-RTT rejected because the server lowered its limits: streams restart under the new limits, data goes again in 1-RTT', (t) => {
  const base = serverBase();
  const { ticket, at } = ticketFrom(base);
  // The server now offers far less than the ticket remembers (4 MiB / 1 MiB / 100 streams): it must reject.
  const lowered = { ...base, transport: { initialMaxData: 16_384, initialMaxStreamDataBidiRemote: 8_192, initialMaxStreamsBidi: 2 } };
  const { p, capp } = resumed(lowered, ticket, at + 1000);
  const ids: number[] = [];
  for (let i = 0; i < 4; i++) {
    const id = p.client.openStream(true);
    t.not(id, null, 'the remembered limits allow 4 streams in 0-RTT');
    ids.push(id!);
    capp.send(id!, 20_000, true);
  }
  t.true(p.handshake(), `client ${p.client.state} ${JSON.stringify(p.client.error)}`);
  t.true(p.client.resumed);
  t.false(p.client.earlyDataAccepted, 'the server rejected 0-RTT');
  t.true(Pair.internals(p.client).earlyDataRejected);
  t.true(p.runUntil(() => capp.finishedCount() === 4, 20_000), `echoed ${capp.totalReceived()} of 80000; server ${p.server!.state} ${JSON.stringify(p.server!.error)}`);
  t.false(capp.anyCorrupt());
  t.is(p.server!.error, null, 'no FLOW_CONTROL_ERROR / STREAM_LIMIT_ERROR at the server');
  t.is(p.client.error, null);
  t.is(p.server!.stats.streamsOpenedRemote, 4);
});

test('0-RTT accepted but a remembered limit lowered: the client closes with PROTOCOL_VIOLATION (RFC 9000 §7.4.1)', (t) => {
  const base = serverBase();
  const { ticket, at } = ticketFrom(base);
  // A (misbehaving) server that accepts whatever the ticket remembers while advertising less.
  const sloppy = {
    ...base,
    transport: { initialMaxData: 65_536 },
    tlsExtra: { earlyData: { antiReplay: base.antiReplay, accept: () => true } },
  };
  const { p, capp } = resumed(sloppy, ticket, at + 1000);
  capp.send(p.client.openStream(true)!, 1000, true);
  p.runUntil(() => p.client.state !== 'handshaking', 5_000);
  t.not(Pair.internals(p.server!).zeroRttOpen, null, 'the server accepted 0-RTT');
  t.is(p.client.error?.kind, 'transport');
  t.is(p.client.error?.code, TransportErrorCode.PROTOCOL_VIOLATION);
  t.regex(p.client.error?.reason ?? '', /initialMaxData/);
  p.runUntil(() => p.server!.state === 'closed' || p.server!.state === 'draining', 5_000);
  t.is(p.server!.error?.code, TransportErrorCode.PROTOCOL_VIOLATION, 'the server learns why');
});

test('0-RTT accepted with higher limits: 0-RTT packets stay within the remembered limits, 1-RTT uses the new ones', (t) => {
  const small = { ...serverBase(), transport: { initialMaxData: 8_192, initialMaxStreamDataBidiRemote: 4_096 } };
  const { ticket, at } = ticketFrom(small);
  const big = { ...small, transport: { initialMaxData: 1 << 20, initialMaxStreamDataBidiRemote: 1 << 20 } };
  const events: QlogEvent[] = [];
  const { p, capp } = resumed(big, ticket, at + 1000, { qlog: (e) => events.push(e) });
  const id = p.client.openStream(true)!;
  capp.send(id, 50_000, true);
  t.true(p.handshake());
  t.true(p.client.earlyDataAccepted);
  t.true(p.runUntil(() => capp.finishedCount() === 1, 10_000));
  t.false(capp.anyCorrupt());
  let zeroRttEnd = 0;
  let zeroRtt = 0;
  for (const e of events) {
    if (e.name !== 'transport:packet_sent' || (e.data.header as { packet_type: string }).packet_type !== '0RTT') continue;
    zeroRtt++;
    for (const f of e.data.frames as { frame_type: string; offset?: number; length?: number }[]) {
      if (f.frame_type === 'stream') zeroRttEnd = Math.max(zeroRttEnd, f.offset! + f.length!);
    }
  }
  t.true(zeroRtt > 0, 'some 0-RTT packets');
  t.true(zeroRttEnd > 0 && zeroRttEnd <= 4_096, `0-RTT stream data up to ${zeroRttEnd}`);
  t.is(p.server!.error, null);
});

// Server ticketAppData / acceptEarlyData (the hook HTTP/3 uses for remembered SETTINGS, RFC 9114
// §7.2.4.2): the bytes travel sealed in the ticket next to our transport parameters and come back
// to the veto, which runs only after the remembered transport parameters passed.
test('ticketAppData comes back to acceptEarlyData; its verdict decides 0-RTT, resumption works either way', (t) => {
  const app = new TextEncoder().encode('remembered-settings-v1');
  for (const verdict of [true, false]) {
    // A fresh server each time: AntiReplay makes 0-RTT single-use (and the seeded runs repeat).
    const base = serverBase();
    const { ticket, at } = ticketFrom({ ...base, ticketAppData: app });
    const seen: Uint8Array[] = [];
    const { p, capp } = resumed({ ...base, ticketAppData: app, acceptEarlyData: (b) => (seen.push(b.slice()), verdict) }, ticket, at + 1000);
    capp.send(p.client.openStream(true)!, 3000, true);
    t.true(p.handshake(), JSON.stringify(p.client.error ?? p.server?.error));
    t.true(p.client.resumed);
    t.is(p.client.earlyDataAccepted, verdict);
    t.deepEqual(seen, [app]);
    t.true(p.runUntil(() => capp.finishedCount() === 1, 10_000));
    t.false(capp.anyCorrupt());
  }
});

test('acceptEarlyData: tickets without ticketAppData pass an empty array; lowered transport limits reject before the veto runs; a throwing veto rejects', (t) => {
  const base = serverBase();
  const { ticket, at } = ticketFrom(base);
  const seen: Uint8Array[] = [];
  const a = resumed({ ...base, acceptEarlyData: (b) => (seen.push(b.slice()), true) }, ticket, at + 1000);
  t.true(a.p.handshake());
  t.true(a.p.client.earlyDataAccepted);
  t.deepEqual(seen, [new Uint8Array(0)]);

  // Each resumption below gets its own AntiReplay (single use per ticket), so only the hook decides.
  let called = 0;
  const lowered = { ...base, antiReplay: new AntiReplay(), transport: { initialMaxData: 16_384 }, acceptEarlyData: () => (called++, true) };
  const b = resumed(lowered, ticket, at + 2000);
  t.true(b.p.handshake());
  t.false(b.p.client.earlyDataAccepted);
  t.is(called, 0);

  const c = resumed({ ...base, antiReplay: new AntiReplay(), acceptEarlyData: () => { throw new Error('veto failed'); } }, ticket, at + 3000);
  t.true(c.p.handshake(), JSON.stringify(c.p.server?.error));
  t.true(c.p.client.resumed);
  t.false(c.p.client.earlyDataAccepted);
});

test('a ticket whose appData is not length-prefixed transport parameters (older layout): 0-RTT rejected, resumption still works', (t) => {
  const base = serverBase();
  // The ticket's appData as an older server wrote it would not parse as u16 ‖ parameters ‖ app.
  const { ticket, at } = ticketFrom({ ...base, tlsExtra: { sessionTickets: { keyring: base.ticketKeys, appData: Uint8Array.of(1, 2, 3) } } });
  const { p, capp } = resumed(base, ticket, at + 1000);
  capp.send(p.client.openStream(true)!, 3000, true);
  t.true(p.handshake());
  t.true(p.client.resumed);
  t.false(p.client.earlyDataAccepted);
  t.true(p.runUntil(() => capp.finishedCount() === 1, 10_000));
});

test('options.ticketAppData / options.acceptEarlyData are checked', (t) => {
  const base = serverBase();
  t.throws(() => new Pair({ server: { ...base, ticketAppData: 'x' as unknown as Uint8Array } }).handshake(), { instanceOf: TypeError, message: /options\.ticketAppData/ });
  t.throws(() => new Pair({ server: { ...base, ticketAppData: new Uint8Array(16385) } }).handshake(), { instanceOf: RangeError, message: /options\.ticketAppData/ });
  t.throws(() => new Pair({ server: { ...base, acceptEarlyData: true as unknown as () => boolean } }).handshake(), { instanceOf: TypeError, message: /options\.acceptEarlyData/ });
});
