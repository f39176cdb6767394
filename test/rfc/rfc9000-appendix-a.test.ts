// RFC 9000 App. A: A.1 sample variable-length integer decodings (through the L0 Reader/Writer),
// A.2 packet number encoding length, A.3 packet number decoding. Values from the RFC text.
import test from 'ava';
import { MAX_SAFE_VARINT, Reader, VarintRangeError, Writer, fromHex, toHex } from '../../src/util/bytes.js';
import { decodePacketNumber, packetNumberLength, truncatePacketNumber } from '../../src/codec/packet-number.js';

// App. A.1: "the eight-byte sequence 0xc2197c5eff14e88c decodes to the decimal value
// 151,288,809,941,952,652; the four-byte sequence 0x9d7f3e7d decodes to 494,878,333; the two-byte
// sequence 0x7bbd decodes to 15,293; and the single byte 0x25 decodes to 37 (as does the two-byte
// sequence 0x4025)."
test('RFC 9000 App. A.1: 0x9d7f3e7d, 0x7bbd, 0x25, 0x4025', (t) => {
  for (const [hex, value] of [
    ['9d7f3e7d', 494_878_333],
    ['7bbd', 15_293],
    ['25', 37],
    ['4025', 37],
  ] as const) {
    const r = new Reader(fromHex(hex));
    t.is(r.varint(), value, hex);
    t.true(r.done);
    const w = Writer.alloc(8);
    w.varintN(value, hex.length / 2);
    t.is(toHex(w.written()), hex);
  }
  const w = Writer.alloc(8);
  w.varint(37);
  t.is(toHex(w.written()), '25', 'shortest encoding of 37');
});

test('RFC 9000 App. A.1: 0xc2197c5eff14e88c = 151288809941952652 (above 2^53: saturates / refused exactly)', (t) => {
  const bytes = fromHex('c2197c5eff14e88c');
  // The exact value, computed with bigint from the bytes, matches the RFC.
  let big = BigInt(bytes[0]! & 0x3f);
  for (let i = 1; i < 8; i++) big = (big << 8n) | BigInt(bytes[i]!);
  t.is(big, 151_288_809_941_952_652n);
  const r = new Reader(bytes);
  t.is(r.varint(), MAX_SAFE_VARINT);
  t.is(r.pos, 8);
  t.throws(() => new Reader(bytes).varintExact(), { instanceOf: VarintRangeError });
});

// App. A.2: acknowledged 0xabe8b3; sending 0xac5c02 → 29,519 outstanding → 16 bits;
// sending 0xace8fe → needs 18 bits → 24-bit encoding.
test('RFC 9000 App. A.2: packet number encoding length', (t) => {
  t.is(packetNumberLength(0xac5c02, 0xabe8b3), 2);
  t.is(truncatePacketNumber(0xac5c02, 2), 0x5c02);
  t.is(packetNumberLength(0xace8fe, 0xabe8b3), 3);
  t.is(truncatePacketNumber(0xace8fe, 3), 0xace8fe);
});

// App. A.3: largest 0xa82f30ea, 16-bit value 0x9b32 → 0xa82f9b32.
test('RFC 9000 App. A.3: packet number decoding', (t) => {
  t.is(decodePacketNumber(0xa82f30ea, 0x9b32, 2), 0xa82f9b32);
});
