// Frame codec cost (RFC 9000 §19.3 ACK, §19.8 STREAM): ns per frame for decode and encode.
// The peer in the same run is the allocating decoder (decodeFrame, fresh objects per frame)
// next to the hot-path FrameParser (reused objects); encodes compare header-only writes with a
// full copy of the data.

import {
  decodeFrame,
  encodeAck,
  encodeStream,
  encodeStreamHeader,
  FrameParser,
  PacketKind,
} from '../../src/codec/frames.js';
import { Reader, Writer } from '../../src/util/bytes.js';

let sink = 0;

/** Median ns per op over a few rounds of `iters` calls. */
function measure(iters: number, fn: () => void): number {
  const rounds = 5;
  const results: number[] = [];
  for (let i = 0; i < iters >> 3; i++) fn(); // warm-up
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    results.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  results.sort((a, b) => a - b);
  return results[rounds >> 1]!;
}

function encoded(size: number, fn: (w: Writer) => void): Uint8Array {
  const w = Writer.alloc(size);
  fn(w);
  return w.written().slice();
}

export async function run(): Promise<void> {
  const data1180 = new Uint8Array(1180).fill(0x61);
  const stream = encoded(1300, (w) => encodeStream(w, 4, 1_000_000, data1180, false, true));
  const ack1: number[] = [0, 1000];
  const ack10: number[] = [];
  for (let i = 0, pn = 100_000; i < 10; i++, pn -= 50) ack10.push(pn - 20, pn);
  const ack1Bytes = encoded(64, (w) => encodeAck(w, ack1, 1, 25, null));
  const ack10Bytes = encoded(128, (w) => encodeAck(w, ack10, 10, 25, null));
  const packet = encoded(1400, (w) => {
    encodeAck(w, ack10, 10, 25, null);
    encodeStream(w, 0, 5000, data1180.subarray(0, 400), false, true);
    encodeStream(w, 4, 9000, data1180.subarray(0, 400), false, true);
    encodeStream(w, 8, 0, data1180.subarray(0, 400), true, false);
  });

  const parser = new FrameParser();
  const reader = new Reader();
  const out = Writer.alloc(1500);

  const rows: [string, number][] = [];
  const decodeWith = (bytes: Uint8Array) => () => {
    parser.reset(bytes, PacketKind.ONE_RTT);
    sink += parser.next()!.type;
  };
  const decodeFresh = (bytes: Uint8Array) => () => {
    reader.reset(bytes);
    sink += decodeFrame(reader).type;
  };
  const N = 200_000;
  rows.push(['STREAM 1180 B decode, FrameParser (reused)', measure(N, decodeWith(stream))]);
  rows.push(['STREAM 1180 B decode, decodeFrame (fresh)', measure(N, decodeFresh(stream))]);
  rows.push([
    'STREAM header encode (data copied by caller)',
    measure(N, () => {
      out.reset(out.buf);
      sink += encodeStreamHeader(out, 4, 1_000_000, 1180, false, true);
    }),
  ]);
  rows.push([
    'STREAM 1180 B encode incl. data copy',
    measure(N, () => {
      out.reset(out.buf);
      sink += encodeStream(out, 4, 1_000_000, data1180, false, true);
    }),
  ]);
  rows.push(['ACK 1 range decode, FrameParser (reused)', measure(N, decodeWith(ack1Bytes))]);
  rows.push(['ACK 1 range decode, decodeFrame (fresh)', measure(N, decodeFresh(ack1Bytes))]);
  rows.push(['ACK 10 ranges decode, FrameParser (reused)', measure(N, decodeWith(ack10Bytes))]);
  rows.push(['ACK 10 ranges decode, decodeFrame (fresh)', measure(N, decodeFresh(ack10Bytes))]);
  rows.push([
    'ACK 1 range encode',
    measure(N, () => {
      out.reset(out.buf);
      sink += encodeAck(out, ack1, 1, 25, null);
    }),
  ]);
  rows.push([
    'ACK 10 ranges encode (with fit check)',
    measure(N, () => {
      out.reset(out.buf);
      sink += encodeAck(out, ack10, 10, 25, null);
    }),
  ]);
  rows.push([
    'packet: ACK(10) + 3 STREAM, parse all frames',
    measure(N / 2, () => {
      parser.reset(packet, PacketKind.ONE_RTT);
      for (let f = parser.next(); f !== null; f = parser.next()) sink += f.type;
    }),
  ]);

  const w = Math.max(...rows.map(([n]) => n.length));
  console.log(`${'operation'.padEnd(w)}  ns/op`);
  for (const [name, ns] of rows) console.log(`${name.padEnd(w)}  ${ns.toFixed(1).padStart(7)}`);
  if (sink === 0.5) console.log(''); // keep results observable
}
