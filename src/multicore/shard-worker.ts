// L7: bootstrap of a shard worker thread (workers/shard.ts is the thin entry that calls
// runShardWorker). Builds the worker's Endpoint from the same validated server options as
// listen() (src/io/options.ts), with the keys every worker must share — the CID key (routing),
// the stateless reset key (RFC 9000 §10.3.2: any worker can reset a CID of any other), the
// address-validation token key (RFC 9000 §8.1: a Retry or NEW_TOKEN minted by one worker is
// checked by whichever worker the client's next Initial lands on) and the session ticket keys
// (resumption across workers) and, with 0-RTT, the anti-replay store in a SharedArrayBuffer
// (src/multicore/anti-replay.ts: a replayed ClientHello is refused whichever worker it reaches) —
// then runs a Shard on its rings and exposes the control plane
// (stats snapshot, accept/drain, shutdown) with comlink over a MessagePort: a few calls per
// connection lifetime at most, never per packet (20–240 µs per call, DESIGN §4).
import type { MessagePort } from 'node:worker_threads';
import { expose, wrap, type Remote } from 'comlink';
import { Connection, type ConnectionOptions } from '../connection/index.js';
import { Endpoint, type ServerConnectionOptions } from '../endpoint/index.js';
import { secureRandom } from '../crypto/random.js';
import { acceptsRememberedSettings, rememberedSettingsFor, type H3LocalSettings } from '../h3/index.js';
import type { TicketKeyMaterial } from '../tls/session-ticket.js';
import { monotonicNow } from '../io/clock.js';
import { keyLogSink } from '../io/keylog.js';
import { resolveServerOptions } from '../io/options.js';
import { qlogWriterFor, type QlogWriter } from '../io/qlog-writer.js';
import { SharedAntiReplay } from './anti-replay.js';
import { EchoApp, type ShardApp, type ShardConnectionHandler } from './app.js';
import { WorkerCidCodec } from './cid.js';
import { HTTP3_CLOSE_CODE, Http3ShardApp, loadAppSetup, type ResolvedApp } from './http3-app.js';
import { MetricsBlock, WORKER_SCHEMA } from './metrics-block.js';
import { RingConsumer, RingProducer } from './ring.js';
import { Shard, type ShardSnapshot } from './shard.js';
import { SharedTicketKeyring } from './ticket-keys.js';
import { WorkerSessionMetrics } from './worker-metrics.js';

/** Everything a shard worker gets in workerData (structured-cloneable; SABs are shared). */
export interface ShardWorkerData {
  index: number;
  workers: number;
  rx: SharedArrayBuffer;
  tx: SharedArrayBuffer;
  metrics: SharedArrayBuffer;
  cidKey: Uint8Array;
  cidLength: number;
  configId: number;
  statelessResetKey: Uint8Array;
  tokenKey: Uint8Array;
  ticketKeys: TicketKeyMaterial[] | undefined;
  /** The main thread rotates ticket keys this often and pushes them (setTicketKeys). */
  ticketRotationMs: number;
  /** 0-RTT on: the anti-replay store every worker shares (createAntiReplayBuffer). */
  antiReplay: SharedArrayBuffer | undefined;
  /** listen() options (validated by the main thread; functions are not allowed across threads). */
  options: Record<string, unknown>;
  /** Option names listenMulticore adds (accepted and ignored by the per-worker validation). */
  extraOptionNames: string[];
  maxConnections: number;
  app: ResolvedApp;
  /** Http3Server options for an HTTP/3 app (maxHeaderSize, qpackTableCapacity). */
  http3Options: Record<string, unknown>;
  batchSize: number;
  spinTurns: number;
  control: MessagePort;
  /** The main thread's side of the control plane (worker → main: metrics text). */
  main: MessagePort;
}

/** What the main thread answers for workers (comlink, a few calls per scrape at most). */
export interface MainControl {
  /** Prometheus text of the whole server. */
  metrics(): Promise<{ contentType: string; text: string }>;
}

/** The control plane a shard exposes to the main thread (comlink). */
export interface ShardControl {
  /** Resolves once the worker runs (its app is set up); returns its index. Rejects if the app failed to start. */
  ping(): Promise<number>;
  stats(): ShardSnapshot;
  /** Bring the metrics block up to date (live connections' totals, HTTP counters) before a scrape. */
  syncMetrics(): void;
  /** Seal and open session tickets with these keys from now on (newest last). */
  setTicketKeys(keys: TicketKeyMaterial[]): void;
  /** Stop (false) or resume (true) accepting new connections. */
  setAccepting(on: boolean): void;
  /** Stop accepting, wait until every connection ended or `timeoutMs` passed; returns connections left. */
  drain(timeoutMs: number): Promise<number>;
  /** Close every connection (application code), wait up to `timeoutMs` for them to go, stop the loop. */
  shutdown(code: number, timeoutMs: number): Promise<number>;
}

/** Build the worker's Endpoint (the same server assembly as src/io/quic.ts listen()). */
export function buildShardEndpoint(data: ShardWorkerData, codec: WorkerCidCodec, writers?: Map<Connection, QlogWriter>, tickets?: { ring?: SharedTicketKeyring }): Endpoint<Connection> {
  const o = resolveServerOptions(data.options, data.app.kind === 'http3' ? { alpn: ['h3'] } : {}, data.extraOptionNames);
  const server: ServerConnectionOptions = { ...o.core, certificate: o.certificate, privateKey: o.privateKey } as ServerConnectionOptions;
  if (o.ca !== undefined) server.ca = o.ca;
  if (o.requestCert) server.requestClientCertificate = true;
  // A key log function cannot cross threads (the main thread refuses it); a file name or
  // SSLKEYLOGFILE works in every worker (appends of whole lines).
  const keylog = keyLogSink(typeof o.keylog === 'function' ? undefined : o.keylog);
  if (keylog !== undefined) server.keylog = keylog;
  if (o.sessionTickets) {
    const ring = new SharedTicketKeyring({ random: secureRandom, keys: data.ticketKeys ?? [], rotationMs: 2 * data.ticketRotationMs });
    server.ticketKeys = ring;
    if (tickets !== undefined) tickets.ring = ring;
  }
  if (o.enableEarlyData) {
    if (data.antiReplay === undefined) throw new TypeError('enableEarlyData: the shared anti-replay store is missing');
    server.enableEarlyData = true;
    server.antiReplay = new SharedAntiReplay(data.antiReplay);
    if (data.app.kind === 'http3') {
      // RFC 9114 §7.2.4.2, as Http3Server.listen() does: tickets carry the SETTINGS the workers'
      // Http3Servers advertise; 0-RTT only when the ones the client remembered are compatible.
      const settings: H3LocalSettings = {};
      const h = data.http3Options;
      if (typeof h['maxHeaderSize'] === 'number') settings.maxFieldSectionSize = h['maxHeaderSize'];
      if (typeof h['qpackTableCapacity'] === 'number') settings.qpackMaxTableCapacity = h['qpackTableCapacity'];
      server.ticketAppData = rememberedSettingsFor(settings);
      server.acceptEarlyData = (b: Uint8Array) => acceptsRememberedSettings(b, settings);
    }
  }
  if (o.versions !== undefined) server.versions = o.versions;
  // qlog: one file per connection, as listen() does (options.qlog directory or $QLOGDIR).
  const qlog = o.qlog;
  const factory =
    writers === undefined
      ? undefined
      : (options: ConnectionOptions, now: number): Connection => {
          const odcid = options.originalDcid ?? options.initialDcid;
          const writer = odcid === undefined ? undefined : qlogWriterFor(qlog, { vantage: 'server', odcid, startTime: now, referenceTime: now });
          const conn = new Connection(writer === undefined ? options : { ...options, qlog: writer.sink }, now);
          if (writer !== undefined) writers.set(conn, writer);
          return conn;
        };
  return new Endpoint<Connection>({
    rng: secureRandom,
    server,
    cidGenerator: codec.generator(data.index, secureRandom),
    statelessResetKey: data.statelessResetKey,
    tokenKey: data.tokenKey,
    retry: o.retry,
    maxConnections: data.maxConnections,
    ...(o.versions === undefined ? {} : { versions: o.versions }),
    ...(factory === undefined ? {} : { connectionFactory: factory }),
  });
}

/** Close a connection's qlog file when the endpoint removes it (apps without sessions, e.g. echo). */
function withQlogClose(app: ShardApp, writers: Map<Connection, QlogWriter>): ShardApp {
  return {
    onConnection(conn, ctx): ShardConnectionHandler | undefined {
      const h = app.onConnection(conn, ctx);
      if (!writers.has(conn)) return h;
      const close = (): void => {
        const w = writers.get(conn);
        writers.delete(conn);
        if (w !== undefined) void w.close();
      };
      if (h === undefined) return { onEvent() {}, onRemoved: close };
      return {
        onEvent: (ev) => h.onEvent(ev),
        afterEvents: () => h.afterEvents?.(),
        onRemoved: () => {
          close();
          h.onRemoved?.();
        },
      };
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Run a shard in this worker thread until shutdown. */
export function runShardWorker(data: ShardWorkerData): Promise<Shard> {
  const port = data.control;
  const main = wrap<MainControl>(data.main as unknown as Parameters<typeof wrap>[0]);
  const tickets: { ring?: SharedTicketKeyring } = {};
  const started = startShard(data, main, tickets);
  started.catch(() => {});
  let shard: Shard | undefined;
  let h3: Http3ShardApp | undefined;
  let recorder: WorkerSessionMetrics | undefined;
  const waitForConnections = async (timeoutMs: number): Promise<number> => {
    const s = shard;
    if (s === undefined) return 0;
    const until = monotonicNow() + timeoutMs;
    while (s.connectionCount > 0 && monotonicNow() < until) await sleep(10);
    return s.connectionCount;
  };
  const control: ShardControl = {
    ping: async () => {
      await started;
      return data.index;
    },
    stats: () => {
      const snap = shard!.snapshot();
      if (tickets.ring !== undefined) snap.ticketKeyIds = tickets.ring.exportKeys().map((k) => Buffer.from(k.id).toString('hex'));
      return snap;
    },
    syncMetrics: () => {
      shard?.syncEndpointMetrics();
      recorder?.sync();
    },
    setTicketKeys: (keys) => tickets.ring?.replace(keys),
    setAccepting: (on) => shard?.setAccepting(on),
    drain: async (timeoutMs) => {
      shard?.setAccepting(false);
      return waitForConnections(timeoutMs);
    },
    shutdown: async (code, timeoutMs) => {
      if (shard === undefined) {
        setTimeout(() => port.close(), 0);
        return 0;
      }
      shard.setAccepting(false);
      // HTTP/3: GOAWAY first and let requests in flight finish (half the time), then close the rest.
      if (h3 !== undefined) await h3.shutdown(timeoutMs / 2);
      shard.closeAll(h3 !== undefined ? HTTP3_CLOSE_CODE : code, 'server shutting down');
      const left = await waitForConnections(h3 !== undefined ? timeoutMs / 2 : timeoutMs);
      shard.stop();
      // Let comlink post this call's answer, then free the event loop so the thread can end.
      setTimeout(() => {
        port.close();
        data.main.close();
      }, 0);
      return left;
    },
  };
  expose(control, port as unknown as Parameters<typeof expose>[1]);
  return started.then((r) => {
    shard = r.shard;
    h3 = r.h3;
    recorder = r.recorder;
    return r.shard;
  });
}

async function startShard(data: ShardWorkerData, main: Remote<MainControl>, tickets: { ring?: SharedTicketKeyring }): Promise<{ shard: Shard; h3: Http3ShardApp | undefined; recorder: WorkerSessionMetrics | undefined }> {
  const codec = new WorkerCidCodec({ key: data.cidKey, workers: data.workers, length: data.cidLength, configId: data.configId });
  const writers = new Map<Connection, QlogWriter>();
  const endpoint = buildShardEndpoint(data, codec, writers, tickets);
  const block = new MetricsBlock(WORKER_SCHEMA, data.metrics);
  let app: ShardApp;
  let h3: Http3ShardApp | undefined;
  let recorder: WorkerSessionMetrics | undefined;
  if (data.app.kind === 'echo') {
    app = withQlogClose(new EchoApp(), writers);
  } else {
    recorder = new WorkerSessionMetrics(block);
    const setup = await loadAppSetup(data.app);
    h3 = await Http3ShardApp.create({
      worker: data.index,
      workers: data.workers,
      setup,
      options: data.app.options,
      serverOptions: data.http3Options,
      metrics: () => main.metrics(),
      recorder,
      onGone: (conn) => {
        const w = writers.get(conn);
        writers.delete(conn);
        if (w !== undefined) void w.close();
      },
    });
    app = h3;
  }
  const rec = recorder;
  const shard = new Shard({
    index: data.index,
    endpoint,
    rx: new RingConsumer(data.rx),
    tx: new RingProducer(data.tx),
    app,
    clock: monotonicNow,
    metrics: block,
    batchSize: data.batchSize,
    spinTurns: data.spinTurns,
    ...(rec === undefined ? {} : { onTurn: () => rec.syncHttp() }),
  });
  shard.start();
  return { shard, h3, recorder };
}
