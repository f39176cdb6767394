// fast-check properties of a live connection's receive path (RFC 9000 §12–§13, §19; DESIGN §5):
// random datagrams, mutated captured datagrams and correctly encrypted packets with random frame
// bytes never throw out of receive(), never hit an internal error, and end either in a drop or in
// CONNECTION_CLOSE with a protocol error code (never INTERNAL_ERROR).
import test from 'ava';
import fc from 'fast-check';
import { TransportErrorCode } from '../../src/codec/errors.js';
import { encodeLongHeader, encodeShortHeader, patchLength } from '../../src/codec/header.js';
import { PacketType, QUIC_V1 } from '../../src/codec/version.js';
import { initialProtection } from '../../src/crypto/initial.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { createServerConnection } from '../../src/connection/index.js';
import { Writer } from '../../src/util/bytes.js';
import { CLIENT_ADDR, Pair, SERVER_ADDR, VIRTUAL_EPOCH, baseServerOptions } from './pair.js';
import { StreamApp } from './app.js';

/** A pair that finished its handshake and exchanged a little stream data; captured datagrams included. */
function livePair(seed: number): { p: Pair; captured: Uint8Array[] } {
  const captured: Uint8Array[] = [];
  const p = new Pair({
    seed,
    filter: (_dir, d) => {
      if (captured.length < 64) captured.push(d.slice());
      return d;
    },
  });
  p.handshake();
  const capp = new StreamApp(p.client);
  const sapp = new StreamApp(p.server!);
  p.onEvent = (side, _c, e) => (side === 'client' ? capp : sapp).handle(e);
  capp.send(p.client.openStream(true)!, 5000, true);
  p.runUntil(() => sapp.finishedCount() === 1, 2000);
  return { p, captured };
}

const PROTOCOL_CODES = new Set<number>(Object.values(TransportErrorCode).filter((c) => c !== TransportErrorCode.INTERNAL_ERROR && c !== TransportErrorCode.CRYPTO_ERROR_BASE));

function acceptableEnd(p: Pair, side: 'client' | 'server'): boolean {
  const c = side === 'client' ? p.client : p.server!;
  const st = Pair.internals(c);
  if (st.internalError !== undefined) return false;
  if (c.state === 'established') return true;
  const e = c.error;
  if (e === null) return false;
  // A well-formed CONNECTION_CLOSE from the fuzzer is the peer closing: draining is right.
  if (e.remote) return c.state === 'draining' || c.state === 'closed';
  if (e.kind !== 'transport') return false;
  return PROTOCOL_CODES.has(e.code) || (e.code >= 0x100 && e.code <= 0x1ff);
}

test('random datagrams to both sides: never throw, never close an established connection', (t) => {
  const { p } = livePair(1);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 1500 }), fc.boolean(), (data, toServer) => {
      if (toServer) p.server!.receive(data, p.clientAddr, p.now);
      else p.client.receive(data, SERVER_ADDR, p.now);
      return p.client.state === 'established' && p.server!.state === 'established' && acceptableEnd(p, 'client') && acceptableEnd(p, 'server');
    }),
    { numRuns: 500, seed: 1 },
  );
  t.pass();
});

test('mutated captured datagrams (bit flips, truncation, splicing): dropped, never an internal error', (t) => {
  const { p, captured } = livePair(2);
  t.true(captured.length > 4);
  fc.assert(
    fc.property(
      fc.nat({ max: captured.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 8 }),
      fc.option(fc.nat(), { nil: undefined }),
      (which, flips, cut) => {
        const d = captured[which]!.slice();
        for (const [pos, mask] of flips) d[pos % d.length] ^= mask;
        const data = cut === undefined ? d : d.subarray(0, cut % (d.length + 1));
        // Captured datagrams are addressed both ways; deliver to both.
        p.server!.receive(data.slice(), p.clientAddr, p.now);
        p.client.receive(data.slice(), SERVER_ADDR, p.now);
        return acceptableEnd(p, 'client') && acceptableEnd(p, 'server');
      },
    ),
    { numRuns: 400, seed: 2 },
  );
  t.pass();
});

/** Frame-ish bytes: known frame types followed by varint-looking bytes. */
const frameBytes = fc
  .array(
    fc.oneof(
      fc.constantFrom(0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0b, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x30, 0x31),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(0x40, 0x80, 0xc0, 0x3f),
    ),
    { minLength: 1, maxLength: 80 },
  )
  .map((a) => Uint8Array.from(a));

test('encrypted 1-RTT packets with random frames: drop, ignore or the right CONNECTION_CLOSE (never INTERNAL_ERROR)', (t) => {
  let pair = livePair(3).p;
  let seed = 3;
  const codes = new Map<number, number>();
  fc.assert(
    fc.property(frameBytes, fc.boolean(), (payload, toServer) => {
      if (pair.client.state !== 'established' || pair.server!.state !== 'established') pair = livePair(++seed).p;
      const sender = toServer ? pair.client : pair.server!;
      const receiver = toServer ? pair.server! : pair.client;
      const st = Pair.internals(sender);
      const keys = st.oneRtt!;
      const sp = st.spaces[2];
      const pn = sp.nextPn++;
      st.ld.onPacketNumberSkipped(2, pn);
      const buf = new Uint8Array(1500);
      const w = new Writer(buf);
      const pnOffset = encodeShortHeader(w, st.peerCids.active.cid, pn, 4, keys.sendPhase, 0);
      let body = payload;
      if (body.length < 4) body = Uint8Array.from([...body, 0, 0, 0, 0]);
      buf.set(body, w.pos);
      const end = keys.seal.protect(buf, 0, pnOffset, 4, pn, body.length);
      receiver.receive(buf.subarray(0, end), toServer ? pair.clientAddr : SERVER_ADDR, pair.now);
      const side = toServer ? 'server' : 'client';
      const ok = acceptableEnd(pair, side);
      if (receiver.state !== 'established' && receiver.error !== null) codes.set(receiver.error.code, (codes.get(receiver.error.code) ?? 0) + 1);
      return ok;
    }),
    { numRuns: 150, seed: 3 },
  );
  t.log('close codes seen', [...codes].map(([c, n]) => `0x${c.toString(16)}×${n}`).join(' '));
  t.true(codes.size > 0);
});

test('after a fuzzed close the connection still answers with CONNECTION_CLOSE and then ends', (t) => {
  const { p } = livePair(9);
  const st = Pair.internals(p.client);
  const keys = st.oneRtt!;
  const pn = st.spaces[2].nextPn++;
  const buf = new Uint8Array(200);
  const w = new Writer(buf);
  const pnOffset = encodeShortHeader(w, st.peerCids.active.cid, pn, 4, keys.sendPhase, 0);
  // An unknown frame type 0x21: FRAME_ENCODING_ERROR (RFC 9000 §12.4).
  buf.set([0x21, 0, 0, 0], w.pos);
  const end = keys.seal.protect(buf, 0, pnOffset, 4, pn, 4);
  p.server!.receive(buf.subarray(0, end), p.clientAddr, p.now);
  t.is(p.server!.state, 'closing');
  t.like(p.server!.error!, { kind: 'transport', code: TransportErrorCode.FRAME_ENCODING_ERROR, frameType: 0x21 });
  t.true(p.runUntil(() => p.client.state === 'closed' && p.server!.state === 'closed', 5_000));
  t.like(p.client.error!, { kind: 'transport', code: TransportErrorCode.FRAME_ENCODING_ERROR, remote: true });
});

test('client Initials with random frames create a server connection that drops them or closes with a protocol error', (t) => {
  const rng = new SeededRandom(11);
  const codes = new Map<number, number>();
  fc.assert(
    fc.property(frameBytes, fc.uint8Array({ minLength: 8, maxLength: 20 }), (payload, dcid) => {
      const keys = initialProtection(QUIC_V1, dcid, false);
      const buf = new Uint8Array(1300);
      const w = new Writer(buf);
      const pnOffset = encodeLongHeader(w, PacketType.Initial, QUIC_V1, dcid, Uint8Array.of(1, 2, 3, 4), new Uint8Array(0), 0, 4, 2);
      const room = 1200 - w.pos - 16;
      buf.set(payload.subarray(0, room), w.pos);
      const payloadLen = room; // the rest stays zero: PADDING
      patchLength(buf, pnOffset, 2, 4 + payloadLen + 16);
      const end = keys.seal.protect(buf, 0, pnOffset, 4, 0, payloadLen);
      keys.seal.discard();
      keys.open.discard();
      const server = createServerConnection({ ...baseServerOptions(rng) }, buf.subarray(0, end), CLIENT_ADDR, VIRTUAL_EPOCH);
      if (server === null) return false;
      const st = Pair.internals(server);
      if (st.internalError !== undefined) return false;
      const e = server.error;
      if (e !== null) codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      return e === null ? server.state === 'handshaking' : e.kind === 'transport' && e.code !== TransportErrorCode.INTERNAL_ERROR;
    }),
    { numRuns: 300, seed: 11 },
  );
  t.log('close codes seen', [...codes].map(([c, n]) => `0x${c.toString(16)}×${n}`).join(' '));
  t.true(codes.has(TransportErrorCode.FRAME_ENCODING_ERROR));
});
