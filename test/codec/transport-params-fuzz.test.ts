// Property tests for src/codec/transport-params.ts (RFC 9000 §18, RFC 9221 §3, RFC 9368 §5):
// peer input throws nothing but TransportError(TRANSPORT_PARAMETER_ERROR), and valid parameter
// sets round-trip.

import test from 'ava';
import fc from 'fast-check';
import { TransportError, TransportErrorCode } from '../../src/codec/errors.js';
import {
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  sizeTransportParameters,
  type TransportParameters,
} from '../../src/codec/transport-params.js';
import { Writer } from '../../src/util/bytes.js';

const RUNS = 10_000;

function onlyTpe(fn: () => void): boolean {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof TransportError)) throw e;
    if (e.errorCode !== TransportErrorCode.TRANSPORT_PARAMETER_ERROR) throw e;
  }
  return true;
}

// Random sequences of (id, length, value) with ids biased to the defined ones and lengths that
// sometimes lie, plus fully random bytes.
const param = fc
  .tuple(
    fc.oneof(fc.integer({ min: 0, max: 0x21 }), fc.constantFrom(27, 0x3128, 0x4752), fc.integer({ min: 0, max: 16383 })),
    fc.uint8Array({ maxLength: 60 }),
    fc.integer({ min: -2, max: 2 }),
  )
  .map(([id, value, lie]) => {
    const len = Math.max(0, value.length + lie);
    const out: number[] = [];
    const varint = (v: number): void => {
      if (v < 0x40) out.push(v);
      else out.push(0x40 | (v >> 8), v & 0xff);
    };
    varint(id);
    varint(len);
    out.push(...value);
    return out;
  });
const structured = fc.array(param, { maxLength: 8 }).map((ps) => Uint8Array.from(ps.flat()));

test('random bytes into decodeTransportParameters throw only TRANSPORT_PARAMETER_ERROR', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), structured), fc.constantFrom('client', 'server' as const), (b, from) =>
      onlyTpe(() => decodeTransportParameters(b, from)),
    ),
    { numRuns: RUNS },
  );
  t.pass();
});

const u62 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const cid = (min: number) => fc.uint8Array({ minLength: min, maxLength: 20 });
const version = fc.integer({ min: 1, max: 0xffff_ffff });

const paramsArb: fc.Arbitrary<TransportParameters> = fc.record({
  originalDestinationConnectionId: fc.option(cid(0), { nil: null }),
  maxIdleTimeout: u62,
  statelessResetToken: fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 }), { nil: null }),
  maxUdpPayloadSize: fc.integer({ min: 1200, max: 70000 }),
  initialMaxData: u62,
  initialMaxStreamDataBidiLocal: u62,
  initialMaxStreamDataBidiRemote: u62,
  initialMaxStreamDataUni: u62,
  initialMaxStreamsBidi: u62,
  initialMaxStreamsUni: u62,
  ackDelayExponent: fc.integer({ min: 0, max: 20 }),
  maxAckDelay: fc.integer({ min: 0, max: 16383 }),
  disableActiveMigration: fc.boolean(),
  preferredAddress: fc.option(
    fc.record({
      ipv4Address: fc.uint8Array({ minLength: 4, maxLength: 4 }),
      ipv4Port: fc.integer({ min: 0, max: 0xffff }),
      ipv6Address: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      ipv6Port: fc.integer({ min: 0, max: 0xffff }),
      connectionId: cid(1),
      statelessResetToken: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    }),
    { nil: null },
  ),
  activeConnectionIdLimit: fc.integer({ min: 2, max: 1000 }),
  initialSourceConnectionId: fc.option(cid(0), { nil: null }),
  retrySourceConnectionId: fc.option(cid(0), { nil: null }),
  versionInformation: fc.option(
    fc.record({ chosenVersion: version, availableVersions: fc.array(version, { maxLength: 5 }) }),
    { nil: null },
  ),
  maxDatagramFrameSize: u62,
});

function encodeParams(p: TransportParameters, grease?: { id: number; value: Uint8Array }): Uint8Array {
  const opts = grease ? { grease } : undefined;
  const w = Writer.alloc(sizeTransportParameters(p, opts));
  encodeTransportParameters(w, p, opts);
  return w.written();
}

test('arbitrary server parameter sets round-trip; a GREASE parameter is ignored', (t) => {
  fc.assert(
    fc.property(paramsArb, fc.nat(1000), fc.uint8Array({ maxLength: 16 }), (p, n, gv) => {
      const bytes = encodeParams(p, { id: 31 * n + 27, value: gv });
      const q = decodeTransportParameters(bytes, 'server');
      return JSON.stringify(q, replacer) === JSON.stringify(p, replacer);
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

function replacer(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? Array.from(v) : v;
}

test('mutated valid encodings throw only TRANSPORT_PARAMETER_ERROR', (t) => {
  const base = encodeParams({
    ...defaultTransportParameters(),
    originalDestinationConnectionId: new Uint8Array(8).fill(1),
    maxIdleTimeout: 30000,
    statelessResetToken: new Uint8Array(16).fill(2),
    maxUdpPayloadSize: 1472,
    initialMaxData: 1 << 24,
    initialMaxStreamsBidi: 100,
    ackDelayExponent: 4,
    maxAckDelay: 30,
    disableActiveMigration: true,
    preferredAddress: {
      ipv4Address: new Uint8Array(4).fill(3),
      ipv4Port: 443,
      ipv6Address: new Uint8Array(16).fill(4),
      ipv6Port: 443,
      connectionId: new Uint8Array(8).fill(5),
      statelessResetToken: new Uint8Array(16).fill(6),
    },
    activeConnectionIdLimit: 4,
    initialSourceConnectionId: new Uint8Array(0),
    versionInformation: { chosenVersion: 1, availableVersions: [1, 0x6b3343cf] },
    maxDatagramFrameSize: 65536,
  });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'del', 'ins', 'cut')), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.constantFrom('client', 'server' as const),
      (muts, from) => {
        const b = Array.from(base);
        for (const [at, value, op] of muts) {
          const i = at % (b.length + 1);
          if (op === 'set' && i < b.length) b[i] = value;
          else if (op === 'del') b.splice(i, 1);
          else if (op === 'ins') b.splice(i, 0, value);
          else if (op === 'cut') b.length = i;
        }
        return onlyTpe(() => decodeTransportParameters(Uint8Array.from(b), from));
      },
    ),
    { numRuns: RUNS },
  );
  t.pass();
});
