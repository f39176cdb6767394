// HTTP/3 error codes (RFC 9114 §8.1, RFC 9204 §6, RFC 9297 §2.1.1), stream types (RFC 9114 §6.2,
// RFC 9204 §4.2) and reserved code points (0x1f * N + 0x21).
import test from 'ava';
import { fromHex } from '../../../src/util/bytes.js';
import { H3Error, H3ErrorCode, H3StreamType, h3ErrorName, isReserved, readStreamType, uniStreamKind } from '../../../src/h3/wire/index.js';

test('error code values', (t) => {
  t.is(H3ErrorCode.H3_NO_ERROR, 0x100);
  t.is(H3ErrorCode.H3_FRAME_ERROR, 0x106);
  t.is(H3ErrorCode.H3_MISSING_SETTINGS, 0x10a);
  t.is(H3ErrorCode.H3_VERSION_FALLBACK, 0x110);
  t.is(H3ErrorCode.QPACK_DECOMPRESSION_FAILED, 0x200);
  t.is(H3ErrorCode.QPACK_DECODER_STREAM_ERROR, 0x202);
  t.is(H3ErrorCode.H3_DATAGRAM_ERROR, 0x33);
  const names = Object.keys(H3ErrorCode);
  t.is(names.length, 21);
  for (let c = 0x100; c <= 0x110; c++) t.true(h3ErrorName(c).startsWith('H3_'));
});

test('H3Error carries the numeric code, a stable string code and the frame type', (t) => {
  const e = new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'DATA on control', 0);
  t.is(e.errorCode, 0x105);
  t.is(e.code, 'ERR_H3_FRAME_UNEXPECTED');
  t.is(e.frameType, 0);
  t.false(e.streamError);
  t.regex(e.message, /^H3_FRAME_UNEXPECTED: DATA on control/);
  t.is(new H3Error(0x200).code, 'ERR_QPACK_DECOMPRESSION_FAILED');
  t.is(new H3Error(0x21).code, 'ERR_H3');
  t.is(h3ErrorName(0x21 + 0x1f), 'RESERVED(0x40)');
  t.true(new H3Error(H3ErrorCode.H3_MESSAGE_ERROR, 'bad pseudo-header', -1, true).streamError);
});

test('reserved code points', (t) => {
  t.true(isReserved(0x21));
  t.true(isReserved(0x40));
  t.true(isReserved(0x1f * 1000 + 0x21));
  t.false(isReserved(0x20));
  t.false(isReserved(0x22));
  t.false(isReserved(0));
});

test('unidirectional stream types', (t) => {
  t.is(uniStreamKind(H3StreamType.CONTROL), 'control');
  t.is(uniStreamKind(H3StreamType.PUSH), 'push');
  t.is(uniStreamKind(H3StreamType.QPACK_ENCODER), 'qpack-encoder');
  t.is(uniStreamKind(H3StreamType.QPACK_DECODER), 'qpack-decoder');
  t.is(uniStreamKind(0x21), 'reserved');
  t.is(uniStreamKind(0x54), 'unknown');
  t.deepEqual(readStreamType(fromHex('02 ff')), { type: 2, length: 1 });
  t.deepEqual(readStreamType(fromHex('4040')), { type: 0x40, length: 2 });
  t.is(readStreamType(fromHex('40')), null);
  t.is(readStreamType(new Uint8Array(0)), null);
  t.deepEqual(readStreamType(fromHex('ffffffffffffffff')), { type: Number.MAX_SAFE_INTEGER, length: 8 });
});
