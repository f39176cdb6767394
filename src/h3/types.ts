// L6: the public shapes of the sans-IO HTTP/3 connection — options, events (plain objects with a
// `type`, pulled with pollEvent(), DESIGN §2) and statistics.

import type { HeaderField } from '../qpack/index.js';
import type { H3Error, H3Settings, Priority } from './wire/index.js';
import type { H3Random } from './transport.js';

/** Local SETTINGS (RFC 9114 §7.2.4.1, RFC 9204 §5, RFC 9220 §3, RFC 9297 §2.1.1). */
export interface H3LocalSettings {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY: dynamic table the peer's encoder may use (default 16384). */
  qpackMaxTableCapacity?: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS (default 100). */
  qpackBlockedStreams?: number;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE, enforced on receive (default 65536). */
  maxFieldSectionSize?: number;
  /** SETTINGS_ENABLE_CONNECT_PROTOCOL: accept Extended CONNECT (server; default false). */
  enableConnectProtocol?: boolean;
  /** SETTINGS_H3_DATAGRAM: HTTP Datagrams (needs QUIC max_datagram_frame_size; default false). */
  h3Datagram?: boolean;
}

export interface H3QpackOptions {
  /** Huffman-code literals when shorter (default true). */
  huffman?: boolean;
  /** Most dynamic table capacity our encoder uses, whatever the peer allows (default 16384). */
  maxTableCapacity?: number;
  /** Fields the encoder may insert into the dynamic table. */
  shouldIndex?: (name: string, value: string) => boolean;
  /** Fields sent as never-indexed literals. */
  isSensitive?: (name: string, value: string) => boolean;
}

export interface H3ConnectionOptions {
  role: 'client' | 'server';
  settings?: H3LocalSettings;
  qpack?: H3QpackOptions;
  /** Randomness for GREASE; without it nothing is greased. */
  rng?: H3Random;
  /**
   * GREASE (RFC 9114 §7.2.4.1, §7.2.8, §6.2.3): true (default with an rng) sends a reserved
   * setting always and, one connection in four each, a reserved frame on the control stream and a
   * reserved unidirectional stream; 'always' sends all three; false none.
   */
  grease?: boolean | 'always';
  /**
   * Client resuming with 0-RTT: the server's SETTINGS remembered with the session (the
   * `settingsToRemember` of the connection that received the ticket). Until the server's SETTINGS
   * arrive, requests comply with these (QPACK dynamic table, field section size, Extended CONNECT,
   * datagrams); if the server accepts 0-RTT and then sends incompatible SETTINGS, or if sections were
   * encoded under a QPACK table the new SETTINGS do not allow, the connection fails with
   * H3_SETTINGS_ERROR (RFC 9114 §7.2.4.2, RFC 9204 §3.2.3).
   */
  earlySettings?: Uint8Array;
  /** PRIORITY_UPDATE frames remembered for request streams not opened yet (default 256). */
  maxBufferedPriorityUpdates?: number;
}

/** Why the connection ended (the transport's ConnectionError, or the H3 error we closed with). */
export interface H3CloseError {
  kind: string;
  code: number;
  reason: string;
  remote: boolean;
  /** Stable string: 'ERR_H3_…' / 'ERR_QPACK_…' for HTTP/3 errors, else the transport's. */
  errCode: string;
}

export type H3Event =
  /** The peer's SETTINGS arrived. */
  | { type: 'settings'; settings: H3Settings }
  /** Server: a validated request. `endStream`: no body follows. */
  | {
      type: 'request';
      streamId: number;
      method: string;
      scheme: string | undefined;
      authority: string | undefined;
      path: string | undefined;
      protocol: string | undefined;
      headers: HeaderField[];
      priority: Priority;
      endStream: boolean;
    }
  /** Client: a 1xx interim response. */
  | { type: 'informational'; streamId: number; status: number; headers: HeaderField[] }
  /** Client: the final response. `endStream`: no body follows. */
  | { type: 'response'; streamId: number; status: number; headers: HeaderField[]; endStream: boolean }
  /** Body bytes, trailers or the end can be read with read(): read until it returns 0 bytes. */
  | { type: 'data'; streamId: number }
  | { type: 'trailers'; streamId: number; trailers: HeaderField[] }
  /** The body is complete (not sent when the header event had endStream). */
  | { type: 'end'; streamId: number }
  /** A write() that was short can continue. */
  | { type: 'writable'; streamId: number }
  /**
   * The peer reset its side (remote), or — client, remote false — a request the server's GOAWAY
   * excluded was cancelled here (code H3_REQUEST_REJECTED: safe to retry elsewhere).
   */
  | { type: 'reset'; streamId: number; code: number; remote: boolean }
  /** The peer stopped reading; our sending side was reset. */
  | { type: 'stop-sending'; streamId: number; code: number }
  /** A malformed message (or other stream error): the stream was reset and reading aborted. */
  | { type: 'stream-error'; streamId: number; error: H3Error }
  /** Server: the client reprioritised a request (PRIORITY_UPDATE). */
  | { type: 'priority'; streamId: number; priority: Priority }
  | { type: 'datagram'; streamId: number; data: Uint8Array }
  /** The peer sent GOAWAY: a stream ID (from a server) or push ID (from a client). */
  | { type: 'goaway'; id: number }
  /** Server: after GOAWAY, every request below its ID is complete (shutdown may proceed). */
  | { type: 'drained' }
  /** Client: request() may succeed again after returning null. */
  | { type: 'streams-available' }
  | { type: 'closed'; error: H3CloseError };

export interface H3Stats {
  requestsSent: number;
  requestsReceived: number;
  /** Server: requests refused after GOAWAY. */
  requestsRejected: number;
  /** Stream errors we raised (malformed messages, incomplete requests…). */
  streamErrors: number;
  /** Peer resets received on request streams. */
  streamResets: number;
  /** Field sections that waited for QPACK inserts. */
  qpackBlocked: number;
  datagramsSent: number;
  datagramsReceived: number;
  datagramsDropped: number;
  /** HEADERS frame payload bytes (QPACK-encoded field sections: heads, 1xx, trailers) sent / received. */
  headerBytesSent: number;
  headerBytesReceived: number;
  /** Name + value lengths of the field sections sent (before QPACK encoding) / received (decoded). */
  fieldBytesSent: number;
  fieldBytesReceived: number;
  /** DATA frame payload bytes sent (committed to the transport) / received. */
  dataBytesSent: number;
  dataBytesReceived: number;
  /** Application bytes read off every stream (request, control, QPACK, unknown uni): HTTP/3 frames, decrypted. */
  streamBytesReceived: number;
}

/**
 * Byte counters of one request stream (H3Connection.streamStats): the same meaning as the
 * connection's counters of that name, for this request only. The object stays valid (and final)
 * after the stream is gone.
 */
export interface H3StreamStats {
  headerBytesSent: number;
  headerBytesReceived: number;
  fieldBytesSent: number;
  fieldBytesReceived: number;
  dataBytesSent: number;
  dataBytesReceived: number;
  streamBytesReceived: number;
}

/** Options of request(). */
export interface H3RequestOptions {
  /** No body: FIN right after the headers (default false). */
  end?: boolean;
  /** RFC 9218 priority: sent as a `priority` header when not the default. */
  priority?: Priority;
  /** Also send a PRIORITY_UPDATE on the control stream before the request (as Chromium does). */
  priorityUpdate?: boolean;
}

/** Options of respond(). */
export interface H3RespondOptions {
  /** No body: FIN right after the headers (default false). Not allowed on 1xx. */
  end?: boolean;
}
