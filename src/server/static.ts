// L7: a static file handler for the HTTP/3 server (RFC 9110 semantics): GET/HEAD only (405 with
// Allow otherwise), content-type by extension, index.html for directories, single byte ranges
// (RFC 9110 §14: 206 / 416), ETag + If-None-Match (304), and no way out of the root: the decoded
// path may not contain '..' segments or NUL, and the real path (symlinks resolved) must stay under
// the root's real path. Virtual files (generated content, e.g. the demo's 10 MB file) are served
// from memory or a generator before the disk is consulted.
//
// Cost per request: every async node:fs call is a libuv thread-pool round trip, ~44 µs of main-thread
// CPU here (the futex wake of a pool thread, DESIGN §4) against ~3.5 µs for the same syscall done
// synchronously. So the path checks use stat/realpath synchronously (local disk, as nginx does), and
// files up to SMALL_FILE bytes are read synchronously once and kept in memory with their response
// headers, revalidated on every request by the stat (device, inode, size, mtime, ctime all equal);
// any change re-reads the file. Bigger files stream through an async ReadStream as before.
import { closeSync, createReadStream, fstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { Http3IncomingMessage } from './incoming-message.js';
import type { Http3ServerResponse } from './server-response.js';

export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.bin': 'application/octet-stream',
};

export function contentTypeFor(path: string): string {
  return MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** A file that lives in memory or is generated: `read(start, end)` yields bytes [start, end). */
export interface VirtualFile {
  size: number;
  type?: string;
  body?: Buffer;
  read?: (start: number, end: number) => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

export interface StaticOptions {
  /** Directory served (absent: virtual files only). */
  root?: string;
  /** Files by URL path ('/index.html'), served before the disk. */
  files?: ReadonlyMap<string, VirtualFile>;
  /** Directory index (default 'index.html'). */
  index?: string;
}

/** Files up to this size are cached in memory (revalidated by stat on every request). */
const SMALL_FILE = 64 * 1024;
/** Total bytes of cached file bodies per handler; the oldest entries go first beyond it. */
const CACHE_BYTES = 16 * 1024 * 1024;

interface CachedFile {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  body: Buffer;
  etag: string;
  lastModified: string;
  contentType: string;
}

function sameFile(c: CachedFile, st: Stats): boolean {
  return c.ino === st.ino && c.dev === st.dev && c.size === st.size && c.mtimeMs === st.mtimeMs && c.ctimeMs === st.ctimeMs;
}

/** Read a whole small file synchronously; null when it changed size meanwhile (then stream it). */
function readSmall(path: string, st: Stats): Buffer | null {
  const fd = openSync(path, 'r');
  try {
    const now = fstatSync(fd);
    if (now.ino !== st.ino || now.size !== st.size || now.mtimeMs !== st.mtimeMs) return null;
    const body = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < body.length) {
      const n = readSync(fd, body, off, body.length - off, off);
      if (n === 0) return null;
      off += n;
    }
    return body;
  } finally {
    closeSync(fd);
  }
}

type Handler = (req: Http3IncomingMessage, res: Http3ServerResponse) => Promise<void>;

function plain(res: Http3ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : `${text}\n`);
}

/** Parse a single `bytes=` range (RFC 9110 §14.1.2); null = ignore the header, 'bad' = 416. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'bad' {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null; // multiple ranges or another unit: serve the whole representation
  const a = m[1]!;
  const b = m[2]!;
  if (a === '' && b === '') return 'bad';
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'bad';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (start >= size || end < start) return 'bad';
  }
  return { start, end };
}

/** Decode and check a request path; null when it must be refused. */
export function safePath(url: string): string | null {
  const q = url.indexOf('?');
  const raw = q >= 0 ? url.slice(0, q) : url;
  if (!raw.startsWith('/')) return null;
  let decoded: string;
  try {
    decoded = raw.includes('%') ? decodeURIComponent(raw) : raw;
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  // A '..' segment (the path starts with '/', so every segment follows a '/').
  if (decoded.includes('/../') || decoded.endsWith('/..')) return null;
  return decoded;
}

export function staticHandler(options: StaticOptions): Handler {
  const index = options.index ?? 'index.html';
  const files = options.files;
  const root = options.root === undefined ? undefined : resolve(options.root);
  let realRoot: string | undefined;
  const cache = new Map<string, CachedFile>();
  let cacheBytes = 0;

  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      return plain(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
    }
    req.resume();
    const path = safePath(req.url ?? '/');
    if (path === null) return plain(res, 403, 'forbidden');
    const vpath = path.endsWith('/') ? path + index : path;
    const v = files?.get(vpath);
    if (v !== undefined) return sendVirtual(req, res, v, vpath);
    if (root === undefined) return plain(res, 404, 'not found');
    let full = join(root, path);
    let st: Stats | undefined;
    let c: CachedFile | undefined;
    try {
      realRoot ??= realpathSync.native(root);
      st = statSync(full);
      if (st.isDirectory()) {
        if (!path.endsWith('/')) {
          res.writeHead(301, { location: encodeURI(path + '/') });
          res.end();
          return;
        }
        full = join(full, index);
        st = statSync(full);
      }
      c = cache.get(full);
      if (c !== undefined && !sameFile(c, st)) {
        cache.delete(full);
        cacheBytes -= c.size;
        c = undefined;
      }
      // The containment check is skipped only for the very inode that passed it before, unchanged:
      // any link, unlink, rename onto it or write changes its ctime, so the bytes served are the
      // ones this path already served from inside the root.
      if (c === undefined) {
        const real = realpathSync.native(full);
        const rr = realRoot;
        if (real !== rr && !real.startsWith(rr.endsWith(sep) ? rr : rr + sep)) return plain(res, 403, 'forbidden');
      }
    } catch {
      return plain(res, 404, 'not found');
    }
    if (!st.isFile()) return plain(res, 404, 'not found');
    if (c === undefined && st.size <= SMALL_FILE) {
      let body: Buffer | null = null;
      try {
        body = readSmall(full, st);
      } catch {
        body = null; // gone or unreadable now: the stream below reports it as before
      }
      if (body !== null) {
        c = {
          dev: st.dev,
          ino: st.ino,
          size: st.size,
          mtimeMs: st.mtimeMs,
          ctimeMs: st.ctimeMs,
          body,
          etag: etagOf(st),
          lastModified: st.mtime.toUTCString(),
          contentType: contentTypeFor(full),
        };
        cache.set(full, c);
        cacheBytes += c.size;
        for (const [k, e] of cache) {
          if (cacheBytes <= CACHE_BYTES) break;
          cache.delete(k);
          cacheBytes -= e.size;
        }
      }
    }
    const etag = c?.etag ?? etagOf(st);
    const headers: Record<string, string | number> = {
      'content-type': c?.contentType ?? contentTypeFor(full),
      etag,
      'last-modified': c?.lastModified ?? st.mtime.toUTCString(),
      'accept-ranges': 'bytes',
      'cache-control': 'no-cache',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag });
      res.end();
      return;
    }
    const range = parseRange(req.headers['range'] as string | undefined, st.size);
    if (range === 'bad') return plain(res, 416, 'range not satisfiable', { 'content-range': `bytes */${st.size}` });
    const start = range?.start ?? 0;
    const end = range?.end ?? st.size - 1;
    const length = st.size === 0 ? 0 : end - start + 1;
    if (range !== null) headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
    headers['content-length'] = length;
    res.writeHead(range !== null ? 206 : 200, headers);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    if (c !== undefined) {
      res.end(start === 0 && end === c.size - 1 ? c.body : c.body.subarray(start, end + 1));
      return;
    }
    await pipeOut(createReadStream(full, { start, end, highWaterMark: 64 * 1024 }), res);
  };
}

async function sendVirtual(req: Http3IncomingMessage, res: Http3ServerResponse, v: VirtualFile, path: string): Promise<void> {
  const size = v.body?.length ?? v.size;
  const range = parseRange(req.headers['range'] as string | undefined, size);
  if (range === 'bad') return plain(res, 416, 'range not satisfiable', { 'content-range': `bytes */${size}` });
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  const length = size === 0 ? 0 : end - start + 1;
  const headers: Record<string, string | number> = {
    'content-type': v.type ?? contentTypeFor(path),
    'content-length': length,
    'accept-ranges': 'bytes',
    'cache-control': 'no-cache',
  };
  if (range !== null) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range !== null ? 206 : 200, headers);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  if (v.body !== undefined) {
    res.end(v.body.subarray(start, end + 1));
    return;
  }
  await pipeOut(Readable.from(v.read!(start, end + 1)), res);
}

function etagOf(st: Stats): string {
  return `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
}

/** Pipe with backpressure; a client that goes away just stops the copy. */
function pipeOut(src: Readable, res: Http3ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      src.destroy();
      resolve();
    };
    src.once('error', () => {
      res.destroy();
      done();
    });
    res.once('close', done);
    res.once('finish', done);
    src.pipe(res);
  });
}
