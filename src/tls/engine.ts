// L3: what the client and server state machines share: per-level handshake reassembly
// (RFC 8446 §5.1: messages never span a key change; RFC 9001 §4.1.3 CRYPTO stream per level),
// the event queue QUIC drains, key logging, and turning any failure into one sticky error.
import { cipherSuiteParams, type CipherSuiteParams } from '../crypto/aead.js';
import { TransportError, TransportErrorCode } from '../codec/errors.js';
import { AlertDescription, TlsAlert } from './wire/alert.js';
import { DEFAULT_MAX_HANDSHAKE_MESSAGE, HandshakeReassembler, type HandshakeMessage } from './wire/handshake.js';
import { keyLogLine, type KeyLogger } from './keylog.js';
import { EncryptionLevel, type TlsEvent } from './types.js';

export type TlsError = TlsAlert | TransportError;

export abstract class TlsEngine {
  private readonly events: TlsEvent[] = [];
  private eventHead = 0;
  private readonly reassemblers: (HandshakeReassembler | undefined)[] = [undefined, undefined, undefined, undefined];
  private readonly maxMessageSize: number;
  private readonly keylogger: KeyLogger | undefined;
  /** The only level at which peer handshake bytes are acceptable now. */
  protected readLevel: EncryptionLevel = EncryptionLevel.Initial;
  /** Set once a message was rejected: the engine is dead and rethrows it. */
  protected failure: TlsError | undefined;
  protected clientRandom: Uint8Array | undefined;
  protected readonly isServer: boolean;

  constructor(isServer: boolean, keylog: KeyLogger | undefined, maxMessageSize: number | undefined) {
    this.isServer = isServer;
    this.keylogger = keylog;
    this.maxMessageSize = maxMessageSize ?? DEFAULT_MAX_HANDSHAKE_MESSAGE;
    if (keylog !== undefined && typeof keylog !== 'function') throw new TypeError('options.keylog: expected a function');
  }

  /** The error that ended this handshake, if any. */
  get error(): TlsError | undefined {
    return this.failure;
  }

  /**
   * Feed in-order handshake bytes received in CRYPTO frames at `level` (split anywhere).
   * Processes every complete message; new events are queued for pollEvent(). Throws TlsAlert
   * (close with CRYPTO_ERROR 0x100 + alert) or TransportError (PROTOCOL_VIOLATION cases of
   * RFC 9001 §4.6.1, §4.4, §8.3, §8.4); after that the engine stays failed.
   */
  receive(level: EncryptionLevel, data: Uint8Array, now: number): void {
    if (this.failure) throw this.failure;
    if (level !== 0 && level !== 1 && level !== 2 && level !== 3) throw new RangeError(`level: not an EncryptionLevel: ${String(level)}`);
    if (!(data instanceof Uint8Array)) throw new TypeError('data: expected a Uint8Array');
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('now: expected a finite number (ms)');
    try {
      if (data.length === 0) return;
      if (level === EncryptionLevel.EarlyData) {
        // RFC 9001 §8.3: CRYPTO frames never travel in 0-RTT packets.
        throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'CRYPTO data in a 0-RTT packet');
      }
      if (level !== this.readLevel) {
        throw new TlsAlert(AlertDescription.unexpected_message, `handshake data at level ${level}, expected level ${this.readLevel}`);
      }
      let r = this.reassemblers[level];
      if (!r) r = this.reassemblers[level] = new HandshakeReassembler(this.maxMessageSize);
      r.push(data);
      for (;;) {
        if (level !== this.readLevel) {
          // The last message moved us to a new level: nothing may follow it at the old one.
          if (r.pending !== 0) throw new TlsAlert(AlertDescription.unexpected_message, 'handshake data after a key change');
          break;
        }
        // Reject a message the state cannot take as soon as its type byte is known (before its body,
        // so e.g. a ChangeCipherSpec record — 0x14 0x03 0x03 … — is unexpected_message, RFC 9001 §8.4).
        const type = r.peekType();
        if (type < 0) break;
        if (!this.expects(type)) this.unexpected(`handshake message type ${type} is not expected now`);
        const msg = r.next();
        if (!msg) break;
        this.handle(level, msg, now);
      }
    } catch (e) {
      this.failure = toTlsError(e);
      throw this.failure;
    }
  }

  /** The next event, or undefined when there is none. */
  pollEvent(): TlsEvent | undefined {
    if (this.eventHead >= this.events.length) {
      if (this.eventHead !== 0) {
        this.events.length = 0;
        this.eventHead = 0;
      }
      return undefined;
    }
    const e = this.events[this.eventHead]!;
    this.events[this.eventHead++] = undefined as never;
    return e;
  }

  protected abstract handle(level: EncryptionLevel, msg: HandshakeMessage, now: number): void;

  /** Whether a message of `type` can be processed in the current state. */
  protected abstract expects(type: number): boolean;

  protected emit(e: TlsEvent): void {
    this.events.push(e);
  }

  protected emitData(level: EncryptionLevel, data: Uint8Array): void {
    this.events.push({ type: 'handshake-data', level, data });
  }

  protected emitSecret(level: EncryptionLevel, direction: 'read' | 'write', secret: Uint8Array, suite: CipherSuiteParams, label: string): void {
    this.events.push({ type: 'secret', level, direction, secret, suite });
    if (this.keylogger && this.clientRandom) this.keylogger(keyLogLine(label, this.clientRandom, secret));
  }

  protected unexpected(what: string): never {
    throw new TlsAlert(AlertDescription.unexpected_message, what);
  }
}

/** Suite parameters for a negotiated suite (the caller checked it is one we offered). */
export function suiteParams(id: number): CipherSuiteParams {
  const p = cipherSuiteParams(id);
  if (!p) throw new TlsAlert(AlertDescription.illegal_parameter, `cipher suite 0x${id.toString(16)} is not supported`);
  return p;
}

/** Anything thrown while handling peer input becomes a protocol error (bugs: internal_error). */
export function toTlsError(e: unknown): TlsError {
  if (e instanceof TlsAlert || e instanceof TransportError) return e;
  const err = new TlsAlert(AlertDescription.internal_error, (e as Error)?.message ?? String(e));
  (err as { cause?: unknown }).cause = e;
  return err;
}
