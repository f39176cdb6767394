// RFC 8446 §4.2 extension codecs: round trips, every truncation → decode_error, semantic
// rejections (empty lists, duplicate key shares, binder/identity mismatch), GREASE detection.
import test from 'ava';
import fc from 'fast-check';
import { TlsAlert } from '../../../src/tls/wire/alert.js';
import { isGrease } from '../../../src/tls/wire/constants.js';
import {
  decodeAlpn,
  decodeCookie,
  decodeKeyShareCH,
  decodeKeyShareHRR,
  decodeKeyShareSH,
  decodeMaxEarlyData,
  decodeNamedGroupList,
  decodeOfferedPsks,
  decodePskModes,
  decodeSelectedIdentity,
  decodeServerName,
  decodeSignatureSchemeList,
  decodeSupportedVersionsCH,
  decodeSupportedVersionsSH,
  decodeCertificateAuthorities,
  encodeAlpn,
  encodeCookie,
  encodeKeyShareCH,
  encodeKeyShareSH,
  encodeOfferedPsks,
  encodePskModes,
  encodeServerName,
  encodeSupportedVersionsCH,
  encodeU16,
  encodeU16List,
  encodeU32,
} from '../../../src/tls/wire/extensions.js';

interface Case {
  name: string;
  value: unknown;
  encoded: Uint8Array;
  decode: (b: Uint8Array) => unknown;
}

const psks = encodeOfferedPsks(
  [
    { identity: Uint8Array.of(1, 2, 3), obfuscatedTicketAge: 0x01020304 },
    { identity: Uint8Array.of(4), obfuscatedTicketAge: 5 },
  ],
  [new Uint8Array(32).fill(1), new Uint8Array(48).fill(2)],
);

const cases: Case[] = [
  { name: 'server_name', value: 'example.com', encoded: encodeServerName('example.com'), decode: decodeServerName },
  { name: 'supported_groups', value: [0x1d, 0x17], encoded: encodeU16List([0x1d, 0x17]), decode: decodeNamedGroupList },
  { name: 'signature_algorithms', value: [0x0403, 0x0807], encoded: encodeU16List([0x0403, 0x0807]), decode: (b) => decodeSignatureSchemeList(b) },
  { name: 'ALPN', value: ['h3', 'hq-interop'], encoded: encodeAlpn(['h3', 'hq-interop']), decode: decodeAlpn },
  { name: 'supported_versions (CH)', value: [0x0304, 0x0303], encoded: encodeSupportedVersionsCH([0x0304, 0x0303]), decode: decodeSupportedVersionsCH },
  { name: 'supported_versions (SH)', value: 0x0304, encoded: encodeU16(0x0304), decode: decodeSupportedVersionsSH },
  {
    name: 'key_share (CH)',
    value: [
      { group: 0x1d, keyExchange: new Uint8Array(32).fill(9) },
      { group: 0x17, keyExchange: new Uint8Array(65).fill(4) },
    ],
    encoded: encodeKeyShareCH([
      { group: 0x1d, keyExchange: new Uint8Array(32).fill(9) },
      { group: 0x17, keyExchange: new Uint8Array(65).fill(4) },
    ]),
    decode: decodeKeyShareCH,
  },
  { name: 'key_share (SH)', value: { group: 0x1d, keyExchange: new Uint8Array(32).fill(8) }, encoded: encodeKeyShareSH({ group: 0x1d, keyExchange: new Uint8Array(32).fill(8) }), decode: decodeKeyShareSH },
  { name: 'key_share (HRR)', value: 0x17, encoded: encodeU16(0x17), decode: decodeKeyShareHRR },
  { name: 'psk_key_exchange_modes', value: [1], encoded: encodePskModes([1]), decode: decodePskModes },
  { name: 'pre_shared_key (SH)', value: 1, encoded: encodeU16(1), decode: decodeSelectedIdentity },
  { name: 'early_data (NST)', value: 0xffffffff, encoded: encodeU32(0xffffffff), decode: decodeMaxEarlyData },
  { name: 'cookie', value: Uint8Array.of(1, 2, 3), encoded: encodeCookie(Uint8Array.of(1, 2, 3)), decode: decodeCookie },
];

for (const c of cases) {
  test(`${c.name}: round trip and every truncation → decode_error`, (t) => {
    t.deepEqual(c.decode(c.encoded), c.value);
    for (let n = 0; n < c.encoded.length; n++) {
      const e = t.throws(() => c.decode(c.encoded.subarray(0, n)), { instanceOf: TlsAlert });
      if (e.alert !== 50) t.fail(`${c.name} cut ${n}: alert ${e.alert}`);
    }
    const longer = new Uint8Array(c.encoded.length + 1);
    longer.set(c.encoded);
    t.is(t.throws(() => c.decode(longer), { instanceOf: TlsAlert }).alert, 50);
  });
}

test('pre_shared_key (CH): identities, binders and the binders length used by Truncate()', (t) => {
  const p = decodeOfferedPsks(psks);
  t.is(p.identities.length, 2);
  t.is(p.identities[0]!.obfuscatedTicketAge, 0x01020304);
  t.is(p.bindersLength, 2 + 33 + 49);
  for (let n = 0; n < psks.length; n++) t.throws(() => decodeOfferedPsks(psks.subarray(0, n)), { instanceOf: TlsAlert });
  const mismatch = encodeOfferedPsks([{ identity: Uint8Array.of(1), obfuscatedTicketAge: 0 }], [new Uint8Array(32), new Uint8Array(32)]);
  t.is(t.throws(() => decodeOfferedPsks(mismatch), { instanceOf: TlsAlert }).alert, 47);
  const short = encodeOfferedPsks([{ identity: Uint8Array.of(1), obfuscatedTicketAge: 0 }], [new Uint8Array(31)]);
  t.is(t.throws(() => decodeOfferedPsks(short), { instanceOf: TlsAlert }).alert, 50);
});

test('semantic rejections', (t) => {
  t.is(t.throws(() => decodeKeyShareCH(encodeKeyShareCH([{ group: 0x1d, keyExchange: Uint8Array.of(1) }, { group: 0x1d, keyExchange: Uint8Array.of(2) }])), { instanceOf: TlsAlert }).alert, 47);
  t.is(t.throws(() => decodeNamedGroupList(Uint8Array.of(0, 0)), { instanceOf: TlsAlert }).alert, 50);
  t.is(t.throws(() => decodeAlpn(Uint8Array.of(0, 1, 0)), { instanceOf: TlsAlert }).alert, 50);
  t.is(t.throws(() => decodeServerName(Uint8Array.of(0, 4, 0, 0, 1, 0)), { instanceOf: TlsAlert }).alert, 50, 'NUL in host name');
  t.is(decodeServerName(Uint8Array.of(0, 4, 9, 0, 1, 0x61)), undefined, 'unknown name types are skipped');
  t.deepEqual(decodeCertificateAuthorities(Uint8Array.of(0, 3, 0, 1, 0x30)), [Uint8Array.of(0x30)]);
});

test('GREASE values (RFC 8701)', (t) => {
  for (let i = 0; i < 16; i++) t.true(isGrease(0x0a0a + 0x1010 * i));
  t.false(isGrease(0x1d));
  t.false(isGrease(0x0a1a));
  t.false(isGrease(0x11ec));
});

test('fast-check: 10,000 random bodies into every extension decoder raise only TlsAlert', (t) => {
  const all = [...cases.map((c) => c.decode), decodeOfferedPsks, decodeCertificateAuthorities];
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
      for (const d of all) {
        try {
          d(b);
        } catch (e) {
          if (!(e instanceof TlsAlert)) return false;
        }
      }
      return true;
    }),
    { numRuns: 10_000 },
  );
  t.pass();
});
