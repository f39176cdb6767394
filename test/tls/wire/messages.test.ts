// RFC 8446 §4 handshake message codecs (quic-go idiom): encode → decode → same value and bytes,
// then every truncated prefix and one trailing byte → TlsAlert(decode_error); random bytes into
// every decoder raise nothing but TlsAlert.
import test from 'ava';
import fc from 'fast-check';
import { TlsAlert } from '../../../src/tls/wire/alert.js';
import { HRR_RANDOM } from '../../../src/tls/wire/constants.js';
import {
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  decodeClientHello,
  decodeEncryptedExtensions,
  decodeFinished,
  decodeKeyUpdate,
  decodeNewSessionTicket,
  decodeServerHello,
  encodeCertificate,
  encodeCertificateRequest,
  encodeCertificateVerify,
  encodeClientHello,
  encodeEncryptedExtensions,
  encodeFinished,
  encodeNewSessionTicket,
  encodeServerHello,
  isHelloRetryRequest,
} from '../../../src/tls/wire/messages.js';
import { encodeHandshake } from '../../../src/tls/wire/handshake.js';

const bytes = (n: number, v = 7): Uint8Array => new Uint8Array(n).fill(v);

interface Case {
  name: string;
  encoded: Uint8Array;
  decode: (body: Uint8Array) => unknown;
  encode: (v: never) => Uint8Array;
  /** Lengths at which a truncated body legitimately decodes (legacy optional extensions). */
  validCuts?: number[];
}

const ch = {
  legacyVersion: 0x0303,
  random: bytes(32, 1),
  sessionId: new Uint8Array(0),
  cipherSuites: [0x1301, 0x1302],
  compressionMethods: Uint8Array.of(0),
  extensions: [
    { type: 0, data: Uint8Array.of(0, 4, 0, 0, 1, 0x61) },
    { type: 0x39, data: bytes(5) },
  ],
};
const sh = { legacyVersion: 0x0303, random: bytes(32, 2), sessionIdEcho: new Uint8Array(0), cipherSuite: 0x1301, compressionMethod: 0, extensions: [{ type: 43, data: Uint8Array.of(3, 4) }] };

const cases: Case[] = [
  { name: 'ClientHello', encoded: encodeClientHello(ch), decode: decodeClientHello, encode: encodeClientHello as never, validCuts: [2 + 32 + 1 + 2 + 4 + 2] },
  { name: 'ServerHello', encoded: encodeServerHello(sh), decode: decodeServerHello, encode: encodeServerHello as never, validCuts: [2 + 32 + 1 + 2 + 1] },
  {
    name: 'EncryptedExtensions',
    encoded: encodeEncryptedExtensions({ extensions: [{ type: 16, data: Uint8Array.of(0, 3, 2, 0x68, 0x33) }, { type: 0x39, data: new Uint8Array(0) }] }),
    decode: decodeEncryptedExtensions,
    encode: encodeEncryptedExtensions as never,
  },
  {
    name: 'CertificateRequest',
    encoded: encodeCertificateRequest({ context: new Uint8Array(0), extensions: [{ type: 13, data: Uint8Array.of(0, 2, 4, 3) }] }),
    decode: decodeCertificateRequest,
    encode: encodeCertificateRequest as never,
  },
  {
    name: 'Certificate',
    encoded: encodeCertificate({
      context: Uint8Array.of(9),
      entries: [
        { data: bytes(40, 3), extensions: [] },
        { data: bytes(20, 4), extensions: [{ type: 5, data: Uint8Array.of(1) }] },
      ],
    }),
    decode: decodeCertificate,
    encode: encodeCertificate as never,
  },
  { name: 'CertificateVerify', encoded: encodeCertificateVerify({ scheme: 0x0403, signature: bytes(70, 5) }), decode: decodeCertificateVerify, encode: encodeCertificateVerify as never },
  {
    name: 'NewSessionTicket',
    encoded: encodeNewSessionTicket({ lifetime: 3600, ageAdd: 0xdeadbeef, nonce: Uint8Array.of(0, 1), ticket: bytes(60, 6), extensions: [{ type: 42, data: Uint8Array.of(255, 255, 255, 255) }] }),
    decode: decodeNewSessionTicket,
    encode: encodeNewSessionTicket as never,
  },
];

for (const c of cases) {
  test(`${c.name}: round trip, every truncation and a trailing byte → decode_error`, (t) => {
    const body = c.encoded.subarray(4);
    t.is(c.encoded.length, 4 + ((c.encoded[1]! << 16) | (c.encoded[2]! << 8) | c.encoded[3]!));
    const v = c.decode(body);
    t.deepEqual(c.encode(v as never), c.encoded);
    for (let n = 0; n < body.length; n++) {
      if (c.validCuts?.includes(n)) {
        t.notThrows(() => c.decode(body.subarray(0, n)));
        continue;
      }
      const e = t.throws(() => c.decode(body.subarray(0, n)), { instanceOf: TlsAlert }, `cut ${n}`);
      if (e.alert !== 50) t.fail(`cut ${n}: alert ${e.alert}`);
    }
    const longer = new Uint8Array(body.length + 1);
    longer.set(body);
    t.is(t.throws(() => c.decode(longer), { instanceOf: TlsAlert }).alert, 50);
  });
}

test('Finished: exactly Hash.length bytes', (t) => {
  t.deepEqual(decodeFinished(bytes(32), 32), bytes(32));
  t.deepEqual(encodeFinished(bytes(48)), encodeHandshake(20, bytes(48)));
  for (const n of [0, 31, 33, 48]) t.is(t.throws(() => decodeFinished(bytes(n), 32), { instanceOf: TlsAlert }).alert, 50);
});

test('HelloRetryRequest is recognised by its special random', (t) => {
  t.true(isHelloRetryRequest({ ...sh, random: HRR_RANDOM }));
  t.false(isHelloRetryRequest(sh));
});

test('duplicate extensions → illegal_parameter; extension overrunning its block → decode_error', (t) => {
  const dup = encodeEncryptedExtensions({ extensions: [{ type: 1, data: new Uint8Array(0) }, { type: 1, data: new Uint8Array(0) }] });
  t.is(t.throws(() => decodeEncryptedExtensions(dup.subarray(4)), { instanceOf: TlsAlert }).alert, 47);
  t.is(t.throws(() => decodeEncryptedExtensions(Uint8Array.of(0, 4, 0, 1, 0, 9)), { instanceOf: TlsAlert }).alert, 50);
});

test('KeyUpdate decodes (to be rejected by the state machines)', (t) => {
  t.is(decodeKeyUpdate(Uint8Array.of(1)), 1);
  t.is(t.throws(() => decodeKeyUpdate(new Uint8Array(0)), { instanceOf: TlsAlert }).alert, 50);
});

const decoders: [string, (b: Uint8Array) => unknown][] = [
  ['ClientHello', decodeClientHello],
  ['ServerHello', decodeServerHello],
  ['EncryptedExtensions', decodeEncryptedExtensions],
  ['CertificateRequest', decodeCertificateRequest],
  ['Certificate', decodeCertificate],
  ['CertificateVerify', decodeCertificateVerify],
  ['NewSessionTicket', decodeNewSessionTicket],
  ['KeyUpdate', decodeKeyUpdate],
];

test('fast-check: 10,000 random and mutated bodies into every message decoder raise only TlsAlert (decode_error / illegal_parameter)', (t) => {
  const seeds = cases.map((c) => c.encoded.subarray(4));
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })).map(([i, muts]) => {
          const b = seeds[i]!.slice();
          for (const [pos, v] of muts) if (b.length) b[pos % b.length] = v;
          return b;
        }),
      ),
      (b) => {
        for (const [, d] of decoders) {
          try {
            d(b);
          } catch (e) {
            if (!(e instanceof TlsAlert) || (e.alert !== 50 && e.alert !== 47)) return false;
          }
        }
        return true;
      },
    ),
    { numRuns: 10_000 },
  );
  t.pass();
});
