// DER reader/writer (src/pki/asn1.ts): X.690 §8 encodings with the §10–11 DER restrictions and
// RFC 5280 §4.1.2.5 time forms.
import test from 'ava';
import fc from 'fast-check';
import {
  DerReader,
  Tag,
  decodeOid,
  decodeUtcTime,
  decodeGeneralizedTime,
  derBitString,
  derBoolean,
  derInteger,
  derNamedBits,
  derOid,
  derSequence,
  derSet,
  derTime,
  derTlv,
  derOctetString,
  derUtf8String,
  derPrintableString,
  decodeString,
} from '../../src/pki/asn1.js';
import { CertificateError } from '../../src/pki/errors.js';

const h = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const ascii = (s: string) => new TextEncoder().encode(s);

function bad(t: import('ava').ExecutionContext, fn: () => unknown, msg?: RegExp): void {
  const e = t.throws(fn, { instanceOf: CertificateError });
  t.is(e?.alert, 42);
  if (msg) t.regex(e!.message, msg);
}

test('lengths: short, long, and the DER restrictions', (t) => {
  t.deepEqual(new DerReader(h('04 03 010203')).octetString(), h('010203'));
  const long = new Uint8Array(200).fill(7);
  const enc = derOctetString(long);
  t.deepEqual(enc.subarray(0, 3), h('04 81 c8'));
  t.deepEqual(new DerReader(enc).octetString(), long);
  const big = derOctetString(new Uint8Array(70000));
  t.deepEqual(big.subarray(0, 5), h('04 83 01 11 70'));
  t.is(new DerReader(big).octetString().length, 70000);
  bad(t, () => new DerReader(h('30 80 0000')).sequence(), /indefinite/);
  bad(t, () => new DerReader(h('04 81 05 0102030405')).octetString(), /non-minimal length/);
  bad(t, () => new DerReader(h('04 82 0085' + '00'.repeat(0x85))).octetString(), /non-minimal length/);
  bad(t, () => new DerReader(h('04 05 0102')).octetString(), /exceeds/);
  bad(t, () => new DerReader(h('04')).octetString(), /truncated/);
  bad(t, () => new DerReader(h('04 84 00000001 00')).octetString(), /length too large/);
  bad(t, () => new DerReader(h('04 01 00')).integerBytes(), /expected INTEGER/);
});

test('tag forms: constructed primitives and primitive SEQUENCEs are rejected; high tags', (t) => {
  bad(t, () => new DerReader(h('22 01 00')).raw(), /wrong form/);
  bad(t, () => new DerReader(h('10 00')).raw(), /wrong form/);
  bad(t, () => new DerReader(h('24 03 040100')).raw(), /wrong form/);
  const r = new DerReader(h('9f 1f 01 aa  bf 81 00 00  9f 80 1f 00'));
  t.is(r.next(), 0x9f + 31 * 256);
  t.is(r.next(), 0xbf + 128 * 256);
  bad(t, () => r.next(), /non-minimal high tag/);
  bad(t, () => new DerReader(h('9f 05 00')).raw(), /high tag form for a low tag/);
  bad(t, () => new DerReader(h('9f 85')).raw(), /truncated/);
  t.is(new DerReader(h('a3 00')).peekTag(), 0xa3);
  t.is(new DerReader(new Uint8Array(0)).peekTag(), -1);
});

test('INTEGER minimality and small values', (t) => {
  t.is(new DerReader(h('02 01 00')).smallUint(), 0);
  t.is(new DerReader(h('02 01 7f')).smallUint(), 127);
  t.is(new DerReader(h('02 02 0080')).smallUint(), 128);
  t.is(new DerReader(h('02 04 7fffffff')).smallUint(), 0x7fffffff);
  bad(t, () => new DerReader(h('02 00')).integerBytes(), /empty INTEGER/);
  bad(t, () => new DerReader(h('02 02 0001')).integerBytes(), /non-minimal INTEGER/);
  bad(t, () => new DerReader(h('02 02 ff80')).integerBytes(), /non-minimal INTEGER/);
  bad(t, () => new DerReader(h('02 01 80')).smallUint(), /negative/);
  bad(t, () => new DerReader(h('02 05 0080000000')).smallUint(), /too large/);
  t.deepEqual(new DerReader(h('02 02 ff7f')).integerBytes(), h('ff7f'));
  for (const [v, enc] of [
    [0, '020100'],
    [127, '02017f'],
    [128, '02020080'],
    [256, '02020100'],
    [2 ** 40, '0206010000000000'],
  ] as const) {
    t.deepEqual(derInteger(v), h(enc));
  }
  t.deepEqual(derInteger(h('0000ff')), h('020200ff'));
  t.deepEqual(derInteger(h('000000')), h('020100'));
  t.throws(() => derInteger(-1), { instanceOf: RangeError });
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (mag) => {
      const v = new DerReader(derInteger(mag)).integerBytes();
      t.is(v[0]! & 0x80, 0);
      t.is(BigInt('0x' + Buffer.from(v).toString('hex')), BigInt('0x' + Buffer.from(mag).toString('hex')));
    }),
    { numRuns: 300 },
  );
});

test('BOOLEAN and NULL are canonical (X.690 §11.1)', (t) => {
  t.true(new DerReader(derBoolean(true)).boolean());
  t.false(new DerReader(derBoolean(false)).boolean());
  bad(t, () => new DerReader(h('01 01 01')).boolean(), /BOOLEAN/);
  bad(t, () => new DerReader(h('01 02 ffff')).boolean(), /BOOLEAN/);
  new DerReader(h('05 00')).null();
  bad(t, () => new DerReader(h('05 01 00')).null(), /NULL/);
});

test('BIT STRING: unused bits in range and zero (X.690 §11.2)', (t) => {
  t.deepEqual(new DerReader(h('03 03 06 0540')).bitString(), { bytes: h('0540'), unusedBits: 6 });
  bad(t, () => new DerReader(h('03 02 01 01')).bitString(), /unused bits not zero/);
  bad(t, () => new DerReader(h('03 02 08 00')).bitString(), /unused-bits/);
  bad(t, () => new DerReader(h('03 01 01')).bitString(), /unused-bits/);
  bad(t, () => new DerReader(h('03 00')).bitString(), /empty BIT STRING/);
  // Named bits: trailing zero bits dropped (X.690 §11.2.2). keyUsage digitalSignature = 03 02 07 80.
  t.deepEqual(derNamedBits([0]), h('03 02 07 80'));
  t.deepEqual(derNamedBits([5, 6]), h('03 02 01 06'));
  t.deepEqual(derNamedBits([0, 8]), h('03 03 07 8080'));
  t.deepEqual(derBitString(h('00ff')), h('03 03 00 00ff'));
});

test('OBJECT IDENTIFIER encode/decode (X.690 §8.19)', (t) => {
  const cases: [string, string][] = [
    ['1.2.840.113549.1.1.11', '2a864886f70d01010b'],
    ['2.5.29.17', '551d11'],
    ['1.3.101.112', '2b6570'],
    ['0.9.2342.19200300.100.1.25', '0992268993f22c640119'],
    ['2.999.3', '883703'],
    // Vectors checked with openssl asn1parse -genstr OBJECT:…
    ['2.25.329800735698586629295641978511506172918', '6983f09da7ebcfdee0c7a1a7b2c0948cc8f9d776'],
  ];
  for (const [dotted, hex] of cases) {
    t.deepEqual(derOid(dotted).subarray(2), h(hex), dotted);
    t.is(decodeOid(h(hex)), dotted);
    t.is(new DerReader(derOid(dotted)).oid(), dotted);
  }
  bad(t, () => decodeOid(new Uint8Array(0)), /empty/);
  bad(t, () => decodeOid(h('2a86')), /truncated/);
  bad(t, () => decodeOid(h('2a8001')), /non-minimal/);
  t.throws(() => derOid('1.40'), { instanceOf: TypeError });
  t.throws(() => derOid('3.1'), { instanceOf: TypeError });
  t.throws(() => derOid('1.02'), { instanceOf: TypeError });
  fc.assert(
    fc.property(fc.constantFrom(0, 1, 2), fc.nat(39), fc.array(fc.bigInt({ min: 0n, max: 2n ** 70n }), { maxLength: 8 }), (a, b, rest) => {
      const dotted = [a, b, ...rest].join('.');
      t.is(new DerReader(derOid(dotted)).oid(), dotted);
    }),
    { numRuns: 300 },
  );
});

test('UTCTime and GeneralizedTime (RFC 5280 §4.1.2.5)', (t) => {
  t.is(decodeUtcTime(ascii('491231235959Z')), Date.UTC(2049, 11, 31, 23, 59, 59));
  t.is(decodeUtcTime(ascii('500101000000Z')), Date.UTC(1950, 0, 1));
  t.is(decodeUtcTime(ascii('240229120000Z')), Date.UTC(2024, 1, 29, 12));
  t.is(decodeGeneralizedTime(ascii('20500101000000Z')), Date.UTC(2050, 0, 1));
  t.is(decodeGeneralizedTime(ascii('99991231235959Z')), Date.UTC(9999, 11, 31, 23, 59, 59));
  t.is(decodeGeneralizedTime(ascii('20000229000000Z')), Date.UTC(2000, 1, 29));
  for (const s of ['4912312359Z', '491231235959', '491231235959+0000', '230229000000Z', '231301000000Z', '230100000000Z', '230101240000Z', '230101006000Z', '230101000060Z', '2301010000a0Z', '230431000000Z']) {
    bad(t, () => decodeUtcTime(ascii(s)), undefined);
  }
  for (const s of ['20230101000000.5Z', '19000229000000Z', '202301010000Z', '20230101000000']) {
    bad(t, () => decodeGeneralizedTime(ascii(s)));
  }
  bad(t, () => new DerReader(derOctetString(ascii('230101000000Z'))).time(), /Time/);
  // Writer picks UTCTime through 2049 and GeneralizedTime from 2050, whole seconds.
  t.is(derTime(Date.UTC(2049, 11, 31, 23, 59, 59, 999))[0], Tag.UTCTime);
  t.is(derTime(Date.UTC(2050, 0, 1))[0], Tag.GeneralizedTime);
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59) }), (ms) => {
      t.is(new DerReader(derTime(ms)).time(), Math.floor(ms / 1000) * 1000);
    }),
    { numRuns: 500 },
  );
  t.throws(() => derTime(Date.UTC(1949, 11, 31)), { instanceOf: RangeError });
});

test('sequences, sets (sorted), strings and trailing data', (t) => {
  const seq = derSequence(derInteger(1), derBoolean(true));
  const r = new DerReader(seq).sequence();
  t.is(r.smallUint(), 1);
  t.true(r.boolean());
  r.finish();
  bad(t, () => new DerReader(derSequence(derInteger(1), derInteger(2))).sequence().finish(), undefined);
  const r2 = new DerReader(derSequence(derInteger(1), derInteger(2))).sequence();
  r2.smallUint();
  bad(t, () => r2.finish('x'), /trailing data after x/);
  t.deepEqual(derSet(h('0201 02'), h('0201 01')), h('3106 020101 020102'));
  t.is(r.optional(Tag.INTEGER), null);
  t.is(decodeString(Tag.UTF8String, derUtf8String('Grüße 🚀').subarray(2)), 'Grüße 🚀');
  t.is(decodeString(Tag.UTF8String, h('c3')), '\u00c3'); // invalid UTF-8 falls back to Latin-1
  t.is(decodeString(Tag.BMPString, h('00410042')), 'AB');
  t.is(decodeString(Tag.UniversalString, h('0001f680')), '🚀');
  t.is(decodeString(Tag.BMPString, h('00')), null);
  t.is(decodeString(Tag.INTEGER, h('00')), null);
  t.throws(() => derPrintableString('a@b'), { instanceOf: TypeError });
  t.deepEqual(derTlv(0x80, h('0102')), h('80 02 0102'));
});

test('random bytes into the reader throw only CertificateError', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const r = new DerReader(b);
      try {
        while (!r.done) {
          const tag = r.next();
          const v = r.buf.subarray(r.valueStart, r.valueEnd);
          if (tag === Tag.OID) decodeOid(v);
          if (tag === Tag.UTCTime) decodeUtcTime(v);
          if (tag === Tag.GeneralizedTime) decodeGeneralizedTime(v);
          decodeString(tag, v);
        }
      } catch (e) {
        if (!(e instanceof CertificateError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
