// L7: SSLKEYLOGFILE sink. The TLS layer (src/tls/keylog.ts) produces NSS key log lines
// ("<LABEL> <client_random hex> <secret hex>", the format Wireshark reads, also for QUIC's TLS 1.3
// traffic secrets, RFC 9001 §5.1); this module appends them to the file named by the
// SSLKEYLOGFILE environment variable or a `keylog` option.
//
// One open file descriptor per file per process, shared by every connection: lines are appended
// with one synchronous write each (a handful per handshake), so they reach the file in the order they
// were produced and are on disk, not in a JS buffer, if the process dies right after. The file is
// created with mode 0600 (it holds secrets) and opened for appending, never truncated.
import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';

export type KeyLogSink = (line: string) => void;

/** One key log file, shared process-wide (see openKeyLog). */
export class KeyLogFile {
  readonly path: string;
  /** Lines written so far. */
  lines = 0;
  /** Write failures (the sink never throws into a connection). */
  errors = 0;
  lastError: Error | undefined;
  private fd: number;

  /** Use openKeyLog(): it shares one instance (one fd) per path. */
  constructor(path: string) {
    this.path = path;
    this.fd = openSync(path, 'a', 0o600);
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  /**
   * Append one NSS key log line (a trailing newline is added; one already there is accepted).
   * Misuse (not a string, an embedded line break) throws TypeError; I/O errors are counted.
   */
  write(line: string): void {
    if (typeof line !== 'string') throw new TypeError('line: expected a string');
    const text = line.endsWith('\n') ? line.slice(0, -1) : line;
    if (text.length === 0 || /[\r\n]/.test(text)) throw new TypeError('line: expected exactly one non-empty line');
    if (this.fd < 0) return;
    try {
      const buf = Buffer.from(`${text}\n`, 'utf8');
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
      this.lines++;
    } catch (e) {
      this.errors++;
      this.lastError = e as Error;
    }
  }

  /** Close the descriptor (later writes are dropped). openKeyLog() then opens a fresh one. */
  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    open.delete(this.path);
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  }
}

const open = new Map<string, KeyLogFile>();

/** The process-wide KeyLogFile for `path` (resolved to an absolute path), opening it on first use. */
export function openKeyLog(path: string): KeyLogFile {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path: expected a non-empty file name');
  const abs = resolve(path);
  let f = open.get(abs);
  if (!f) {
    f = new KeyLogFile(abs);
    open.set(abs, f);
  }
  return f;
}

/**
 * The key log sink a connection should get: the `keylog` option when given (a file name, or a
 * function that receives each line), else SSLKEYLOGFILE from `env`, else undefined (no logging).
 * `false` disables key logging even when SSLKEYLOGFILE is set.
 */
export function keyLogSink(option?: string | KeyLogSink | false, env: NodeJS.ProcessEnv = process.env): KeyLogSink | undefined {
  if (option === false) return undefined;
  if (typeof option === 'function') return option;
  if (option !== undefined && typeof option !== 'string') throw new TypeError('options.keylog: expected a file name, a function or false');
  const path = option || env['SSLKEYLOGFILE'];
  if (!path) return undefined;
  const abs = openKeyLog(path).path; // opens now, so a bad path fails at setup
  return (line: string) => openKeyLog(abs).write(line);
}

/** Close every key log file this process opened (tests, graceful shutdown). */
export function closeAllKeyLogs(): void {
  for (const f of [...open.values()]) f.close();
}
