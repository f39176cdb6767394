// RFC 9204 Appendix B (Encoding and Decoding Examples), B.1–B.5 byte for byte: our encoder, configured
// and driven as the example describes, emits exactly the encoder-stream and request-stream bytes
// shown; our decoder reads them back to the listed fields and emits the decoder-stream bytes shown.
// Encoder in the examples: Huffman off, every field indexable, peer table capacity 220.
import test from 'ava';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { QpackDecoder, QpackEncoder, BLOCKED } from '../../src/qpack/index.js';

const hex = (s: string) => toHex(fromHex(s));

function setup() {
  const enc = new QpackEncoder({ huffman: false, shouldIndex: () => true, isSensitive: () => false });
  const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
  return { enc, dec };
}

test('B.1 literal field line with name reference (static only, before SETTINGS)', (t) => {
  const { enc, dec } = setup();
  const out = enc.encodeFieldSection(0, [[':path', '/index.html']]);
  t.is(toHex(out.fieldSection), hex('0000 510b 2f69 6e64 6578 2e68 746d 6c'));
  t.is(out.encoderStream.length, 0);
  t.deepEqual(dec.decodeFieldSection(0, out.fieldSection), [[':path', '/index.html']]);
  t.is(dec.takeDecoderStreamBytes().length, 0, 'no acknowledgment for Required Insert Count 0');
});

function runThrough() {
  const { enc, dec } = setup();
  // B.1
  const b1 = enc.encodeFieldSection(0, [[':path', '/index.html']]);
  dec.decodeFieldSection(0, b1.fieldSection);
  enc.applyPeerSettings(220, 1);
  return { enc, dec };
}

test('B.2–B.5 dynamic table, speculative insert, duplicate + cancellation, insert with eviction', (t) => {
  const { enc, dec } = runThrough();

  // ---- B.2 Dynamic Table
  const b2 = enc.encodeFieldSection(4, [
    [':authority', 'www.example.com'],
    [':path', '/sample/path'],
  ]);
  t.is(toHex(b2.encoderStream), hex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468'));
  t.is(toHex(b2.fieldSection), hex('0381 10 11'));
  t.is(enc.tableSize, 106);
  t.is(enc.referenceCount(0), 1);
  t.is(enc.referenceCount(1), 1);
  t.is(enc.knownReceivedCount, 0);

  t.deepEqual(dec.receiveEncoderStream(b2.encoderStream), []);
  t.is(dec.capacity, 220);
  t.is(dec.tableSize, 106);
  t.deepEqual(dec.decodeFieldSection(4, b2.fieldSection), [
    [':authority', 'www.example.com'],
    [':path', '/sample/path'],
  ]);
  const ack = dec.takeDecoderStreamBytes();
  t.is(toHex(ack), hex('84'));
  enc.receiveDecoderStream(ack);
  t.is(enc.knownReceivedCount, 2);
  t.is(enc.referenceCount(0), 0);
  t.is(enc.referenceCount(1), 0);

  // ---- B.3 Speculative Insert
  t.true(enc.insert('custom-key', 'custom-value'));
  const b3 = enc.takeEncoderStreamBytes();
  t.is(toHex(b3), hex('4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565'));
  t.is(enc.tableSize, 160);
  dec.receiveEncoderStream(b3);
  t.deepEqual(dec.entry(2), ['custom-key', 'custom-value']);
  const ici = dec.takeDecoderStreamBytes();
  t.is(toHex(ici), hex('01'));
  enc.receiveDecoderStream(ici);
  t.is(enc.knownReceivedCount, 3);

  // ---- B.4 Duplicate Instruction, Stream Cancellation
  t.true(enc.insert(':authority', 'www.example.com'));
  const b4enc = enc.takeEncoderStreamBytes();
  t.is(toHex(b4enc), hex('02'));
  t.is(enc.tableSize, 217);
  const b4 = enc.encodeFieldSection(8, [
    [':authority', 'www.example.com'],
    [':path', '/'],
    ['custom-key', 'custom-value'],
  ]);
  t.is(b4.encoderStream.length, 0);
  t.is(toHex(b4.fieldSection), hex('0500 80 c1 81'));
  t.is(enc.referenceCount(2), 1);
  t.is(enc.referenceCount(3), 1);
  // The encoder-stream packet is delayed: the section blocks, then the stream is reset.
  t.is(dec.decodeFieldSection(8, b4.fieldSection), BLOCKED);
  t.is(dec.blockedStreams, 1);
  dec.cancelStream(8);
  t.is(dec.blockedStreams, 0);
  const cancel = dec.takeDecoderStreamBytes();
  t.is(toHex(cancel), hex('48'));
  enc.receiveDecoderStream(cancel);
  t.is(enc.referenceCount(2), 0);
  t.is(enc.referenceCount(3), 0);
  t.is(enc.knownReceivedCount, 3);
  // The delayed encoder-stream data arrives.
  t.deepEqual(dec.receiveEncoderStream(b4enc), []);
  t.deepEqual(dec.entry(3), [':authority', 'www.example.com']);
  t.is(dec.tableSize, 217);

  // ---- B.5 Dynamic Table Insert, Eviction
  t.true(enc.insert('custom-key', 'custom-value2'));
  const b5 = enc.takeEncoderStreamBytes();
  t.is(toHex(b5), hex('810d 6375 7374 6f6d 2d76 616c 7565 32'));
  t.is(enc.tableSize, 215);
  t.is(enc.referenceCount(0), -1, 'entry 0 evicted');
  dec.receiveEncoderStream(b5);
  t.is(dec.tableSize, 215);
  t.is(dec.entry(0), undefined);
  t.deepEqual(dec.entry(1), [':path', '/sample/path']);
  t.deepEqual(dec.entry(4), ['custom-key', 'custom-value2']);
  // The decoder acknowledges both late inserts (3 and 4) in one increment.
  const inc = dec.takeDecoderStreamBytes();
  t.is(toHex(inc), hex('02'));
  enc.receiveDecoderStream(inc);
  t.is(enc.knownReceivedCount, 5);
});

test('B.4 field section decodes once the delayed duplicate arrives (no cancellation)', (t) => {
  const { enc, dec } = runThrough();
  const b2 = enc.encodeFieldSection(4, [
    [':authority', 'www.example.com'],
    [':path', '/sample/path'],
  ]);
  dec.receiveEncoderStream(b2.encoderStream);
  dec.decodeFieldSection(4, b2.fieldSection);
  enc.receiveDecoderStream(dec.takeDecoderStreamBytes());
  enc.insert('custom-key', 'custom-value');
  dec.receiveEncoderStream(enc.takeEncoderStreamBytes());
  enc.receiveDecoderStream(dec.takeDecoderStreamBytes());
  enc.insert(':authority', 'www.example.com');
  const dup = enc.takeEncoderStreamBytes();
  const b4 = enc.encodeFieldSection(8, [
    [':authority', 'www.example.com'],
    [':path', '/'],
    ['custom-key', 'custom-value'],
  ]);
  t.is(dec.decodeFieldSection(8, b4.fieldSection), BLOCKED);
  const unblocked = dec.receiveEncoderStream(dup);
  t.deepEqual(unblocked, [
    {
      streamId: 8,
      headers: [
        [':authority', 'www.example.com'],
        [':path', '/'],
        ['custom-key', 'custom-value'],
      ],
      error: null,
    },
  ]);
  t.is(toHex(dec.takeDecoderStreamBytes()), hex('88'), 'Section Acknowledgment covers the duplicate: no increment');
});
