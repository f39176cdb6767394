// fast-check: random and mutated handshake messages fed into the client and the server raise only
// TlsAlert (never internal_error, which would mean a bug) or the RFC 9001 PROTOCOL_VIOLATION
// TransportError — never another exception (DESIGN §5: peer input never throws anything else).
import test from 'ava';
import fc from 'fast-check';
import { TransportError } from '../../src/codec/errors.js';
import { SeededRandom } from '../../src/crypto/random.js';
import { AntiReplay } from '../../src/tls/anti-replay.js';
import { TlsClient } from '../../src/tls/client.js';
import { TlsServer, type TlsServerOptions } from '../../src/tls/server.js';
import { TicketKeyring, type ClientSession } from '../../src/tls/session-ticket.js';
import { EncryptionLevel } from '../../src/tls/types.js';
import { TlsAlert } from '../../src/tls/wire/alert.js';
import { NOW, clientOptions, events, handshake, serverOptions } from './harness.js';

const RUNS = 5000;

function acceptable(e: unknown): boolean {
  if (e instanceof TlsAlert) return e.alert !== 80;
  if (e instanceof TransportError) return e.errorCode === 0x0a;
  return false;
}

/** Deliver `data` in the given split points; true if it ended normally or with an acceptable error. */
function feed(engine: TlsClient | TlsServer, level: number, data: Uint8Array, cuts: number[]): boolean {
  try {
    let prev = 0;
    for (const c of [...cuts.map((x) => x % (data.length + 1)).sort((a, b) => a - b), data.length]) {
      engine.receive(level as 0, data.subarray(prev, c), NOW);
      prev = c;
    }
    while (engine.pollEvent());
    return true;
  } catch (e) {
    if (!acceptable(e)) {
      console.error(e);
      return false;
    }
    return true;
  }
}

type Mutation = { kind: 'flip' | 'set' | 'insert' | 'delete' | 'truncate'; pos: number; value: number };

const mutationArb = fc.record({
  kind: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate') as fc.Arbitrary<Mutation['kind']>,
  pos: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
});

function mutate(src: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = src.slice();
  for (const m of muts) {
    if (b.length === 0) break;
    const p = m.pos % b.length;
    switch (m.kind) {
      case 'flip':
        b[p]! ^= 1 << (m.value & 7);
        break;
      case 'set':
        b[p] = m.value;
        break;
      case 'insert':
        b = new Uint8Array([...b.subarray(0, p), m.value, ...b.subarray(p)]);
        break;
      case 'delete':
        b = new Uint8Array([...b.subarray(0, p), ...b.subarray(p + 1)]);
        break;
      case 'truncate':
        b = b.slice(0, p);
        break;
    }
  }
  // Mutating inside the body often leaves the outer length wrong; fix it half the time so the
  // message reaches the body decoders instead of waiting for more bytes.
  if (b.length >= 4 && (muts[0]?.value ?? 0) & 1) {
    const n = b.length - 4;
    b[1] = n >>> 16;
    b[2] = (n >>> 8) & 0xff;
    b[3] = n & 0xff;
  }
  return b;
}

const keyring = new TicketKeyring({ random: new SeededRandom(77) });
function fuzzServerOptions(seed: number): TlsServerOptions {
  return serverOptions({ sessionTickets: { keyring }, earlyData: { antiReplay: new AntiReplay() }, clientAuth: seed % 3 === 0 ? 'request' : 'none' }, seed);
}

// Genuine messages to mutate: ClientHellos of several shapes (plain, PSK + 0-RTT, P-256 share).
const session: ClientSession = events(handshake(clientOptions(), fuzzServerOptions(1)).r.clientEvents, 'session-ticket')[0]!.session;
const clientHellos: Uint8Array[] = [
  clientOptions({}, 3),
  clientOptions({ session, earlyData: true }, 4),
  clientOptions({ groups: [0x17, 0x1d], keyShareGroups: [0x17] }, 5),
].map((o) => {
  const c = new TlsClient(o);
  c.start(NOW + 1000);
  const e = c.pollEvent()!;
  if (e.type !== 'handshake-data') throw new Error('no CH');
  return e.data;
});

test('server: random bytes at the Initial level', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 3 }), (data, cuts) =>
      feed(new TlsServer(fuzzServerOptions(7)), EncryptionLevel.Initial, data, cuts),
    ),
    { numRuns: RUNS },
  );
  t.pass();
});

test('server: mutated ClientHellos (plain, PSK + early_data, P-256), split anywhere', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: clientHellos.length - 1 }),
      fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 3 }),
      fc.integer({ min: 0, max: 1000 }),
      (i, muts, cuts, seed) => feed(new TlsServer(fuzzServerOptions(seed)), EncryptionLevel.Initial, mutate(clientHellos[i]!, muts), cuts),
    ),
    { numRuns: RUNS },
  );
  t.pass();
});

// The genuine ServerHello and Handshake flight for a deterministic client (seed 9).
const CLIENT_SEED = 9;
const genuine = (() => {
  const client = new TlsClient(clientOptions({}, CLIENT_SEED));
  const server = new TlsServer(serverOptions({ clientAuth: 'request' }, 10));
  client.start(NOW);
  const ch = client.pollEvent()!;
  if (ch.type !== 'handshake-data') throw new Error('no CH');
  server.receive(0, ch.data, NOW);
  let sh: Uint8Array | undefined;
  let flight: Uint8Array | undefined;
  for (let e = server.pollEvent(); e; e = server.pollEvent()) {
    if (e.type !== 'handshake-data') continue;
    if (e.level === 0) sh = e.data;
    else flight = e.data;
  }
  return { sh: sh!, flight: flight! };
})();

function clientWaitingForServerHello(): TlsClient {
  const c = new TlsClient(clientOptions({}, CLIENT_SEED));
  c.start(NOW);
  while (c.pollEvent());
  return c;
}

test('client: random and mutated ServerHellos', (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }).map((m) => mutate(genuine.sh, m)),
      ),
      fc.array(fc.nat(), { maxLength: 2 }),
      (data, cuts) => feed(clientWaitingForServerHello(), EncryptionLevel.Initial, data, cuts),
    ),
    { numRuns: RUNS },
  );
  t.pass();
});

test('client: random and mutated server Handshake flights (EE, CertificateRequest, Certificate, CertificateVerify, Finished)', (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }).map((m) => {
          // Mutate one message of the flight, keep the others intact.
          const msgs: Uint8Array[] = [];
          for (let o = 0; o < genuine.flight.length; ) {
            const len = (genuine.flight[o + 1]! << 16) | (genuine.flight[o + 2]! << 8) | genuine.flight[o + 3]!;
            msgs.push(genuine.flight.subarray(o, o + 4 + len));
            o += 4 + len;
          }
          const k = m[0]!.pos % msgs.length;
          msgs[k] = mutate(msgs[k]!, m);
          return new Uint8Array(msgs.flatMap((x) => Array.from(x)));
        }),
      ),
      fc.array(fc.nat(), { maxLength: 3 }),
      (data, cuts) => {
        const c = clientWaitingForServerHello();
        c.receive(EncryptionLevel.Initial, genuine.sh, NOW);
        while (c.pollEvent());
        return feed(c, EncryptionLevel.Handshake, data, cuts);
      },
    ),
    { numRuns: RUNS },
  );
  t.pass();
});

test('connected client and server: random post-handshake messages at the Application level', (t) => {
  const frames = fc.tuple(fc.constantFrom(4, 4, 4, 5, 13, 24, 20, 1, 99), fc.uint8Array({ maxLength: 120 })).map(([type, body]) => {
    const m = new Uint8Array(4 + body.length);
    m[0] = type;
    m[1] = body.length >>> 16;
    m[2] = (body.length >>> 8) & 0xff;
    m[3] = body.length & 0xff;
    m.set(body, 4);
    return m;
  });
  let pair = handshake(clientOptions(), serverOptions());
  fc.assert(
    fc.property(frames, fc.array(fc.nat(), { maxLength: 2 }), (m, cuts) => {
      // Errors are sticky: start a fresh pair after one.
      if (pair.client.error || pair.server.error) pair = handshake(clientOptions(), serverOptions());
      return feed(pair.client, EncryptionLevel.Application, m, cuts) && feed(pair.server, EncryptionLevel.Application, m, cuts);
    }),
    { numRuns: 1000 },
  );
  t.pass();
});
