// L7: one lane of `quiver load` — the clients one thread runs on its own event loop. Each client is
// one QUIC connection (src/io connectWith) with an HTTP/3 session (src/server/h3-session.ts) and
// keeps up to -m requests in flight until its share of -n is done (or -D ends). Counting follows
// nghttp2's h2load: "done" = request streams that closed (with a response, or reset); "succeeded" =
// 2xx/3xx; "failed" = done without success plus requests lost with their connection; "errored" =
// failed for a reason other than the HTTP status; "timeout" = errored because the connection timed
// out; "req/s" counts responses received in full whatever their status (h2load's req_success).
// Traffic "total" is the application data read off every stream (HTTP/3 frames, decrypted: h2load's
// bytes_total for HTTP/3); UDP payload bytes are reported beside it. Response header bytes are the
// HEADERS frame payloads (QPACK-encoded field sections) read off each request stream, against name +
// value lengths after decoding, pseudo-header fields included (h2load's "space savings"). All of
// them are the HTTP/3 layer's own counters (H3Session.stats per connection, streamStats per request). Times: "time for request" runs from
// submitting the request to the HTTP/3 layer to its last response byte; "time for connect" from
// dialling to the handshake's completion; "time to 1st byte" from dialling to the first response
// body byte (or the end of a body-less response) on that connection, as h2load records it. A server
// GOAWAY stops new requests on that connection; the accepted ones finish, the rest count as failed.
// Everything a lane returns survives structured clone (piscina worker threads).
import { performance } from 'node:perf_hooks';
import { checkRequestToSend, type H3StreamStats } from '../h3/index.js';
import { H3ErrorCode } from '../h3/wire/index.js';
import { connectWith } from '../io/quic.js';
import type { ClientOptions } from '../io/options.js';
import type { QuicSession } from '../io/session.js';
import type { HeaderField, HeaderFieldInput } from '../qpack/index.js';
import { H3Session, type H3StreamHandler } from '../server/h3-session.js';
import { Histogram, type HistogramData } from './load-histogram.js';

/** A thread's share of the work. */
export interface LaneJob {
  lane: number;
  url: string;
  method: string;
  /** Extra request headers (lower-case names; ':authority' / ':path' override the URL's). */
  headers: Array<[string, string]>;
  body: Uint8Array | null;
  /** Requests per client (count mode); in duration mode only the length (clients) matters. */
  clients: number[];
  maxConcurrent: number;
  /** ms; 0 = count mode. */
  duration: number;
  /** ms of warm-up before the -D measurement starts (requests run but are not counted); 0 = none. */
  warmUp?: number;
  /** ms; 0 = none. */
  activeTimeout: number;
  idleTimeout: number;
  insecure: boolean;
  /** PEM text of the trust anchors (--cacert). */
  ca: string | undefined;
  /**
   * Int32 control block shared with the main thread: [0] go flag (the lane waits until it is 1),
   * [1] lanes ready, [2 + lane] requests done by this lane (progress).
   */
  control?: SharedArrayBuffer;
}

export interface RequestCounts {
  total: number;
  started: number;
  done: number;
  succeeded: number;
  failed: number;
  errored: number;
  timeout: number;
}

export interface LaneResult {
  lane: number;
  clients: number;
  /** Epoch ms (performance.timeOrigin based) when the lane started and when its last request ended. */
  startedAt: number;
  endedAt: number;
  requests: RequestCounts;
  /** Responses received in full, whatever their status (h2load's req_success: the numerator of req/s). */
  completed: number;
  /** By class: index 1..5 = 1xx..5xx (1xx only for final responses, which do not exist: kept 0). */
  statusClasses: number[];
  /** Exact status codes. */
  statusCodes: Record<string, number>;
  /** UDP payload bytes received / sent (QUIC packets, encrypted, including handshake and ACKs). */
  bytesReceived: number;
  bytesSent: number;
  /** Application data read off every stream (HTTP/3 frames, decrypted): h2load's "traffic total". */
  streamBytesReceived: number;
  /** Response HEADERS frame payloads (QPACK field sections, compressed). */
  headerBytes: number;
  /** Name + value lengths of the decoded response fields. */
  headerBytesDecoded: number;
  /** Response body (DATA payload) bytes. */
  dataBytes: number;
  /** Request body bytes sent. */
  requestBodyBytes: number;
  datagramsSent: number;
  datagramsReceived: number;
  packetsLost: number;
  /** Request latency (µs), completed requests only. */
  latency: HistogramData;
  /** Per connected client: ms to connect (handshake done), ms to the first response byte; per client: completed req/s. */
  connectMs: number[];
  ttfbMs: number[];
  clientRps: number[];
  /** Why requests or connections failed: message → count (a few distinct messages). */
  errors: Record<string, number>;
  alpn: string;
  quicVersion: number;
}

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
/** Atomics.waitAsync (Node 16+, typed in lib ES2024 only). */
const atomics = Atomics as typeof Atomics & { waitAsync(a: Int32Array, index: number, value: number, timeout?: number): WaitAsyncResult };
const MAX_ERROR_KINDS = 20;

/** Epoch ms with sub-ms resolution, comparable across threads. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** One request in flight: the H3 stream handler. */
class Req implements H3StreamHandler {
  readonly client: LoadClient;
  readonly id: number;
  /** The HTTP/3 layer's byte counters of this request stream. */
  readonly stats: H3StreamStats | undefined;
  readonly start: number;
  /** Started during the measurement (not in the warm-up): its figures count. */
  readonly counted: boolean;
  status = 0;
  bodySent = 0;
  finished = false;

  constructor(client: LoadClient, id: number, start: number, counted: boolean, stats: H3StreamStats | undefined) {
    this.client = client;
    this.stats = stats;
    this.id = id;
    this.start = start;
    this.counted = counted;
  }

  onInformational(): void {
    // 1xx field sections are in the stream's counters.
  }

  onResponse(status: number, _headers: HeaderField[], endStream: boolean): void {
    this.status = status;
    if (endStream) this.client.complete(this);
  }

  onData(): void {
    this.client.readBody(this);
  }

  onTrailers(): void {
    // Trailer field sections are in the stream's counters.
  }

  onEnd(): void {
    this.client.readBody(this);
    if (!this.finished) this.client.complete(this);
  }

  onWritable(): void {
    this.client.writeBody(this);
  }

  onReset(code: number, remote: boolean): void {
    this.client.streamFailed(this, remote ? `stream reset by the server (code 0x${code.toString(16)})` : `request rejected after GOAWAY (code 0x${code.toString(16)})`);
  }

  onStopSending(): void {
    this.bodySent = -1; // the server wants no more of the body; it may still answer
  }

  onStreamError(message: string): void {
    this.client.streamFailed(this, `malformed response: ${message}`);
  }

  onClosed(error: Error): void {
    // The HTTP/3 connection failed: connectionEnded() accounts for every request in flight at once.
    this.client.connectionEnded(error);
  }
}

class LoadClient {
  readonly lane: Lane;
  readonly index: number;
  /** Requests to make (Infinity in duration mode). */
  private readonly todo: number;
  private started = 0;
  private inflight = 0;
  /** Responses received in full (any status), for this client's req/s. */
  private completed = 0;
  /** The server sent GOAWAY: no new requests on this connection. */
  private goaway = false;
  /** Response HEADERS payload bytes / decoded field bytes of the counted requests released so far. */
  private headerBytes = 0;
  private headerBytesDecoded = 0;
  private readonly reqs = new Map<number, Req>();
  private hs: H3Session | undefined;
  private quic: QuicSession | undefined;
  private connectStart = 0;
  private firstByte = -1;
  private lastDone = -1;
  private ended = false;
  private timedOut = false;
  private refillQueued = false;
  private activeTimer: NodeJS.Timeout | undefined;
  /** Transport counters when the measurement began (after a warm-up), subtracted at the end. */
  private base = { bytesReceived: 0, bytesSent: 0, datagramsReceived: 0, datagramsSent: 0, packetsLost: 0, streamBytesReceived: 0 };
  private measureStart = 0;
  private resolveDone!: () => void;
  readonly done: Promise<void>;

  constructor(lane: Lane, index: number, todo: number) {
    this.lane = lane;
    this.index = index;
    this.todo = todo;
    this.done = new Promise<void>((r) => (this.resolveDone = r));
  }

  private get left(): number {
    return this.todo - this.started;
  }

  async run(): Promise<void> {
    const lane = this.lane;
    const job = lane.job;
    const url = new URL(job.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : 443;
    this.connectStart = performance.now();
    let quic: QuicSession;
    try {
      const options: ClientOptions = {
        idleTimeout: job.idleTimeout,
        maxData: 16 * 1024 * 1024,
        maxStreamData: 4 * 1024 * 1024,
        qlog: false,
        keylog: false,
        rejectUnauthorized: !job.insecure,
        ...(job.ca !== undefined ? { ca: job.ca } : {}),
      };
      quic = await connectWith({ host, port }, options, { alpn: ['h3'] });
    } catch (e) {
      this.connectionEnded(e);
      return this.done;
    }
    if (this.ended) {
      // -D ended (or the client was given up) while dialling: nothing to measure, do not leak it.
      quic.destroy();
      return this.done;
    }
    this.quic = quic;
    quic.noErrorCodes = [0, H3ErrorCode.H3_NO_ERROR];
    const hs = new H3Session(quic, 'client');
    this.hs = hs;
    hs.onStreamsAvailable = () => this.refill();
    hs.onGoaway = () => {
      this.goaway = true;
      this.refill();
    };
    void quic.closed.then(
      () => this.connectionEnded(new Error('the connection closed')),
      (e: unknown) => this.connectionEnded(e),
    );
    try {
      await quic.opened;
    } catch (e) {
      this.connectionEnded(e);
      return this.done;
    }
    if (this.ended) return this.done;
    if (quic.alpn !== 'h3') {
      this.connectionEnded(new Error(`the server chose ALPN ${JSON.stringify(quic.alpn)}, not h3`));
      return this.done;
    }
    lane.connectMs.push(performance.now() - this.connectStart);
    lane.alpn = quic.alpn;
    lane.quicVersion = quic.conn.version;
    if (lane.stopped) {
      this.finish();
      return this.done;
    }
    this.fill();
    return this.done;
  }

  /** Start requests up to -m in flight; false when the stream limit blocks (streams-available follows). */
  private fill(): void {
    const hs = this.hs;
    if (hs === undefined || this.ended) return;
    const job = this.lane.job;
    const lane = this.lane;
    while (this.inflight < job.maxConcurrent && this.left > 0 && !lane.stopped && !this.goaway) {
      let id: number | null;
      const t = performance.now();
      try {
        id = hs.h3.request(lane.fields, { end: lane.body === null || lane.body.length === 0 });
      } catch (e) {
        if (hs.goawayReceived) {
          this.goaway = true;
          break;
        }
        // A closed connection: no more requests on this one.
        this.connectionEnded(e);
        return;
      }
      if (id === null) break;
      const r = new Req(this, id, t, lane.measuring, hs.streamStats(id));
      this.reqs.set(id, r);
      hs.attach(id, r);
      this.started++;
      this.inflight++;
      if (r.counted) lane.counts.started++;
      if (lane.body !== null && lane.body.length > 0) this.writeBody(r);
      if (this.activeTimer === undefined && job.activeTimeout > 0 && this.left === 0) {
        this.activeTimer = setTimeout(() => this.activeTimeout(), job.activeTimeout);
      }
    }
    hs.kick();
    if (this.inflight > 0) return;
    if (this.left === 0 || lane.stopped) this.finish();
    // After GOAWAY the accepted requests finished; the ones not issued are lost (h2load's
    // process_request_failure: failed and errored).
    else if (this.goaway) this.connectionEnded(new Error('the server sent GOAWAY: requests not issued on this connection'));
  }

  /** Completions arrive while the session dispatches events: start new requests after that. */
  refill(): void {
    if (this.refillQueued || this.ended) return;
    this.refillQueued = true;
    queueMicrotask(() => {
      this.refillQueued = false;
      this.fill();
    });
  }

  writeBody(r: Req): void {
    const body = this.lane.body;
    const hs = this.hs;
    if (body === null || hs === undefined || r.finished || r.bodySent < 0 || r.bodySent >= body.length) return;
    const n = hs.h3.write(r.id, body.subarray(r.bodySent), true);
    r.bodySent += n;
    if (r.counted) this.lane.requestBodyBytes += n;
    if (r.bodySent < body.length) hs.markStalled(r.id);
    hs.kick();
  }

  /** h2load's record_ttfb: the first response body byte, or the end of a response without one. */
  private firstByteNow(): void {
    if (this.firstByte >= 0) return;
    this.firstByte = performance.now();
    this.lane.ttfbMs.push(this.firstByte - this.connectStart);
  }

  readBody(r: Req): void {
    const hs = this.hs;
    if (hs === undefined || r.finished) return;
    const scratch = hs.scratch;
    for (;;) {
      const res = hs.h3.read(r.id, scratch);
      if (res.bytes > 0) {
        this.firstByteNow();
        if (r.counted) this.lane.dataBytes += res.bytes;
      }
      if (res.fin) {
        this.complete(r);
        return;
      }
      if (res.bytes === 0) return;
    }
  }

  private release(r: Req): void {
    r.finished = true;
    this.reqs.delete(r.id);
    this.hs?.detach(r.id);
    this.countHeaders(r);
    this.inflight--;
  }

  /** Add a counted request's response header bytes (HEADERS payloads, decoded fields) as the HTTP/3 layer counted them. */
  private countHeaders(r: Req): void {
    const st = r.stats;
    if (!r.counted || st === undefined) return;
    this.headerBytes += st.headerBytesReceived;
    this.headerBytesDecoded += st.fieldBytesReceived;
  }

  /** A response arrived in full. */
  complete(r: Req): void {
    if (r.finished) return;
    const now = performance.now();
    this.release(r);
    this.firstByteNow();
    const lane = this.lane;
    if (r.counted && !lane.over) {
      lane.counts.done++;
      lane.completed++;
      this.completed++;
      lane.latency.record((now - r.start) * 1000);
      const cls = Math.floor(r.status / 100);
      if (cls >= 1 && cls <= 5) lane.statusClasses[cls]!++;
      lane.statusCodes[r.status] = (lane.statusCodes[r.status] ?? 0) + 1;
      if (cls === 2 || cls === 3) {
        lane.counts.succeeded++;
      } else {
        lane.counts.failed++;
      }
      this.lastDone = now;
      lane.progress();
    }
    this.refill();
  }

  /** The stream was reset or malformed: done, failed and errored (h2load counts RST_STREAM so). */
  streamFailed(r: Req, why: string): void {
    if (r.finished) return;
    this.release(r);
    const lane = this.lane;
    if (r.counted && !lane.over) {
      lane.counts.done++;
      lane.counts.failed++;
      lane.counts.errored++;
      lane.error(why);
      this.lastDone = performance.now();
      lane.progress();
    }
    this.refill();
  }

  /** -T: the connection stayed open too long after its last request was issued. */
  private activeTimeout(): void {
    this.activeTimer = undefined;
    if (this.ended) return;
    this.timedOut = true;
    this.connectionEnded(new Error('connection active timeout (-T)'));
  }

  /** The connection is gone (or failed to come up): requests in flight and not started are lost. */
  connectionEnded(e: unknown): void {
    if (this.ended) return;
    const lane = this.lane;
    let inflight = 0;
    for (const r of this.reqs.values()) if (r.counted) inflight++;
    const left = lane.job.duration > 0 ? 0 : this.left;
    const lost = lane.over ? 0 : inflight + left;
    if (lost > 0 || this.started === 0) {
      const err = e as { code?: string; message?: string };
      const conn = this.quic?.conn;
      const idle = err?.code === 'ERR_QUIC_IDLE_TIMEOUT' || err?.code === 'ERR_QUIC_HANDSHAKE_TIMEOUT' || conn?.error?.kind === 'idle';
      if (idle) this.timedOut = true;
      if (lost > 0) {
        lane.counts.failed += lost;
        lane.counts.errored += lost;
        if (this.timedOut) lane.counts.timeout += inflight;
        lane.progress(lost);
      }
      lane.error(describeError(e));
    }
    this.abandonAll();
  }

  /** Drop every request still open (their header bytes are counted), then finish the client. */
  private abandonAll(): void {
    for (const r of this.reqs.values()) {
      r.finished = true;
      this.countHeaders(r);
      this.hs?.detach(r.id);
    }
    this.reqs.clear();
    this.inflight = 0;
    this.finish();
  }

  /** No more requests on this client: note the figures, close the connection, settle `done`. */
  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.activeTimer !== undefined) clearTimeout(this.activeTimer);
    const lane = this.lane;
    const end = this.lastDone >= 0 ? this.lastDone : performance.now();
    // h2load: every client that ran in the measurement has a req/s sample, 0 included.
    const span = (end - Math.max(this.connectStart, this.measureStart)) / 1000;
    if (lane.measuring && span > 1e-9) lane.clientRps.push(this.completed / span);
    lane.endedAt = Math.max(lane.endedAt, performance.timeOrigin + end);
    const quic = this.quic;
    if (quic !== undefined) {
      const s = quic.stats;
      const b = this.base;
      lane.bytesReceived += s.bytesReceived - b.bytesReceived;
      lane.bytesSent += s.bytesSent - b.bytesSent;
      lane.datagramsReceived += s.datagramsReceived - b.datagramsReceived;
      lane.datagramsSent += s.datagramsSent - b.datagramsSent;
      lane.packetsLost += s.packetsLost - b.packetsLost;
      lane.headerBytes += this.headerBytes;
      lane.headerBytesDecoded += this.headerBytesDecoded;
      const hs = this.hs;
      // Stream data read during the measurement (the HTTP/3 layer's counter, from its start).
      if (hs !== undefined && lane.measuring) lane.streamBytesReceived += hs.stats.streamBytesReceived - b.streamBytesReceived;
      if (hs !== undefined && !hs.closed && !quic.destroyed) {
        try {
          hs.h3.close(H3ErrorCode.H3_NO_ERROR);
          hs.kick();
        } catch {
          // already closing
        }
      }
      // The closing period (RFC 9000 §10.2) runs after the measurement; bound it anyway.
      const closing = quic.close(H3ErrorCode.H3_NO_ERROR);
      let timer: NodeJS.Timeout | undefined;
      void Promise.race([closing, new Promise<void>((r) => (timer = setTimeout(r, 2000)))]).then(() => {
        clearTimeout(timer);
        this.resolveDone();
      });
    } else {
      this.resolveDone();
    }
  }

  /** The warm-up is over: traffic so far is not part of the measurement. */
  beginMeasuring(now: number): void {
    this.measureStart = now;
    const quic = this.quic;
    if (quic === undefined || this.ended) return;
    const s = quic.stats;
    this.base = { bytesReceived: s.bytesReceived, bytesSent: s.bytesSent, datagramsReceived: s.datagramsReceived, datagramsSent: s.datagramsSent, packetsLost: s.packetsLost, streamBytesReceived: this.hs?.stats.streamBytesReceived ?? 0 };
  }

  /** -D ended: stop issuing; what is in flight is not counted (h2load's measurement phase is over). */
  stop(): void {
    if (this.ended) return;
    this.abandonAll();
  }
}

function describeError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = err?.message ?? String(e);
  return err?.code !== undefined && !msg.includes(err.code) ? `${err.code}: ${msg}` : msg;
}

/**
 * The request's field section: the URL's (or -H's) :authority and :path, a user-agent unless given,
 * content-length of the body unless given, then the -H fields.
 */
export function requestFields(url: URL, method: string, headers: ReadonlyArray<[string, string]>, body: Uint8Array | null): HeaderFieldInput[] {
  const authority = headers.find((h) => h[0] === ':authority')?.[1] ?? url.host;
  const path = headers.find((h) => h[0] === ':path')?.[1] ?? `${url.pathname || '/'}${url.search}`;
  const extra = headers.filter((h) => !h[0].startsWith(':'));
  const fields: HeaderFieldInput[] = [[':method', method], [':scheme', 'https'], [':authority', authority], [':path', path]];
  if (!extra.some((h) => h[0] === 'user-agent')) fields.push(['user-agent', 'quiver-load']);
  if (body !== null && !extra.some((h) => h[0] === 'content-length')) fields.push(['content-length', String(body.length)]);
  for (const h of extra) fields.push(h);
  return fields;
}

/**
 * Check the request every client will send, as the HTTP/3 layer will (RFC 9114 §4.2, §4.3.1), and
 * that a content-length matches the body; returns why not, or null.
 */
export function checkRequest(url: URL, method: string, headers: ReadonlyArray<[string, string]>, body: Uint8Array | null): string | null {
  let head: { contentLength: number };
  try {
    head = checkRequestToSend(requestFields(url, method, headers, body), false);
  } catch (e) {
    return (e as Error).message;
  }
  const len = body === null ? 0 : body.length;
  if (head.contentLength >= 0 && head.contentLength !== len) return `content-length ${head.contentLength} does not match the ${len}-byte request body`;
  return null;
}

class Lane {
  readonly job: LaneJob;
  readonly fields: HeaderFieldInput[];
  readonly body: Uint8Array | null;
  readonly counts: RequestCounts = { total: 0, started: 0, done: 0, succeeded: 0, failed: 0, errored: 0, timeout: 0 };
  readonly statusClasses = [0, 0, 0, 0, 0, 0];
  readonly statusCodes: Record<string, number> = {};
  readonly latency = new Histogram();
  readonly connectMs: number[] = [];
  readonly ttfbMs: number[] = [];
  readonly clientRps: number[] = [];
  readonly errors: Record<string, number> = {};
  private errorKinds = 0;
  bytesReceived = 0;
  bytesSent = 0;
  streamBytesReceived = 0;
  completed = 0;
  headerBytes = 0;
  headerBytesDecoded = 0;
  dataBytes = 0;
  requestBodyBytes = 0;
  datagramsSent = 0;
  datagramsReceived = 0;
  packetsLost = 0;
  startedAt = 0;
  endedAt = 0;
  alpn = '';
  quicVersion = 0;
  /** Past the warm-up (always, without one): requests started now count. */
  measuring = true;
  /** -D elapsed: no new requests. */
  stopped = false;
  /** -D elapsed: completions no longer count. */
  over = false;
  private readonly progressCell: Int32Array | undefined;
  private readonly clients: LoadClient[] = [];

  constructor(job: LaneJob) {
    this.job = job;
    this.fields = requestFields(new URL(job.url), job.method, job.headers, job.body);
    this.body = job.body;
    this.progressCell = job.control !== undefined ? new Int32Array(job.control) : undefined;
  }

  error(why: string): void {
    if (this.errors[why] !== undefined) this.errors[why]++;
    else if (this.errorKinds < MAX_ERROR_KINDS) {
      this.errors[why] = 1;
      this.errorKinds++;
    } else this.errors['(other errors)'] = (this.errors['(other errors)'] ?? 0) + 1;
  }

  progress(n = 1): void {
    if (this.progressCell !== undefined) Atomics.add(this.progressCell, 2 + this.job.lane, n);
  }

  async run(): Promise<LaneResult> {
    const job = this.job;
    if (this.progressCell !== undefined) {
      Atomics.add(this.progressCell, 1, 1);
      Atomics.notify(this.progressCell, 1);
      // Wait for the go signal without blocking this thread's event loop.
      while (Atomics.load(this.progressCell, 0) === 0) {
        const w = atomics.waitAsync(this.progressCell, 0, 0, 10_000);
        if (w.async) await w.value;
      }
    }
    this.startedAt = epochNow();
    this.endedAt = this.startedAt;
    let deadline: NodeJS.Timeout | undefined;
    let warm: NodeJS.Timeout | undefined;
    const duration = job.duration > 0;
    const warmUp = duration ? (job.warmUp ?? 0) : 0;
    if (warmUp > 0) {
      this.measuring = false;
      warm = setTimeout(() => {
        this.measuring = true;
        this.startedAt = epochNow();
        this.endedAt = this.startedAt;
        const now = performance.now();
        for (const c of this.clients) c.beginMeasuring(now);
      }, warmUp);
    }
    if (duration) {
      deadline = setTimeout(() => {
        this.stopped = true;
        this.over = true;
        this.endedAt = this.startedAt + job.duration;
        for (const c of this.clients) c.stop();
      }, warmUp + job.duration);
    }
    for (let i = 0; i < job.clients.length; i++) {
      this.clients.push(new LoadClient(this, i, duration ? Infinity : job.clients[i]!));
      if (!duration) this.counts.total += job.clients[i]!;
    }
    // Wait for the clients' ends, not for run(): a client still dialling when -D ends is done.
    for (const c of this.clients) void c.run().catch((e: unknown) => c.connectionEnded(e));
    await Promise.all(this.clients.map((c) => c.done));
    if (deadline !== undefined) clearTimeout(deadline);
    if (warm !== undefined) clearTimeout(warm);
    if (duration) {
      this.counts.total = this.counts.started;
      if (this.over) this.endedAt = this.startedAt + job.duration;
    }
    return {
      lane: job.lane,
      clients: job.clients.length,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      requests: { ...this.counts },
      completed: this.completed,
      statusClasses: [...this.statusClasses],
      statusCodes: { ...this.statusCodes },
      bytesReceived: this.bytesReceived,
      bytesSent: this.bytesSent,
      streamBytesReceived: this.streamBytesReceived,
      headerBytes: this.headerBytes,
      headerBytesDecoded: this.headerBytesDecoded,
      dataBytes: this.dataBytes,
      requestBodyBytes: this.requestBodyBytes,
      datagramsSent: this.datagramsSent,
      datagramsReceived: this.datagramsReceived,
      packetsLost: this.packetsLost,
      latency: this.latency.toData(),
      connectMs: this.connectMs,
      ttfbMs: this.ttfbMs,
      clientRps: this.clientRps,
      errors: { ...this.errors },
      alpn: this.alpn,
      quicVersion: this.quicVersion,
    };
  }
}

/** Run a lane's clients to the end on this thread's event loop. */
export function runLane(job: LaneJob): Promise<LaneResult> {
  return new Lane(job).run();
}
