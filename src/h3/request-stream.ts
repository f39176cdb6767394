// L6: the state of one request stream (RFC 9114 §4.1, §6.1) on either side — the frame sequence
// received (HEADERS [interim…] HEADERS DATA* [HEADERS] FIN), what is queued because QPACK blocked
// it (RFC 9204 §2.2.1) or the application has not read it yet (body backpressure), and what we
// have sent. The processing lives in connection.ts; this is the data it works on.

import { FrameReader, defaultPriority, type Priority } from './wire/index.js';
import type { HeaderField } from '../qpack/index.js';
import { SendBuffer } from './send-buffer.js';
import type { H3Transport } from './transport.js';
import type { H3StreamStats } from './types.js';

/** Receive side of a request stream. */
export const Recv = {
  /** Waiting for the request / final response header section (interim responses stay here). */
  HEADERS: 0,
  /** Headers delivered; DATA, trailers or FIN next. */
  BODY: 1,
  /** Trailers delivered; only FIN (or unknown frames) may follow. */
  TRAILERS: 2,
  /** FIN processed. */
  DONE: 3,
  /** Reset by the peer, reading aborted, or a stream error. */
  ABORTED: 4,
} as const;
export type RecvValue = (typeof Recv)[keyof typeof Recv];

/** Send side of a request stream. */
export const Send = {
  /** Nothing sent yet (server before its response). */
  IDLE: 0,
  /** Server: interim (1xx) responses sent. */
  INTERIM: 1,
  /** Request / final response headers sent: DATA allowed. */
  HEADERS: 2,
  /** FIN requested (after optional trailers). */
  FIN: 3,
  /** Reset (by us, or by the transport after STOP_SENDING). */
  RESET: 4,
} as const;
export type SendValue = (typeof Send)[keyof typeof Send];

/** A frame (or the FIN) not processed yet, in stream order. */
export type QueuedItem =
  | { k: 0; bytes: Uint8Array; checked: boolean } // DATA payload (owned copy)
  | { k: 1; bytes: Uint8Array } // HEADERS field section (owned copy; empty once QPACK holds it)
  | { k: 2 }; // FIN

export const ITEM_DATA = 0;
export const ITEM_HEADERS = 1;
export const ITEM_FIN = 2;

export class RequestStream {
  readonly id: number;
  readonly reader: FrameReader;
  readonly out: SendBuffer;

  // ---- receive side --------------------------------------------------------------------------
  recv: RecvValue = Recv.HEADERS;
  /** Items waiting, in order (QPACK blocked, or body not read yet). */
  queue: QueuedItem[] = [];
  /** A field section of this stream waits for encoder-stream inserts. */
  qpackBlocked = false;
  /** Fields decoded when QPACK unblocked the section at the head of `queue`. */
  unblocked: HeaderField[] | null = null;
  /** The QPACK decoder already sent the Stream Cancellation (a field section it refused as too large). */
  qpackCancelled = false;
  /** The transport reported FIN: its receiving side is complete (no STOP_SENDING any more). */
  finRead = false;
  /** Client: an interim response was received (DATA now would be malformed). */
  interimSeen = false;
  /** Content-Length of the message being received (-1 none). */
  contentLength = -1;
  /** DATA payload bytes received in the message (for Content-Length, RFC 9114 §4.1.2). */
  received = 0;
  /** The message can have no content (response to HEAD, 204, 304). */
  noContent = false;
  /** CONNECT tunnel (RFC 9114 §4.4): after its 2xx only DATA may follow. */
  tunnel = false;
  /** A 'data' event may be emitted (re-armed by each read()). */
  dataArmed = true;
  /** The request/response event was emitted. */
  announced = false;
  /** Sequence number of the header event, to fold a following FIN into its `endStream`. */
  headEventSeq = -1;
  headEvent: { endStream: boolean } | null = null;
  /** read() target while the application reads. */
  sink: Uint8Array | null = null;
  sinkPos = 0;
  /** Discard body bytes instead of delivering them (server finished without reading). */
  discard = false;

  // ---- send side -----------------------------------------------------------------------------
  send: SendValue = Send.IDLE;
  /** Content-Length we declared (-1 none) and DATA bytes sent. */
  sendContentLength = -1;
  sent = 0;
  /** We may not send content (response to HEAD, 204/304, interim). */
  sendNoContent = false;
  /** Our side is a CONNECT tunnel: DATA only, no Content-Length, no trailers. */
  sendTunnel = false;
  /** The transport reported 'stream-closed' (everything we sent was delivered). */
  transportClosed = false;
  /** A write() was short: emit 'writable' when the buffer drains. */
  wantWritable = false;

  // ---- request facts -------------------------------------------------------------------------
  /** Request method (client: what we sent; server: what we received). */
  method = '';
  priority: Priority = defaultPriority();
  /** The priority came from a PRIORITY_UPDATE, which outranks the header (RFC 9218 §7). */
  priorityFromFrame = false;
  /** streamSetPriority was called at least once. */
  priorityApplied = false;
  /** Byte counters of this request (handed out by streamStats; outlives the stream). */
  readonly stats: H3StreamStats = { headerBytesSent: 0, headerBytesReceived: 0, fieldBytesSent: 0, fieldBytesReceived: 0, dataBytesSent: 0, dataBytesReceived: 0, streamBytesReceived: 0 };

  constructor(id: number, transport: H3Transport, maxFramePayload: number) {
    this.id = id;
    this.reader = new FrameReader({ kind: 'request', maxFramePayload });
    this.out = new SendBuffer(transport, id);
  }

  /** Both directions finished. */
  get finished(): boolean {
    return this.recv >= Recv.DONE && (this.send === Send.RESET || (this.send === Send.FIN && this.out.finSent));
  }
}
