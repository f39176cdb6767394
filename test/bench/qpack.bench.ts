// QPACK cost and compression (RFC 9204) for a realistic Chromium request sequence: one navigation
// then 99 subresource requests (scripts, styles, images, fetches) on one connection, each with
// sec-ch-ua*, accept, accept-encoding "gzip, deflate, br, zstd", accept-language, user-agent,
// cookie, referer and priority, and a different :path. The peer in the same run is the same encoder
// limited to the static table (what quic-go and quiche send). Reported per request: encode and
// decode time, HEADERS payload bytes, encoder-stream bytes amortised over the 100 requests, and
// decoder-stream bytes. Timing covers the interleaved exchange (encode → encoder stream → decode →
// acknowledgments), as an HTTP/3 connection would run it.
import { performance } from 'node:perf_hooks';
import { QpackDecoder, QpackEncoder } from '../../src/qpack/index.js';
import type { HeaderField } from '../../src/qpack/index.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const COMMON: HeaderField[] = [
  ['sec-ch-ua', '"Chromium";v="156", "Not/A)Brand";v="8", "Google Chrome";v="156"'],
  ['sec-ch-ua-mobile', '?0'],
  ['sec-ch-ua-platform', '"Linux"'],
];
const TAIL: HeaderField[] = [
  ['accept-encoding', 'gzip, deflate, br, zstd'],
  ['accept-language', 'en-US,en;q=0.9,fr;q=0.8'],
  ['cookie', '_ga=GA1.1.1873462915.1731000000; session=8f2c1d0e4b6a49e3a1c7d5f0b2e4a6c8; theme=dark; consent=yes'],
];

type Kind = { accept: string; dest: string; mode: string; priority: string; ext: string };
const KINDS: Kind[] = [
  { accept: '*/*', dest: 'script', mode: 'no-cors', priority: 'u=1', ext: 'js' },
  { accept: 'text/css,*/*;q=0.1', dest: 'style', mode: 'no-cors', priority: 'u=0', ext: 'css' },
  { accept: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', dest: 'image', mode: 'no-cors', priority: 'u=2, i', ext: 'webp' },
  { accept: 'application/json', dest: 'empty', mode: 'cors', priority: 'u=1, i', ext: 'json' },
];

/** The 100 requests of one page load. */
function requests(): HeaderField[][] {
  const out: HeaderField[][] = [];
  out.push([
    [':method', 'GET'],
    [':authority', 'localhost:4433'],
    [':scheme', 'https'],
    [':path', '/'],
    ...COMMON,
    ['upgrade-insecure-requests', '1'],
    ['user-agent', UA],
    ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7'],
    ['sec-fetch-site', 'none'],
    ['sec-fetch-mode', 'navigate'],
    ['sec-fetch-user', '?1'],
    ['sec-fetch-dest', 'document'],
    ...TAIL,
    ['priority', 'u=0, i'],
  ]);
  for (let i = 1; i < 100; i++) {
    const k = KINDS[i % KINDS.length]!;
    out.push([
      [':method', 'GET'],
      [':authority', 'localhost:4433'],
      [':scheme', 'https'],
      [':path', `/static/${k.dest}/asset-${i.toString(36)}-${(i * 2654435761) % 1000003}.${k.ext}?v=${1700000000 + i}`],
      ...COMMON,
      ['user-agent', UA],
      ['accept', k.accept],
      ['sec-fetch-site', 'same-origin'],
      ['sec-fetch-mode', k.mode],
      ['sec-fetch-dest', k.dest],
      ['referer', 'https://localhost:4433/'],
      ...TAIL,
      ['priority', k.priority],
    ]);
  }
  return out;
}

interface Result {
  encodeUs: number;
  decodeUs: number;
  headersBytes: number;
  encoderStreamBytes: number;
  decoderStreamBytes: number;
  firstRequest: number;
  lastRequest: number;
}

let sink = 0;

/** Deliver `bytes` in pieces of at most `chunk` bytes (0 = whole), as a QUIC stream might. */
function deliver(bytes: Uint8Array, chunk: number, into: (b: Uint8Array) => unknown): void {
  if (chunk === 0 || bytes.length <= chunk) {
    into(bytes);
    return;
  }
  for (let o = 0; o < bytes.length; o += chunk) into(bytes.subarray(o, Math.min(o + chunk, bytes.length)));
}

function runConnection(reqs: HeaderField[][], dynamic: boolean, chunk = 0): Result {
  const enc = new QpackEncoder();
  const dec = new QpackDecoder({ maxTableCapacity: dynamic ? 65536 : 0, maxBlockedStreams: dynamic ? 100 : 0, maxFieldSectionSize: 262144 });
  if (dynamic) enc.applyPeerSettings(65536, 100);
  let encMs = 0;
  let decMs = 0;
  const r: Result = { encodeUs: 0, decodeUs: 0, headersBytes: 0, encoderStreamBytes: 0, decoderStreamBytes: 0, firstRequest: 0, lastRequest: 0 };
  for (let i = 0; i < reqs.length; i++) {
    const id = i * 4;
    const t0 = performance.now();
    const out = enc.encodeFieldSection(id, reqs[i]!);
    const t1 = performance.now();
    deliver(out.encoderStream, chunk, (b) => dec.receiveEncoderStream(b));
    const h = dec.decodeFieldSection(id, out.fieldSection);
    const ack = dec.takeDecoderStreamBytes();
    const t2 = performance.now();
    deliver(ack, chunk === 0 ? 0 : 1, (b) => enc.receiveDecoderStream(b));
    const t3 = performance.now();
    encMs += t1 - t0 + (t3 - t2);
    decMs += t2 - t1;
    if (h === 'blocked') throw new Error('unexpected blocked section');
    sink += h.length;
    const bytes = out.fieldSection.length + out.encoderStream.length;
    r.headersBytes += out.fieldSection.length;
    r.encoderStreamBytes += out.encoderStream.length;
    r.decoderStreamBytes += ack.length;
    if (i === 0) r.firstRequest = bytes;
    if (i === reqs.length - 1) r.lastRequest = bytes;
  }
  r.encodeUs = (encMs * 1000) / reqs.length;
  r.decodeUs = (decMs * 1000) / reqs.length;
  return r;
}

function average(reqs: HeaderField[][], dynamic: boolean, connections: number, chunk = 0): Result {
  for (let i = 0; i < 20; i++) runConnection(reqs, dynamic, chunk); // warm-up
  const runs: Result[] = [];
  for (let i = 0; i < connections; i++) runs.push(runConnection(reqs, dynamic, chunk));
  const median = (f: (r: Result) => number) => {
    const v = runs.map(f).sort((a, b) => a - b);
    return v[v.length >> 1]!;
  };
  return {
    encodeUs: median((r) => r.encodeUs),
    decodeUs: median((r) => r.decodeUs),
    headersBytes: runs[0]!.headersBytes / reqs.length,
    encoderStreamBytes: runs[0]!.encoderStreamBytes / reqs.length,
    decoderStreamBytes: runs[0]!.decoderStreamBytes / reqs.length,
    firstRequest: runs[0]!.firstRequest,
    lastRequest: runs[0]!.lastRequest,
  };
}

export async function run(): Promise<void> {
  const reqs = requests();
  let raw = 0;
  for (const r of reqs) for (const [n, v] of r) raw += n.length + v.length;
  raw /= reqs.length;
  const dyn = average(reqs, true, 60);
  const stat = average(reqs, false, 60);
  // Instruction streams cut mid-instruction: encoder stream in 16-byte pieces, decoder stream byte by byte.
  const split = average(reqs, true, 60, 16);
  const cols = ['mode', 'enc µs/req', 'dec µs/req', 'HEADERS B', 'enc-stream B', 'dec-stream B', 'total B/req', 'req #1 B', 'req #100 B'];
  console.log(`100 Chromium-like requests on one connection; raw name+value octets ${raw.toFixed(0)} B/request`);
  console.log(cols.map((c, i) => (i === 0 ? c.padEnd(30) : c.padStart(13))).join(''));
  for (const [name, r] of [
    ['dynamic table (peer 64 KiB)', dyn],
    ['static table only', stat],
    ['dynamic, streams split', split],
  ] as Array<[string, Result]>) {
    const total = r.headersBytes + r.encoderStreamBytes + r.decoderStreamBytes;
    console.log(
      [
        name.padEnd(30),
        r.encodeUs.toFixed(2),
        r.decodeUs.toFixed(2),
        r.headersBytes.toFixed(1),
        r.encoderStreamBytes.toFixed(1),
        r.decoderStreamBytes.toFixed(1),
        total.toFixed(1),
        String(r.firstRequest),
        String(r.lastRequest),
      ]
        .map((c, i) => (i === 0 ? c : c.padStart(13)))
        .join(''),
    );
  }
  const dTotal = dyn.headersBytes + dyn.encoderStreamBytes + dyn.decoderStreamBytes;
  const sTotal = stat.headersBytes + stat.encoderStreamBytes + stat.decoderStreamBytes;
  console.log(`dynamic table: ${((1 - dTotal / sTotal) * 100).toFixed(1)}% fewer bytes than static-only (${(raw / dTotal).toFixed(1)}× vs raw)`);
  if (sink < 0) console.log(sink);
}
