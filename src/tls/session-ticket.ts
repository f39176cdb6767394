// L3: self-contained session tickets (RFC 8446 §4.6.1; format after RFC 5077 §4: key name, nonce,
// AEAD-sealed state). The server keeps no per-ticket state: everything a resumption or 0-RTT
// decision needs travels inside the ticket, sealed with AES-256-GCM under a rotating key
// (RFC 8446 §C.4: tickets must not be linkable to each other, hence fresh nonces and random ids).
// Also the client-side stored session and its serialisation (for session files).
import { ticketOpen, ticketSeal, TICKET_KEY_LENGTH, TICKET_NONCE_LENGTH, TICKET_TAG_LENGTH } from '../crypto/ticket-aead.js';
import type { RandomSource } from '../crypto/random.js';
import { BufferUnderflow, Reader, constantTimeEqual, fromUtf8, utf8 } from '../util/bytes.js';
import { ByteBuilder } from './wire/builder.js';

/** RFC 8446 §4.6.1: ticket_lifetime MUST NOT exceed 7 days. */
export const MAX_TICKET_LIFETIME_SECONDS = 604800;

const KEY_ID_LENGTH = 8;

interface TicketKey {
  readonly id: Uint8Array;
  readonly key: Uint8Array;
  readonly createdAt: number;
}

/** Key material to share a keyring between processes (e.g. every worker of a server). */
export interface TicketKeyMaterial {
  readonly id: Uint8Array;
  readonly key: Uint8Array;
  readonly createdAt: number;
}

export interface TicketKeyringOptions {
  /** Randomness for new keys and per-ticket nonces (src/crypto/random.ts). */
  random: RandomSource;
  /** A new sealing key every `rotationMs` (default 12 h). */
  rotationMs?: number;
  /** Longest ticket lifetime the server issues (default 24 h); old keys stay usable that long. */
  ticketLifetimeMs?: number;
  /** Start from these keys (newest last) instead of generating one. */
  keys?: readonly TicketKeyMaterial[];
}

/**
 * The server's ticket keys: the newest seals, every key younger than rotation + ticket lifetime
 * opens. Rotation happens lazily when seal() sees the newest key is older than `rotationMs`.
 */
export class TicketKeyring {
  readonly rotationMs: number;
  readonly ticketLifetimeMs: number;
  private readonly random: RandomSource;
  private keys: TicketKey[] = [];

  constructor(opts: TicketKeyringOptions) {
    if (typeof opts?.random?.randomBytes !== 'function') throw new TypeError('opts.random: expected a RandomSource');
    this.random = opts.random;
    this.rotationMs = opts.rotationMs ?? 12 * 3600_000;
    this.ticketLifetimeMs = opts.ticketLifetimeMs ?? 24 * 3600_000;
    if (!(this.rotationMs > 0)) throw new RangeError('opts.rotationMs: must be positive');
    if (!(this.ticketLifetimeMs > 0) || this.ticketLifetimeMs > MAX_TICKET_LIFETIME_SECONDS * 1000) {
      throw new RangeError('opts.ticketLifetimeMs: must be in (0, 7 days]');
    }
    for (const k of opts.keys ?? []) {
      if (k.id.length !== KEY_ID_LENGTH || k.key.length !== TICKET_KEY_LENGTH) throw new RangeError('opts.keys: bad key material');
      this.keys.push({ id: k.id.slice(), key: k.key.slice(), createdAt: k.createdAt });
    }
  }

  /** Current keys (newest last), for sharing with other processes. */
  exportKeys(): TicketKeyMaterial[] {
    return this.keys.map((k) => ({ id: k.id.slice(), key: k.key.slice(), createdAt: k.createdAt }));
  }

  /** Force a new sealing key now (e.g. on a schedule shared by a cluster). */
  rotate(now: number): void {
    this.keys.push({ id: this.random.randomBytes(KEY_ID_LENGTH), key: this.random.randomBytes(TICKET_KEY_LENGTH), createdAt: now });
    this.prune(now);
  }

  private prune(now: number): void {
    const keep = this.rotationMs + this.ticketLifetimeMs;
    const newest = this.keys[this.keys.length - 1];
    this.keys = this.keys.filter((k) => k === newest || now - k.createdAt < keep);
  }

  /** Length of the ticket seal() makes of a plaintext of `plaintextLength` bytes. */
  sealedLength(plaintextLength: number): number {
    return KEY_ID_LENGTH + TICKET_NONCE_LENGTH + plaintextLength + TICKET_TAG_LENGTH;
  }

  /** key id (8) || nonce (12) || AES-256-GCM(plaintext) || tag (16); the key id is the AAD. */
  seal(plaintext: Uint8Array, now: number): Uint8Array {
    const newest = this.keys[this.keys.length - 1];
    if (!newest || now - newest.createdAt >= this.rotationMs) this.rotate(now);
    const k = this.keys[this.keys.length - 1]!;
    const nonce = this.random.randomBytes(TICKET_NONCE_LENGTH);
    const sealed = ticketSeal(k.key, nonce, k.id, plaintext);
    const out = new Uint8Array(KEY_ID_LENGTH + TICKET_NONCE_LENGTH + sealed.length);
    out.set(k.id, 0);
    out.set(nonce, KEY_ID_LENGTH);
    out.set(sealed, KEY_ID_LENGTH + TICKET_NONCE_LENGTH);
    return out;
  }

  /** The plaintext, or null for a ticket of an unknown/retired key or one that fails to authenticate. */
  open(ticket: Uint8Array, now: number): Uint8Array | null {
    if (ticket.length < KEY_ID_LENGTH + TICKET_NONCE_LENGTH + 16) return null;
    const id = ticket.subarray(0, KEY_ID_LENGTH);
    const keep = this.rotationMs + this.ticketLifetimeMs;
    for (const k of this.keys) {
      if (!constantTimeEqual(k.id, id)) continue;
      if (now - k.createdAt >= keep && k !== this.keys[this.keys.length - 1]) return null;
      return ticketOpen(k.key, ticket.subarray(KEY_ID_LENGTH, KEY_ID_LENGTH + TICKET_NONCE_LENGTH), id, ticket.subarray(KEY_ID_LENGTH + TICKET_NONCE_LENGTH));
    }
    return null;
  }
}

// --- what a ticket carries (server side) -------------------------------------------------------

/** The sealed content of a ticket. */
export interface TicketState {
  /** Random, unique per ticket: the anti-replay key for single-use 0-RTT. */
  readonly id: Uint8Array;
  readonly suite: number;
  /** When the ticket was issued (ms, the server's clock). */
  readonly createdAt: number;
  /** Seconds, as sent in NewSessionTicket.ticket_lifetime. */
  readonly lifetime: number;
  readonly ageAdd: number;
  /** 0 = no 0-RTT; 0xffffffff = QUIC 0-RTT allowed (RFC 9001 §4.6.1). */
  readonly maxEarlyData: number;
  readonly psk: Uint8Array;
  readonly alpn: string;
  readonly serverName: string;
  /** Opaque bytes from the QUIC/application layer (e.g. the transport parameters 0-RTT relies on). */
  readonly appData: Uint8Array;
  /** The client's leaf certificate when the original handshake authenticated the client. */
  readonly clientCertificate: Uint8Array;
}

const TICKET_STATE_VERSION = 1;

export function encodeTicketState(s: TicketState): Uint8Array {
  const b = new ByteBuilder(256);
  b.u8(TICKET_STATE_VERSION).u8Bytes(s.id).u16(s.suite);
  b.u16(Math.floor(s.createdAt / 0x1_0000_0000)).u32(s.createdAt >>> 0);
  b.u32(s.lifetime).u32(s.ageAdd).u32(s.maxEarlyData);
  b.u8Bytes(s.psk).u8Bytes(utf8(s.alpn)).u16Bytes(utf8(s.serverName)).u16Bytes(s.appData).u24Bytes(s.clientCertificate);
  return b.finish();
}

/** null for anything malformed (a sealed ticket that authenticates but does not parse is unusable). */
export function decodeTicketState(p: Uint8Array): TicketState | null {
  const r = new Reader(p);
  try {
    if (r.u8() !== TICKET_STATE_VERSION) return null;
    const id = r.u8Bytes().slice();
    const suite = r.u16();
    const createdAt = r.u16() * 0x1_0000_0000 + r.u32();
    const lifetime = r.u32();
    const ageAdd = r.u32();
    const maxEarlyData = r.u32();
    const psk = r.u8Bytes().slice();
    const alpn = fromUtf8(r.u8Bytes());
    const serverName = fromUtf8(r.u16Bytes());
    const appData = r.u16Bytes().slice();
    const clientCertificate = r.u24Bytes().slice();
    if (r.pos !== r.end) return null;
    return { id, suite, createdAt, lifetime, ageAdd, maxEarlyData, psk, alpn, serverName, appData, clientCertificate };
  } catch (e) {
    if (e instanceof BufferUnderflow) return null;
    throw e;
  }
}

// --- what the client stores ---------------------------------------------------------------------

/** A resumable session as the client stores it (one per NewSessionTicket). */
export interface ClientSession {
  readonly ticket: Uint8Array;
  readonly psk: Uint8Array;
  readonly suite: number;
  readonly ageAdd: number;
  /** When the ticket arrived (ms, the client's clock). */
  readonly receivedAt: number;
  /** Seconds. */
  readonly lifetime: number;
  /** 0xffffffff when the server allows QUIC 0-RTT with this ticket, else 0. */
  readonly maxEarlyData: number;
  readonly alpn: string;
  /** The identity the server certificate was verified for (client verifyName, default serverName); '' if none. */
  readonly serverName: string;
  /** The server's transport parameters of the original connection (RFC 9001 §7.4.1 / RFC 9000 §7.4.1). */
  readonly transportParameters: Uint8Array;
  /**
   * Opaque bytes the application stores with the session (e.g. HTTP/3 SETTINGS to comply with in
   * 0-RTT, RFC 9114 §7.2.4.2); TLS never reads them. At most 65535 bytes.
   */
  readonly appData?: Uint8Array;
  /**
   * True when no server certificate was verified for this session (the connection that got it ran
   * with rejectUnauthorized: false, or resumed such a session): a verifying client never offers it.
   */
  readonly unverified?: true;
}

/**
 * Session blob formats: 1 = the fields above; 2 = the same, then a flags byte (bit 0: unverified,
 * bit 1: appData follows) and appData (u16 length) when flagged. Format 1 is still written for
 * verified sessions without appData, so stored sessions keep their exact bytes.
 */
const CLIENT_SESSION_V1 = 1;
const CLIENT_SESSION_V2 = 2;
const FLAG_UNVERIFIED = 1;
const FLAG_APP_DATA = 2;

/** Serialise a ClientSession (e.g. to a session file). It contains a secret: store it like a key. */
export function encodeClientSession(s: ClientSession): Uint8Array {
  const flags = (s.unverified === true ? FLAG_UNVERIFIED : 0) | (s.appData !== undefined ? FLAG_APP_DATA : 0);
  const b = new ByteBuilder(512);
  b.u8(flags === 0 ? CLIENT_SESSION_V1 : CLIENT_SESSION_V2).u16Bytes(s.ticket).u8Bytes(s.psk).u16(s.suite).u32(s.ageAdd);
  b.u16(Math.floor(s.receivedAt / 0x1_0000_0000)).u32(s.receivedAt >>> 0);
  b.u32(s.lifetime).u32(s.maxEarlyData).u8Bytes(utf8(s.alpn)).u16Bytes(utf8(s.serverName)).u16Bytes(s.transportParameters);
  if (flags !== 0) b.u8(flags);
  if (s.appData !== undefined) b.u16Bytes(s.appData);
  return b.finish();
}

/** TypeError for bytes that are not a session written by encodeClientSession. */
export function decodeClientSession(data: Uint8Array): ClientSession {
  if (!(data instanceof Uint8Array)) throw new TypeError('data: expected a Uint8Array');
  const r = new Reader(data);
  try {
    const version = r.u8();
    if (version !== CLIENT_SESSION_V1 && version !== CLIENT_SESSION_V2) throw new TypeError('data: unknown session format version');
    const ticket = r.u16Bytes().slice();
    const psk = r.u8Bytes().slice();
    const suite = r.u16();
    const ageAdd = r.u32();
    const receivedAt = r.u16() * 0x1_0000_0000 + r.u32();
    const lifetime = r.u32();
    const maxEarlyData = r.u32();
    const alpn = fromUtf8(r.u8Bytes());
    const serverName = fromUtf8(r.u16Bytes());
    const transportParameters = r.u16Bytes().slice();
    const flags = version === CLIENT_SESSION_V2 ? r.u8() : 0;
    if (version === CLIENT_SESSION_V2 && (flags === 0 || (flags & ~(FLAG_UNVERIFIED | FLAG_APP_DATA)) !== 0)) throw new TypeError('data: bad session flags');
    const appData = flags & FLAG_APP_DATA ? r.u16Bytes().slice() : undefined;
    if (r.pos !== r.end) throw new TypeError('data: trailing bytes after the session');
    let s: ClientSession = { ticket, psk, suite, ageAdd, receivedAt, lifetime, maxEarlyData, alpn, serverName, transportParameters };
    if (flags & FLAG_UNVERIFIED) s = { ...s, unverified: true };
    if (appData !== undefined) s = { ...s, appData };
    return s;
  } catch (e) {
    if (e instanceof BufferUnderflow) throw new TypeError('data: truncated session');
    throw e;
  }
}

/** The appData stored in a serialised session (undefined when it has none). TypeError if not a session. */
export function clientSessionAppData(data: Uint8Array): Uint8Array | undefined {
  return decodeClientSession(data).appData;
}

/**
 * A serialised session with `appData` attached (replacing any), e.g. the server's HTTP/3 SETTINGS
 * once they arrive after the ticket (RFC 9114 §7.2.4.2). TypeError if `data` is not a session.
 */
export function withClientSessionAppData(data: Uint8Array, appData: Uint8Array): Uint8Array {
  if (!(appData instanceof Uint8Array)) throw new TypeError('appData: expected a Uint8Array');
  if (appData.length > 0xffff) throw new RangeError(`appData: ${appData.length} bytes, at most 65535`);
  return encodeClientSession({ ...decodeClientSession(data), appData });
}
