// L5: address validation tokens (RFC 9000 §8.1.2 Retry, §8.1.3 NEW_TOKEN, §8.1.4 integrity).
//
// Token = kind (1 byte, cleartext so a server can tell a Retry token from a NEW_TOKEN token,
// §8.1.1) || nonce (12 random bytes) || AES-256-GCM(tokenKey, nonce, aad, plaintext) with
//   aad       = kind || client IP (UTF-8) || for Retry: client port (u16)
//   plaintext = expiry (u64 ms) || for Retry: ODCID (u8 len + bytes) || Retry SCID (u8 len + bytes)
// Binding the address through the associated data means a token presented from another address
// simply fails to authenticate. Retry tokens bind the port (§8.1.4: "verify that the source IP
// address and port … remain constant"); NEW_TOKEN tokens bind only the IP (the port changes
// between connections, §8.1.3) and live longer. NEW_TOKEN tokens are accepted once: a bounded
// replay cache of their nonces runs until they expire (§8.1.4 "SHOULD NOT be accepted multiple
// times").
import { ticketOpen, ticketSeal, TICKET_KEY_LENGTH, TICKET_NONCE_LENGTH, TICKET_TAG_LENGTH } from '../crypto/ticket-aead.js';
import { MAX_CID_LENGTH } from '../codec/version.js';
import { Reader, Writer, utf8, BufferUnderflow, equal } from '../util/bytes.js';
import { fillRandom, type EndpointRandom } from './cid.js';

export const TokenKind = {
  Retry: 0x52, // 'R'
  NewToken: 0x4e, // 'N'
} as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

export const TOKEN_KEY_LENGTH = TICKET_KEY_LENGTH;
/** Default lifetime of a Retry token: it comes straight back (§8.1.4 "accepted only for a short time"). */
export const DEFAULT_RETRY_TOKEN_LIFETIME = 10_000;
/** Default lifetime of a NEW_TOKEN token. */
export const DEFAULT_NEW_TOKEN_LIFETIME = 24 * 3600_000;

/** Why a token failed validation (counted in EndpointStats). */
export type TokenFailure = 'malformed' | 'unknown-kind' | 'auth' | 'expired' | 'replayed' | 'cid-mismatch';

export type TokenResult =
  | { ok: true; kind: typeof TokenKind.Retry; odcid: Uint8Array; retrySourceCid: Uint8Array }
  | { ok: true; kind: typeof TokenKind.NewToken }
  /** `kind` is the cleartext kind byte when recognisable, else undefined. */
  | { ok: false; kind: TokenKind | undefined; failure: TokenFailure };

export interface TokenOptions {
  /** 32-byte key; default random from `rng`. Share it across workers/instances that accept each other's tokens. */
  key?: Uint8Array;
  retryLifetime?: number;
  newTokenLifetime?: number;
  /** Max NEW_TOKEN nonces remembered against replay (default 65536; oldest evicted beyond). */
  replayCacheSize?: number;
}

const HEADER_LENGTH = 1 + TICKET_NONCE_LENGTH;
const MIN_TOKEN_LENGTH = HEADER_LENGTH + 8 + TICKET_TAG_LENGTH;

export class AddressTokens {
  readonly retryLifetime: number;
  readonly newTokenLifetime: number;
  private readonly key: Uint8Array;
  private readonly rng: EndpointRandom;
  private readonly replayCacheSize: number;
  /** nonce (latin1 key) → expiry; insertion order ≈ expiry order (one lifetime for all). */
  private readonly used = new Map<string, number>();

  constructor(rng: EndpointRandom, options: TokenOptions = {}) {
    this.rng = rng;
    const key = options.key ?? fillRandom(rng, new Uint8Array(TOKEN_KEY_LENGTH));
    if (!(key instanceof Uint8Array) || key.length !== TOKEN_KEY_LENGTH) {
      throw new RangeError(`tokenKey: expected ${TOKEN_KEY_LENGTH} bytes`);
    }
    this.key = new Uint8Array(key);
    this.retryLifetime = positive('retryTokenLifetime', options.retryLifetime ?? DEFAULT_RETRY_TOKEN_LIFETIME);
    this.newTokenLifetime = positive('newTokenLifetime', options.newTokenLifetime ?? DEFAULT_NEW_TOKEN_LIFETIME);
    this.replayCacheSize = options.replayCacheSize ?? 65536;
    if (!Number.isInteger(this.replayCacheSize) || this.replayCacheSize < 1) {
      throw new RangeError('replayCacheSize: expected a positive integer');
    }
  }

  /** A Retry token for the client at `address`:`port` whose first Initial had DCID `odcid`. */
  mintRetry(address: string, port: number, odcid: Uint8Array, retrySourceCid: Uint8Array, now: number): Uint8Array {
    const w = Writer.alloc(8 + 2 + odcid.length + retrySourceCid.length);
    writeTime(w, now + this.retryLifetime);
    w.u8Bytes(odcid);
    w.u8Bytes(retrySourceCid);
    return this.seal(TokenKind.Retry, address, port, w.buf);
  }

  /** A NEW_TOKEN token for a client at `address` (any port). Unique per call (random nonce). */
  mintNewToken(address: string, now: number): Uint8Array {
    const w = Writer.alloc(8);
    writeTime(w, now + this.newTokenLifetime);
    return this.seal(TokenKind.NewToken, address, -1, w.buf);
  }

  /**
   * Validate a token from an Initial received from `address`:`port`. `dcid` is that Initial's
   * Destination Connection ID: a Retry token is only good with the Retry's Source Connection ID.
   * A valid NEW_TOKEN token is consumed (a replay fails with 'replayed').
   */
  validate(token: Uint8Array, address: string, port: number, dcid: Uint8Array, now: number): TokenResult {
    if (token.length < 1) return { ok: false, kind: undefined, failure: 'malformed' };
    const kindByte = token[0]!;
    if (kindByte !== TokenKind.Retry && kindByte !== TokenKind.NewToken) return { ok: false, kind: undefined, failure: 'unknown-kind' };
    const kind = kindByte as TokenKind;
    if (token.length < MIN_TOKEN_LENGTH) return { ok: false, kind, failure: 'malformed' };
    const nonce = token.subarray(1, HEADER_LENGTH);
    const plain = ticketOpen(this.key, nonce, aad(kind, address, kind === TokenKind.Retry ? port : -1), token.subarray(HEADER_LENGTH));
    if (plain === null) return { ok: false, kind, failure: 'auth' };
    try {
      const r = new Reader(plain);
      const expiry = readTime(r);
      if (now >= expiry) return { ok: false, kind, failure: 'expired' };
      if (kind === TokenKind.Retry) {
        const odcid = r.u8Bytes();
        const rscid = r.u8Bytes();
        if (r.pos !== r.end || odcid.length > MAX_CID_LENGTH || rscid.length > MAX_CID_LENGTH) {
          return { ok: false, kind, failure: 'malformed' };
        }
        if (!equal(rscid, dcid)) return { ok: false, kind, failure: 'cid-mismatch' };
        return { ok: true, kind: TokenKind.Retry, odcid: odcid.slice(), retrySourceCid: rscid.slice() };
      }
      if (r.pos !== r.end) return { ok: false, kind, failure: 'malformed' };
      const id = latin1(nonce);
      this.expireUsed(now);
      if (this.used.has(id)) return { ok: false, kind, failure: 'replayed' };
      this.used.set(id, expiry);
      if (this.used.size > this.replayCacheSize) {
        const oldest = this.used.keys().next();
        if (!oldest.done) this.used.delete(oldest.value);
      }
      return { ok: true, kind: TokenKind.NewToken };
    } catch (e) {
      if (e instanceof BufferUnderflow) return { ok: false, kind, failure: 'malformed' };
      throw e;
    }
  }

  /** NEW_TOKEN nonces remembered against replay. */
  get replayCacheEntries(): number {
    return this.used.size;
  }

  private expireUsed(now: number): void {
    for (const [id, expiry] of this.used) {
      if (expiry > now) break;
      this.used.delete(id);
    }
  }

  private seal(kind: TokenKind, address: string, port: number, plaintext: Uint8Array): Uint8Array {
    const nonce = fillRandom(this.rng, new Uint8Array(TICKET_NONCE_LENGTH));
    const sealed = ticketSeal(this.key, nonce, aad(kind, address, port), plaintext);
    const out = new Uint8Array(HEADER_LENGTH + sealed.length);
    out[0] = kind;
    out.set(nonce, 1);
    out.set(sealed, HEADER_LENGTH);
    return out;
  }
}

function positive(name: string, v: number): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new RangeError(`${name}: expected a positive number of ms`);
  return v;
}

function aad(kind: TokenKind, address: string, port: number): Uint8Array {
  const a = utf8(address);
  const out = new Uint8Array(1 + a.length + (port >= 0 ? 2 : 0));
  out[0] = kind;
  out.set(a, 1);
  if (port >= 0) {
    out[1 + a.length] = (port >>> 8) & 0xff;
    out[2 + a.length] = port & 0xff;
  }
  return out;
}

function writeTime(w: Writer, t: number): void {
  const v = Math.max(0, Math.floor(t));
  w.u32(Math.floor(v / 0x1_0000_0000));
  w.u32(v % 0x1_0000_0000);
}

function readTime(r: Reader): number {
  const hi = r.u32();
  const lo = r.u32();
  return hi * 0x1_0000_0000 + lo;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

