// Stream layer cost per 1200-byte STREAM frame (RFC 9000 §2, §4): the send path (pollStreamFrame
// + copyStreamData into a packet buffer + acknowledgement), the receive path (onStreamFrame +
// read, in order and with reordering), and the scheduler with 1 vs 100 active streams. The peer in
// the same run is the bare copy of 1200 bytes that any stack pays on each side.

import { StreamMap, type StreamLimits } from '../../src/transport/stream-map.js';
import { newStreamFrameInfo } from '../../src/transport/send-stream.js';

const LIMITS: StreamLimits = {
  initialMaxData: 2 ** 50,
  initialMaxStreamDataBidiLocal: 2 ** 50,
  initialMaxStreamDataBidiRemote: 2 ** 50,
  initialMaxStreamDataUni: 2 ** 50,
  initialMaxStreamsBidi: 1000,
  initialMaxStreamsUni: 1000,
};

let sink = 0;

function median(rounds: number, fn: () => number): number {
  const r: number[] = [];
  for (let i = 0; i < rounds; i++) r.push(fn());
  r.sort((a, b) => a - b);
  return r[rounds >> 1]!;
}

/** ns per frame sending `frames` frames over `streams` streams, acking each right away. */
function sendPath(streams: number, frames: number): number {
  const m = new StreamMap({ isClient: true, local: LIMITS, sendBufferLimit: 1 << 30 });
  m.setPeerLimits(LIMITS);
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const ids: number[] = [];
  for (let i = 0; i < streams; i++) ids.push(m.open(true)!);
  const packet = new Uint8Array(1500);
  const f = newStreamFrameInfo();
  const perStream = Math.ceil((frames * 1200) / streams / chunk.length) + 1;
  for (const id of ids) for (let k = 0; k < perStream; k++) m.write(id, chunk);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < frames; i++) {
    if (!m.pollStreamFrame(1200, f)) throw new Error('starved');
    m.copyStreamData(f.streamId, f.offset, f.length, packet, 20);
    m.onStreamFrameAcked(f.streamId, f.offset, f.length, f.fin);
  }
  return Number(process.hrtime.bigint() - t0) / frames;
}

/** ns per frame receiving `frames` 1180-byte frames on one stream and reading them. */
function recvPath(frames: number, reorder: boolean): number {
  const m = new StreamMap({ isClient: false, local: LIMITS, maxStreamWindow: 0, maxConnectionWindow: 0 });
  m.setPeerLimits(LIMITS);
  const data = new Uint8Array(1180).fill(0x62);
  const out = new Uint8Array(64 * 1024);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < frames; i += 2) {
    const a = i * 1180;
    const b = a + 1180;
    if (reorder) {
      m.onStreamFrame(0, b, data, false);
      m.onStreamFrame(0, a, data, false);
    } else {
      m.onStreamFrame(0, a, data, false);
      m.onStreamFrame(0, b, data, false);
    }
    if ((i & 31) === 30) while (m.read(0, out) > 0) sink++;
  }
  while (m.read(0, out) > 0) sink++;
  return Number(process.hrtime.bigint() - t0) / frames;
}

function copyPeer(frames: number): number {
  const src = new Uint8Array(64 * 1024).fill(1);
  const dst = new Uint8Array(1500);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < frames; i++) {
    const o = (i * 1200) % (src.length - 1200);
    dst.set(src.subarray(o, o + 1200), 20);
    sink += dst[21]!;
  }
  return Number(process.hrtime.bigint() - t0) / frames;
}

export async function run(): Promise<void> {
  const N = 200_000;
  for (let i = 0; i < 2; i++) {
    sendPath(1, N / 4);
    recvPath(N / 4, true);
  }
  const rows: Array<[string, number]> = [
    ['peer: copy 1200 B (subarray + set)', median(5, () => copyPeer(N))],
    ['send: poll + copy + ack, 1 stream', median(5, () => sendPath(1, N))],
    ['send: poll + copy + ack, 100 streams round-robin', median(5, () => sendPath(100, N))],
    ['recv: onStreamFrame + read, in order', median(5, () => recvPath(N, false))],
    ['recv: onStreamFrame + read, pairwise reordered', median(5, () => recvPath(N, true))],
  ];
  const base = rows[0]![1];
  console.log('| path (per 1200-byte frame) | ns | × copy |');
  console.log('|---|---:|---:|');
  for (const [name, ns] of rows) console.log(`| ${name} | ${ns.toFixed(0)} | ${(ns / base).toFixed(1)} |`);
  if (sink === -1) console.log('');
}
