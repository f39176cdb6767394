// Packet number encoding/decoding (RFC 9000 §17.1, App. A.2, A.3): boundaries and the round-trip
// property that a packet number encoded with packetNumberLength is recovered by the receiver.
import test from 'ava';
import fc from 'fast-check';
import {
  MAX_PACKET_NUMBER,
  decodePacketNumber,
  packetNumberLength,
  readPacketNumber,
  truncatePacketNumber,
  writePacketNumber,
} from '../../src/codec/packet-number.js';

test('length boundaries follow min_bits = log2(num_unacked) + 1', (t) => {
  // Nothing acknowledged: num_unacked = pn + 1.
  t.is(packetNumberLength(0, -1), 1);
  t.is(packetNumberLength(127, -1), 1); // 128 unacked → 8 bits
  t.is(packetNumberLength(128, -1), 2); // 129 unacked → 9 bits
  t.is(packetNumberLength(100, 0), 1);
  t.is(packetNumberLength(128, 0), 1);
  t.is(packetNumberLength(129, 0), 2);
  t.is(packetNumberLength(0x8000, 0), 2);
  t.is(packetNumberLength(0x8001, 0), 3);
  t.is(packetNumberLength(0x80_0000, 0), 3);
  t.is(packetNumberLength(0x80_0001, 0), 4);
  t.is(packetNumberLength(2 ** 40, 0), 4, 'capped at 4 bytes');
});

test('write/read truncated packet numbers', (t) => {
  const b = new Uint8Array(6);
  writePacketNumber(b, 1, 0x1234_5678_9a, 4);
  t.deepEqual([...b.subarray(1, 5)], [0x34, 0x56, 0x78, 0x9a]);
  t.is(readPacketNumber(b, 1, 4), 0x3456789a);
  writePacketNumber(b, 0, 0xabcdef, 3);
  t.is(readPacketNumber(b, 0, 3), 0xabcdef);
  writePacketNumber(b, 0, 0x1ff, 1);
  t.is(b[0], 0xff);
  t.throws(() => truncatePacketNumber(1, 5), { instanceOf: RangeError });
});

test('decode edge cases: window wrap both ways, no received packet, the 2^62 ceiling', (t) => {
  t.is(decodePacketNumber(-1, 0, 1), 0);
  t.is(decodePacketNumber(-1, 5, 1), 5);
  t.is(decodePacketNumber(0xff, 0x00, 1), 0x100);
  t.is(decodePacketNumber(0x100, 0xff, 1), 0xff);
  t.is(decodePacketNumber(0x17f, 0x00, 1), 0x200);
  t.is(decodePacketNumber(0x180, 0x00, 1), 0x200);
  t.is(decodePacketNumber(0x1ff, 0x80, 1), 0x280, "window is (expected - hwin, expected + hwin]");
  t.is(decodePacketNumber(0x1ff, 0x81, 1), 0x181);
  // Near the top of the space the candidate must not exceed 2^62 - 1.
  t.true(decodePacketNumber(MAX_PACKET_NUMBER - 1, 0, 1) <= MAX_PACKET_NUMBER + 1);
});

test('property: encode with packetNumberLength(pn, largestAcked), decode with any largest received ≥ largestAcked in window', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: -1, max: 2 ** 40 }),
      fc.integer({ min: 1, max: 2 ** 24 }),
      fc.integer({ min: 0, max: 2 ** 24 }),
      (largestAcked, ahead, received) => {
        const pn = largestAcked + ahead;
        const len = packetNumberLength(pn, largestAcked);
        if (pn - Math.max(largestAcked, 0) >= 2 ** 31) return;
        // The receiver's largest received lies between largest acked and pn - 1.
        const largest = Math.min(pn - 1, Math.max(largestAcked, -1) + (received % ahead));
        t.is(decodePacketNumber(largest, truncatePacketNumber(pn, len), len), pn);
      },
    ),
    { numRuns: 2000 },
  );
});
