// L7: qlog files, one per connection, in the JSON-SEQ serialization (RFC 7464 JSON text sequences:
// every record is RS (0x1E) + JSON text + LF) of draft-ietf-quic-qlog-main-schema, written into
// QLOGDIR or a `qlog` option directory as <ODCID hex>_<vantage>.sqlog (the quic-interop-runner and
// qvis conventions; qvis picks the JSON-SEQ parser from the .sqlog extension).
//
// Record 1 is the header: qlog_version, qlog_format 'JSON-SEQ' (qvis needs both, and a `trace`),
// plus the newer draft's file_schema and serialization_format, and
// trace { vantage_point, common_fields { ODCID, group_id, protocol_types, time_format 'relative',
// reference_time } }. Every later record is one event { time, name, data } as the connection emits
// it (src/connection/qlog.ts: "transport:packet_sent" etc.), with `time` made relative to the
// connection's start. qlog_version is "0.3" by default because the event names follow the 0.3
// event definitions and qvis reads 0.3 JSON-SEQ; pass qlogVersion '0.4' for newer tools.
//
// Cost: records are batched in a string and written with one synchronous write per ~64 KB, per close(),
// per idle flush (an unref'd timer) and at process exit, so a file is complete even when the process
// ends without closing its connections. qlog is a debugging aid: leave it off on hot servers.
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../util/bytes.js';

export interface QlogEventInput {
  /** ms on the connection's clock. */
  time: number;
  name: string;
  data: Record<string, unknown>;
}

export interface QlogWriterOptions {
  /** Directory for the file; default process.env.QLOGDIR. */
  dir?: string;
  /** 'client' or 'server'. */
  vantage: 'client' | 'server';
  /** Original Destination Connection ID (bytes or hex): names the file and fills common_fields.ODCID. */
  odcid: Uint8Array | string;
  /** The connection's clock value at time 0 (default: the first event's time). */
  startTime?: number;
  /** Wall-clock ms since the epoch at startTime (reference_time); default Date.now() at creation. */
  referenceTime?: number;
  title?: string;
  /** Default '0.3' (qvis). */
  qlogVersion?: string;
  /** Name in vantage_point (default 'quiver'). */
  name?: string;
  /** Bytes of records held before a write (default 65536). */
  batchBytes?: number;
  /** Idle flush delay in ms (default 250). */
  flushMs?: number;
}

const RS = '\x1e';


/** JSON replacer: byte arrays as hex strings, bigints as numbers when safe (else strings). */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  return value;
}

const openWriters = new Set<QlogWriter>();
let exitHook = false;

function closeAllOnExit(): void {
  for (const w of [...openWriters]) w.closeSync();
}

export class QlogWriter {
  readonly path: string;
  readonly odcid: string;
  /** Events written (after close: in total). */
  events = 0;
  errors = 0;
  lastError: Error | undefined;
  private fd: number;
  private pending = '';
  private readonly batchBytes: number;
  private readonly flushMs: number;
  private timer: NodeJS.Timeout | undefined;
  private t0: number | undefined;

  constructor(o: QlogWriterOptions) {
    if (!o || (o.vantage !== 'client' && o.vantage !== 'server')) throw new TypeError("options.vantage: expected 'client' or 'server'");
    const dir = o.dir ?? process.env['QLOGDIR'];
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError('options.dir: expected a directory (or set QLOGDIR)');
    let odcid: string;
    if (o.odcid instanceof Uint8Array) odcid = toHex(o.odcid);
    else if (typeof o.odcid === 'string' && /^[0-9a-fA-F]*$/.test(o.odcid) && o.odcid.length % 2 === 0) odcid = o.odcid.toLowerCase();
    else throw new TypeError('options.odcid: expected bytes or a hex string');
    if (o.startTime !== undefined && !Number.isFinite(o.startTime)) throw new RangeError('options.startTime: expected a finite number');
    this.batchBytes = o.batchBytes ?? 65536;
    this.flushMs = o.flushMs ?? 250;
    if (!(this.batchBytes >= 0)) throw new RangeError('options.batchBytes: expected ≥ 0');
    if (!(this.flushMs >= 0)) throw new RangeError('options.flushMs: expected ≥ 0');
    this.odcid = odcid;
    this.t0 = o.startTime;
    mkdirSync(dir, { recursive: true });
    const base = `${odcid || 'empty'}_${o.vantage}`;
    let path = join(dir, `${base}.sqlog`);
    for (let i = 1; existsSync(path); i++) path = join(dir, `${base}-${i}.sqlog`);
    this.path = path;
    this.fd = openSync(path, 'wx', 0o644);
    const header = {
      qlog_version: o.qlogVersion ?? '0.3',
      qlog_format: 'JSON-SEQ',
      file_schema: 'urn:ietf:params:qlog:file:sequential',
      serialization_format: 'application/qlog+json-seq',
      title: o.title ?? `quiver ${o.vantage} ${odcid}`,
      trace: {
        title: `${o.vantage} ${odcid}`,
        vantage_point: { name: o.name ?? 'quiver', type: o.vantage },
        common_fields: {
          ODCID: odcid,
          group_id: odcid,
          protocol_type: ['QUIC', 'HTTP3'],
          protocol_types: ['QUIC', 'HTTP3'],
          time_format: 'relative',
          reference_time: o.referenceTime ?? Date.now(),
        },
      },
    };
    this.pending = `${RS}${JSON.stringify(header)}\n`;
    this.flushSync();
    openWriters.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', closeAllOnExit);
    }
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  /** The sink to hand to a connection (options.qlog). */
  get sink(): (e: QlogEventInput) => void {
    return (e) => this.write(e);
  }

  /** Append one event; events after close() are dropped. Never throws for I/O errors (counted). */
  write(e: QlogEventInput): void {
    if (this.fd < 0) return;
    if (!e || typeof e.name !== 'string' || typeof e.time !== 'number') throw new TypeError('event: expected { time: number, name: string, data }');
    if (this.t0 === undefined) this.t0 = e.time;
    const rel = Math.round((e.time - this.t0) * 1000) / 1000;
    let json: string;
    try {
      json = JSON.stringify({ time: rel, name: e.name, data: e.data ?? {} }, replacer);
    } catch (err) {
      this.errors++;
      this.lastError = err as Error;
      return;
    }
    this.pending += `${RS}${json}\n`;
    this.events++;
    if (this.pending.length >= this.batchBytes) this.flushSync();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flushSync();
      }, this.flushMs);
      this.timer.unref();
    }
  }

  /** Write everything batched so far. */
  flushSync(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.fd < 0 || this.pending.length === 0) return;
    const buf = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    try {
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    } catch (err) {
      this.errors++;
      this.lastError = err as Error;
    }
  }

  /** Flush and close the file (synchronously). */
  closeSync(): void {
    if (this.fd < 0) return;
    this.flushSync();
    const fd = this.fd;
    this.fd = -1;
    openWriters.delete(this);
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  }

  /** Flush and close; resolves when the file is complete. */
  async close(): Promise<void> {
    this.closeSync();
  }
}

/**
 * A qlog writer for a new connection when qlog is on: the `qlog` option (a directory) or QLOGDIR;
 * undefined when neither is set or the option is false.
 */
export function qlogWriterFor(
  option: string | false | undefined,
  o: Omit<QlogWriterOptions, 'dir'>,
  env: NodeJS.ProcessEnv = process.env,
): QlogWriter | undefined {
  if (option === false) return undefined;
  if (option !== undefined && typeof option !== 'string') throw new TypeError('options.qlog: expected a directory name or false');
  const dir = option || env['QLOGDIR'];
  if (!dir) return undefined;
  return new QlogWriter({ ...o, dir });
}

/** Parse a JSON-SEQ qlog file's text into records (header first). For tests and tools. */
export function parseJsonSeq(text: string): unknown[] {
  if (text.length > 0 && text[0] !== RS) throw new TypeError('text: a JSON text sequence starts with RS (0x1E)');
  return text
    .split(RS)
    .slice(1)
    .map((r, i) => {
      if (!r.endsWith('\n')) throw new TypeError(`record ${i}: not terminated by LF`);
      return JSON.parse(r) as unknown;
    });
}
