// L7: `quiver get` — a curl-like HTTP/3 client. Exit status: 0 ok; 2 usage; 6 host not resolved;
// 7 connection failed; 22 HTTP status ≥ 400 with --fail; 23 output write error; 26 body file
// unreadable; 28 handshake timeout; 35 TLS handshake failed; 60 certificate not trusted (curl's
// numbering where one exists).
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Http3Client, type Http3ClientRequest } from '../server/client.js';
import type { Http3IncomingMessage } from '../server/incoming-message.js';
import type { GetArgs } from './args.js';
import type { QuicSession } from '../io/session.js';

export const ExitCode = {
  OK: 0,
  USAGE: 2,
  RESOLVE: 6,
  CONNECT: 7,
  HTTP_ERROR: 22,
  WRITE: 23,
  READ: 26,
  TIMEOUT: 28,
  TLS: 35,
  CERT: 60,
} as const;

/** TLS alerts that mean "the certificate was not accepted" (RFC 8446 §6.2). */
const CERT_ALERTS = new Set([42, 43, 44, 45, 46, 48, 49]);

export class GetError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.exitCode = exitCode;
  }
}

function classify(e: unknown): GetError {
  if (e instanceof GetError) return e;
  const err = e as { code?: string; errorCode?: number; message?: string; cause?: { code?: string } };
  const msg = err?.message ?? String(e);
  switch (err?.code) {
    case 'ERR_QUIC_TLS_ERROR': {
      const alert = (err.errorCode ?? 0) - 0x100;
      return new GetError(CERT_ALERTS.has(alert) ? ExitCode.CERT : ExitCode.TLS, msg);
    }
    case 'ERR_QUIC_HANDSHAKE_TIMEOUT':
      return new GetError(ExitCode.TIMEOUT, msg);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new GetError(ExitCode.RESOLVE, msg);
    default:
      if (err?.cause?.code === 'ENOTFOUND') return new GetError(ExitCode.RESOLVE, msg);
      return new GetError(ExitCode.CONNECT, msg);
  }
}

export interface GetIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
}

function headerLines(status: number, msg: Http3IncomingMessage): string {
  let s = `HTTP/3 ${status}\r\n`;
  for (let i = 0; i < msg.rawHeaders.length; i += 2) s += `${msg.rawHeaders[i]}: ${msg.rawHeaders[i + 1]}\r\n`;
  return s + '\r\n';
}

interface SavedSession {
  ticket: Buffer | undefined;
  token: Buffer | undefined;
}

/** Read `--session-file` (JSON: base64 ticket and NEW_TOKEN token); a missing file is a first run. */
function loadSession(file: string | undefined): SavedSession {
  if (file === undefined) return { ticket: undefined, token: undefined };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { ticket: undefined, token: undefined };
  }
  try {
    const j = JSON.parse(text) as { ticket?: string; token?: string };
    return {
      ticket: typeof j.ticket === 'string' ? Buffer.from(j.ticket, 'base64') : undefined,
      token: typeof j.token === 'string' ? Buffer.from(j.token, 'base64') : undefined,
    };
  } catch {
    return { ticket: undefined, token: undefined };
  }
}

function saveSession(file: string, ticket: Buffer | undefined, token: Buffer | undefined): void {
  try {
    writeFileSync(file, JSON.stringify({ ticket: ticket?.toString('base64'), token: token?.toString('base64') }) + '\n', { mode: 0o600 });
  } catch {
    // Best effort: the transfer itself is what the exit status reports.
  }
}

/** `--key-update MS`: initiate a key update (RFC 9001 §6) MS ms after the handshake is confirmed. */
function scheduleKeyUpdate(q: QuicSession, ms: number, verbose: (line: string) => void): void {
  const tryUpdate = (attempt: number): void => {
    if (q.destroyed) return;
    if (q.handshakeConfirmed && q.updateKeys()) {
      verbose(`* key update initiated`);
      return;
    }
    if (attempt < 200) setTimeout(() => tryUpdate(attempt + 1), 5).unref();
  };
  void q.opened.then(() => setTimeout(() => tryUpdate(0), ms).unref(), () => {});
}

/** Run one `quiver get`; resolves to the exit status. */
export async function runGet(args: GetArgs, io: GetIo): Promise<number> {
  const verbose = (line: string): void => {
    if (args.verbose) io.stderr.write(`${line}\n`);
  };
  const saved = loadSession(args.sessionFile);
  const client = new Http3Client({
    ...(saved.ticket !== undefined ? { session: saved.ticket, enableEarlyData: true } : {}),
    ...(saved.token !== undefined ? { token: saved.token } : {}),
    ...(args.version !== undefined ? { version: args.version } : {}),
    ...(args.probeVersion !== undefined ? { probeVersion: args.probeVersion } : {}),
    ...(args.insecure ? { rejectUnauthorized: false } : {}),
    ...(args.cacert !== undefined ? { ca: args.cacert } : {}),
    ...(args.qlogDir !== undefined ? { qlog: args.qlogDir } : {}),
    ...(args.keylog !== undefined ? { keylog: args.keylog } : {}),
    maxStreamData: 4 * 1024 * 1024,
    maxData: 16 * 1024 * 1024,
  });
  client.unrefWhenIdle = false;
  const url = args.url;
  try {
    // Body source.
    let body: Readable | Buffer | undefined;
    if (args.data !== undefined) {
      if (args.data === '@-') body = io.stdin;
      else if (args.data.startsWith('@')) {
        const file = args.data.slice(1);
        try {
          readFileSync(file, { flag: 'r' }).length; // existence/readability check, small cost
        } catch (e) {
          throw new GetError(ExitCode.READ, `-d: cannot read ${file}: ${(e as Error).message}`);
        }
        body = createReadStream(file);
      } else body = Buffer.from(args.data, 'utf8');
    }
    // Connect first, so -v can report the handshake and the timeout applies to it alone.
    verbose(`* connecting to ${url.hostname}:${url.port || 443} over QUIC`);
    if (args.probeVersion !== undefined) verbose(`* offering the unsupported version 0x${args.probeVersion.toString(16)} first (soliciting Version Negotiation)`);
    // The ticket is saved with the server's HTTP/3 SETTINGS attached once they arrive (RFC 9114
    // §7.2.4.2), so a later run's 0-RTT request complies with them.
    let q: QuicSession | undefined;
    const file = args.sessionFile;
    const save = file === undefined ? undefined : (): void => saveSession(file, client.sessionTicket(url), q?.token);
    if (save !== undefined) client.onSessionTicket = save;
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const pooled = await Promise.race([
      client.session(url),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new GetError(ExitCode.TIMEOUT, `handshake did not complete within ${args.connectTimeout} s`)), args.connectTimeout * 1000);
      }),
    ]).finally(() => clearTimeout(timer));
    q = pooled.quic;
    const describeHandshake = (): void => {
      const info = q.handshake!;
      verbose(`* handshake done in ${(performance.now() - t0).toFixed(1)} ms with ${q.remoteAddress.remoteAddress}:${q.remoteAddress.remotePort}`);
      verbose(
        `* QUIC version 0x${info.version.toString(16)}, ALPN ${info.alpn}${info.resumed ? ', resumed' : ''}${info.earlyDataAccepted ? ', 0-RTT accepted' : ''}, RTT ${q.stats.rtt.smoothed.toFixed(2)} ms`,
      );
    };
    if (q.handshake !== null) describeHandshake();
    else {
      verbose('* sending the request as 0-RTT early data');
      void q.opened.then(describeHandshake, () => {});
    }
    if (args.insecure) verbose('* certificate NOT verified (--insecure)');
    if (save !== undefined) q.on('new-token', save);
    if (args.keyUpdate !== undefined) scheduleKeyUpdate(q, args.keyUpdate, verbose);
    const headers: Array<[string, string]> = [...args.headers];
    if (!headers.some((h) => h[0] === 'user-agent')) headers.push(['user-agent', 'quiver-get']);
    if (!headers.some((h) => h[0] === 'accept')) headers.push(['accept', '*/*']);
    if (Buffer.isBuffer(body) && !headers.some((h) => h[0] === 'content-length')) headers.push(['content-length', String(body.length)]);
    if (body !== undefined && !headers.some((h) => h[0] === 'content-type')) headers.push(['content-type', 'application/x-www-form-urlencoded']);
    verbose(`> ${args.method} ${url.pathname}${url.search}`);
    verbose(`> :authority: ${url.host}`);
    for (const [k, v] of headers) verbose(`> ${k}: ${v}`);
    const req: Http3ClientRequest = client.request(url, { method: args.method, headers });
    const response = new Promise<Http3IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    req.on('information', (i: { statusCode: number }) => verbose(`< HTTP/3 ${i.statusCode} (interim)`));
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      req.flushHeaders();
      body.once('error', (e) => req.destroy(new GetError(ExitCode.READ, `-d: ${(e as Error).message}`)));
      body.pipe(req);
    }
    const msg = await response;
    const status = msg.statusCode!;
    verbose(`< HTTP/3 ${status}`);
    for (let i = 0; i < msg.rawHeaders.length; i += 2) verbose(`< ${msg.rawHeaders[i]}: ${msg.rawHeaders[i + 1]}`);
    if (args.fail && status >= 400) {
      msg.on('error', () => {});
      msg.resume();
      io.stderr.write(`quiver get: the server answered ${status}\n`);
      return ExitCode.HTTP_ERROR;
    }
    const out: Writable = args.output !== undefined ? createWriteStream(args.output) : io.stdout;
    if (args.head || args.include) {
      const text = headerLines(status, msg);
      if (args.output !== undefined) out.write(text);
      else io.stdout.write(text);
    }
    const t1 = performance.now();
    let bytes = 0;
    msg.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    try {
      await pipeline(msg, out, { end: args.output !== undefined });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== undefined && code.startsWith('E') && !code.startsWith('ERR_QUIC')) throw new GetError(ExitCode.WRITE, `output: ${(e as Error).message}`);
      throw e;
    }
    const secs = (performance.now() - t1) / 1000;
    verbose(`* ${bytes} bytes in ${secs.toFixed(3)} s (${((bytes * 8) / 1e6 / Math.max(secs, 1e-6)).toFixed(1)} Mbit/s)`);
    const trailers = Object.keys(msg.trailers);
    for (const k of trailers) verbose(`< (trailer) ${k}: ${String(msg.trailers[k])}`);
    const st = q.stats;
    verbose(`* packets sent ${st.packetsSent}, received ${st.packetsReceived}, lost ${st.packetsLost}; smoothed RTT ${st.rtt.smoothed.toFixed(2)} ms`);
    return ExitCode.OK;
  } catch (e) {
    const g = classify(e);
    io.stderr.write(`quiver get: ${g.message}\n`);
    return g.exitCode;
  } finally {
    await Promise.race([client.close().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
  }
}
