// Fuzzing the header decoders (DESIGN §6): random and mutated bytes into the version-invariant view
// (RFC 8999), the full header decoder and the coalesced-packet splitter (RFC 9000 §12.2) throw
// nothing but HeaderError or BufferUnderflow, and what they return stays inside the input.
import test from 'ava';
import fc from 'fast-check';
import { BufferUnderflow, Writer, fromHex } from '../../src/util/bytes.js';
import {
  HeaderError,
  PacketHeader,
  createInvariantHeader,
  decodePacketHeader,
  encodeLongHeader,
  encodeShortHeader,
  encodeVersionNegotiation,
  parseInvariantHeader,
  patchLength,
  splitCoalesced,
} from '../../src/codec/header.js';
import { PacketType, QUIC_V1, QUIC_V2, QUIC_V2_DRAFT } from '../../src/codec/version.js';

const RUNS = 10_000;

function onlyCodecErrors(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof HeaderError || e instanceof BufferUnderflow) return;
    throw e;
  }
}

/** Random bytes, half of them starting with a plausible first byte and a supported version. */
const datagram = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 120 }),
  fc
    .tuple(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(QUIC_V1, QUIC_V2, QUIC_V2_DRAFT, 0),
      fc.uint8Array({ minLength: 0, maxLength: 120 }),
    )
    .map(([first, version, rest]) => {
      const b = new Uint8Array(5 + rest.length);
      b[0] = first | 0x40;
      b[1] = version >>> 24;
      b[2] = (version >>> 16) & 0xff;
      b[3] = (version >>> 8) & 0xff;
      b[4] = version & 0xff;
      b.set(rest, 5);
      return b;
    }),
);

test(`invariant view: ${RUNS} random datagrams`, (t) => {
  const out = createInvariantHeader();
  fc.assert(
    fc.property(datagram, fc.integer({ min: 0, max: 20 }), (d, dcidLen) => {
      onlyCodecErrors(() => {
        const h = parseInvariantHeader(d, dcidLen, out);
        if (h.dcid.length > 0 && h.dcid.buffer !== d.buffer) throw new Error('dcid is not a view');
        if (h.dcid.byteOffset + h.dcid.length > d.byteOffset + d.length) throw new Error('dcid past the end');
      });
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test(`header decoder: ${RUNS} random datagrams`, (t) => {
  const hdr = new PacketHeader();
  fc.assert(
    fc.property(datagram, fc.integer({ min: 0, max: 20 }), (d, dcidLen) => {
      onlyCodecErrors(() => {
        const h = decodePacketHeader(d, 0, d.length, dcidLen, hdr);
        if (h.packetEnd > d.length || h.packetEnd < 1) throw new Error(`packetEnd ${h.packetEnd} outside 1..${d.length}`);
        if (h.pnOffset > h.packetEnd) throw new Error('pnOffset past the packet');
      });
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test(`coalesced splitter: ${RUNS} random datagrams`, (t) => {
  fc.assert(
    fc.property(datagram, fc.integer({ min: 0, max: 20 }), (d, dcidLen) => {
      onlyCodecErrors(() => {
        const s = splitCoalesced(d, dcidLen);
        let total = 0;
        for (const p of s.packets) total += p.length;
        if (total > d.length) throw new Error('packets overlap');
        if (s.error !== null && !(s.error instanceof HeaderError || s.error instanceof BufferUnderflow)) throw new Error('bad error');
      });
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

/** A valid coalesced datagram of v1/v2 packets to mutate. */
function validDatagram(version: number): Uint8Array {
  const dcid = fromHex('0011223344556677');
  const w = Writer.alloc(600);
  let pn = encodeLongHeader(w, PacketType.Initial, version, dcid, fromHex('8899'), fromHex('abcdef'), 1, 2);
  w.fill(0, 40);
  patchLength(w.buf, pn, 2, 42);
  pn = encodeLongHeader(w, PacketType.Handshake, version, dcid, fromHex('8899'), new Uint8Array(0), 2, 1);
  w.fill(1, 30);
  patchLength(w.buf, pn, 2, 31);
  encodeShortHeader(w, dcid, 3, 1, 1, 0);
  w.fill(2, 30);
  return w.buf.slice(0, w.pos);
}

test(`mutated valid datagrams: ${RUNS} runs through all three decoders`, (t) => {
  const bases = [validDatagram(QUIC_V1), validDatagram(QUIC_V2), validDatagram(QUIC_V2_DRAFT)];
  const vn = Writer.alloc(64);
  encodeVersionNegotiation(vn, fromHex('0102'), fromHex('0304'), [QUIC_V1, QUIC_V2], 0);
  bases.push(vn.written().slice());
  const hdr = new PacketHeader();
  const inv = createInvariantHeader();
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: bases.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      (which, edits, cut) => {
        const d = bases[which]!.slice();
        for (const [pos, val] of edits) d[pos % d.length] = val;
        const view = d.subarray(0, cut % (d.length + 1));
        onlyCodecErrors(() => parseInvariantHeader(view, 8, inv));
        onlyCodecErrors(() => decodePacketHeader(view, 0, view.length, 8, hdr));
        onlyCodecErrors(() => splitCoalesced(view, 8, hdr));
      },
    ),
    { numRuns: RUNS },
  );
  t.pass();
});
