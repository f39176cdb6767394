// L7: application logic that runs inside a shard worker, next to its connections (DESIGN §3: the
// main thread only routes; connections and their application live on one worker thread). A
// ShardApp sees each new server connection and returns a handler for its events (RFC 9000 §2
// streams are read with connection.streamRead and written with streamWrite; the shard pulls the
// resulting datagrams after every batch of events). An app that wants the Node-level API wraps the
// connection in a QuicSession with ctx.driver (the shard) — src/multicore/http3-app.ts does, for HTTP/3.
//
// Built in: 'echo' (raw QUIC, no sessions) — every bidirectional stream the client opens is echoed back byte for byte,
// FIN included; unidirectional streams are read and discarded. Backpressure: what the stream's
// send buffer does not accept stays in the handler until 'stream-writable', and nothing more is
// read meanwhile, so the peer is flow-controlled instead of the worker buffering without bound.
import type { Connection, ConnectionEvent } from '../connection/index.js';
import type { SessionDriver } from '../io/session-driver.js';

export interface ShardAppContext {
  /** This worker's index. */
  readonly worker: number;
  /** The shard as a SessionDriver: wrap a connection in a QuicSession with it (src/io/session.ts). */
  readonly driver: SessionDriver<Connection>;
  /** The application acted on a connection outside an event (a timer, a promise): flush it soon. */
  markDirty(conn: Connection): void;
}

export interface ShardConnectionHandler {
  onEvent(event: ConnectionEvent): void;
  /** After each batch of events for this connection. */
  afterEvents?(): void;
  /** The endpoint removed the connection. */
  onRemoved?(): void;
}

export interface ShardApp {
  /** A new server connection (handshake still in progress). Undefined = ignore its events. */
  onConnection(conn: Connection, ctx: ShardAppContext): ShardConnectionHandler | undefined;
}

/** Apps built into this module (listenMulticore({ app: 'echo' }); HTTP/3 apps: src/multicore/http3-app.ts). */
export const BUILTIN_APPS = ['echo'] as const;
export type BuiltinApp = (typeof BUILTIN_APPS)[number];

export function builtinApp(name: BuiltinApp): ShardApp {
  switch (name) {
    case 'echo':
      return new EchoApp();
  }
  throw new TypeError(`app: unknown built-in app ${JSON.stringify(name)}`);
}

const SCRATCH = 64 * 1024;

interface EchoStream {
  /** Bytes read but not yet accepted by streamWrite (a private copy). */
  pending: Uint8Array | null;
  finRead: boolean;
  finished: boolean;
}

/** Echo: per bidirectional stream, write back what is read; FIN after the last byte. */
export class EchoApp implements ShardApp {
  /** One read buffer per worker: streamWrite copies what it accepts. */
  private readonly scratch = new Uint8Array(SCRATCH);
  /** Bytes echoed by every connection of this app (tests, stats). */
  bytesEchoed = 0;
  streamsEchoed = 0;

  onConnection(conn: Connection): ShardConnectionHandler {
    const streams = new Map<number, EchoStream>();
    const app = this;
    const pump = (id: number, s: EchoStream): void => {
      for (;;) {
        if (s.pending !== null) {
          const n = conn.streamWrite(id, s.pending);
          if (n < 0) {
            // Our sending side was reset (STOP_SENDING) or the stream is gone: stop echoing.
            streams.delete(id);
            return;
          }
          app.bytesEchoed += n;
          if (n < s.pending.length) {
            s.pending = s.pending.subarray(n);
            return; // wait for 'stream-writable'
          }
          s.pending = null;
        }
        if (s.finRead) {
          if (!s.finished) {
            s.finished = true;
            conn.streamFinish(id);
            app.streamsEchoed++;
          }
          streams.delete(id);
          return;
        }
        const r = conn.streamRead(id, app.scratch);
        if (r.resetCode >= 0) {
          // The peer reset its side: abandon ours with the same code.
          conn.streamReset(id, r.resetCode);
          streams.delete(id);
          return;
        }
        if (r.bytes > 0) {
          const chunk = app.scratch.subarray(0, r.bytes);
          const n = conn.streamWrite(id, chunk);
          if (n < 0) {
            streams.delete(id);
            return;
          }
          app.bytesEchoed += n;
          if (n < r.bytes) s.pending = chunk.slice(n);
        }
        if (r.fin) s.finRead = true;
        else if (r.bytes === 0) return; // nothing more readable now
      }
    };
    return {
      onEvent(ev: ConnectionEvent): void {
        switch (ev.type) {
          case 'stream-opened':
          case 'stream-readable':
          case 'stream-writable': {
            if (isUnidirectional(ev.id)) {
              if (ev.type !== 'stream-writable' && !conn.isLocalStream(ev.id)) drainUni(conn, ev.id, app.scratch);
              return;
            }
            let s = streams.get(ev.id);
            if (s === undefined) {
              if (ev.type === 'stream-writable' || conn.isLocalStream(ev.id) || !conn.hasStream(ev.id)) return;
              s = { pending: null, finRead: false, finished: false };
              streams.set(ev.id, s);
            }
            pump(ev.id, s);
            return;
          }
          case 'stream-reset':
          case 'stream-stop-sending':
          case 'stream-closed':
            streams.delete(ev.id);
            return;
          default:
            return;
        }
      },
    };
  }
}

/** Bit 1 of a stream ID: unidirectional (RFC 9000 §2.1). */
function isUnidirectional(id: number): boolean {
  return (id & 2) !== 0;
}

function drainUni(conn: Connection, id: number, scratch: Uint8Array): void {
  for (;;) {
    const r = conn.streamRead(id, scratch);
    if (r.fin || r.bytes === 0) return;
  }
}
