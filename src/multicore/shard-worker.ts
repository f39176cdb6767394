// L7: bootstrap of a shard worker thread (workers/shard.ts is the thin entry that calls
// runShardWorker). Builds the worker's Endpoint from the same validated server options as
// listen() (src/io/options.ts), with the keys every worker must share — the CID key (routing),
// the stateless reset key (RFC 9000 §10.3.2: any worker can reset a CID of any other), the
// address-validation token key (RFC 9000 §8.1: a Retry or NEW_TOKEN minted by one worker is
// checked by whichever worker the client's next Initial lands on) and the session ticket keys
// (resumption across workers) — then runs a Shard on its rings and exposes the control plane
// (stats snapshot, accept/drain, shutdown) with comlink over a MessagePort: a few calls per
// connection lifetime at most, never per packet (20–240 µs per call, DESIGN §4).
import type { MessagePort } from 'node:worker_threads';
import { expose } from 'comlink';
import type { Connection } from '../connection/index.js';
import { Endpoint, type ServerConnectionOptions } from '../endpoint/index.js';
import { secureRandom } from '../crypto/random.js';
import { TicketKeyring, type TicketKeyMaterial } from '../tls/session-ticket.js';
import { monotonicNow } from '../io/clock.js';
import { keyLogSink } from '../io/keylog.js';
import { resolveServerOptions } from '../io/options.js';
import { builtinApp, type BuiltinApp } from './app.js';
import { WorkerCidCodec } from './cid.js';
import { MetricsBlock, WORKER_SCHEMA } from './metrics-block.js';
import { RingConsumer, RingProducer } from './ring.js';
import { Shard, type ShardSnapshot } from './shard.js';

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
  /** listen() options (validated by the main thread; functions are not allowed across threads). */
  options: Record<string, unknown>;
  /** Option names listenMulticore adds (accepted and ignored by the per-worker validation). */
  extraOptionNames: string[];
  maxConnections: number;
  app: BuiltinApp;
  batchSize: number;
  spinTurns: number;
  control: MessagePort;
}

/** The control plane a shard exposes to the main thread (comlink). */
export interface ShardControl {
  /** Resolves once the worker runs; returns its index. */
  ping(): number;
  stats(): ShardSnapshot;
  /** Stop (false) or resume (true) accepting new connections. */
  setAccepting(on: boolean): void;
  /** Stop accepting, wait until every connection ended or `timeoutMs` passed; returns connections left. */
  drain(timeoutMs: number): Promise<number>;
  /** Close every connection (application code), wait up to `timeoutMs` for them to go, stop the loop. */
  shutdown(code: number, timeoutMs: number): Promise<number>;
}

/** Build the worker's Endpoint (the same server assembly as src/io/quic.ts listen()). */
export function buildShardEndpoint(data: ShardWorkerData, codec: WorkerCidCodec): Endpoint<Connection> {
  const o = resolveServerOptions(data.options, {}, data.extraOptionNames);
  const server: ServerConnectionOptions = { ...o.core, certificate: o.certificate, privateKey: o.privateKey } as ServerConnectionOptions;
  if (o.ca !== undefined) server.ca = o.ca;
  if (o.requestCert) server.requestClientCertificate = true;
  // A key log function cannot cross threads (the main thread refuses it); a file name or
  // SSLKEYLOGFILE works in every worker (appends of whole lines).
  const keylog = keyLogSink(typeof o.keylog === 'function' ? undefined : o.keylog);
  if (keylog !== undefined) server.keylog = keylog;
  if (o.sessionTickets) server.ticketKeys = new TicketKeyring({ random: secureRandom, keys: data.ticketKeys ?? [] });
  if (o.versions !== undefined) server.versions = o.versions;
  return new Endpoint<Connection>({
    rng: secureRandom,
    server,
    cidGenerator: codec.generator(data.index, secureRandom),
    statelessResetKey: data.statelessResetKey,
    tokenKey: data.tokenKey,
    retry: o.retry,
    maxConnections: data.maxConnections,
    ...(o.versions === undefined ? {} : { versions: o.versions }),
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Run a shard in this worker thread until shutdown. */
export function runShardWorker(data: ShardWorkerData): Shard {
  const codec = new WorkerCidCodec({ key: data.cidKey, workers: data.workers, length: data.cidLength, configId: data.configId });
  const endpoint = buildShardEndpoint(data, codec);
  const shard = new Shard({
    index: data.index,
    endpoint,
    rx: new RingConsumer(data.rx),
    tx: new RingProducer(data.tx),
    app: builtinApp(data.app),
    clock: monotonicNow,
    metrics: new MetricsBlock(WORKER_SCHEMA, data.metrics),
    batchSize: data.batchSize,
    spinTurns: data.spinTurns,
  });
  const port = data.control;
  const waitForConnections = async (timeoutMs: number): Promise<number> => {
    const until = monotonicNow() + timeoutMs;
    while (shard.connectionCount > 0 && monotonicNow() < until) await sleep(10);
    return shard.connectionCount;
  };
  const control: ShardControl = {
    ping: () => data.index,
    stats: () => shard.snapshot(),
    setAccepting: (on) => shard.setAccepting(on),
    drain: async (timeoutMs) => {
      shard.setAccepting(false);
      return waitForConnections(timeoutMs);
    },
    shutdown: async (code, timeoutMs) => {
      shard.setAccepting(false);
      shard.closeAll(code, 'server shutting down');
      const left = await waitForConnections(timeoutMs);
      shard.stop();
      // Let comlink post this call's answer, then free the event loop so the thread can end.
      setTimeout(() => port.close(), 0);
      return left;
    },
  };
  expose(control, port as unknown as Parameters<typeof expose>[1]);
  shard.start();
  return shard;
}
