// QUIC versions (RFC 9000 §15, RFC 9369 §3, provisional v2 draft): codepoints, reserved versions,
// long-header type bits per version, salts and labels.
import test from 'ava';
import fc from 'fast-check';
import { toHex } from '../../src/util/bytes.js';
import {
  PacketType,
  QUIC_V1,
  QUIC_V2,
  QUIC_V2_DRAFT,
  SUPPORTED_VERSIONS,
  greaseVersion,
  isReservedVersion,
  isSupportedVersion,
  longPacketType,
  longTypeBits,
  versionInfo,
  versionName,
} from '../../src/codec/version.js';

test('codepoints', (t) => {
  t.is(QUIC_V1, 1);
  t.is(QUIC_V2, 0x6b3343cf);
  t.is(QUIC_V2_DRAFT, 0x709a50c4);
  t.deepEqual([...SUPPORTED_VERSIONS], [QUIC_V1, QUIC_V2, QUIC_V2_DRAFT]);
  for (const v of SUPPORTED_VERSIONS) t.true(isSupportedVersion(v));
  t.false(isSupportedVersion(0));
  t.false(isSupportedVersion(0xff00001d));
  t.is(versionName(QUIC_V2_DRAFT), 'v2draft');
  t.is(versionName(0x1a2a3a4a), '0x1a2a3a4a');
});

test('long header type bits: v1 Initial 0, 0-RTT 1, Handshake 2, Retry 3; v2 and draft 1, 2, 3, 0', (t) => {
  const v1 = versionInfo(QUIC_V1)!;
  t.deepEqual(
    [PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake, PacketType.Retry].map((p) => longTypeBits(v1, p)),
    [0, 1, 2, 3],
  );
  for (const v of [QUIC_V2, QUIC_V2_DRAFT]) {
    const info = versionInfo(v)!;
    t.deepEqual(
      [PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake, PacketType.Retry].map((p) => longTypeBits(info, p)),
      [1, 2, 3, 0],
    );
  }
  for (const v of SUPPORTED_VERSIONS) {
    const info = versionInfo(v)!;
    for (let bits = 0; bits < 4; bits++) t.is(longTypeBits(info, longPacketType(info, 0xc0 | (bits << 4))), bits);
  }
  t.throws(() => longTypeBits(v1, PacketType.OneRtt), { instanceOf: RangeError });
});

test('salts and labels as the documents give them', (t) => {
  t.is(toHex(versionInfo(QUIC_V1)!.initialSalt), '38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
  t.is(toHex(versionInfo(QUIC_V2)!.initialSalt), '0dede3def700a6db819381be6e269dcbf9bd2ed9');
  t.is(toHex(versionInfo(QUIC_V2_DRAFT)!.initialSalt), 'a707c203a59b47184a1d62ca570406ea7ae3e5d3');
  t.is(versionInfo(QUIC_V1)!.kuLabel, 'quic ku');
  t.is(versionInfo(QUIC_V2)!.kuLabel, 'quicv2 ku');
  t.is(versionInfo(QUIC_V2_DRAFT)!.hpLabel, 'quicv2 hp');
  t.is(versionInfo(0x12345678), undefined);
});

test('reserved versions 0x?a?a?a?a', (t) => {
  t.true(isReservedVersion(0x0a0a0a0a));
  t.true(isReservedVersion(0x1a2a3a4a));
  t.true(isReservedVersion(0xfafafafa));
  t.false(isReservedVersion(0x0a0a0a0b));
  t.false(isReservedVersion(QUIC_V1));
  t.false(isReservedVersion(QUIC_V2));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), (r) => {
      const v = greaseVersion(r);
      t.true(isReservedVersion(v));
      t.false(isSupportedVersion(v));
      t.true(v >= 0 && v <= 0xffffffff);
    }),
    { numRuns: 500 },
  );
});
