// L7: the built-in demo site `quiver serve` shows when no directory is given: an HTML page with a
// stylesheet, a script and an image (subresources a browser fetches over the same HTTP/3
// connection), plus a 10 MB file generated on demand (deterministic bytes, never written to disk)
// and an upload button that POSTs 1 MB to /echo. Served from memory (no files to copy at build).
import { createHash } from 'node:crypto';
import type { VirtualFile } from '../server/static.js';

export const DEMO_BIG_FILE = '/10mb.bin';
export const DEMO_BIG_SIZE = 10 * 1024 * 1024;
const BLOCK = 64 * 1024;

let block: Buffer | undefined;

/** The 64 KiB pattern the big file repeats (xorshift32, seed 0x9e3779b9). */
export function demoBlock(): Buffer {
  if (block !== undefined) return block;
  const b = Buffer.allocUnsafe(BLOCK);
  let x = 0x9e3779b9;
  for (let i = 0; i < BLOCK; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  block = b;
  return b;
}

/** Bytes [start, end) of the generated big file, in ≤ 64 KiB chunks. */
export function* demoBytes(start: number, end: number): Generator<Uint8Array> {
  const b = demoBlock();
  let pos = start;
  while (pos < end) {
    const off = pos % BLOCK;
    const n = Math.min(BLOCK - off, end - pos);
    yield b.subarray(off, off + n);
    pos += n;
  }
}

/** sha256 (hex) of the whole generated big file. */
export function demoBigSha256(): string {
  const h = createHash('sha256');
  for (const c of demoBytes(0, DEMO_BIG_SIZE)) h.update(c);
  return h.digest('hex');
}

const INDEX = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Quiver — HTTP/3 in TypeScript</title>
<link rel="stylesheet" href="/style.css">
<link rel="icon" href="/quiver.svg">
</head>
<body>
<main>
  <img src="/quiver.svg" alt="Quiver logo" width="96" height="96">
  <h1>Quiver</h1>
  <p>This page came over <strong id="proto">…</strong> from a QUIC + HTTP/3 server written in TypeScript for Node.js, with its own TLS 1.3.</p>
  <ul id="resources"></ul>
  <p>
    <button id="download">Download 10 MB</button>
    <button id="upload">Upload 1 MB to /echo</button>
  </p>
  <pre id="log"></pre>
  <p><a href="/metrics">/metrics</a> (Prometheus text, also over HTTP/3)</p>
</main>
<script src="/app.js"></script>
</body>
</html>
`;

const CSS = `:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
main { max-width: 42rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; }
h1 { margin: 0.5rem 0; letter-spacing: 0.05em; }
img { display: block; }
button { font: inherit; padding: 0.4rem 0.9rem; margin-right: 0.5rem; cursor: pointer; }
pre { background: rgba(127, 127, 127, 0.15); padding: 0.75rem; min-height: 3rem; white-space: pre-wrap; }
#proto { color: #0a7d32; }
`;

const JS = `// Quiver demo: report how each resource arrived, and move some bytes both ways.
'use strict';
const log = (line) => { document.getElementById('log').textContent += line + '\\n'; };
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

function protocols() {
  const nav = performance.getEntriesByType('navigation')[0];
  document.getElementById('proto').textContent = nav ? nav.nextHopProtocol || '(unknown)' : '(unknown)';
  const list = document.getElementById('resources');
  list.textContent = '';
  for (const e of performance.getEntriesByType('resource')) {
    const li = document.createElement('li');
    li.textContent = new URL(e.name).pathname + ': ' + (e.nextHopProtocol || '?');
    list.appendChild(li);
  }
}

async function download() {
  const t0 = performance.now();
  const res = await fetch('/10mb.bin', { cache: 'no-store' });
  const buf = await res.arrayBuffer();
  const ms = performance.now() - t0;
  const sha = hex(await crypto.subtle.digest('SHA-256', buf));
  const result = { status: res.status, bytes: buf.byteLength, sha256: sha, ms: Math.round(ms) };
  log('download: ' + JSON.stringify(result));
  protocols();
  return result;
}

async function upload(size = 1024 * 1024) {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + 7) & 0xff;
  const t0 = performance.now();
  const res = await fetch('/echo', { method: 'POST', body: data, headers: { 'content-type': 'application/octet-stream' } });
  const back = await res.arrayBuffer();
  const ms = performance.now() - t0;
  const same = back.byteLength === size && hex(await crypto.subtle.digest('SHA-256', back)) === hex(await crypto.subtle.digest('SHA-256', data));
  const result = { status: res.status, bytes: back.byteLength, echoed: same, ms: Math.round(ms) };
  log('upload: ' + JSON.stringify(result));
  protocols();
  return result;
}

window.quiverDemo = { download, upload, protocols };
document.getElementById('download').addEventListener('click', () => download().catch((e) => log(String(e))));
document.getElementById('upload').addEventListener('click', () => upload().catch((e) => log(String(e))));
window.addEventListener('load', protocols);
`;

const SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96" width="96" height="96">
<rect width="96" height="96" rx="18" fill="#12355b"/>
<path d="M20 76 L70 26" stroke="#f2c14e" stroke-width="6" stroke-linecap="round"/>
<path d="M70 26 L58 28 M70 26 L68 38" stroke="#f2c14e" stroke-width="6" stroke-linecap="round"/>
<path d="M20 76 L30 74 M20 76 L22 66" stroke="#f78154" stroke-width="5" stroke-linecap="round"/>
<circle cx="48" cy="48" r="30" fill="none" stroke="#4d9078" stroke-width="3" stroke-dasharray="6 5"/>
</svg>
`;

/** The demo's files by URL path. */
export function demoFiles(): Map<string, VirtualFile> {
  const m = new Map<string, VirtualFile>();
  const text = (s: string, type: string): VirtualFile => {
    const body = Buffer.from(s, 'utf8');
    return { size: body.length, body, type };
  };
  m.set('/index.html', text(INDEX, 'text/html; charset=utf-8'));
  m.set('/style.css', text(CSS, 'text/css; charset=utf-8'));
  m.set('/app.js', text(JS, 'text/javascript; charset=utf-8'));
  m.set('/quiver.svg', text(SVG, 'image/svg+xml'));
  m.set(DEMO_BIG_FILE, { size: DEMO_BIG_SIZE, type: 'application/octet-stream', read: demoBytes });
  return m;
}
