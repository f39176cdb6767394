// Tests for src/codec/transport-params.ts — RFC 9000 §18 (encoding, GREASE ids, definitions,
// defaults and limits), §7.4 (duplicates), §4.6 (2^60 stream limit), RFC 9221 §3
// (max_datagram_frame_size), RFC 9368 §5–§6 (version_information).

import test, { type ExecutionContext } from 'ava';
import { TransportError, TransportErrorCode } from '../../src/codec/errors.js';
import {
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  greaseTransportParameterId,
  isReservedTransportParameterId,
  sizeTransportParameters,
  TransportParameterId,
  type TransportParameters,
  type TransportParameterSender,
} from '../../src/codec/transport-params.js';
import { fromHex, toHex, Writer } from '../../src/util/bytes.js';

const TPE = TransportErrorCode.TRANSPORT_PARAMETER_ERROR;
const TOKEN = '00112233445566778899aabbccddeeff';

function expectTpe(t: ExecutionContext, hex: string, from: TransportParameterSender, why: string): void {
  const e = t.throws(() => decodeTransportParameters(fromHex(hex), from), undefined, why);
  t.true(e instanceof TransportError, `${why}: ${String(e)}`);
  t.is((e as TransportError).errorCode, TPE, why);
}

function encode(p: TransportParameters, grease?: { id: number; value: Uint8Array }): Uint8Array {
  const size = sizeTransportParameters(p, grease ? { grease } : undefined);
  const w = Writer.alloc(size);
  t_is_size(encodeTransportParameters(w, p, grease ? { grease } : undefined), size);
  return w.written();
}
function t_is_size(a: number, b: number): void {
  if (a !== b) throw new Error(`encode wrote ${a}, size said ${b}`);
}

function serverParams(): TransportParameters {
  return {
    ...defaultTransportParameters(),
    originalDestinationConnectionId: fromHex('8394c8f03e515708'),
    maxIdleTimeout: 30_000,
    statelessResetToken: fromHex(TOKEN),
    maxUdpPayloadSize: 1472,
    initialMaxData: 15_728_640,
    initialMaxStreamDataBidiLocal: 6_291_456,
    initialMaxStreamDataBidiRemote: 6_291_456,
    initialMaxStreamDataUni: 6_291_456,
    initialMaxStreamsBidi: 100,
    initialMaxStreamsUni: 103,
    ackDelayExponent: 10,
    maxAckDelay: 16_383,
    disableActiveMigration: true,
    preferredAddress: {
      ipv4Address: fromHex('c0000201'),
      ipv4Port: 4433,
      ipv6Address: fromHex('20010db8000000000000000000000001'),
      ipv6Port: 4434,
      connectionId: fromHex('0a0b0c0d'),
      statelessResetToken: fromHex('ffeeddccbbaa99887766554433221100'),
    },
    activeConnectionIdLimit: 8,
    initialSourceConnectionId: fromHex('f067a5502a4262b5'),
    retrySourceConnectionId: fromHex('0102'),
    versionInformation: { chosenVersion: 1, availableVersions: [0x6b3343cf, 1] },
    maxDatagramFrameSize: 65_536,
  };
}

test('absent parameters take the §18.2 defaults', (t) => {
  for (const from of ['client', 'server'] as const) {
    const p = decodeTransportParameters(new Uint8Array(0), from);
    t.deepEqual(p, defaultTransportParameters());
    t.is(p.maxUdpPayloadSize, 65527);
    t.is(p.ackDelayExponent, 3);
    t.is(p.maxAckDelay, 25);
    t.is(p.activeConnectionIdLimit, 2);
    t.is(p.maxDatagramFrameSize, 0);
    t.is(p.initialSourceConnectionId, null);
  }
  // Encoding the defaults emits nothing.
  t.is(sizeTransportParameters(defaultTransportParameters()), 0);
});

test('server parameter set round-trips, every parameter present', (t) => {
  const p = serverParams();
  const bytes = encode(p);
  const q = decodeTransportParameters(bytes, 'server');
  t.deepEqual(q, p);
  // Decoded byte strings are copies, not views into the input.
  t.not(q.initialSourceConnectionId!.buffer, bytes.buffer);
  // Re-encoding the decoded set gives the same bytes.
  t.is(toHex(encode(q)), toHex(bytes));
  // Ids appear in ascending order; check the start by hand:
  // 00 08 <odcid>  01 04 80007530  02 10 <token>  03 02 45c0 ...
  t.true(toHex(bytes).startsWith('00088394c8f03e515708' + '010480007530' + '0210' + TOKEN + '030245c0'));
});

test('hand-written parameters decode (integers, empty CID, zero-length flag, preferred_address)', (t) => {
  const hex =
    '0f 00' + // initial_source_connection_id, zero-length
    '0c 00' + // disable_active_migration
    '0a 01 00' + // ack_delay_exponent 0
    '0b 02 4064' + // max_ack_delay 100
    '0e 01 04' + // active_connection_id_limit 4
    '0d 2d c0000201 1151 20010db8000000000000000000000001 1152 04 0a0b0c0d ffeeddccbbaa99887766554433221100';
  const p = decodeTransportParameters(fromHex(hex), 'server');
  t.deepEqual(p.initialSourceConnectionId, new Uint8Array(0));
  t.true(p.disableActiveMigration);
  t.is(p.ackDelayExponent, 0);
  t.is(p.maxAckDelay, 100);
  t.is(p.activeConnectionIdLimit, 4);
  t.deepEqual(p.preferredAddress, serverParams().preferredAddress);
});

test('a realistic Chromium-like client set: version_information, max_datagram_frame_size, private ids ignored', (t) => {
  const hex =
    '01 04 80007530' + // max_idle_timeout 30000
    '03 02 45c0' + // max_udp_payload_size 1472
    '04 04 80f00000' + // initial_max_data 15728640
    '05 04 80600000' + // initial_max_stream_data_bidi_local 6291456
    '06 04 80600000' + // initial_max_stream_data_bidi_remote 6291456
    '07 04 80600000' + // initial_max_stream_data_uni 6291456
    '08 02 4064' + // initial_max_streams_bidi 100
    '09 02 4067' + // initial_max_streams_uni 103
    '0f 00' + // initial_source_connection_id (empty)
    '20 04 80010000' + // max_datagram_frame_size 65536
    '7128 04 42324f4e' + // google_connection_options (0x3128), "B2ON": private, ignored
    '4752 04 deadbeef' + // another private id (0x0752), ignored
    '40b6 03 aabbcc' + // GREASE 31*5+27 = 182
    '11 0c 00000001 1a2a3a4a 00000001'; // version_information: chosen v1; available [reserved, v1]
  const p = decodeTransportParameters(fromHex(hex), 'client');
  t.like(p, {
    maxIdleTimeout: 30_000,
    maxUdpPayloadSize: 1472,
    initialMaxData: 15_728_640,
    initialMaxStreamDataBidiLocal: 6_291_456,
    initialMaxStreamDataBidiRemote: 6_291_456,
    initialMaxStreamDataUni: 6_291_456,
    initialMaxStreamsBidi: 100,
    initialMaxStreamsUni: 103,
    maxDatagramFrameSize: 65_536,
    ackDelayExponent: 3,
    maxAckDelay: 25,
    activeConnectionIdLimit: 2,
    originalDestinationConnectionId: null,
    statelessResetToken: null,
    preferredAddress: null,
  });
  t.deepEqual(p.initialSourceConnectionId, new Uint8Array(0));
  t.deepEqual(p.versionInformation, { chosenVersion: 1, availableVersions: [0x1a2a3a4a, 1] });
});

test('GREASE: reserved ids are recognised, ignored on decode, and emitted on request', (t) => {
  t.true(isReservedTransportParameterId(27));
  t.true(isReservedTransportParameterId(58));
  t.true(isReservedTransportParameterId(31 * 1000 + 27));
  t.false(isReservedTransportParameterId(26));
  t.false(isReservedTransportParameterId(0x20));
  t.is(greaseTransportParameterId(0), 27);
  t.is(greaseTransportParameterId(3), 120);
  t.throws(() => greaseTransportParameterId(-1), { instanceOf: RangeError });
  const p = serverParams();
  const id = greaseTransportParameterId(1234);
  const bytes = encode(p, { id, value: fromHex('0102030405') });
  // The reserved parameter comes first: id 38281 = 0x9589 → 4-byte varint 80009589.
  t.is(toHex(bytes.subarray(0, 10)), '80009589050102030405');
  t.deepEqual(decodeTransportParameters(bytes, 'server'), p);
  // Several different reserved ids are all ignored; one id twice is a duplicate.
  t.deepEqual(decodeTransportParameters(fromHex('1b 00 3a 01 ff 4059 02 0000'), 'client'), defaultTransportParameters());
  expectTpe(t, '1b 00 1b 00', 'client', 'duplicate reserved id');
  // Encoder refuses a non-reserved id for GREASE.
  t.throws(() => sizeTransportParameters(p, { grease: { id: 28, value: new Uint8Array(0) } }), { instanceOf: RangeError });
});

test('ids above 2^53-1 are unknown and skipped (no duplicate tracking)', (t) => {
  const huge = 'ffffffffffffffff 00';
  t.deepEqual(decodeTransportParameters(fromHex(huge + huge + '0e 01 05'), 'client').activeConnectionIdLimit, 5);
});

test('duplicate parameters → TRANSPORT_PARAMETER_ERROR (§7.4)', (t) => {
  expectTpe(t, '01 01 05 01 01 05', 'client', 'duplicate max_idle_timeout');
  expectTpe(t, '0f 00 0f 00', 'client', 'duplicate initial_source_connection_id');
  expectTpe(t, '20 01 10 20 01 10', 'client', 'duplicate max_datagram_frame_size');
  expectTpe(t, '0c 00 01 01 05 0c 00', 'server', 'duplicate disable_active_migration');
  expectTpe(t, '7128 00 7128 00', 'client', 'duplicate unknown id');
  expectTpe(t, '1e 00 1e 00', 'client', 'duplicate unassigned small id');
});

test('out-of-range values → TRANSPORT_PARAMETER_ERROR (§18.2)', (t) => {
  expectTpe(t, '03 02 44af', 'client', 'max_udp_payload_size 1199');
  t.is(decodeTransportParameters(fromHex('03 02 44b0'), 'client').maxUdpPayloadSize, 1200);
  t.is(decodeTransportParameters(fromHex('03 04 8000ffff'), 'client').maxUdpPayloadSize, 65535);
  expectTpe(t, '0a 01 15', 'client', 'ack_delay_exponent 21');
  t.is(decodeTransportParameters(fromHex('0a 01 14'), 'client').ackDelayExponent, 20);
  expectTpe(t, '0b 04 80004000', 'client', 'max_ack_delay 2^14');
  t.is(decodeTransportParameters(fromHex('0b 02 7fff'), 'client').maxAckDelay, 16383);
  expectTpe(t, '0e 01 01', 'client', 'active_connection_id_limit 1');
  expectTpe(t, '0e 01 00', 'client', 'active_connection_id_limit 0');
  t.is(decodeTransportParameters(fromHex('0e 01 02'), 'client').activeConnectionIdLimit, 2);
  // §4.6: stream limits above 2^60 are TRANSPORT_PARAMETER_ERROR; 2^60 itself saturates.
  expectTpe(t, '08 08 d000000000000001', 'client', 'initial_max_streams_bidi 2^60+1');
  expectTpe(t, '09 08 ffffffffffffffff', 'client', 'initial_max_streams_uni 2^62-1');
  t.is(decodeTransportParameters(fromHex('08 08 d000000000000000'), 'client').initialMaxStreamsBidi, Number.MAX_SAFE_INTEGER);
  // Limits above 2^53 saturate (RFC 9000 App. A 8-byte sample).
  t.is(decodeTransportParameters(fromHex('04 08 c2197c5eff14e88c'), 'client').initialMaxData, Number.MAX_SAFE_INTEGER);
});

test('malformed values → TRANSPORT_PARAMETER_ERROR', (t) => {
  expectTpe(t, '01 02 05 00', 'client', 'integer with trailing byte');
  expectTpe(t, '01 00', 'client', 'integer with empty value');
  expectTpe(t, '01 01 40', 'client', 'integer truncated inside its value');
  expectTpe(t, '08 09 d000000000000000 00', 'client', 'stream count with trailing byte');
  expectTpe(t, `02 0f ${TOKEN.slice(0, 30)}`, 'server', 'stateless_reset_token of 15 bytes');
  expectTpe(t, `02 11 ${TOKEN}00`, 'server', 'stateless_reset_token of 17 bytes');
  expectTpe(t, '0c 01 00', 'client', 'disable_active_migration with a value');
  expectTpe(t, `0f 15 ${'11'.repeat(21)}`, 'client', 'initial_source_connection_id of 21 bytes');
  expectTpe(t, `00 15 ${'11'.repeat(21)}`, 'server', 'original_destination_connection_id of 21 bytes');
  const pa = (cid: string, extra = '') => {
    const body = `c0000201 1151 20010db8000000000000000000000001 1152 ${cid} ${TOKEN}${extra}`;
    return `0d ${(fromHex(body).length).toString(16).padStart(2, '0')} ${body}`;
  };
  decodeTransportParameters(fromHex(pa('04 0a0b0c0d')), 'server');
  expectTpe(t, pa('00'), 'server', 'preferred_address with a zero-length CID');
  expectTpe(t, pa(`15 ${'11'.repeat(21)}`), 'server', 'preferred_address with a 21-byte CID');
  expectTpe(t, pa('04 0a0b0c0d', '00'), 'server', 'preferred_address with a trailing byte');
  expectTpe(t, '0d 05 c000020111', 'server', 'preferred_address too short');
});

test('server-only parameters from a client → TRANSPORT_PARAMETER_ERROR', (t) => {
  const serverOnly: [string, string][] = [
    ['original_destination_connection_id', '00 04 01020304'],
    ['stateless_reset_token', `02 10 ${TOKEN}`],
    [
      'preferred_address',
      `0d 2d c0000201 1151 20010db8000000000000000000000001 1152 04 0a0b0c0d ${TOKEN}`,
    ],
    ['retry_source_connection_id', '10 02 0102'],
  ];
  for (const [name, hex] of serverOnly) {
    expectTpe(t, hex, 'client', name);
    t.notThrows(() => decodeTransportParameters(fromHex(hex), 'server'), name);
  }
  t.throws(() => decodeTransportParameters(new Uint8Array(0), 'peer' as TransportParameterSender), { instanceOf: TypeError });
});

test('version_information (RFC 9368 §6) parsing failures → TRANSPORT_PARAMETER_ERROR', (t) => {
  expectTpe(t, '11 00', 'server', 'empty');
  expectTpe(t, '11 02 0000', 'server', 'shorter than a version');
  expectTpe(t, '11 06 00000001 0000', 'server', 'length not a multiple of 4');
  expectTpe(t, '11 04 00000000', 'server', 'chosen version 0');
  expectTpe(t, '11 0c 00000001 00000001 00000000', 'server', 'available version 0');
  expectTpe(t, '11 08 00000001 6b3343cf', 'client', 'client chosen version not in available versions');
  expectTpe(t, '11 04 00000001', 'client', 'client with no available versions');
  // A server's Available Versions need not include its Chosen Version and may be empty.
  t.deepEqual(decodeTransportParameters(fromHex('11 08 00000001 6b3343cf'), 'server').versionInformation, {
    chosenVersion: 1,
    availableVersions: [0x6b3343cf],
  });
  t.deepEqual(decodeTransportParameters(fromHex('11 04 6b3343cf'), 'server').versionInformation, {
    chosenVersion: 0x6b3343cf,
    availableVersions: [],
  });
});

test('every truncated prefix → decodes (at a parameter boundary) or TRANSPORT_PARAMETER_ERROR', (t) => {
  const p = serverParams();
  const bytes = encode(p, { id: 27, value: fromHex('abcd') });
  // Parameter boundaries: walk the encoding.
  const boundaries = new Set<number>([0]);
  let pos = 0;
  const read = (): number => {
    const len = 1 << (bytes[pos]! >> 6);
    let v = bytes[pos]! & 0x3f;
    for (let i = 1; i < len; i++) v = v * 256 + bytes[pos + i]!;
    pos += len;
    return v;
  };
  while (pos < bytes.length) {
    read();
    const len = read();
    pos += len;
    boundaries.add(pos);
  }
  let ok = 0;
  for (let n = 0; n < bytes.length; n++) {
    const prefix = bytes.subarray(0, n);
    if (boundaries.has(n)) {
      decodeTransportParameters(prefix, 'server');
      ok++;
    } else {
      expectTpe(t, toHex(prefix), 'server', `prefix ${n}`);
    }
  }
  t.is(ok, boundaries.size - 1);
});

test('encoder: defaults omitted, CIDs emitted when non-null, misuse → RangeError', (t) => {
  const p = { ...defaultTransportParameters(), initialSourceConnectionId: new Uint8Array(0), maxDatagramFrameSize: 1200 };
  t.is(toHex(encode(p)), '0f00' + '200244b0');
  const bad: Partial<TransportParameters>[] = [
    { maxUdpPayloadSize: 1199 },
    { ackDelayExponent: 21 },
    { maxAckDelay: 1 << 14 },
    { activeConnectionIdLimit: 1 },
    { initialMaxData: -1 },
    { initialMaxStreamsBidi: 1.5 },
    { statelessResetToken: new Uint8Array(15) },
    { initialSourceConnectionId: new Uint8Array(21) },
    { versionInformation: { chosenVersion: 0, availableVersions: [] } },
    { versionInformation: { chosenVersion: 1, availableVersions: [0] } },
    {
      preferredAddress: {
        ipv4Address: new Uint8Array(4),
        ipv4Port: 0,
        ipv6Address: new Uint8Array(16),
        ipv6Port: 0,
        connectionId: new Uint8Array(0),
        statelessResetToken: new Uint8Array(16),
      },
    },
  ];
  for (const b of bad) {
    const q = { ...defaultTransportParameters(), ...b };
    t.throws(() => encodeTransportParameters(Writer.alloc(256), q), { instanceOf: RangeError }, JSON.stringify(b));
  }
  // A writer that is too small is refused before anything is written.
  const w = Writer.alloc(4);
  t.throws(() => encodeTransportParameters(w, serverParams()), { instanceOf: RangeError });
  t.is(w.pos, 0);
});

test('TransportParameterId values match RFC 9000 §22.3, RFC 9221 §6, RFC 9368 §10.1', (t) => {
  t.is(TransportParameterId.ORIGINAL_DESTINATION_CONNECTION_ID, 0x00);
  t.is(TransportParameterId.RETRY_SOURCE_CONNECTION_ID, 0x10);
  t.is(TransportParameterId.VERSION_INFORMATION, 0x11);
  t.is(TransportParameterId.MAX_DATAGRAM_FRAME_SIZE, 0x20);
});
