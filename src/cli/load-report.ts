// L7: `quiver load` results — the per-thread LaneResults merged into one report, printed as
// nghttp2's h2load prints its summary ("finished in …", "requests: …", "status codes: …",
// "traffic: …", the min/max/mean/sd/+/- sd table) or as JSON (--json).
import { HISTOGRAM_RELATIVE_ERROR, Histogram, summarize, type SummaryStats } from './load-histogram.js';
import type { LaneResult, RequestCounts } from './load-lane.js';

export interface LoadReport {
  /** ms from the first lane's start to the last request's end (-D: the duration). */
  durationMs: number;
  threads: number;
  clients: number;
  requests: RequestCounts;
  /** Responses received in full, whatever their status (h2load's req_success). */
  completed: number;
  /** Completed responses per second over the run (h2load's "req/s": req_success / duration). */
  reqPerSec: number;
  /** Traffic total (application bytes) per second. */
  bytesPerSec: number;
  statusCodes: { '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  statusExact: Record<string, number>;
  traffic: {
    /** Application data read off every stream (HTTP/3 frames, decrypted): h2load's "total" for HTTP/3. */
    total: number;
    /** UDP payload bytes received (QUIC packets: encrypted, with handshake, ACK and control traffic). */
    udpReceived: number;
    /** Response HEADERS frame payloads (QPACK-compressed field sections). */
    headers: number;
    /** Name + value lengths of the decoded response fields. */
    headersDecoded: number;
    /** (1 - headers / headersDecoded) × 100 — h2load's "space savings". */
    spaceSavings: number;
    /** Response body bytes (DATA payload). */
    data: number;
    /** UDP payload bytes sent. */
    sent: number;
    requestBody: number;
  };
  datagrams: { sent: number; received: number };
  packetsLost: number;
  /** ms. */
  timeForRequest: SummaryStats & { p50: number; p90: number; p99: number; p999: number };
  timeForConnect: SummaryStats;
  timeToFirstByte: SummaryStats;
  reqPerSecPerClient: SummaryStats;
  /** Per thread: clients, requests done, succeeded. */
  perThread: Array<{ thread: number; clients: number; started: number; done: number; succeeded: number }>;
  errors: Record<string, number>;
  alpn: string;
  quicVersion: number;
  /** Relative error bound of the latency percentiles and of "+/- sd" for request times. */
  histogramError: number;
}

function scale(s: SummaryStats, k: number): SummaryStats {
  return { count: s.count, min: s.min * k, max: s.max * k, mean: s.mean * k, sd: s.sd * k, withinSd: s.withinSd };
}

export function mergeLanes(lanes: readonly LaneResult[]): LoadReport {
  const requests: RequestCounts = { total: 0, started: 0, done: 0, succeeded: 0, failed: 0, errored: 0, timeout: 0 };
  const classes = [0, 0, 0, 0, 0, 0];
  const exact: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const latency = new Histogram();
  const connect: number[] = [];
  const ttfb: number[] = [];
  const rps: number[] = [];
  let start = Infinity;
  let end = -Infinity;
  let total = 0;
  let udpReceived = 0;
  let completed = 0;
  let sent = 0;
  let headers = 0;
  let headersDecoded = 0;
  let data = 0;
  let requestBody = 0;
  let dgSent = 0;
  let dgRecv = 0;
  let lost = 0;
  let clients = 0;
  let alpn = '';
  let quicVersion = 0;
  for (const l of lanes) {
    for (const k of Object.keys(requests) as Array<keyof RequestCounts>) requests[k] += l.requests[k];
    for (let i = 0; i < 6; i++) classes[i]! += l.statusClasses[i] ?? 0;
    for (const [k, v] of Object.entries(l.statusCodes)) exact[k] = (exact[k] ?? 0) + v;
    for (const [k, v] of Object.entries(l.errors)) errors[k] = (errors[k] ?? 0) + v;
    latency.merge(l.latency);
    connect.push(...l.connectMs);
    ttfb.push(...l.ttfbMs);
    rps.push(...l.clientRps);
    start = Math.min(start, l.startedAt);
    end = Math.max(end, l.endedAt);
    total += l.streamBytesReceived;
    udpReceived += l.bytesReceived;
    completed += l.completed;
    sent += l.bytesSent;
    headers += l.headerBytes;
    headersDecoded += l.headerBytesDecoded;
    data += l.dataBytes;
    requestBody += l.requestBodyBytes;
    dgSent += l.datagramsSent;
    dgRecv += l.datagramsReceived;
    lost += l.packetsLost;
    clients += l.clients;
    if (l.alpn !== '') alpn = l.alpn;
    if (l.quicVersion !== 0) quicVersion = l.quicVersion;
  }
  const durationMs = lanes.length === 0 ? 0 : Math.max(0, end - start);
  const sec = durationMs / 1000;
  const lat = scale(latency.summary(), 1 / 1000);
  return {
    durationMs,
    threads: lanes.length,
    clients,
    requests,
    completed,
    reqPerSec: sec > 0 ? completed / sec : 0,
    bytesPerSec: sec > 0 ? total / sec : 0,
    statusCodes: { '1xx': classes[1]!, '2xx': classes[2]!, '3xx': classes[3]!, '4xx': classes[4]!, '5xx': classes[5]! },
    statusExact: exact,
    traffic: { total, udpReceived, headers, headersDecoded, spaceSavings: headersDecoded > 0 ? (1 - headers / headersDecoded) * 100 : 0, data, sent, requestBody },
    datagrams: { sent: dgSent, received: dgRecv },
    packetsLost: lost,
    timeForRequest: {
      ...lat,
      p50: latency.percentile(0.5) / 1000,
      p90: latency.percentile(0.9) / 1000,
      p99: latency.percentile(0.99) / 1000,
      p999: latency.percentile(0.999) / 1000,
    },
    timeForConnect: summarize(connect),
    timeToFirstByte: summarize(ttfb),
    reqPerSecPerClient: summarize(rps),
    perThread: lanes.map((l) => ({ thread: l.lane, clients: l.clients, started: l.requests.started, done: l.requests.done, succeeded: l.requests.succeeded })),
    errors,
    alpn,
    quicVersion,
    histogramError: HISTOGRAM_RELATIVE_ERROR,
  };
}

/** h2load's util::dtos: two decimals. */
function dtos(n: number): string {
  return n.toFixed(2);
}

/** h2load's util::format_duration (input ms): "123us", "4.56ms", "7.89s". */
export function formatDuration(ms: number): string {
  if (ms >= 1000) return `${dtos(ms / 1000)}s`;
  if (ms >= 1) return `${dtos(ms)}ms`;
  return `${Math.round(ms * 1000)}us`;
}

/** h2load's util::utos_funit: 1024-based units with two decimals. */
export function formatBytes(n: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n}B` : `${dtos(v)}${units[u]}B`;
}

function row(label: string, s: SummaryStats, f: (v: number) => string): string {
  const c = (v: string): string => v.padStart(10);
  return `${label.padEnd(16)}: ${c(f(s.min))}  ${c(f(s.max))}  ${c(f(s.mean))}  ${c(f(s.sd))}${dtos(s.withinSd * 100).padStart(9)}%`;
}

/** The h2load-style summary, one line per element. */
export function formatReport(r: LoadReport): string[] {
  const q = r.requests;
  const t = r.traffic;
  const out: string[] = [];
  out.push(`finished in ${formatDuration(r.durationMs)}, ${dtos(r.reqPerSec)} req/s, ${formatBytes(Math.round(r.bytesPerSec))}/s`);
  out.push(`requests: ${q.total} total, ${q.started} started, ${q.done} done, ${q.succeeded} succeeded, ${q.failed} failed, ${q.errored} errored, ${q.timeout} timeout`);
  const sc = r.statusCodes;
  out.push(`status codes: ${sc['2xx']} 2xx, ${sc['3xx']} 3xx, ${sc['4xx']} 4xx, ${sc['5xx']} 5xx`);
  out.push(
    `traffic: ${formatBytes(t.total)} (${t.total}) total, ${formatBytes(t.headers)} (${t.headers}) headers (space savings ${dtos(t.spaceSavings)}%), ${formatBytes(t.data)} (${t.data}) data`,
  );
  out.push(`UDP: ${r.datagrams.sent} datagrams (${r.traffic.sent} bytes) sent, ${r.datagrams.received} datagrams (${r.traffic.udpReceived} bytes) received, ${r.packetsLost} packets lost`);
  out.push('                     min         max         mean         sd        +/- sd');
  out.push(row('time for request', r.timeForRequest, formatDuration));
  out.push(row('time for connect', r.timeForConnect, formatDuration));
  out.push(row('time to 1st byte', r.timeToFirstByte, formatDuration));
  out.push(row('req/s', r.reqPerSecPerClient, dtos));
  const l = r.timeForRequest;
  if (l.count > 0) {
    out.push(`request percentiles: p50 ${formatDuration(l.p50)}, p90 ${formatDuration(l.p90)}, p99 ${formatDuration(l.p99)}, p99.9 ${formatDuration(l.p999)} (histogram, within ±${dtos(r.histogramError * 100)}%)`);
  }
  if (r.threads > 1) {
    out.push(`per thread: ${r.perThread.map((p) => `#${p.thread} ${p.clients} client(s) ${p.done} done ${p.succeeded} succeeded`).join(', ')}`);
  }
  const errs = Object.entries(r.errors).sort((a, b) => b[1] - a[1]);
  for (const [msg, n] of errs.slice(0, 5)) out.push(`error: ${n} × ${msg}`);
  if (errs.length > 5) out.push(`error: … ${errs.length - 5} more kinds (see --json)`);
  return out;
}
