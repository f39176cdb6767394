// Tests for src/pki/pem.ts (RFC 7468, RFC 4648 §4).
import test from 'ava';
import fc from 'fast-check';
import { pemDecode, pemEncode, base64Encode, base64Decode } from '../../src/pki/pem.js';

test('base64 matches RFC 4648 §10 vectors', (t) => {
  const v: [string, string][] = [
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ];
  for (const [plain, enc] of v) {
    t.is(base64Encode(new TextEncoder().encode(plain)), enc);
    t.is(new TextDecoder().decode(base64Decode(enc)), plain);
  }
});

test('base64 round trip and agreement with Buffer', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      const s = base64Encode(b);
      t.is(s, Buffer.from(b).toString('base64'));
      t.deepEqual(base64Decode(s), b);
    }),
    { numRuns: 500 },
  );
});

test('base64 is strict', (t) => {
  for (const s of ['Zg=', 'Zg===', 'Z===', 'Zh==', 'Zm9=', 'Zm9v!A==', 'Zg==Zg==', '=Zg=', 'Zm\u00e99v']) {
    t.throws(() => base64Decode(s), { instanceOf: TypeError }, s);
  }
  t.deepEqual(base64Decode(' Zm9v\r\nYmFy\n'), new TextEncoder().encode('foobar'));
});

test('PEM round trip, 64-column lines, several blocks, label filter', (t) => {
  const a = new Uint8Array(200).map((_, i) => i);
  const b = new Uint8Array([1, 2, 3]);
  const pa = pemEncode(a, 'CERTIFICATE');
  t.true(pa.startsWith('-----BEGIN CERTIFICATE-----\n'));
  t.true(pa.endsWith('-----END CERTIFICATE-----\n'));
  for (const line of pa.split('\n').slice(1, -2)) t.true(line.length <= 64);
  t.is(pa.split('\n')[1]!.length, 64);
  const text = 'Subject: explanatory text\n' + pa + 'between\r\n' + pemEncode(b, 'PRIVATE KEY').replace(/\n/g, '\r\n') + pa;
  t.deepEqual(pemDecode(text), [a, b, a]);
  t.deepEqual(pemDecode(text, 'CERTIFICATE'), [a, a]);
  t.deepEqual(pemDecode(text, 'PRIVATE KEY'), [b]);
  t.deepEqual(pemDecode(text, 'X509 CRL'), []);
  t.deepEqual(pemDecode('no pem here'), []);
  t.deepEqual(pemDecode(pemEncode(new Uint8Array(0), 'X')), [new Uint8Array(0)]);
});

test('PEM errors', (t) => {
  t.throws(() => pemDecode('-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n'), { instanceOf: TypeError });
  t.throws(() => pemDecode('-----BEGIN CERTIFICATE-----\nAA!A\n-----END CERTIFICATE-----\n'), { instanceOf: TypeError });
  t.throws(
    () => pemDecode('-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n'),
    { instanceOf: TypeError },
  );
  t.throws(() => pemEncode(new Uint8Array(1), 'bad--label'), { instanceOf: TypeError });
  t.throws(() => pemEncode([1] as never, 'X'), { instanceOf: TypeError });
  t.throws(() => pemDecode(1 as never), { instanceOf: TypeError });
});

test('PEM decode of random text throws only TypeError', (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 60 }), (junk, der) => {
      const text = pemEncode(der, 'CERTIFICATE');
      const cut = junk.length % (text.length + 1);
      const mutated = text.slice(0, cut) + junk + text.slice(cut);
      try {
        pemDecode(mutated);
      } catch (e) {
        if (!(e instanceof TypeError)) throw e;
      }
    }),
    { numRuns: 1000 },
  );
  t.pass();
});
