// L7: what a QuicSession (src/io/session.ts) needs of the loop that runs its connection — the UDP
// driver in a single-threaded server or client (src/io/udp-driver.ts), or a shard of the multi-core
// server in a worker thread (src/multicore/shard.ts, DESIGN §3). The session is the connection's
// sink (ConnectionSink: onEvent / afterEvents / onRemoved); after every application call it marks
// its connection dirty so the loop flushes it this turn.
import type { ConnectionSink } from './udp-driver.js';
import type { Clock } from './clock.js';

export type { ConnectionSink };

export interface SessionDriver<C> {
  /** Monotonic milliseconds: the time every core call of this loop is given. */
  readonly clock: Clock;
  /** The application acted on `conn` (stream write, close, datagram…): flush it this turn. */
  markDirty(conn: C): void;
  /** Stop delivering `conn`'s events (the session ended). */
  detach(conn: C): void;
  /** Hold the process open (true) or not (false) — a client's socket while requests run. */
  ref(on: boolean): void;
  /** Stop the loop (client sessions own their driver; a server's loop ignores this). */
  close(): Promise<void>;
}
