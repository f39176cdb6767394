// SETTINGS payload codec (RFC 9114 §7.2.4, RFC 9204 §5, RFC 8441 §3 / RFC 9220, RFC 9297 §2.1.1).
import test from 'ava';
import fc from 'fast-check';
import { Writer, fromHex, toHex } from '../../../src/util/bytes.js';
import { H3Error, H3ErrorCode, decodeSettings, defaultSettings, encodeSettingsPayload, settingsPayloadSize } from '../../../src/h3/wire/index.js';
import type { H3Settings } from '../../../src/h3/wire/index.js';

function enc(s: Partial<H3Settings>): Uint8Array {
  const w = Writer.alloc(settingsPayloadSize(s));
  encodeSettingsPayload(w, s);
  if (w.pos !== w.buf.length) throw new Error('size mismatch');
  return w.buf;
}

test('Chromium-shaped SETTINGS (INTEROP.md): QPACK 65536/100, field section 262144, H3_DATAGRAM, GREASE ignored', (t) => {
  // QPACK_MAX_TABLE_CAPACITY 65536, MAX_FIELD_SECTION_SIZE 262144, QPACK_BLOCKED_STREAMS 100,
  // H3_DATAGRAM 1, and a GREASE setting 0x1f*1234+0x21 = 0x9989 with value 7.
  const payload = fromHex('01 80010000 06 80040000 07 4064 33 01 80009989 07');
  const s = decodeSettings(payload);
  t.deepEqual(s, {
    qpackMaxTableCapacity: 65536,
    maxFieldSectionSize: 262144,
    qpackBlockedStreams: 100,
    enableConnectProtocol: false,
    h3Datagram: true,
    unknown: [[0x9989, 7]],
  });
  t.is(toHex(enc(s)), toHex(payload), 're-encodes to the same bytes');
  t.deepEqual(decodeSettings(enc(s)), s);
});

test('defaults: an empty payload; defaults are not sent', (t) => {
  t.deepEqual(decodeSettings(new Uint8Array(0)), defaultSettings());
  t.is(enc(defaultSettings()).length, 0);
  t.is(toHex(enc({ enableConnectProtocol: true })), '0801');
});

test('duplicate known settings → H3_SETTINGS_ERROR; duplicate unknown ones are kept', (t) => {
  const e = t.throws(() => decodeSettings(fromHex('0100 0101')), { instanceOf: H3Error });
  t.is(e.errorCode, H3ErrorCode.H3_SETTINGS_ERROR);
  t.deepEqual(decodeSettings(fromHex('2101 2102')).unknown, [
    [0x21, 1],
    [0x21, 2],
  ]);
});

test('HTTP/2 settings 0x02–0x05 → H3_SETTINGS_ERROR', (t) => {
  for (const id of [2, 3, 4, 5]) {
    const e = t.throws(() => decodeSettings(Uint8Array.of(id, 0)), { instanceOf: H3Error });
    t.is(e.errorCode, H3ErrorCode.H3_SETTINGS_ERROR);
    t.is(e.code, 'ERR_H3_SETTINGS_ERROR');
  }
});

test('ENABLE_CONNECT_PROTOCOL and H3_DATAGRAM accept only 0 or 1', (t) => {
  t.true(decodeSettings(fromHex('0801')).enableConnectProtocol);
  t.false(decodeSettings(fromHex('0800')).enableConnectProtocol);
  for (const p of ['0802', '3302']) {
    const e = t.throws(() => decodeSettings(fromHex(p)), { instanceOf: H3Error });
    t.is(e.errorCode, H3ErrorCode.H3_SETTINGS_ERROR);
  }
});

test('a payload ending inside a setting → H3_FRAME_ERROR, for every truncated prefix', (t) => {
  const payload = fromHex('01 80010000 06 80040000 07 4064 33 01');
  for (let cut = 1; cut < payload.length; cut++) {
    const sub = payload.subarray(0, cut);
    // Prefixes that end exactly between settings are valid payloads.
    const boundary = [0, 5, 10, 13, 15].includes(cut);
    if (boundary) {
      t.notThrows(() => decodeSettings(sub));
    } else {
      const e = t.throws(() => decodeSettings(sub), { instanceOf: H3Error });
      t.is(e.errorCode, H3ErrorCode.H3_FRAME_ERROR, `cut ${cut}`);
    }
  }
});

test('values ≥ 2^53 saturate (limits), and round trips hold', (t) => {
  const s = decodeSettings(fromHex('06 ffffffffffffffff'));
  t.is(s.maxFieldSectionSize, Number.MAX_SAFE_INTEGER);
  fc.assert(
    fc.property(
      fc.record({
        qpackMaxTableCapacity: fc.maxSafeNat(),
        qpackBlockedStreams: fc.maxSafeNat(),
        maxFieldSectionSize: fc.oneof(fc.constant(Infinity), fc.maxSafeNat()),
        enableConnectProtocol: fc.boolean(),
        h3Datagram: fc.boolean(),
        unknown: fc.array(fc.tuple(fc.integer({ min: 0x40, max: 2 ** 40 }).filter((i) => i !== 0x33), fc.maxSafeNat()), { maxLength: 4 }),
      }),
      (s) => {
        t.deepEqual(decodeSettings(enc(s)), s);
      },
    ),
    { numRuns: 1000 },
  );
});

test('fuzz: random SETTINGS payloads fail only with H3Error (10,000 runs)', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 48 }), (b) => {
      try {
        decodeSettings(b);
      } catch (e) {
        if (!(e instanceof H3Error)) throw e;
      }
      return true;
    }),
    { numRuns: 10000 },
  );
  t.pass();
});
