// L6 HTTP/3 connection, sans-IO, client and server roles, on the QUIC connection's public surface
// (./transport.ts): RFC 9114 §4 (requests and responses, malformed messages, cancellation), §5.2
// (GOAWAY and graceful shutdown), §6 (request streams; control, push and reserved unidirectional
// streams), §7 (frames per stream, SETTINGS; §7.2.4.2 remembered SETTINGS in 0-RTT, with
// ./zero-rtt.ts), §8 (errors); RFC 9204 §4.2 (QPACK encoder/decoder
// streams: Section Acknowledgment, Stream Cancellation, Insert Count Increment, blocked streams);
// RFC 9218 (priority header, PRIORITY_UPDATE, scheduling via the transport); RFC 9220 (Extended
// CONNECT); RFC 9297 (HTTP Datagrams).
//
// Driving it: pass every QUIC connection event to handleTransportEvent(), then pollEvent() until
// undefined; API calls (request, respond, write, end, read, …) write straight into the transport,
// after which the driver lets the QUIC connection send. Request bodies are pulled with read():
// bytes are taken from the QUIC stream only as the application reads them (backpressure through
// QUIC flow control). Server push is never offered: a client never sends MAX_PUSH_ID, a server
// never pushes.
//
// After the connection (or a stream) has ended, calls about it are no-ops (write returns 0, read
// returns nothing): the events say what happened; only request() throws H3ClosedError.
//
// Errors: a malformed message is a stream error (reset + STOP_SENDING with H3_MESSAGE_ERROR, event
// 'stream-error'); protocol violations close the connection with the RFC's code (event 'closed').
// Nothing thrown by the peer's input escapes: an unexpected internal exception closes the
// connection with H3_INTERNAL_ERROR.

import { EMPTY, concat } from '../util/bytes.js';
import { BLOCKED, QpackDecoder, QpackEncoder, QpackError, type HeaderField, type HeaderFieldInput } from '../qpack/index.js';
import {
  FrameReader,
  H3Error,
  H3ErrorCode,
  H3FrameType,
  frameBytes,
  frameHeaderSize,
  parsePriority,
  readStreamType,
  serializePriority,
  uniStreamKind,
  DEFAULT_URGENCY,
  type H3Frame,
  type H3FrameEvent,
  type H3Settings,
  type Priority,
} from './wire/index.js';
import { checkRequestToSend, checkResponseToSend, checkTrailersToSend, headerListSize, parseRequestHead, parseResponseHead, parseTrailers, splitCookies } from './headers.js';
import { decodeHttpDatagram, encodeHttpDatagram } from './datagram.js';
import { IdSet } from './id-set.js';
import { controlStreamPreface, greaseFrame, greaseSetting, greaseStreamBytes, resolveLocalSettings } from './local-settings.js';
import { ITEM_DATA, ITEM_FIN, ITEM_HEADERS, Recv, RequestStream, Send, type QueuedItem } from './request-stream.js';
import { SendBuffer } from './send-buffer.js';
import { isBidi, isClientInitiated, type H3Random, type H3Transport, type H3TransportCloseInfo, type H3TransportEvent } from './transport.js';
import type { H3CloseError, H3ConnectionOptions, H3Event, H3RequestOptions, H3RespondOptions, H3Stats, H3StreamStats } from './types.js';
import { H3ClosedError } from './errors.js';
import { EarlySettings, encodeRememberedSettings } from './zero-rtt.js';
import { putFrameHeader } from './frame-out.js';
import { checkCode, checkPriority, errCodeOf, isStreamLevel } from './api-checks.js';

const SCRATCH_SIZE = 16384;
/**
 * Largest DATA frame payload framed at once. A frame is committed whole, so this bounds what a
 * stream buffers beyond what QUIC flow control accepted.
 */
const MAX_DATA_FRAME = 16384;
/** DATA payloads up to this are framed with one copy into one transport write. */
const SMALL_DATA = 1024;
/** Largest GOAWAY/stream ID we can carry exactly; larger received values saturate to MAX_SAFE_INTEGER. */
const MAX_ID = Number.MAX_SAFE_INTEGER;
/**
 * The first GOAWAY of a two-step graceful shutdown: "no new requests" (RFC 9114 §5.2 uses 2^62-4;
 * IDs are exact only below 2^53, and no connection gets near either).
 */
export const GOAWAY_NO_NEW_REQUESTS = Number.MAX_SAFE_INTEGER - 3;

/** Finished streams remembered until 'stream-closed' (bounds memory if a transport never reports it). */
const MAX_IN_FLIGHT_TRACKED = 4096;

const U_PENDING = 0;
const U_CONTROL = 1;
const U_ENCODER = 2;
const U_DECODER = 3;
const U_IGNORED = 4;

interface UniIn {
  readonly id: number;
  kind: number;
  /** Stream type bytes received so far (the varint may be split). */
  typeBuf: Uint8Array | null;
  reader: FrameReader | null;
}

export class H3Connection {
  readonly role: 'client' | 'server';
  /** The SETTINGS we send. */
  readonly localSettings: H3Settings;
  readonly stats: H3Stats = {
    requestsSent: 0,
    requestsReceived: 0,
    requestsRejected: 0,
    streamErrors: 0,
    streamResets: 0,
    qpackBlocked: 0,
    datagramsSent: 0,
    datagramsReceived: 0,
    datagramsDropped: 0,
    headerBytesSent: 0,
    headerBytesReceived: 0,
    fieldBytesSent: 0,
    fieldBytesReceived: 0,
    dataBytesSent: 0,
    dataBytesReceived: 0,
    streamBytesReceived: 0,
  };

  private readonly transport: H3Transport;
  private readonly isClient: boolean;
  private readonly encoder: QpackEncoder;
  private readonly decoder: QpackDecoder;
  private readonly maxHeadersFrame: number;
  private readonly maxBufferedPriorities: number;
  private peer: H3Settings | null = null;
  /** Client resuming with 0-RTT: the remembered server SETTINGS (RFC 9114 §7.2.4.2), else null. */
  private readonly early: EarlySettings | null = null;

  // Our unidirectional streams (RFC 9114 §6.2.1, RFC 9204 §4.2).
  private readonly control: SendBuffer;
  private readonly qpackEnc: SendBuffer;
  private readonly qpackDec: SendBuffer;
  /** A reserved stream's bytes, sent once a stream can be opened (RFC 9114 §6.2.3). */
  private greaseStream: Uint8Array | null = null;
  private readonly grease: SendBuffer;

  // Peer streams.
  private readonly uni = new Map<number, UniIn>();
  private readonly uniSeen = new IdSet();
  private peerControl = -1;
  private peerEncoder = -1;
  private peerDecoder = -1;
  private readonly streams = new Map<number, RequestStream>();
  /** Server: client request streams seen (index = id / 4). */
  private readonly requestsSeen = new IdSet();
  private maxRequestSeen = -4;
  /** Client: the highest request stream we opened. */
  private maxOwnRequest = -4;
  /** Server: PRIORITY_UPDATE for request streams not open yet (RFC 9218 §7). */
  private readonly pendingPriority = new Map<number, Priority>();

  private goawaySent = -1;
  private goawayReceived = -1;
  private closeWhenIdle = false;
  private drainedEmitted = false;
  /** Finished request streams whose sent bytes the transport has not reported delivered ('stream-closed'). */
  private readonly inFlight = new Set<number>();
  private maxPushIdReceived = -1;
  private closedError: H3CloseError | null = null;

  private readonly events: H3Event[] = [];
  private eventHead = 0;
  private eventsPushed = 0;
  private eventsPolled = 0;

  private readonly reqScratch = new Uint8Array(SCRATCH_SIZE);
  private readonly uniScratch = new Uint8Array(SCRATCH_SIZE);

  constructor(transport: H3Transport, options: H3ConnectionOptions) {
    if (typeof transport !== 'object' || transport === null || typeof transport.openStream !== 'function') {
      throw new TypeError('transport must be an H3Transport (a QUIC connection)');
    }
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (options.role !== 'client' && options.role !== 'server') throw new TypeError("options.role must be 'client' or 'server'");
    this.transport = transport;
    this.role = options.role;
    this.isClient = options.role === 'client';
    const settings = resolveLocalSettings(options.settings);
    const rng: H3Random | undefined = options.rng;
    if (rng !== undefined && (typeof rng !== 'object' || rng === null || typeof rng.uint32 !== 'function')) {
      throw new TypeError('options.rng must have uint32()');
    }
    const grease = options.grease ?? true;
    if (grease !== true && grease !== false && grease !== 'always') throw new TypeError("options.grease must be a boolean or 'always'");
    const greasing = rng !== undefined && grease !== false;
    if (greasing) settings.unknown.push(greaseSetting(rng));
    this.localSettings = settings;
    this.maxBufferedPriorities = options.maxBufferedPriorityUpdates ?? 256;
    if (!Number.isSafeInteger(this.maxBufferedPriorities) || this.maxBufferedPriorities < 0) {
      throw new RangeError('options.maxBufferedPriorityUpdates must be a non-negative integer');
    }
    if (options.earlySettings !== undefined) {
      if (!this.isClient) throw new TypeError('options.earlySettings is for the client role');
      this.early = new EarlySettings(options.earlySettings);
    }
    const q = options.qpack ?? {};
    if (typeof q !== 'object' || q === null) throw new TypeError('options.qpack must be an object');
    this.encoder = new QpackEncoder(q);
    this.decoder = new QpackDecoder({
      maxTableCapacity: settings.qpackMaxTableCapacity,
      maxBlockedStreams: settings.qpackBlockedStreams,
      maxFieldSectionSize: settings.maxFieldSectionSize,
    });
    // An encoded section is hardly ever larger than its decoded size, which §4.2.2 bounds: HEADERS
    // frames up to twice the limit are read and the decoder answers with a stream error
    // (H3_EXCESSIVE_LOAD); beyond that the frame reader closes the connection.
    this.maxHeadersFrame = Math.min(Math.max(2 * settings.maxFieldSectionSize, 16384), 1 << 22) + 64;

    this.control = new SendBuffer(transport);
    this.qpackEnc = new SendBuffer(transport);
    this.qpackDec = new SendBuffer(transport);
    this.grease = new SendBuffer(transport);
    this.control.writeOwned(controlStreamPreface(settings));
    if (greasing && (grease === 'always' || (rng.uint32() & 3) === 0)) this.control.writeOwned(greaseFrame(rng));
    this.qpackEnc.writeOwned(new Uint8Array([0x02]));
    this.qpackDec.writeOwned(new Uint8Array([0x03]));
    if (greasing && (grease === 'always' || (rng.uint32() & 3) === 0)) this.greaseStream = greaseStreamBytes(rng);
    this.openCriticalStreams();
  }

  // ================================================================ state

  /** The peer's SETTINGS, null until they arrive. */
  get peerSettings(): H3Settings | null {
    return this.peer;
  }

  /**
   * Client: the server's SETTINGS as a blob to store with this connection's session ticket and pass
   * as `earlySettings` when resuming with 0-RTT (RFC 9114 §7.2.4.2); null until they arrive.
   */
  get settingsToRemember(): Uint8Array | null {
    return this.isClient && this.peer !== null ? encodeRememberedSettings(this.peer) : null;
  }

  /** The server's settings to comply with now: its SETTINGS, else the remembered ones (0-RTT). */
  private get peerNow(): H3Settings | null {
    return this.peer ?? (this.early !== null ? this.early.remembered : null);
  }

  /** Both sides sent SETTINGS_H3_DATAGRAM=1 (RFC 9297 §2.1.1); remembered settings count in 0-RTT. */
  get datagramsEnabled(): boolean {
    const p = this.peerNow;
    return this.localSettings.h3Datagram && p !== null && p.h3Datagram;
  }

  /** Largest HTTP Datagram payload for `streamId` now (0 when not possible). */
  maxDatagramPayload(streamId: number): number {
    if (!this.datagramsEnabled) return 0;
    const n = this.transport.maxDatagramSize - (streamId / 4 < 64 ? 1 : streamId / 4 < 16384 ? 2 : streamId / 4 < 2 ** 30 ? 4 : 8);
    return n > 0 ? n : 0;
  }

  /** The ID of the last GOAWAY received (-1 none). */
  get goawayId(): number {
    return this.goawayReceived;
  }

  /** The ID of the last GOAWAY sent (-1 none). */
  get goawaySentId(): number {
    return this.goawaySent;
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Why the connection closed, once it has. */
  get closeError(): H3CloseError | null {
    return this.closedError;
  }

  /** Request streams in progress. */
  get activeStreams(): number {
    return this.streams.size;
  }

  /** QPACK state, for diagnostics and tests. */
  get qpack(): { encoderInsertCount: number; encoderKnownReceived: number; decoderInsertCount: number; decoderBlockedStreams: number } {
    return {
      encoderInsertCount: this.encoder.insertCount,
      encoderKnownReceived: this.encoder.knownReceivedCount,
      decoderInsertCount: this.decoder.insertCount,
      decoderBlockedStreams: this.decoder.blockedStreams,
    };
  }

  // ================================================================ events

  /** The next HTTP/3 event, or undefined. */
  pollEvent(): H3Event | undefined {
    if (this.eventHead >= this.events.length) return undefined;
    const ev = this.events[this.eventHead]!;
    this.events[this.eventHead++] = undefined as unknown as H3Event;
    this.eventsPolled++;
    if (this.eventHead === this.events.length) {
      this.events.length = 0;
      this.eventHead = 0;
    }
    return ev;
  }

  private emit(ev: H3Event): void {
    this.events.push(ev);
    this.eventsPushed++;
  }

  /**
   * Feed one QUIC connection event (every event may be passed; those HTTP/3 does not use are
   * ignored). Never throws for peer input.
   */
  handleTransportEvent(ev: { readonly type: string }): void {
    if (this.closedError) return;
    const e = ev as unknown as H3TransportEvent;
    if (e.type !== 'closed' && this.syncClosed()) return;
    try {
      switch (e.type) {
        case 'stream-readable':
          this.onReadable(e.id);
          break;
        case 'stream-opened':
          this.onOpened(e.id);
          break;
        case 'stream-writable':
          this.onWritable(e.id);
          break;
        case 'stream-reset':
          this.onPeerReset(e.id, e.code);
          break;
        case 'stream-stop-sending':
          this.onStopSending(e.id, e.code);
          break;
        case 'streams-available':
          this.openCriticalStreams();
          if (this.isClient && e.bidirectional) this.emit({ type: 'streams-available' });
          break;
        case 'handshake-completed':
          this.early?.onVerdict(e.earlyDataAccepted === true);
          this.openCriticalStreams();
          break;
        case 'stream-closed': {
          // The transport may finish a stream before H3 has delivered everything it read from it.
          const rs = this.streams.get(e.id);
          if (rs) rs.transportClosed = true;
          else if (this.inFlight.delete(e.id)) this.checkIdle();
          return;
        }
        case 'datagram':
          this.onDatagram(e.data);
          break;
        case 'closed':
          this.onTransportClosed(e.error);
          return;
        default:
          return;
      }
      this.flushQpack();
    } catch (err) {
      this.fail(err);
    }
  }

  // ================================================================ client API

  /**
   * Client: send a request. `headers` lists the pseudo-header fields first (RFC 9114 §4.3.1).
   * Returns the request stream ID, or null when the server's stream limit blocks it ('streams-available'
   * follows). Throws TypeError/RangeError for bad arguments, H3Error(H3_REQUEST_REJECTED) after the
   * server's GOAWAY, H3ClosedError once closed.
   */
  request(headers: ReadonlyArray<HeaderFieldInput>, options: H3RequestOptions = {}): number | null {
    this.checkOpen();
    if (!this.isClient) throw new TypeError('request() is for the client role');
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const end = options.end ?? false;
    if (typeof end !== 'boolean') throw new TypeError('options.end must be a boolean');
    const priority = options.priority === undefined ? undefined : checkPriority(options.priority, 'options.priority');
    if (this.goawayReceived >= 0) throw new H3Error(H3ErrorCode.H3_REQUEST_REJECTED, 'the server sent GOAWAY: use a new connection');
    if (this.closeWhenIdle) throw new H3Error(H3ErrorCode.H3_REQUEST_REJECTED, 'the connection is shutting down');
    const peerNow = this.peerNow;
    const head = checkRequestToSend(headers, peerNow !== null && peerNow.enableConnectProtocol);
    let fields = headers;
    let prioValue = '';
    if (priority) {
      prioValue = serializePriority(priority);
      if (prioValue && !headers.some((h) => h[0] === 'priority')) fields = [...headers, ['priority', prioValue]];
    } else {
      for (const h of headers) if (h[0] === 'priority') prioValue = h[1];
    }
    this.checkFieldSize(fields);
    this.openCriticalStreams();
    const id = this.transport.openStream(true);
    if (id === null) return null;
    if (id > this.maxOwnRequest) this.maxOwnRequest = id;
    const s = new RequestStream(id, this.transport, this.maxHeadersFrame);
    s.method = head.method;
    s.priority = priority ?? parsePriority(prioValue);
    s.send = Send.HEADERS;
    s.sendTunnel = head.method === 'CONNECT';
    s.sendContentLength = s.sendTunnel ? -1 : head.contentLength;
    this.streams.set(id, s);
    this.stats.requestsSent++;
    try {
      if (options.priorityUpdate === true) {
        this.control.writeOwned(frameBytes({ type: 'priority_update', push: false, elementId: id, priority: serializePriority(s.priority) }));
      }
      this.sendFieldSection(s, fields);
      if (end) this.finishSend(s);
      this.flushQpack();
    } catch (e) {
      this.fail(e);
    }
    return id;
  }

  // ================================================================ server API

  /**
   * Server: send an interim (1xx) or the final response header section on a request stream.
   * Throws TypeError for bad headers, RangeError when the stream cannot take a response.
   */
  respond(streamId: number, headers: ReadonlyArray<HeaderFieldInput>, options: H3RespondOptions = {}): void {
    if (this.isClient) throw new TypeError('respond() is for the server role');
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const end = options.end ?? false;
    if (typeof end !== 'boolean') throw new TypeError('options.end must be a boolean');
    const s = this.lookup(streamId);
    const head = checkResponseToSend(headers);
    if (s === null || s.send === Send.RESET) return; // the peer or a stream error ended it: see the events
    if (!s.announced) throw new RangeError(`streamId: no request on stream ${streamId}`);
    if (s.send !== Send.IDLE && s.send !== Send.INTERIM) throw new RangeError('streamId: the final response was already sent');
    if (head.status < 200 && end) throw new TypeError('options.end: an interim (1xx) response cannot end the stream');
    this.checkFieldSize(headers);
    try {
      this.sendFieldSection(s, headers);
      if (head.status < 200) {
        s.send = Send.INTERIM;
      } else {
        s.send = Send.HEADERS;
        s.sendTunnel = s.method === 'CONNECT' && head.status < 300;
        s.sendNoContent = s.method === 'HEAD' || head.status === 204 || head.status === 304;
        s.sendContentLength = s.sendTunnel || s.sendNoContent ? -1 : head.contentLength;
        if (end) this.finishSend(s);
      }
      this.flushQpack();
    } catch (e) {
      this.fail(e);
    }
  }

  // ================================================================ both roles

  /**
   * Send body bytes as DATA frames. Returns how many bytes of `data` were taken: fewer than offered
   * when QUIC flow control pushes back ('writable' follows). With `end`, FIN follows once all of
   * `data` was taken.
   */
  write(streamId: number, data: Uint8Array, end = false): number {
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    if (typeof end !== 'boolean') throw new TypeError('end must be a boolean');
    const s = this.sendable(streamId);
    if (s === null) return 0;
    if (data.length > 0 && s.sendNoContent) throw new RangeError('data: this response cannot have content (HEAD, 204, 304)');
    if (s.sendContentLength >= 0 && s.sent + data.length > s.sendContentLength) {
      throw new RangeError(`data: more than the declared content-length ${s.sendContentLength}`);
    }
    let total = 0;
    try {
      if (s.out.pending > 0 && !s.out.flush()) {
        s.wantWritable = true;
        return 0;
      }
      while (total < data.length) {
        const n = this.writeData(s, data.subarray(total, total + Math.min(MAX_DATA_FRAME, data.length - total)));
        if (n === 0) break;
        total += n;
        if (s.out.pending > 0) break;
      }
      s.sent += total;
      if (total < data.length) s.wantWritable = true;
      else if (end) this.endStream(s);
    } catch (e) {
      this.fail(e);
    }
    return total;
  }

  /** Finish the message: optional trailers, then FIN. */
  end(streamId: number, trailers?: ReadonlyArray<HeaderFieldInput>): void {
    const s = this.sendable(streamId);
    if (s === null) return;
    if (trailers !== undefined) {
      if (s.sendTunnel) throw new RangeError('trailers: not allowed on a CONNECT tunnel');
      checkTrailersToSend(trailers);
      this.checkFieldSize(trailers);
    }
    if (s.sendContentLength >= 0 && s.sent !== s.sendContentLength) {
      throw new RangeError(`streamId: ${s.sent} bytes sent but content-length is ${s.sendContentLength}`);
    }
    try {
      if (trailers !== undefined && trailers.length > 0) this.sendFieldSection(s, trailers);
      this.endStream(s);
      this.flushQpack();
    } catch (e) {
      this.fail(e);
    }
  }

  /**
   * Pull body bytes of the message received on `streamId` into `out`. `fin` once the body (and
   * trailers) are complete. Read until it returns 0 bytes; a 'data' event announces more.
   */
  read(streamId: number, out: Uint8Array): { bytes: number; fin: boolean } {
    if (!(out instanceof Uint8Array)) throw new TypeError('out must be a Uint8Array');
    const s = this.lookup(streamId);
    if (s === null || !s.announced || s.recv === Recv.ABORTED) return { bytes: 0, fin: false };
    if (s.recv === Recv.DONE) return { bytes: 0, fin: true };
    s.sink = out;
    s.sinkPos = 0;
    s.dataArmed = true;
    try {
      this.pump(s);
      this.flushQpack();
    } catch (e) {
      this.fail(e);
    } finally {
      s.sink = null;
    }
    return { bytes: s.sinkPos, fin: (s.recv as number) === Recv.DONE };
  }

  /** Abandon a request: reset our side and stop reading (default H3_REQUEST_CANCELLED). No-op for unknown streams. */
  cancel(streamId: number, code: number = H3ErrorCode.H3_REQUEST_CANCELLED): void {
    checkCode(code, 'code');
    if (this.syncClosed()) return;
    const s = this.streams.get(streamId);
    if (!s) return;
    try {
      this.abortStream(s, code, code);
      this.flushQpack();
    } catch (e) {
      this.fail(e);
    }
  }

  /**
   * Change a request's priority (RFC 9218): the client sends PRIORITY_UPDATE on its control stream;
   * the server reschedules its response through the transport.
   */
  setPriority(streamId: number, priority: Priority): void {
    const p = checkPriority(priority, 'priority');
    const s = this.lookup(streamId);
    if (s === null) return;
    s.priority = p;
    try {
      if (this.isClient) {
        this.control.writeOwned(frameBytes({ type: 'priority_update', push: false, elementId: streamId, priority: serializePriority(p) }));
      } else {
        this.applyPriority(s);
      }
    } catch (e) {
      this.fail(e);
    }
  }

  /**
   * Send an HTTP Datagram (RFC 9297) tied to a request stream. Returns the transport's datagram id,
   * or null when datagrams are not negotiated or it does not fit.
   */
  sendDatagram(streamId: number, data: Uint8Array): number | null {
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    if (this.lookup(streamId) === null || !this.datagramsEnabled) return null;
    const dg = encodeHttpDatagram(streamId, data);
    if (dg.length > this.transport.maxDatagramSize) return null;
    const r = this.transport.sendDatagram(dg);
    if (r !== null) this.stats.datagramsSent++;
    return r;
  }

  /**
   * Send GOAWAY (RFC 9114 §5.2). Server: `id` is the first request stream ID it will not process
   * (default: the next one not seen; never above an earlier GOAWAY). Client: a push ID (default 0:
   * no pushes, which it never allows anyway). A server rejects unprocessed requests at or above it.
   */
  goaway(id?: number): void {
    if (this.syncClosed()) return;
    let v: number;
    if (id === undefined) {
      v = this.isClient ? 0 : this.maxRequestSeen + 4;
    } else {
      if (!Number.isSafeInteger(id) || id < 0) throw new RangeError('id must be a non-negative integer');
      if (!this.isClient && id % 4 !== 0) throw new RangeError('id must be a client-initiated bidirectional stream ID (a multiple of 4)');
      v = id;
    }
    if (this.goawaySent >= 0) {
      if (id !== undefined && v > this.goawaySent) throw new RangeError(`id must not exceed the previous GOAWAY (${this.goawaySent})`);
      v = Math.min(v, this.goawaySent);
    }
    try {
      this.goawaySent = v;
      this.control.writeOwned(frameBytes({ type: 'goaway', id: v }));
      if (!this.isClient) {
        for (const s of [...this.streams.values()]) {
          if (s.id >= v && !s.announced) {
            this.stats.requestsRejected++;
            this.abortStream(s, H3ErrorCode.H3_REQUEST_REJECTED, H3ErrorCode.H3_REQUEST_REJECTED);
          }
        }
      }
      this.checkIdle();
    } catch (e) {
      this.fail(e);
    }
  }

  /**
   * Graceful shutdown (RFC 9114 §5.2). Client: GOAWAY (push ID 0), no new requests, close with
   * H3_NO_ERROR once its requests are done. Server: GOAWAY with the next request stream ID; requests
   * at or above it are refused; once those below are done a 'drained' event follows — the client
   * closes when it has seen the GOAWAY and finished, else the driver closes after a grace period. To
   * lose no request in flight a server may first send goaway(GOAWAY_NO_NEW_REQUESTS) and call
   * shutdown() a round trip later.
   */
  shutdown(): void {
    if (this.syncClosed()) return;
    this.goaway();
    if (this.isClient) this.closeWhenIdle = true;
    try {
      this.checkIdle();
    } catch (e) {
      this.fail(e);
    }
  }

  /** Close the connection now (CONNECTION_CLOSE with an application error code, default H3_NO_ERROR). */
  close(code: number = H3ErrorCode.H3_NO_ERROR, reason = ''): void {
    checkCode(code, 'code');
    if (typeof reason !== 'string') throw new TypeError('reason must be a string');
    if (this.syncClosed()) return;
    this.closeConnection(code, reason);
  }

  // ================================================================ internals: streams we open

  private openCriticalStreams(): void {
    for (const b of [this.control, this.qpackEnc, this.qpackDec]) {
      if (b.id >= 0) continue;
      const id = this.transport.openStream(false);
      if (id === null) return;
      b.id = id;
      // SETTINGS, GOAWAY, PRIORITY_UPDATE and QPACK instructions go before any response body: a
      // decoder waiting for inserts stalls every stream that references them (RFC 9204 §2.1.2).
      this.transport.streamSetPriority(id, 0, false);
      b.flush();
    }
    if (this.greaseStream !== null && this.grease.id < 0) {
      const id = this.transport.openStream(false);
      if (id === null) return;
      this.grease.id = id;
      this.grease.writeOwned(this.greaseStream);
      this.grease.finish();
      this.greaseStream = null;
    }
  }

  private flushQpack(): void {
    const b = this.decoder.takeDecoderStreamBytes();
    if (b.length > 0) this.qpackDec.writeOwned(b);
  }

  private checkFieldSize(fields: ReadonlyArray<HeaderFieldInput>): void {
    const p = this.peerNow;
    const max = p ? p.maxFieldSectionSize : Infinity;
    const size = headerListSize(fields);
    if (size > max) throw new RangeError(`headers: field section of ${size} bytes exceeds the peer's SETTINGS_MAX_FIELD_SECTION_SIZE ${max}`);
  }

  /** QPACK-encode a header or trailer section and send it as a HEADERS frame (RFC 9204 §4.5). */
  private sendFieldSection(s: RequestStream, fields: ReadonlyArray<HeaderFieldInput>): void {
    // 0-RTT: the dynamic table under the remembered limits (RFC 9204 §3.2.3).
    const r = this.early?.qpackLimitsToApply();
    if (r) this.encoder.applyPeerSettings(r.qpackMaxTableCapacity, r.qpackBlockedStreams);
    const list = splitCookies(fields);
    const enc = this.encoder.encodeFieldSection(s.id, list);
    if (enc.encoderStream.length > 0) this.qpackEnc.writeOwned(enc.encoderStream);
    const fs = enc.fieldSection;
    const fieldBytes = fieldSectionBytes(list);
    this.stats.headerBytesSent += fs.length;
    this.stats.fieldBytesSent += fieldBytes;
    s.stats.headerBytesSent += fs.length;
    s.stats.fieldBytesSent += fieldBytes;
    const h = frameHeaderSize(H3FrameType.HEADERS, fs.length);
    const buf = new Uint8Array(h + fs.length);
    putFrameHeader(buf, H3FrameType.HEADERS, fs.length);
    buf.set(fs, h);
    s.out.writeOwned(buf);
  }

  /** One DATA frame; returns chunk.length when committed, 0 when the transport took nothing. */
  private writeData(s: RequestStream, chunk: Uint8Array): number {
    const len = chunk.length;
    const h = frameHeaderSize(H3FrameType.DATA, len);
    if (len <= SMALL_DATA) {
      const buf = new Uint8Array(h + len);
      putFrameHeader(buf, H3FrameType.DATA, len);
      buf.set(chunk, h);
      const n = s.out.tryWriteOwned(buf);
      if (n === 0) return 0;
      if (n < buf.length) s.out.writeOwned(buf.subarray(n));
      this.stats.dataBytesSent += len;
      s.stats.dataBytesSent += len;
      return len;
    }
    const hdr = new Uint8Array(h);
    putFrameHeader(hdr, H3FrameType.DATA, len);
    const n = s.out.tryWriteOwned(hdr);
    if (n === 0) return 0;
    if (n < h) s.out.writeOwned(hdr.subarray(n));
    s.out.writeAll(chunk);
    this.stats.dataBytesSent += len;
    s.stats.dataBytesSent += len;
    return len;
  }

  /**
   * The stream for an API call: null when it ended through no fault of the caller (peer reset or
   * STOP_SENDING, a stream error, finished) — the events say so; RangeError for IDs never used.
   */
  private lookup(streamId: number): RequestStream | null {
    this.syncClosed();
    const s = this.streams.get(streamId);
    if (s) return s;
    if (typeof streamId !== 'number' || !Number.isSafeInteger(streamId) || streamId < 0 || streamId % 4 !== 0) {
      throw new RangeError(`streamId: ${String(streamId)} is not a request stream ID`);
    }
    const known = this.isClient ? streamId <= this.maxOwnRequest : this.requestsSeen.has(streamId / 4);
    if (!known) throw new RangeError(`streamId: no request stream ${streamId}`);
    return null;
  }

  /** The stream for write()/end(): null when it is gone or the peer stopped reading it. */
  private sendable(streamId: number): RequestStream | null {
    const s = this.lookup(streamId);
    if (s === null) return null;
    switch (s.send) {
      case Send.RESET:
        return null;
      case Send.FIN:
        throw new RangeError('streamId: the message was already ended');
      case Send.IDLE:
      case Send.INTERIM:
        throw new RangeError('streamId: send the final response headers first');
    }
    return s;
  }

  /** FIN our side; a server that has not read the whole request discards the rest (RFC 9114 §4.1). */
  private endStream(s: RequestStream): void {
    this.finishSend(s);
    if (!this.isClient && s.recv < Recv.DONE && this.streams.has(s.id)) {
      s.discard = true;
      this.pump(s);
      if (s.recv < Recv.DONE) {
        if (!s.finRead) this.stopSending(s.id, H3ErrorCode.H3_NO_ERROR);
        this.abandonRecv(s);
      }
      this.maybeDone(s);
    }
  }

  private finishSend(s: RequestStream): void {
    s.send = Send.FIN;
    s.out.finish();
    this.maybeDone(s);
  }

  // ================================================================ internals: transport events

  private onOpened(id: number): void {
    if (isClientInitiated(id) === this.isClient) return; // ours
    if (isBidi(id)) {
      if (this.isClient) throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, `server-initiated bidirectional stream ${id}`);
      this.acceptRequest(id);
    } else {
      this.acceptUni(id);
    }
  }

  private onReadable(id: number): void {
    const s = this.streams.get(id);
    if (s) {
      this.onRequestReadable(s);
      return;
    }
    let u = this.uni.get(id);
    if (!u) {
      if (isClientInitiated(id) === this.isClient) return;
      if (isBidi(id)) {
        if (this.isClient) throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, `server-initiated bidirectional stream ${id}`);
        const r = this.acceptRequest(id);
        if (r) this.onRequestReadable(r);
        return;
      }
      const accepted = this.acceptUni(id);
      if (!accepted) return;
      u = accepted;
    }
    this.readUni(u);
  }

  private onWritable(id: number): void {
    const s = this.streams.get(id);
    if (s) {
      if (s.send === Send.RESET) return;
      if (s.out.flush()) {
        if (s.wantWritable) {
          s.wantWritable = false;
          this.emit({ type: 'writable', streamId: id });
        }
        this.maybeDone(s);
      }
      return;
    }
    if (id === this.control.id) this.control.flush();
    else if (id === this.qpackEnc.id) this.qpackEnc.flush();
    else if (id === this.qpackDec.id) this.qpackDec.flush();
    else if (id === this.grease.id) this.grease.flush();
  }

  private onPeerReset(id: number, code: number): void {
    const s = this.streams.get(id);
    if (s) {
      this.onRequestReset(s, code);
      return;
    }
    const u = this.uni.get(id);
    if (!u) return;
    if (u.kind === U_CONTROL || u.kind === U_ENCODER || u.kind === U_DECODER) {
      throw new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, `critical stream ${id} reset by the peer`);
    }
    this.uni.delete(id);
    this.observeEnd(id);
  }

  /** The peer reset a request stream (event, or a read that returned its reset code). */
  private onRequestReset(s: RequestStream, code: number): void {
    if (s.recv >= Recv.DONE) return;
    if (!s.finRead) {
      s.finRead = true;
      this.observeEnd(s.id);
    }
    this.abandonRecv(s);
    this.stats.streamResets++;
    if (s.announced || this.isClient) {
      this.emit({ type: 'reset', streamId: s.id, code, remote: true });
    } else if (s.send !== Send.RESET) {
      // The request never arrived whole: nothing to answer (RFC 9114 §4.1.1).
      this.resetSend(s.id, H3ErrorCode.H3_REQUEST_INCOMPLETE);
      s.send = Send.RESET;
      s.out.discard();
    }
    this.maybeDone(s);
  }

  /**
   * Let the transport see that we observed a reset receiving side: the QUIC stream completes (and
   * can be released, returning MAX_STREAMS credit) once a read reports the reset.
   */
  private observeEnd(id: number): void {
    try {
      this.transport.streamRead(id, EMPTY);
    } catch {
      // already released
    }
  }

  private onStopSending(id: number, code: number): void {
    const s = this.streams.get(id);
    if (s) {
      if (s.send === Send.RESET || (s.send === Send.FIN && s.out.finSent)) return;
      s.send = Send.RESET;
      s.out.discard();
      if (s.announced || this.isClient) this.emit({ type: 'stop-sending', streamId: id, code });
      this.maybeDone(s);
      return;
    }
    if (id === this.control.id || id === this.qpackEnc.id || id === this.qpackDec.id) {
      throw new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, `the peer stopped reading our critical stream ${id}`);
    }
  }

  /**
   * Byte counters of request stream `streamId` (HEADERS and DATA payloads, field bytes, stream
   * bytes read), or undefined when no such stream is open. The object is live while the stream
   * runs and keeps its final values after: take it when the request starts to read it at the end.
   */
  streamStats(streamId: number): H3StreamStats | undefined {
    return this.streams.get(streamId)?.stats;
  }

  /**
   * Notice that the transport ended or is ending without waiting for its 'closed' event (which
   * follows the draining period, RFC 9000 §10.2): a stateless reset or a peer CONNECTION_CLOSE put
   * it in draining, or the layer above learned it ended another way (a socket error, removal).
   * `info` (optional) is why, when the transport itself does not say. Emits 'closed' once; returns
   * true when this call closed the connection.
   */
  transportEnded(info?: H3TransportCloseInfo): boolean {
    if (this.closedError) return false;
    if (this.syncClosed()) return true;
    if (info === undefined) return false;
    this.onTransportClosed(this.transport.error ?? info);
    return true;
  }

  private onTransportClosed(err: H3TransportCloseInfo): void {
    const code = typeof err?.code === 'number' ? err.code : 0;
    const kind = typeof err?.kind === 'string' ? err.kind : 'transport';
    this.closedError = {
      kind,
      code,
      reason: typeof err?.reason === 'string' ? err.reason : '',
      remote: err?.remote === true,
      // An application close carries an HTTP/3 code (RFC 9114 §8.1): name it, whoever sent it.
      errCode: kind === 'application' ? errCodeOf(code) : typeof err?.errCode === 'string' ? err.errCode : 'ERR_QUIC_CLOSED',
    };
    this.teardown();
  }

  private onDatagram(data: Uint8Array): void {
    if (!this.localSettings.h3Datagram) {
      this.stats.datagramsDropped++;
      return;
    }
    const { streamId, payload } = decodeHttpDatagram(data);
    const s = this.streams.get(streamId);
    if (!s || !s.announced && !this.isClient) {
      // Not open yet or already closed: drop (RFC 9297 §2.1).
      this.stats.datagramsDropped++;
      return;
    }
    this.stats.datagramsReceived++;
    this.emit({ type: 'datagram', streamId, data: payload });
  }

  // ================================================================ internals: request streams

  private acceptRequest(id: number): RequestStream | null {
    const index = id / 4;
    if (this.requestsSeen.has(index)) return null;
    this.requestsSeen.add(index);
    if (id > this.maxRequestSeen) this.maxRequestSeen = id;
    if (this.goawaySent >= 0 && id >= this.goawaySent) {
      // After our GOAWAY: refused, never processed (RFC 9114 §5.2).
      this.stats.requestsRejected++;
      this.stopSending(id, H3ErrorCode.H3_REQUEST_REJECTED);
      this.resetSend(id, H3ErrorCode.H3_REQUEST_REJECTED);
      return null;
    }
    const s = new RequestStream(id, this.transport, this.maxHeadersFrame);
    const p = this.pendingPriority.get(id);
    if (p) {
      this.pendingPriority.delete(id);
      s.priority = p;
      s.priorityFromFrame = true;
    }
    this.streams.set(id, s);
    return s;
  }

  private onRequestReadable(s: RequestStream): void {
    if (s.recv >= Recv.DONE) return;
    if (s.recv === Recv.HEADERS || s.discard) {
      this.pump(s);
      return;
    }
    this.signalData(s);
  }

  private signalData(s: RequestStream): void {
    if (s.dataArmed && s.announced && s.sink === null && !s.discard) {
      s.dataArmed = false;
      this.emit({ type: 'data', streamId: s.id });
    }
  }

  /** Process what is queued and read what may be read now; stream errors end the stream here. */
  private pump(s: RequestStream): void {
    try {
      this.pumpInner(s);
    } catch (e) {
      if (!isStreamLevel(e)) throw e;
      let err: H3Error;
      if (e instanceof H3Error) err = e;
      else {
        s.qpackCancelled = true; // RFC 9204 §2.2.2.2: the decoder cancelled the section itself
        err = new H3Error(e.errorCode, e.reason, -1, true);
      }
      this.streamError(s, err);
    }
  }

  private pumpInner(s: RequestStream): void {
    for (;;) {
      if (s.recv >= Recv.DONE || s.qpackBlocked) return;
      const q = s.queue;
      if (q.length > 0) {
        if (!this.processQueued(s, q[0]!)) return;
        q.shift();
        continue;
      }
      if (s.finRead) return;
      let want: number;
      if (s.recv === Recv.HEADERS || s.discard) {
        want = SCRATCH_SIZE;
      } else if (s.sink !== null) {
        const room = s.sink.length - s.sinkPos;
        if (room <= 0) return;
        want = Math.min(SCRATCH_SIZE, Math.max(room + 16, 256));
      } else {
        return;
      }
      const buf = want === SCRATCH_SIZE ? this.reqScratch : this.reqScratch.subarray(0, want);
      const r = this.transport.streamRead(s.id, buf);
      if (r.resetCode !== undefined && r.resetCode >= 0) {
        s.finRead = true;
        this.onRequestReset(s, r.resetCode);
        return;
      }
      if (r.bytes === 0 && !r.fin) return;
      this.stats.streamBytesReceived += r.bytes;
      s.stats.streamBytesReceived += r.bytes;
      // The transport's receiving side is complete now, whatever H3 makes of the bytes.
      if (r.fin) s.finRead = true;
      this.ingest(s, buf.subarray(0, r.bytes), r.fin);
    }
  }

  /** Run freshly read stream bytes through the frame reader; what cannot be used now is queued (copied). */
  private ingest(s: RequestStream, chunk: Uint8Array, fin: boolean): void {
    const reader = s.reader;
    reader.push(chunk);
    for (let ev: H3FrameEvent | null = reader.read(); ev !== null; ev = reader.read()) {
      switch (ev.type) {
        case 'data': {
          const d = ev.data;
          this.stats.dataBytesReceived += d.length;
          s.stats.dataBytesReceived += d.length;
          if (s.queue.length === 0 && !s.qpackBlocked) {
            const used = this.onData(s, d, false);
            if (used < d.length) s.queue.push({ k: ITEM_DATA, bytes: d.slice(used), checked: true });
          } else {
            s.queue.push({ k: ITEM_DATA, bytes: d.slice(), checked: false });
          }
          break;
        }
        case 'headers':
          this.stats.headerBytesReceived += ev.fieldSection.length;
          s.stats.headerBytesReceived += ev.fieldSection.length;
          if (s.queue.length === 0 && !s.qpackBlocked) {
            // When QPACK blocks the section it keeps its own copy: the queued item only marks the place.
            if (!this.onHeadersFrame(s, ev.fieldSection)) s.queue.push({ k: ITEM_HEADERS, bytes: EMPTY });
          } else {
            s.queue.push({ k: ITEM_HEADERS, bytes: ev.fieldSection.slice() });
          }
          break;
        case 'push_promise':
          if (this.isClient) throw new H3Error(H3ErrorCode.H3_ID_ERROR, 'PUSH_PROMISE although no MAX_PUSH_ID was sent', H3FrameType.PUSH_PROMISE);
          throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'PUSH_PROMISE from a client', H3FrameType.PUSH_PROMISE);
        default:
          // The 'request' frame reader rejects every other known type.
          break;
      }
    }
    if (fin) {
      reader.end();
      if (s.queue.length === 0 && !s.qpackBlocked) this.onFin(s);
      else s.queue.push({ k: ITEM_FIN });
    }
  }

  private processQueued(s: RequestStream, item: QueuedItem): boolean {
    switch (item.k) {
      case ITEM_DATA: {
        const used = this.onData(s, item.bytes, item.checked);
        item.checked = true;
        if (used === item.bytes.length) return true;
        item.bytes = item.bytes.subarray(used);
        return false;
      }
      case ITEM_HEADERS:
        return this.onHeadersFrame(s, item.bytes);
      default:
        this.onFin(s);
        return true;
    }
  }

  /** A DATA payload in stream order: checked once, then delivered to read() (returns bytes used). */
  private onData(s: RequestStream, data: Uint8Array, checked: boolean): number {
    if (!checked) {
      if (s.recv === Recv.HEADERS) {
        if (this.isClient && s.interimSeen) throw this.malformed('DATA after an interim response');
        throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'DATA before HEADERS', H3FrameType.DATA);
      }
      if (s.recv === Recv.TRAILERS) throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'DATA after the trailer section', H3FrameType.DATA);
      if (data.length > 0) {
        if (s.noContent) throw this.malformed('content in a response that cannot have any (HEAD, 204, 304)');
        s.received += data.length;
        if (s.contentLength >= 0 && s.received > s.contentLength) {
          throw this.malformed(`more DATA than content-length ${s.contentLength}`);
        }
      }
    }
    if (data.length === 0 || s.discard) return data.length;
    const sink = s.sink;
    if (sink !== null) {
      const n = Math.min(data.length, sink.length - s.sinkPos);
      if (n > 0) {
        sink.set(n === data.length ? data : data.subarray(0, n), s.sinkPos);
        s.sinkPos += n;
      }
      return n;
    }
    this.signalData(s);
    return 0;
  }

  /** A HEADERS frame in stream order; false when QPACK blocked it (RFC 9204 §2.2.1). */
  private onHeadersFrame(s: RequestStream, fieldSection: Uint8Array): boolean {
    if (s.recv === Recv.TRAILERS) throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'HEADERS after the trailer section', H3FrameType.HEADERS);
    if (s.recv === Recv.BODY && s.tunnel) {
      throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'HEADERS on a CONNECT tunnel (RFC 9114 §4.4)', H3FrameType.HEADERS);
    }
    let fields = s.unblocked;
    if (fields !== null) {
      s.unblocked = null;
    } else {
      const r = this.decoder.decodeFieldSection(s.id, fieldSection);
      if (r === BLOCKED) {
        s.qpackBlocked = true;
        this.stats.qpackBlocked++;
        return false;
      }
      fields = r;
    }
    this.onFieldSection(s, fields);
    return true;
  }

  private onFieldSection(s: RequestStream, fields: HeaderField[]): void {
    const fieldBytes = fieldSectionBytes(fields);
    this.stats.fieldBytesReceived += fieldBytes;
    s.stats.fieldBytesReceived += fieldBytes;
    if (s.recv === Recv.BODY) {
      const trailers = parseTrailers(fields);
      s.recv = Recv.TRAILERS;
      if (!s.discard) this.emit({ type: 'trailers', streamId: s.id, trailers });
      return;
    }
    if (!this.isClient) {
      const head = parseRequestHead(fields, this.localSettings.enableConnectProtocol);
      s.method = head.method;
      s.tunnel = head.method === 'CONNECT';
      s.contentLength = s.tunnel ? -1 : head.contentLength;
      if (!s.priorityFromFrame) {
        for (const h of head.headers) if (h[0] === 'priority') s.priority = parsePriority(h[1]);
      }
      s.recv = Recv.BODY;
      s.announced = true;
      this.stats.requestsReceived++;
      this.applyPriority(s);
      const ev = {
        type: 'request' as const,
        streamId: s.id,
        method: head.method,
        scheme: head.scheme,
        authority: head.authority,
        path: head.path,
        protocol: head.protocol,
        headers: head.headers,
        priority: s.priority,
        endStream: false,
      };
      s.headEvent = ev;
      s.headEventSeq = this.eventsPushed;
      this.emit(ev);
      return;
    }
    const head = parseResponseHead(fields);
    if (head.status < 200) {
      s.interimSeen = true;
      this.emit({ type: 'informational', streamId: s.id, status: head.status, headers: head.headers });
      return;
    }
    s.tunnel = s.method === 'CONNECT' && head.status < 300;
    s.noContent = s.method === 'HEAD' || head.status === 204 || head.status === 304;
    s.contentLength = s.tunnel || s.noContent ? -1 : head.contentLength;
    s.recv = Recv.BODY;
    s.announced = true;
    const ev = { type: 'response' as const, streamId: s.id, status: head.status, headers: head.headers, endStream: false };
    s.headEvent = ev;
    s.headEventSeq = this.eventsPushed;
    this.emit(ev);
  }

  private onFin(s: RequestStream): void {
    if (s.recv === Recv.HEADERS) {
      throw new H3Error(
        H3ErrorCode.H3_REQUEST_INCOMPLETE,
        this.isClient ? 'the response stream ended before a final response' : 'the request stream ended before the request headers',
        -1,
        true,
      );
    }
    if (s.contentLength >= 0 && s.received !== s.contentLength) {
      throw this.malformed(`content-length ${s.contentLength} but ${s.received} bytes of DATA`);
    }
    const foldable = s.recv === Recv.BODY && s.received === 0 && s.dataArmed && s.headEvent !== null && this.eventsPolled <= s.headEventSeq;
    s.recv = Recv.DONE;
    if (foldable) s.headEvent!.endStream = true;
    else if (!s.discard) this.emit({ type: 'end', streamId: s.id });
    this.maybeDone(s);
  }

  private malformed(reason: string): H3Error {
    return new H3Error(H3ErrorCode.H3_MESSAGE_ERROR, reason, -1, true);
  }

  /** Stop reading (already STOP_SENDING'd or reset by the peer): drop queued data, cancel QPACK state. */
  private abandonRecv(s: RequestStream): void {
    if (s.recv >= Recv.DONE) return;
    s.recv = Recv.ABORTED;
    s.queue = [];
    s.qpackBlocked = false;
    s.unblocked = null;
    if (!s.qpackCancelled) this.decoder.cancelStream(s.id);
  }

  /** Reset our side and stop reading (RFC 9114 §4.1.1). */
  private abortStream(s: RequestStream, sendCode: number, recvCode: number): void {
    if (s.send !== Send.RESET && !(s.send === Send.FIN && s.out.finSent)) this.resetSend(s.id, sendCode);
    s.send = Send.RESET;
    s.out.discard();
    if (s.recv < Recv.DONE) {
      if (!s.finRead) this.stopSending(s.id, recvCode);
      this.abandonRecv(s);
    }
    this.maybeDone(s);
  }

  private streamError(s: RequestStream, err: H3Error): void {
    this.stats.streamErrors++;
    this.abortStream(s, err.errorCode, err.errorCode);
    if (s.announced || this.isClient) this.emit({ type: 'stream-error', streamId: s.id, error: err });
  }

  private maybeDone(s: RequestStream): void {
    if (!s.finished || this.streams.get(s.id) !== s) return;
    this.streams.delete(s.id);
    if (s.send === Send.FIN && !s.transportClosed) {
      // Our last bytes may still be in flight until the transport reports 'stream-closed'.
      if (this.inFlight.size >= MAX_IN_FLIGHT_TRACKED) this.inFlight.delete(this.inFlight.values().next().value!);
      this.inFlight.add(s.id);
    }
    this.checkIdle();
  }

  private applyPriority(s: RequestStream): void {
    const p = s.priority;
    if (p.urgency === DEFAULT_URGENCY && !p.incremental && !s.priorityApplied) return;
    s.priorityApplied = true;
    if (s.send === Send.RESET || (s.send === Send.FIN && s.out.finSent)) return;
    this.transport.streamSetPriority(s.id, p.urgency, p.incremental);
  }

  // ================================================================ internals: unidirectional streams

  private acceptUni(id: number): UniIn | null {
    const index = Math.floor(id / 4);
    if (this.uniSeen.has(index)) return this.uni.get(id) ?? null;
    this.uniSeen.add(index);
    const u: UniIn = { id, kind: U_PENDING, typeBuf: null, reader: null };
    this.uni.set(id, u);
    return u;
  }

  private readUni(u: UniIn): void {
    const scratch = this.uniScratch;
    for (;;) {
      if (u.kind === U_IGNORED || this.closedError) return;
      const r = this.transport.streamRead(u.id, scratch);
      this.stats.streamBytesReceived += r.bytes;
      if (r.resetCode !== undefined && r.resetCode >= 0) {
        if (u.kind === U_CONTROL || u.kind === U_ENCODER || u.kind === U_DECODER) {
          throw new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, `critical stream ${u.id} reset by the peer`);
        }
        this.uni.delete(u.id);
        return;
      }
      if (r.bytes === 0 && !r.fin) return;
      let data: Uint8Array = scratch.subarray(0, r.bytes);
      if (u.kind === U_PENDING) {
        const all = u.typeBuf ? concat(u.typeBuf, data) : data;
        const t = readStreamType(all);
        if (t === null) {
          if (r.fin) {
            // Closed before its type: tolerated (RFC 9114 §6.2).
            this.uni.delete(u.id);
            return;
          }
          u.typeBuf = all.slice();
          continue;
        }
        u.typeBuf = null;
        this.classifyUni(u, t.type, r.fin);
        if ((u.kind as number) === U_IGNORED) {
          this.uni.delete(u.id);
          return;
        }
        data = all.subarray(t.length);
      }
      if (data.length > 0) this.uniData(u, data);
      if (r.fin) {
        throw new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, `the peer closed its critical stream ${u.id}`);
      }
    }
  }

  private classifyUni(u: UniIn, type: number, fin: boolean): void {
    switch (uniStreamKind(type)) {
      case 'control':
        if (this.peerControl >= 0) throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, 'second control stream');
        this.peerControl = u.id;
        u.kind = U_CONTROL;
        u.reader = new FrameReader({ kind: 'control' });
        return;
      case 'qpack-encoder':
        if (this.peerEncoder >= 0) throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, 'second QPACK encoder stream');
        this.peerEncoder = u.id;
        u.kind = U_ENCODER;
        return;
      case 'qpack-decoder':
        if (this.peerDecoder >= 0) throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, 'second QPACK decoder stream');
        this.peerDecoder = u.id;
        u.kind = U_DECODER;
        return;
      case 'push':
        if (this.isClient) throw new H3Error(H3ErrorCode.H3_ID_ERROR, 'push stream although no MAX_PUSH_ID was sent');
        throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, 'push stream from a client');
      default:
        // Reserved or unknown type: abort reading (RFC 9114 §6.2, §6.2.3).
        u.kind = U_IGNORED;
        if (!fin) this.stopSending(u.id, H3ErrorCode.H3_STREAM_CREATION_ERROR);
    }
  }

  private uniData(u: UniIn, data: Uint8Array): void {
    switch (u.kind) {
      case U_CONTROL: {
        const reader = u.reader!;
        reader.push(data);
        for (let ev = reader.read(); ev !== null; ev = reader.read()) this.onControlFrame(ev);
        return;
      }
      case U_ENCODER: {
        const unblocked = this.decoder.receiveEncoderStream(data);
        for (const item of unblocked) {
          const s = this.streams.get(item.streamId);
          if (!s || !s.qpackBlocked) continue;
          s.qpackBlocked = false;
          if (item.error) {
            s.qpackCancelled = true;
            this.streamError(s, new H3Error(item.error.errorCode, item.error.reason, -1, true));
          } else {
            s.unblocked = item.headers;
            this.pump(s);
          }
        }
        return;
      }
      case U_DECODER:
        this.encoder.receiveDecoderStream(data);
        return;
    }
  }

  private onControlFrame(ev: H3FrameEvent): void {
    const f = ev as H3Frame;
    switch (f.type) {
      case 'settings':
        this.onSettings(f.settings);
        return;
      case 'goaway':
        this.onGoaway(f.id);
        return;
      case 'max_push_id':
        if (this.isClient) throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'MAX_PUSH_ID from a server', H3FrameType.MAX_PUSH_ID);
        if (f.pushId < this.maxPushIdReceived) throw new H3Error(H3ErrorCode.H3_ID_ERROR, 'MAX_PUSH_ID decreased', H3FrameType.MAX_PUSH_ID);
        this.maxPushIdReceived = f.pushId;
        return;
      case 'cancel_push':
        // No push was ever promised or allowed (RFC 9114 §7.2.3).
        throw new H3Error(H3ErrorCode.H3_ID_ERROR, `CANCEL_PUSH for push ID ${f.pushId}, which was never promised`, H3FrameType.CANCEL_PUSH);
      case 'priority_update':
        if (this.isClient) throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'PRIORITY_UPDATE from a server', H3FrameType.PRIORITY_UPDATE_REQUEST);
        this.onPriorityUpdate(f.push, f.elementId, f.priority);
        return;
      default:
        // The control-stream frame reader rejects DATA, HEADERS and PUSH_PROMISE itself.
        return;
    }
  }

  private onSettings(settings: H3Settings): void {
    if (settings.h3Datagram && this.transport.maxDatagramSize === 0) {
      throw new H3Error(H3ErrorCode.H3_SETTINGS_ERROR, 'SETTINGS_H3_DATAGRAM without QUIC DATAGRAM support (RFC 9297 §2.1.1)', H3FrameType.SETTINGS);
    }
    this.early?.onSettings(settings);
    this.peer = settings;
    this.encoder.applyPeerSettings(settings.qpackMaxTableCapacity, settings.qpackBlockedStreams);
    this.emit({ type: 'settings', settings });
  }

  private onGoaway(id: number): void {
    if (this.isClient && id < MAX_ID && id % 4 !== 0) {
      throw new H3Error(H3ErrorCode.H3_ID_ERROR, `GOAWAY with stream ID ${id}, not a client-initiated bidirectional stream`, H3FrameType.GOAWAY);
    }
    if (this.goawayReceived >= 0 && id > this.goawayReceived) {
      throw new H3Error(H3ErrorCode.H3_ID_ERROR, `GOAWAY ID increased from ${this.goawayReceived} to ${id}`, H3FrameType.GOAWAY);
    }
    this.goawayReceived = id;
    this.emit({ type: 'goaway', id });
    if (this.isClient) {
      // No new requests are possible: close (H3_NO_ERROR) once the accepted ones are done (§5.2).
      this.closeWhenIdle = true;
      // Requests at or above the ID will not be processed: cancel them, report them retryable.
      for (const s of [...this.streams.values()]) {
        if (s.id < id) continue;
        this.abortStream(s, H3ErrorCode.H3_REQUEST_CANCELLED, H3ErrorCode.H3_REQUEST_CANCELLED);
        this.emit({ type: 'reset', streamId: s.id, code: H3ErrorCode.H3_REQUEST_REJECTED, remote: false });
      }
    }
    this.checkIdle();
  }

  private onPriorityUpdate(push: boolean, elementId: number, value: string): void {
    const type = push ? H3FrameType.PRIORITY_UPDATE_PUSH : H3FrameType.PRIORITY_UPDATE_REQUEST;
    if (push) throw new H3Error(H3ErrorCode.H3_ID_ERROR, `PRIORITY_UPDATE for push ID ${elementId}, which was never promised`, type);
    if (elementId % 4 !== 0 || elementId >= MAX_ID) {
      throw new H3Error(H3ErrorCode.H3_ID_ERROR, `PRIORITY_UPDATE for stream ${elementId}, not a request stream`, type);
    }
    const p = parsePriority(value);
    const s = this.streams.get(elementId);
    if (s) {
      s.priority = p;
      s.priorityFromFrame = true;
      if (s.announced) {
        this.applyPriority(s);
        this.emit({ type: 'priority', streamId: elementId, priority: p });
      }
      return;
    }
    if (this.requestsSeen.has(elementId / 4)) return; // finished
    if (this.maxBufferedPriorities === 0) return;
    if (!this.pendingPriority.has(elementId) && this.pendingPriority.size >= this.maxBufferedPriorities) {
      const oldest = this.pendingPriority.keys().next().value!;
      this.pendingPriority.delete(oldest);
    }
    this.pendingPriority.set(elementId, p);
  }

  // ================================================================ internals: closing

  /**
   * RESET_STREAM, tolerating a stream the transport already finished: events are processed after
   * the transport acted on them (a STOP_SENDING it answered with its own reset, a collected stream),
   * so an abort that finds nothing left to abort has reached its goal.
   */
  private resetSend(id: number, code: number): void {
    try {
      this.transport.streamReset(id, code);
    } catch {
      // already reset or gone
    }
  }

  /** STOP_SENDING, tolerating a receiving side the transport already finished (see resetSend). */
  private stopSending(id: number, code: number): void {
    try {
      this.transport.streamStopSending(id, code);
    } catch {
      // already finished or gone
    }
  }

  private checkOpen(): void {
    if (this.syncClosed()) throw new H3ClosedError();
  }

  /**
   * True once the connection is over. Notices a transport that is closing or draining before its
   * 'closed' event (which only follows the draining period) and reports 'closed' right away.
   */
  private syncClosed(): boolean {
    if (this.closedError) return true;
    const st = this.transport.state;
    if (st !== 'closing' && st !== 'draining' && st !== 'closed') return false;
    this.onTransportClosed(this.transport.error ?? { kind: 'local', code: 0, reason: 'connection closed', remote: false });
    return true;
  }

  private checkIdle(): void {
    if (this.closedError || this.streams.size > 0 || this.inFlight.size > 0) return;
    if (this.isClient) {
      if (this.closeWhenIdle) this.closeConnection(H3ErrorCode.H3_NO_ERROR, 'graceful shutdown');
      return;
    }
    // A server is drained once every request below its GOAWAY has arrived and finished. It does
    // not close by itself: requests above the ID may still be in flight towards it, and only the
    // client (which closes once idle after GOAWAY) or the driver's timer knows when they are not.
    if (this.goawaySent < 0 || this.drainedEmitted) return;
    if (this.requestsSeen.watermark * 4 < Math.min(this.goawaySent, this.maxRequestSeen + 4)) return;
    this.drainedEmitted = true;
    this.emit({ type: 'drained' });
  }

  /** Turn an exception from processing into a connection close (peer errors keep their code). */
  private fail(e: unknown): void {
    if (this.closedError) return;
    if ((e as { code?: unknown } | null)?.code === 'ERR_QUIC_CONNECTION_CLOSED') {
      // The transport is closing under us: not our error.
      if (!this.syncClosed()) this.onTransportClosed(this.transport.error ?? { kind: 'local', code: 0, reason: 'connection closed', remote: false });
      return;
    }
    if (e instanceof H3Error || e instanceof QpackError) {
      this.closeConnection(e.errorCode, e.reason);
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    this.closeConnection(H3ErrorCode.H3_INTERNAL_ERROR, `internal error: ${msg}`);
  }

  private closeConnection(code: number, reason: string): void {
    this.closedError = { kind: 'application', code, reason, remote: false, errCode: errCodeOf(code) };
    try {
      this.transport.close(code, reason, true);
    } finally {
      this.teardown();
    }
  }

  private teardown(): void {
    this.streams.clear();
    this.uni.clear();
    this.pendingPriority.clear();
    this.emit({ type: 'closed', error: this.closedError! });
  }
}

/** Name + value lengths of a field section (h2load's decoded header bytes). */
function fieldSectionBytes(fields: ReadonlyArray<HeaderFieldInput>): number {
  let n = 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    n += f[0].length + f[1].length;
  }
  return n;
}
