// RFC 7541 Appendix C.4 (request examples with Huffman coding) and C.6 (response examples with
// Huffman coding): every Huffman-coded literal encodes and decodes byte for byte with the code of
// RFC 7541 Appendix B, which QPACK uses unmodified (RFC 9204 §4.1.2). Also the §5.2 rejections.
import test from 'ava';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { huffmanDecode, huffmanEncodedLength, huffmanEncode } from '../../src/qpack/huffman.js';

const VECTORS: Array<[section: string, text: string, hex: string]> = [
  ['C.4.1', 'www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
  ['C.4.2', 'no-cache', 'a8eb 1064 9cbf'],
  ['C.4.3', 'custom-key', '25a8 49e9 5ba9 7d7f'],
  ['C.4.3', 'custom-value', '25a8 49e9 5bb8 e8b4 bf'],
  ['C.6.1', '302', '6402'],
  ['C.6.1', 'private', 'aec3 771a 4b'],
  ['C.6.1', 'Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
  ['C.6.1', 'https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
  ['C.6.2', '307', '640e ff'],
  ['C.6.3', 'Mon, 21 Oct 2013 20:13:22 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff'],
  ['C.6.3', 'gzip', '9bd9 ab'],
  [
    'C.6.3',
    'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
    '94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
  ],
];

for (const [section, text, hex] of VECTORS) {
  test(`RFC 7541 ${section}: "${text}"`, (t) => {
    const want = fromHex(hex);
    t.is(huffmanEncodedLength(text), want.length);
    const out = new Uint8Array(want.length);
    t.is(huffmanEncode(text, out, 0), want.length);
    t.is(toHex(out), toHex(want));
    t.is(huffmanDecode(want, 0, want.length), text);
  });
}

test('RFC 7541 C.4.1/C.6 full header blocks contain exactly these literals', (t) => {
  // C.4.1 hex dump: "8286 8441 8c" + the Huffman literal: the length octet 0x8c = H | 12.
  const block = fromHex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff');
  t.is(block[4]! & 0x7f, 12);
  t.is(huffmanDecode(block, 5, 17), 'www.example.com');
});

test('§5.2: a string containing EOS is rejected', (t) => {
  // EOS = 30 ones, then 2 bits of padding ones: 0xffffffff.
  t.is(huffmanDecode(fromHex('ffffffff'), 0, 4), null);
  // 'a' (00011) followed by EOS.
  t.is(huffmanDecode(fromHex('1fffffff ff'), 0, 5), null);
});

test('§5.2: padding longer than 7 bits is rejected', (t) => {
  // '0' is 00000 (5 bits) then 3 one-bits pad: valid. Adding a full 0xff byte makes 11 bits of padding.
  t.is(huffmanDecode(fromHex('07'), 0, 1), '0');
  t.is(huffmanDecode(fromHex('07ff'), 0, 2), null);
  t.is(huffmanDecode(fromHex('ff'), 0, 1), null, 'eight bits of padding alone');
});

test('§5.2: padding that is not all ones is rejected', (t) => {
  // '0' (00000) then padding 110 instead of 111.
  t.is(huffmanDecode(fromHex('06'), 0, 1), null);
  // '0' then padding 000.
  t.is(huffmanDecode(fromHex('00'), 0, 1), null);
});

test('every octet value round-trips, alone and together', (t) => {
  let all = '';
  for (let i = 0; i < 256; i++) {
    const s = String.fromCharCode(i);
    all += s;
    const out = new Uint8Array(huffmanEncodedLength(s));
    huffmanEncode(s, out, 0);
    t.is(huffmanDecode(out, 0, out.length), s, `octet ${i}`);
  }
  const out = new Uint8Array(huffmanEncodedLength(all));
  t.is(huffmanEncode(all, out, 0), out.length);
  t.is(huffmanDecode(out, 0, out.length), all);
});

test('the empty string is zero bytes', (t) => {
  t.is(huffmanEncodedLength(''), 0);
  t.is(huffmanDecode(new Uint8Array(0), 0, 0), '');
});
