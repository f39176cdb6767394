// Packet headers (RFC 8999 §5, RFC 9000 §17.2, §17.3.1, §12.2, RFC 9369 §3.2): for every header form
// and version, decode → bytes consumed → re-encode → identical bytes and size; then every truncated
// prefix → BufferUnderflow (or, for the forms whose last field has no length, a shorter valid value).
import test from 'ava';
import { BufferUnderflow, EMPTY, Writer, fromHex, toHex } from '../../src/util/bytes.js';
import {
  HeaderError,
  PacketHeader,
  createInvariantHeader,
  decodePacketHeader,
  encodeLongHeader,
  encodeRetryWithoutTag,
  encodeShortHeader,
  encodeVersionNegotiation,
  keyPhaseBit,
  longHeaderSize,
  packetNumberLengthBits,
  parseInvariantHeader,
  patchLength,
  reservedBitsValid,
  shortHeaderSize,
  spinBit,
  splitCoalesced,
} from '../../src/codec/header.js';
import { PacketType, QUIC_V1, QUIC_V2, QUIC_V2_DRAFT, SUPPORTED_VERSIONS } from '../../src/codec/version.js';

const DCID = fromHex('0102030405060708');
const SCID = fromHex('a1a2a3a4a5');
const TOKEN = fromHex('deadbeefcafe');

/** A long-header packet: header + `payload` bytes (pn + payload + tag, as Length counts them). */
function longPacket(
  type: PacketType,
  version: number,
  pnLength: number,
  lengthFieldSize: number,
  payload = 24,
  dcid = DCID,
  scid = SCID,
): { bytes: Uint8Array; pnOffset: number } {
  const w = Writer.alloc(4096);
  const token = type === PacketType.Initial ? TOKEN : EMPTY;
  const pnOffset = encodeLongHeader(w, type, version, dcid, scid, token, 0x1234567, pnLength, lengthFieldSize);
  t_assertSize(w.pos, longHeaderSize(type, dcid.length, scid.length, token.length, pnLength, lengthFieldSize));
  for (let i = 0; i < payload; i++) w.u8(i & 0xff);
  patchLength(w.buf, pnOffset, lengthFieldSize, pnLength + payload);
  return { bytes: w.buf.slice(0, w.pos), pnOffset };
}

function t_assertSize(got: number, want: number): void {
  if (got !== want) throw new Error(`size function disagrees: wrote ${got}, size says ${want}`);
}

function expectUnderflow(fn: () => unknown): boolean {
  try {
    fn();
  } catch (e) {
    return e instanceof BufferUnderflow;
  }
  return false;
}

for (const version of SUPPORTED_VERSIONS) {
  for (const type of [PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake]) {
    for (const pnLength of [1, 2, 3, 4]) {
      for (const lengthFieldSize of [1, 2, 4]) {
        test(`long header 0x${version.toString(16)} type ${type} pn${pnLength} len${lengthFieldSize}: round trip and truncation`, (t) => {
          const { bytes, pnOffset } = longPacket(type, version, pnLength, lengthFieldSize);
          const h = decodePacketHeader(bytes, 0, bytes.length, 0, new PacketHeader());
          t.true(h.long);
          t.is(h.type, type);
          t.is(h.version, version);
          t.is(toHex(h.dcid), toHex(DCID));
          t.is(toHex(h.scid), toHex(SCID));
          t.is(toHex(h.token), type === PacketType.Initial ? toHex(TOKEN) : '');
          t.is(h.pnOffset, pnOffset);
          t.is(h.lengthOffset, pnOffset - lengthFieldSize);
          t.is(h.length, pnLength + 24);
          t.is(h.packetEnd, bytes.length, 'consumed the whole packet');
          t.is(h.headerOffset, 0);
          // The unprotected first byte carries the packet number length; reserved bits are zero.
          t.is(packetNumberLengthBits(h.firstByte), pnLength);
          t.true(reservedBitsValid(h.firstByte));
          // Re-encode from the decoded fields: identical bytes.
          const w = Writer.alloc(4096);
          const pn = Number('0x' + toHex(bytes.subarray(pnOffset, pnOffset + pnLength)));
          const p2 = encodeLongHeader(w, h.type, h.version, h.dcid, h.scid, h.token, pn, pnLength, lengthFieldSize);
          w.bytes(bytes.subarray(p2 + pnLength));
          patchLength(w.buf, p2, lengthFieldSize, h.length);
          t.is(toHex(w.written()), toHex(bytes));
          // Every truncated prefix is a BufferUnderflow (Length runs past the end).
          for (let n = 0; n < bytes.length; n++) {
            t.true(expectUnderflow(() => decodePacketHeader(bytes.subarray(0, n), 0, n, 0)), `prefix ${n}`);
          }
          // The invariant view of the same packet.
          const inv = parseInvariantHeader(bytes, 0, createInvariantHeader());
          t.true(inv.long);
          t.is(inv.version, version);
          t.is(toHex(inv.dcid), toHex(DCID));
          t.is(toHex(inv.scid), toHex(SCID));
          const headerEnd = 1 + 4 + 1 + DCID.length + 1 + SCID.length;
          for (let n = 0; n < headerEnd; n++) {
            t.true(expectUnderflow(() => parseInvariantHeader(bytes.subarray(0, n), 0)), `invariant prefix ${n}`);
          }
          t.notThrows(() => parseInvariantHeader(bytes.subarray(0, headerEnd), 0));
        });
      }
    }
  }

  test(`Retry 0x${version.toString(16)}: round trip, truncation`, (t) => {
    const w = Writer.alloc(256);
    const n = encodeRetryWithoutTag(w, version, SCID, DCID, TOKEN, 0x0a);
    const tag = fromHex('00112233445566778899aabbccddeeff');
    w.bytes(tag);
    const bytes = w.buf.slice(0, w.pos);
    const h = decodePacketHeader(bytes, 0, bytes.length, 0);
    t.is(h.type, PacketType.Retry);
    t.is(h.firstByte & 0x0f, 0x0a);
    t.is(toHex(h.dcid), toHex(SCID));
    t.is(toHex(h.scid), toHex(DCID));
    t.is(toHex(h.token), toHex(TOKEN));
    t.is(toHex(h.integrityTag), toHex(tag));
    t.is(h.pnOffset, -1);
    t.is(h.packetEnd, bytes.length);
    const w2 = Writer.alloc(256);
    encodeRetryWithoutTag(w2, h.version, h.dcid, h.scid, h.token, h.firstByte & 0x0f);
    w2.bytes(h.integrityTag);
    t.is(toHex(w2.written()), toHex(bytes));
    const minimal = n - TOKEN.length + 16;
    for (let k = 0; k < bytes.length; k++) {
      if (k < minimal) t.true(expectUnderflow(() => decodePacketHeader(bytes.subarray(0, k), 0, k, 0)), `prefix ${k}`);
      else t.is(decodePacketHeader(bytes.subarray(0, k), 0, k, 0).token.length, k - minimal, 'a Retry token has no length field');
    }
  });
}

test('v1 and v2 use different type bits for the same packet', (t) => {
  const a = longPacket(PacketType.Handshake, QUIC_V1, 1, 2).bytes;
  const b = longPacket(PacketType.Handshake, QUIC_V2, 1, 2).bytes;
  const c = longPacket(PacketType.Handshake, QUIC_V2_DRAFT, 1, 2).bytes;
  t.is(a[0], 0xe0);
  t.is(b[0], 0xf0);
  t.is(c[0], 0xf0);
  const i1 = longPacket(PacketType.Initial, QUIC_V1, 1, 2).bytes;
  const i2 = longPacket(PacketType.Initial, QUIC_V2, 1, 2).bytes;
  t.is(i1[0], 0xc0);
  t.is(i2[0], 0xd0);
});

test('short header: round trip, bits, truncation', (t) => {
  for (const pnLength of [1, 2, 3, 4]) {
    for (const [kp, spin] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
      const w = Writer.alloc(64);
      const pnOffset = encodeShortHeader(w, DCID, 0xabcdef01, pnLength, kp, spin);
      t.is(w.pos, shortHeaderSize(DCID.length, pnLength));
      w.bytes(fromHex('0102030405060708090a0b0c0d0e0f101112131415'));
      const bytes = w.buf.slice(0, w.pos);
      const h = decodePacketHeader(bytes, 0, bytes.length, DCID.length);
      t.false(h.long);
      t.is(h.type, PacketType.OneRtt);
      t.is(h.version, -1);
      t.is(toHex(h.dcid), toHex(DCID));
      t.is(h.pnOffset, pnOffset);
      t.is(h.packetEnd, bytes.length);
      t.is(keyPhaseBit(h.firstByte), kp);
      t.is(spinBit(h.firstByte), spin);
      t.is(packetNumberLengthBits(h.firstByte), pnLength);
      t.true(reservedBitsValid(h.firstByte));
      const w2 = Writer.alloc(64);
      encodeShortHeader(w2, h.dcid, 0xabcdef01, pnLength, keyPhaseBit(h.firstByte), spinBit(h.firstByte));
      t.is(toHex(w2.written()), toHex(bytes.subarray(0, pnOffset + pnLength)));
      for (let n = 0; n < 1 + DCID.length; n++) {
        t.true(expectUnderflow(() => decodePacketHeader(bytes.subarray(0, n), 0, n, DCID.length)), `prefix ${n}`);
        t.true(expectUnderflow(() => parseInvariantHeader(bytes.subarray(0, n), DCID.length)), `invariant prefix ${n}`);
      }
      const inv = parseInvariantHeader(bytes, DCID.length);
      t.false(inv.long);
      t.is(inv.version, -1);
      t.is(toHex(inv.dcid), toHex(DCID));
      t.is(inv.scid.length, 0);
    }
  }
  t.false(reservedBitsValid(0x48));
  t.false(reservedBitsValid(0x50));
  t.false(reservedBitsValid(0xc4));
  t.false(reservedBitsValid(0xc8));
});

test('Version Negotiation: encode, decode, truncation, unused bits', (t) => {
  const long = new Uint8Array(40).fill(7); // other versions may use CIDs longer than 20 bytes
  const w = Writer.alloc(256);
  const n = encodeVersionNegotiation(w, long, DCID, [QUIC_V1, QUIC_V2, 0x1a2a3a4a], 0x2d);
  const bytes = w.buf.slice(0, n);
  t.is(bytes[0], 0x80 | 0x40 | 0x2d);
  t.is(toHex(bytes.subarray(1, 5)), '00000000');
  const h = decodePacketHeader(bytes, 0, bytes.length, 0);
  t.is(h.type, PacketType.VersionNegotiation);
  t.is(h.version, 0);
  t.is(h.dcid.length, 40);
  t.is(toHex(h.scid), toHex(DCID));
  t.deepEqual(h.versions(), [QUIC_V1, QUIC_V2, 0x1a2a3a4a]);
  t.is(h.packetEnd, bytes.length);
  const w2 = Writer.alloc(256);
  encodeVersionNegotiation(w2, h.dcid, h.scid, h.versions(), h.firstByte);
  t.is(toHex(w2.written()), toHex(bytes));
  const headerEnd = 1 + 4 + 1 + 40 + 1 + DCID.length;
  for (let k = 0; k < bytes.length; k++) {
    if (k < headerEnd) {
      t.true(expectUnderflow(() => decodePacketHeader(bytes.subarray(0, k), 0, k, 0)), `prefix ${k}`);
    } else if ((k - headerEnd) % 4 !== 0) {
      const e = t.throws(() => decodePacketHeader(bytes.subarray(0, k), 0, k, 0), { instanceOf: HeaderError });
      t.is(e?.reason, 'vn-length');
      t.is(e?.code, 'ERR_QUIC_BAD_HEADER');
    } else {
      t.is(decodePacketHeader(bytes.subarray(0, k), 0, k, 0).versions().length, (k - headerEnd) / 4);
    }
  }
  // The fixed bit is not required in Version Negotiation.
  const nofixed = bytes.slice();
  nofixed[0] = 0x80;
  t.is(decodePacketHeader(nofixed, 0, nofixed.length, 0).type, PacketType.VersionNegotiation);
});

test('malformed headers: fixed bit, CID length, unknown version', (t) => {
  const init = longPacket(PacketType.Initial, QUIC_V1, 1, 2).bytes;
  const nofixed = init.slice();
  nofixed[0] &= ~0x40;
  t.is(t.throws(() => decodePacketHeader(nofixed, 0, nofixed.length, 0), { instanceOf: HeaderError })?.reason, 'fixed-bit');
  t.is(t.throws(() => decodePacketHeader(fromHex('0001020304050607080910'), 0, 11, 4), { instanceOf: HeaderError })?.reason, 'fixed-bit');

  // 21-byte DCID: v1 MUST drop; the invariant view still reads it (RFC 8999 allows up to 255).
  const w = Writer.alloc(128);
  w.u8(0xc0);
  w.u32(QUIC_V1);
  w.u8Bytes(new Uint8Array(21));
  w.u8Bytes(EMPTY);
  w.fill(0, 30);
  const long = w.written();
  t.is(t.throws(() => decodePacketHeader(long, 0, long.length, 0), { instanceOf: HeaderError })?.reason, 'cid-too-long');
  t.is(parseInvariantHeader(long, 0).dcid.length, 21);
  const scidLong = longPacket(PacketType.Handshake, QUIC_V1, 1, 2).bytes.slice();
  scidLong[6 + DCID.length] = 21;
  t.is(t.throws(() => decodePacketHeader(scidLong, 0, scidLong.length, 0), { instanceOf: HeaderError })?.reason, 'cid-too-long');

  const unknown = init.slice();
  unknown.set([0xff, 0x00, 0x00, 0x1d], 1);
  const e = t.throws(() => decodePacketHeader(unknown, 0, unknown.length, 0), { instanceOf: HeaderError });
  t.is(e?.reason, 'unsupported-version');
  const inv = parseInvariantHeader(unknown, 0);
  t.is(inv.version, 0xff00001d);
  t.is(toHex(inv.dcid), toHex(DCID));
});

test('coalesced: Initial + Handshake + 1-RTT split by Length; trailing junk; mismatched DCID; first-packet errors', (t) => {
  const a = longPacket(PacketType.Initial, QUIC_V1, 4, 2, 40).bytes;
  const b = longPacket(PacketType.Handshake, QUIC_V1, 2, 4, 30).bytes;
  const w = Writer.alloc(64);
  encodeShortHeader(w, DCID, 7, 1, 0, 0);
  w.fill(0xee, 25);
  const c = w.buf.slice(0, w.pos);
  const dgram = new Uint8Array(a.length + b.length + c.length);
  dgram.set(a);
  dgram.set(b, a.length);
  dgram.set(c, a.length + b.length);
  const s = splitCoalesced(dgram, DCID.length);
  t.is(s.error, null);
  t.deepEqual(s.packets.map((p) => p.length), [a.length, b.length, c.length]);
  t.is(toHex(s.packets[1]!), toHex(b));
  t.is(s.packets[2]!.byteOffset - dgram.byteOffset, a.length + b.length, 'views, not copies');

  // A non-allocating walk with one reused PacketHeader finds the same boundaries.
  const hdr = new PacketHeader();
  const ends: number[] = [];
  for (let off = 0; off < dgram.length; off = hdr.packetEnd) ends.push(decodePacketHeader(dgram, off, dgram.length, 8, hdr).packetEnd);
  t.deepEqual(ends, [a.length, a.length + b.length, dgram.length]);

  // Zero padding after the long-header packets (a fixed-bit-0 "short header"): kept packets, error reported.
  const padded = new Uint8Array(a.length + 20);
  padded.set(a);
  const sp = splitCoalesced(padded, DCID.length);
  t.is(sp.packets.length, 1);
  t.true(sp.error instanceof HeaderError);

  // A truncated second packet.
  const cut = dgram.subarray(0, a.length + 10);
  const sc = splitCoalesced(cut, DCID.length);
  t.is(sc.packets.length, 1);
  t.true(sc.error instanceof BufferUnderflow);

  // A coalesced packet for another connection is ignored (RFC 9000 §12.2).
  const other = longPacket(PacketType.Handshake, QUIC_V1, 1, 2, 20, fromHex('ffffffffffffffff')).bytes;
  const mixed = new Uint8Array(a.length + other.length);
  mixed.set(a);
  mixed.set(other, a.length);
  const sm = splitCoalesced(mixed, DCID.length);
  t.is(sm.packets.length, 1);
  t.is(sm.ignoredDcidMismatch, 1);

  t.throws(() => splitCoalesced(dgram.subarray(0, 10), DCID.length), { instanceOf: BufferUnderflow });
  t.throws(() => splitCoalesced(new Uint8Array(0), DCID.length), { instanceOf: BufferUnderflow });
});

test('encoder misuse throws RangeError naming the argument', (t) => {
  const w = Writer.alloc(256);
  t.throws(() => encodeLongHeader(w, PacketType.Initial, QUIC_V1, DCID, SCID, EMPTY, 0, 5), { message: /pnLength/ });
  t.throws(() => encodeLongHeader(w, PacketType.Initial, QUIC_V1, new Uint8Array(21), SCID, EMPTY, 0, 1), { message: /dcid/ });
  t.throws(() => encodeLongHeader(w, PacketType.Handshake, QUIC_V1, DCID, SCID, TOKEN, 0, 1), { message: /token/ });
  t.throws(() => encodeLongHeader(w, PacketType.Retry, QUIC_V1, DCID, SCID, EMPTY, 0, 1), { message: /type/ });
  t.throws(() => encodeLongHeader(w, PacketType.Initial, 0x0a0a0a0a, DCID, SCID, EMPTY, 0, 1), { message: /version/ });
  t.throws(() => encodeLongHeader(w, PacketType.Initial, QUIC_V1, DCID, SCID, EMPTY, 0, 1, 3), { message: /lengthFieldSize/ });
  t.throws(() => encodeShortHeader(w, DCID, 0, 0, 0, 0), { message: /pnLength/ });
  t.throws(() => patchLength(new Uint8Array(8), 4, 2, 0x4000), { message: /length/ });
  t.throws(() => encodeRetryWithoutTag(w, 2, DCID, SCID, TOKEN), { message: /version/ });
  const small = Writer.alloc(10);
  t.throws(() => encodeLongHeader(small, PacketType.Initial, QUIC_V1, DCID, SCID, EMPTY, 0, 1), { instanceOf: RangeError });
  t.is(small.pos, 0, 'nothing written when the header does not fit');
});
