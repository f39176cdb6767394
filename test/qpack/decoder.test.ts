// QPACK decoder: each error case RFC 9204 names (§2.2.1, §2.2.3, §3.1, §3.2, §4.3, §4.5.1),
// blocked streams, chunked encoder-stream input, the N bit, and the RFC 9114 §4.2.2 size limit.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { concat, fromHex, toHex } from '../../src/util/bytes.js';
import { BLOCKED, QpackDecoder, QpackEncoder, QpackError, QpackErrorCode, huffmanEncodeBytes } from '../../src/qpack/index.js';

const DF = QpackErrorCode.DECOMPRESSION_FAILED;
const ESE = QpackErrorCode.ENCODER_STREAM_ERROR;

function decoder(capacity = 220, blocked = 2, maxFieldSectionSize?: number): QpackDecoder {
  const d = new QpackDecoder({ maxTableCapacity: capacity, maxBlockedStreams: blocked, maxFieldSectionSize });
  return d;
}

/** A decoder with the RFC 9204 B.2 table (:authority=www.example.com, :path=/sample/path). */
function withTable(blocked = 2): QpackDecoder {
  const d = decoder(220, blocked);
  d.receiveEncoderStream(fromHex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468'));
  return d;
}

function failsWith(t: any, fn: () => unknown, errorCode: number, re?: RegExp): QpackError {
  const e = t.throws(fn, { instanceOf: QpackError }) as QpackError;
  t.is(e.errorCode, errorCode);
  if (re) t.regex(e.message, re);
  return e;
}

test('field section errors → QPACK_DECOMPRESSION_FAILED', (t) => {
  const d = withTable();
  failsWith(t, () => d.decodeFieldSection(0, fromHex('0000 ff24')), DF, /static index 99/); // indexed static 99
  failsWith(t, () => d.decodeFieldSection(0, fromHex('0000 5f54 00')), DF, /static index/); // literal name ref static 99
  // RIC 2, Base 2: relative index 2 → absolute -1.
  failsWith(t, () => d.decodeFieldSection(0, fromHex('0300 82')), DF, /outside/);
  // RIC 1, Base 2 (delta 1): relative 0 → absolute 1 ≥ RIC.
  failsWith(t, () => d.decodeFieldSection(0, fromHex('0201 80')), DF, /outside/);
  // Post-base index beyond RIC: RIC 1, Base 0, post-base 1 → absolute 1.
  failsWith(t, () => d.decodeFieldSection(0, fromHex('0280 11')), DF, /outside/);
  // Encoded RIC above 2 * MaxEntries (= 12).
  failsWith(t, () => d.decodeFieldSection(0, fromHex('0d00')), DF, /exceeds/);
  // Negative Base: sign 1 with Delta Base ≥ RIC.
  failsWith(t, () => d.decodeFieldSection(0, fromHex('0382')), DF, /negative Base/);
  // RIC larger than needed: RIC 2 but only entry 0 referenced.
  failsWith(t, () => d.decodeFieldSection(0, fromHex('0381 10')), DF, /larger than needed/);
  // Huffman error inside a field line.
  failsWith(t, () => d.decodeFieldSection(0, fromHex('0000 5181 ff')), DF, /Huffman/);
  // Truncated: every strict prefix of a valid section.
  const good = fromHex('0000 510b 2f69 6e64 6578 2e68 746d 6c');
  t.deepEqual(d.decodeFieldSection(0, good), [[':path', '/index.html']]);
  for (let cut = 0; cut < good.length; cut++) {
    if (cut === 2) continue; // the bare prefix is a valid empty section
    failsWith(t, () => d.decodeFieldSection(0, good.subarray(0, cut)), DF);
  }
  t.deepEqual(d.decodeFieldSection(0, good.subarray(0, 2)), []);
});

test('RIC decoding with no dynamic table: any non-zero encoded value is invalid', (t) => {
  const d = decoder(0, 0);
  failsWith(t, () => d.decodeFieldSection(0, fromHex('0100')), DF);
});

test('RFC 9204 §4.5.1.1 example: 100-byte table, 10 inserts, encoded 4 → RIC 9', (t) => {
  const d = decoder(100, 1);
  // capacity 100, insert 10 tiny entries (each 33 bytes: name "a" empty value → 33; the table keeps 3).
  let enc = '3f45'; // Set Dynamic Table Capacity 100
  for (let i = 0; i < 10; i++) enc += '4161 00'; // Insert With Literal Name a=""
  d.receiveEncoderStream(fromHex(enc));
  t.is(d.insertCount, 10);
  // RIC 9 (encoded 4), Base 9: relative 0 → absolute 8.
  t.deepEqual(d.decodeFieldSection(0, fromHex('0400 80')), [['a', '']]);
  t.is(toHex(d.takeDecoderStreamBytes()), '8001', 'Section Acknowledgment (stream 0) then Insert Count Increment 1');
  // Absolute 6 was evicted (only 7, 8, 9 remain).
  failsWith(t, () => d.decodeFieldSection(4, fromHex('0400 82 80')), DF, /evicted/);
});

test('blocked streams: up to SETTINGS_QPACK_BLOCKED_STREAMS, then QPACK_DECOMPRESSION_FAILED', (t) => {
  const d = decoder(220, 2);
  t.is(d.decodeFieldSection(0, fromHex('0280 10')), BLOCKED);
  t.is(d.decodeFieldSection(4, fromHex('0280 10')), BLOCKED);
  t.is(d.blockedStreams, 2);
  failsWith(t, () => d.decodeFieldSection(8, fromHex('0280 10')), DF, /BLOCKED_STREAMS/);
  t.throws(() => d.decodeFieldSection(0, fromHex('0000')), { instanceOf: RangeError });
  // The insert unblocks both, in order, and acknowledges both.
  const un = d.receiveEncoderStream(fromHex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d'));
  t.deepEqual(
    un.map((u) => [u.streamId, u.headers]),
    [
      [0, [[':authority', 'www.example.com']]],
      [4, [[':authority', 'www.example.com']]],
    ],
  );
  t.is(d.blockedStreams, 0);
  t.is(toHex(d.takeDecoderStreamBytes()), '8084');
});

test('blocked streams with a limit of 0: any blocking section is an error', (t) => {
  const d = decoder(220, 0);
  failsWith(t, () => d.decodeFieldSection(0, fromHex('0280 10')), DF);
});

test('encoder stream errors → QPACK_ENCODER_STREAM_ERROR', (t) => {
  failsWith(t, () => decoder(220).receiveEncoderStream(fromHex('3fbe01')), ESE, /above/); // capacity 221 > 220
  failsWith(t, () => withTable().receiveEncoderStream(fromHex('ff24 00')), ESE, /static index 99/);
  failsWith(t, () => withTable().receiveEncoderStream(fromHex('82 00')), ESE, /relative index 2/); // only 2 entries
  failsWith(t, () => withTable().receiveEncoderStream(fromHex('02')), ESE, /relative index 2/); // duplicate
  failsWith(t, () => decoder(220).receiveEncoderStream(fromHex('c000')), ESE, /exceeds the table capacity 0/); // before capacity set
  failsWith(t, () => decoder(220).receiveEncoderStream(fromHex('3fbd01 c07f c001')), ESE, /exceeds the limit/); // value length 320 > 220
  failsWith(t, () => decoder(220).receiveEncoderStream(fromHex('3fbd01 c081 ff')), ESE, /Huffman/);
  // 180-byte value + 10 + 32 > 150
  failsWith(t, () => decoder(220).receiveEncoderStream(fromHex('3f77 c07f 35' + '61'.repeat(180))), ESE, /exceeds/);
});

test('encoder stream input split at every byte boundary', (t) => {
  const stream = fromHex(
    '3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468' +
      '4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565 02 810d 6375 7374 6f6d 2d76 616c 7565 32',
  );
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = decoder(220);
    d.receiveEncoderStream(stream.subarray(0, cut));
    d.receiveEncoderStream(stream.subarray(cut));
    t.is(d.insertCount, 5);
    t.is(d.tableSize, 215);
  }
  const d = decoder(220);
  for (const b of stream) d.receiveEncoderStream(Uint8Array.of(b));
  t.deepEqual(d.entry(4), ['custom-key', 'custom-value2']);
});

test('the N bit is reported on decoded fields', (t) => {
  const d = decoder(0, 0);
  // Literal with static name ref 84 (authorization), N=1: 0111 + index 84 → 0x7f 0x45; value "x".
  const h = d.decodeFieldSection(0, fromHex('0000 7f45 0178 316b 0176'));
  t.deepEqual(h, [
    ['authorization', 'x', true],
    ['k', 'v', true],
  ]);
});

test('SETTINGS_MAX_FIELD_SECTION_SIZE: a stream error, and the section is cancelled when it referenced the table', (t) => {
  const d = decoder(220, 2, 50);
  const e = failsWith(t, () => d.decodeFieldSection(0, fromHex('0000 510b 2f69 6e64 6578 2e68 746d 6c 5100')), 0x107, /MAX_FIELD_SECTION_SIZE/);
  t.true(e.streamError);
  t.is(e.code, 'ERR_QPACK_FIELD_SECTION_TOO_LARGE');
  t.is(e.streamId, 0);
  t.is(d.takeDecoderStreamBytes().length, 0);
  // 57 > 50 with a dynamic reference: Stream Cancellation queued.
  d.receiveEncoderStream(fromHex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d'));
  failsWith(t, () => d.decodeFieldSection(4, fromHex('0200 80')), 0x107);
  t.is(toHex(d.takeDecoderStreamBytes()), '4401', 'Stream Cancellation 4, Insert Count Increment 1');
  // A section of exactly the limit passes: ":path" "/" is 5 + 1 + 32 = 38; it fits.
  t.deepEqual(d.decodeFieldSection(8, fromHex('0000 c1')), [[':path', '/']]);
});

/** A string literal with an N-bit prefix (H flag = top prefix bit), raw or Huffman-coded octets. */
function literal(first: number, prefixBits: number, octets: Uint8Array, huffman: boolean): Uint8Array {
  const out: number[] = [];
  const max = (1 << (prefixBits - 1)) - 1;
  const h = huffman ? 1 << (prefixBits - 1) : 0;
  if (octets.length < max) out.push(first | h | octets.length);
  else {
    out.push(first | h | max);
    let v = octets.length - max;
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.push(v);
  }
  return new Uint8Array([...out, ...octets]);
}

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

test('a single string literal longer than SETTINGS_MAX_FIELD_SECTION_SIZE → the same stream error H3_EXCESSIVE_LOAD', (t) => {
  const limit = 100;
  // Literal Field Line with Literal Name (§4.5.6): long name; then a long value after a short name;
  // then a long value on a static name reference (§4.5.4).
  const longName = concat(fromHex('0000'), literal(0x20, 4, latin1('n'.repeat(200)), false), literal(0, 8, latin1('v'), false));
  const longValue = concat(fromHex('0000'), literal(0x20, 4, latin1('n'), false), literal(0, 8, latin1('v'.repeat(200)), false));
  const nameRef = concat(fromHex('0000 51'), literal(0, 8, latin1('v'.repeat(1000)), false));
  const huff = concat(fromHex('0000 51'), literal(0, 8, huffmanEncodeBytes(latin1('v'.repeat(300))), true));
  for (const [what, bytes] of [['name', longName], ['value', longValue], ['name ref', nameRef], ['huffman', huff]] as const) {
    const d = decoder(220, 2, limit);
    const e = failsWith(t, () => d.decodeFieldSection(8, bytes), 0x107, /MAX_FIELD_SECTION_SIZE/);
    t.true(e.streamError, what);
    t.is(e.streamId, 8, what);
    t.is(e.code, 'ERR_QPACK_FIELD_SECTION_TOO_LARGE');
    // Static-only section: nothing to cancel; the decoder goes on decoding.
    t.is(d.takeDecoderStreamBytes().length, 0, what);
    t.deepEqual(d.decodeFieldSection(12, fromHex('0000 c1')), [[':path', '/']]);
  }
});

test('a too-long literal in a section that referenced the dynamic table: Stream Cancellation, table consistent', (t) => {
  const d = decoder(220, 2, 100);
  d.receiveEncoderStream(fromHex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d'));
  t.is(toHex(d.takeDecoderStreamBytes()), '01', 'Insert Count Increment 1');
  // RIC 1, Base 1: indexed dynamic 0, then :path with a 500-byte value.
  const bytes = concat(fromHex('0200 80 51'), literal(0, 8, latin1('/'.repeat(500)), false));
  const e = failsWith(t, () => d.decodeFieldSection(4, bytes), 0x107);
  t.true(e.streamError);
  t.is(toHex(d.takeDecoderStreamBytes()), '44', 'Stream Cancellation 4 only (no acknowledgment)');
  // The same table still serves the next section on another stream, which is acknowledged.
  t.deepEqual(d.decodeFieldSection(8, fromHex('0200 80')), [[':authority', 'www.example.com']]);
  t.is(toHex(d.takeDecoderStreamBytes()), '88', 'Section Acknowledgment 8');
});

test('a Huffman literal whose coded form exceeds the limit but whose decoded size fits is accepted', (t) => {
  // '\n' has a 30-bit code (RFC 7541 App. B): 14 of them take 53 octets coded, 14 decoded.
  const value = '\n'.repeat(14);
  const coded = huffmanEncodeBytes(latin1(value));
  t.is(coded.length, 53);
  const d = decoder(220, 2, 50);
  // "a" + 14 + 32 = 47 ≤ 50.
  const bytes = concat(fromHex('0000'), literal(0x20, 4, latin1('a'), false), literal(0, 8, coded, true));
  t.deepEqual(d.decodeFieldSection(0, bytes), [['a', value]]);
  // With a 5-char name the same value is over (51 > 50): a stream error after decoding.
  const over = concat(fromHex('0000'), literal(0x20, 4, latin1('abcde'), false), literal(0, 8, coded, true));
  failsWith(t, () => d.decodeFieldSection(4, over), 0x107);
});

test('a blocked section that is too large comes back as a stream error in the unblocked list', (t) => {
  const d = decoder(220, 2, 40);
  t.is(d.decodeFieldSection(0, fromHex('0280 10')), BLOCKED);
  const un = d.receiveEncoderStream(fromHex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d'));
  t.is(un.length, 1);
  t.is(un[0]!.headers, null);
  t.is(un[0]!.error!.errorCode, 0x107);
});

test('cancelStream drops a blocked section and is omitted with a zero-capacity table', (t) => {
  const d0 = decoder(0, 0);
  d0.cancelStream(4);
  t.is(d0.takeDecoderStreamBytes().length, 0);
  const d = decoder(220, 1);
  t.is(d.decodeFieldSection(4, fromHex('0280 10')), BLOCKED);
  d.cancelStream(4);
  t.deepEqual(d.receiveEncoderStream(fromHex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d')), []);
  t.is(toHex(d.takeDecoderStreamBytes()), '4401');
});

test('round trip with our encoder against a table that wraps the Required Insert Count', (t) => {
  const enc = new QpackEncoder({ maxTableCapacity: 64 });
  const dec = decoder(64, 4);
  enc.applyPeerSettings(64, 4);
  for (let i = 0; i < 40; i++) {
    const headers: Array<[string, string]> = [
      [':method', 'GET'],
      ['x-v', `v${i % 7}`],
    ];
    const out = enc.encodeFieldSection(i * 4, headers);
    dec.receiveEncoderStream(out.encoderStream);
    t.deepEqual(dec.decodeFieldSection(i * 4, out.fieldSection), headers);
    enc.receiveDecoderStream(dec.takeDecoderStreamBytes());
  }
  t.true(enc.insertCount > 8, 'inserted past 2 * MaxEntries');
});

test('a chunk ending mid-instruction is a return value, not an exception (DESIGN §7.6): no BufferUnderflow in src/qpack', (t) => {
  for (const f of ['instruction-stream.ts', 'prefix-int.ts', 'string-literal.ts', 'decoder.ts', 'encoder.ts']) {
    const src = readFileSync(fileURLToPath(new URL(`../../../src/qpack/${f}`, import.meta.url)), 'utf8');
    t.false(src.includes('BufferUnderflow'), f);
  }
});
