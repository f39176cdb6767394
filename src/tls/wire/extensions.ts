// L1: TLS 1.3 extension codecs (RFC 8446 §4.2; RFC 6066 §3 server_name; RFC 7301 §3.1 ALPN;
// RFC 9001 §8.2 quic_transport_parameters). Extension blocks keep their order and raw bytes so a
// message re-encodes byte-for-byte; typed decoders read one extension body each.
// Peer input raises only TlsAlert: decode_error for malformed bodies, illegal_parameter for a
// duplicated extension (RFC 8446 §4.2). Unknown extensions are kept raw and never fatal here.
import { BufferUnderflow, Reader, fromUtf8, utf8 } from '../../util/bytes.js';
import { AlertDescription, TlsAlert, decodeError } from './alert.js';
import type { ByteBuilder } from './builder.js';

export interface Extension {
  readonly type: number;
  readonly data: Uint8Array;
}

/**
 * Run `fn` over `data` and require it to consume every byte. Truncation (BufferUnderflow) and
 * trailing bytes become decode_error naming `what`.
 */
export function decodeAll<T>(data: Uint8Array, what: string, fn: (r: Reader) => T): T {
  const r = new Reader(data);
  let v: T;
  try {
    v = fn(r);
  } catch (e) {
    if (e instanceof BufferUnderflow) throw decodeError(`${what}: truncated`);
    throw e;
  }
  if (r.pos !== r.end) throw decodeError(`${what}: ${r.end - r.pos} trailing byte(s)`);
  return v;
}

/** Read `Extension extensions<0..2^16-1>` at the cursor. Duplicate types → illegal_parameter. */
export function readExtensions(r: Reader): Extension[] {
  const len = r.u16();
  r.need(len);
  const end = r.pos + len;
  const out: Extension[] = [];
  while (r.pos < end) {
    if (end - r.pos < 4) throw decodeError('extension header truncated');
    const type = r.u16();
    const n = r.u16();
    if (r.pos + n > end) throw decodeError(`extension ${type} overruns its block`);
    const data = r.bytes(n);
    for (let i = 0; i < out.length; i++) {
      if (out[i]!.type === type) throw new TlsAlert(AlertDescription.illegal_parameter, `duplicate extension ${type}`);
    }
    out.push({ type, data });
  }
  return out;
}

export function writeExtensions(b: ByteBuilder, exts: readonly Extension[]): void {
  b.begin(2);
  for (const e of exts) b.u16(e.type).u16Bytes(e.data);
  b.end();
}

export function findExtension(exts: readonly Extension[], type: number): Uint8Array | undefined {
  for (let i = 0; i < exts.length; i++) if (exts[i]!.type === type) return exts[i]!.data;
  return undefined;
}

// --- vectors of u16 / u8 -----------------------------------------------------------------------

function readU16List(r: Reader, what: string, lenBytes: 1 | 2): number[] {
  const n = lenBytes === 1 ? r.u8() : r.u16();
  if (n === 0 || n % 2 !== 0) throw decodeError(`${what}: bad list length ${n}`);
  r.need(n);
  const out: number[] = new Array(n / 2);
  for (let i = 0; i < n / 2; i++) out[i] = r.u16();
  return out;
}

function u16ListBody(list: readonly number[], lenBytes: 1 | 2): Uint8Array {
  const n = list.length * 2;
  const out = new Uint8Array(lenBytes + n);
  let o = 0;
  if (lenBytes === 2) out[o++] = n >>> 8;
  out[o++] = n & 0xff;
  for (const v of list) {
    out[o++] = v >>> 8;
    out[o++] = v & 0xff;
  }
  return out;
}

// --- server_name (RFC 6066 §3) -----------------------------------------------------------------

/** ClientHello server_name: the host_name entry (name_type 0), or undefined if none is present. */
export function decodeServerName(data: Uint8Array): string | undefined {
  return decodeAll(data, 'server_name', (r) => {
    const n = r.u16();
    if (n === 0) throw decodeError('server_name: empty list');
    r.need(n);
    const end = r.pos + n;
    let host: string | undefined;
    while (r.pos < end) {
      const type = r.u8();
      const name = r.u16Bytes();
      if (r.pos > end) throw decodeError('server_name: entry overruns the list');
      if (type === 0) {
        if (host !== undefined) throw new TlsAlert(AlertDescription.illegal_parameter, 'server_name: two host names');
        if (name.length === 0) throw decodeError('server_name: empty host name');
        for (let i = 0; i < name.length; i++) {
          // RFC 6066 §3: ASCII, no trailing dot; reject control bytes and NUL outright.
          const c = name[i]!;
          if (c <= 0x20 || c >= 0x7f) throw decodeError('server_name: host name is not printable ASCII');
        }
        host = fromUtf8(name);
      }
    }
    return host;
  });
}

export function encodeServerName(host: string): Uint8Array {
  const name = utf8(host);
  const out = new Uint8Array(5 + name.length);
  const listLen = 3 + name.length;
  out[0] = listLen >>> 8;
  out[1] = listLen & 0xff;
  out[2] = 0;
  out[3] = name.length >>> 8;
  out[4] = name.length & 0xff;
  out.set(name, 5);
  return out;
}

/** Empty extension body (server_name in EE, early_data in CH/EE). */
export function decodeEmpty(data: Uint8Array, what: string): void {
  if (data.length !== 0) throw decodeError(`${what}: expected an empty body, got ${data.length} byte(s)`);
}

// --- supported_groups, signature_algorithms(_cert) ---------------------------------------------

export function decodeNamedGroupList(data: Uint8Array): number[] {
  return decodeAll(data, 'supported_groups', (r) => readU16List(r, 'supported_groups', 2));
}

export function decodeSignatureSchemeList(data: Uint8Array, what = 'signature_algorithms'): number[] {
  return decodeAll(data, what, (r) => readU16List(r, what, 2));
}

/** Body of supported_groups, signature_algorithms or signature_algorithms_cert. */
export function encodeU16List(list: readonly number[]): Uint8Array {
  return u16ListBody(list, 2);
}

// --- ALPN (RFC 7301 §3.1) ----------------------------------------------------------------------

export function decodeAlpn(data: Uint8Array): string[] {
  return decodeAll(data, 'application_layer_protocol_negotiation', (r) => {
    const n = r.u16();
    if (n < 2) throw decodeError('ALPN: empty protocol list');
    r.need(n);
    const end = r.pos + n;
    const out: string[] = [];
    while (r.pos < end) {
      const p = r.u8Bytes();
      if (p.length === 0) throw decodeError('ALPN: empty protocol name');
      if (r.pos > end) throw decodeError('ALPN: name overruns the list');
      out.push(fromUtf8(p));
    }
    return out;
  });
}

export function encodeAlpn(protocols: readonly string[]): Uint8Array {
  const names = protocols.map((p) => utf8(p));
  let n = 0;
  for (const p of names) {
    if (p.length === 0 || p.length > 255) throw new RangeError(`alpn: protocol names must be 1..255 bytes`);
    n += 1 + p.length;
  }
  if (n > 0xffff) throw new RangeError('alpn: protocol list too long');
  const out = new Uint8Array(2 + n);
  out[0] = n >>> 8;
  out[1] = n & 0xff;
  let o = 2;
  for (const p of names) {
    out[o++] = p.length;
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// --- supported_versions (RFC 8446 §4.2.1) ------------------------------------------------------

export function decodeSupportedVersionsCH(data: Uint8Array): number[] {
  return decodeAll(data, 'supported_versions', (r) => readU16List(r, 'supported_versions', 1));
}

export function encodeSupportedVersionsCH(versions: readonly number[]): Uint8Array {
  return u16ListBody(versions, 1);
}

/** ServerHello / HelloRetryRequest form: the selected version. */
export function decodeSupportedVersionsSH(data: Uint8Array): number {
  return decodeAll(data, 'supported_versions', (r) => r.u16());
}

export function encodeU16(v: number): Uint8Array {
  return Uint8Array.of(v >>> 8, v & 0xff);
}

// --- key_share (RFC 8446 §4.2.8) ---------------------------------------------------------------

export interface KeyShareEntry {
  readonly group: number;
  readonly keyExchange: Uint8Array;
}

function readKeyShareEntry(r: Reader): KeyShareEntry {
  const group = r.u16();
  const keyExchange = r.u16Bytes();
  if (keyExchange.length === 0) throw decodeError('key_share: empty key_exchange');
  return { group, keyExchange };
}

/** ClientHello form: client_shares<0..2^16-1>. Duplicate groups → illegal_parameter. */
export function decodeKeyShareCH(data: Uint8Array): KeyShareEntry[] {
  return decodeAll(data, 'key_share', (r) => {
    const n = r.u16();
    r.need(n);
    const end = r.pos + n;
    const out: KeyShareEntry[] = [];
    while (r.pos < end) {
      const e = readKeyShareEntry(r);
      if (r.pos > end) throw decodeError('key_share: entry overruns the list');
      for (const o of out) {
        if (o.group === e.group) throw new TlsAlert(AlertDescription.illegal_parameter, `key_share: group ${e.group} offered twice`);
      }
      out.push(e);
    }
    return out;
  });
}

export function encodeKeyShareCH(shares: readonly KeyShareEntry[]): Uint8Array {
  let n = 0;
  for (const s of shares) n += 4 + s.keyExchange.length;
  const out = new Uint8Array(2 + n);
  out[0] = n >>> 8;
  out[1] = n & 0xff;
  let o = 2;
  for (const s of shares) o = putKeyShareEntry(out, o, s);
  return out;
}

function putKeyShareEntry(out: Uint8Array, o: number, s: KeyShareEntry): number {
  out[o++] = s.group >>> 8;
  out[o++] = s.group & 0xff;
  out[o++] = s.keyExchange.length >>> 8;
  out[o++] = s.keyExchange.length & 0xff;
  out.set(s.keyExchange, o);
  return o + s.keyExchange.length;
}

/** ServerHello form: one KeyShareEntry. */
export function decodeKeyShareSH(data: Uint8Array): KeyShareEntry {
  return decodeAll(data, 'key_share', readKeyShareEntry);
}

export function encodeKeyShareSH(share: KeyShareEntry): Uint8Array {
  const out = new Uint8Array(4 + share.keyExchange.length);
  putKeyShareEntry(out, 0, share);
  return out;
}

/** HelloRetryRequest form: selected_group. */
export function decodeKeyShareHRR(data: Uint8Array): number {
  return decodeAll(data, 'key_share', (r) => r.u16());
}

// --- pre_shared_key (RFC 8446 §4.2.11) ---------------------------------------------------------

export interface PskIdentity {
  readonly identity: Uint8Array;
  readonly obfuscatedTicketAge: number;
}

export interface OfferedPsks {
  readonly identities: PskIdentity[];
  readonly binders: Uint8Array[];
  /** Length of the binders list including its 2-byte length prefix (for Truncate(ClientHello)). */
  readonly bindersLength: number;
}

export function decodeOfferedPsks(data: Uint8Array): OfferedPsks {
  return decodeAll(data, 'pre_shared_key', (r) => {
    const n = r.u16();
    if (n === 0) throw decodeError('pre_shared_key: no identities');
    r.need(n);
    const end = r.pos + n;
    const identities: PskIdentity[] = [];
    while (r.pos < end) {
      const identity = r.u16Bytes();
      if (identity.length === 0) throw decodeError('pre_shared_key: empty identity');
      const obfuscatedTicketAge = r.u32();
      if (r.pos > end) throw decodeError('pre_shared_key: identity overruns the list');
      identities.push({ identity, obfuscatedTicketAge });
    }
    const bindersStart = r.pos;
    const m = r.u16();
    if (m === 0) throw decodeError('pre_shared_key: no binders');
    r.need(m);
    const bend = r.pos + m;
    const binders: Uint8Array[] = [];
    while (r.pos < bend) {
      const b = r.u8Bytes();
      if (b.length < 32) throw decodeError('pre_shared_key: binder shorter than 32 bytes');
      if (r.pos > bend) throw decodeError('pre_shared_key: binder overruns the list');
      binders.push(b);
    }
    if (binders.length !== identities.length) {
      throw new TlsAlert(AlertDescription.illegal_parameter, 'pre_shared_key: binder count differs from identity count');
    }
    return { identities, binders, bindersLength: r.pos - bindersStart };
  });
}

export function encodeOfferedPsks(identities: readonly PskIdentity[], binders: readonly Uint8Array[]): Uint8Array {
  let ni = 0;
  for (const id of identities) ni += 2 + id.identity.length + 4;
  let nb = 0;
  for (const b of binders) nb += 1 + b.length;
  const out = new Uint8Array(2 + ni + 2 + nb);
  let o = 0;
  out[o++] = ni >>> 8;
  out[o++] = ni & 0xff;
  for (const id of identities) {
    out[o++] = id.identity.length >>> 8;
    out[o++] = id.identity.length & 0xff;
    out.set(id.identity, o);
    o += id.identity.length;
    const a = id.obfuscatedTicketAge >>> 0;
    out[o++] = a >>> 24;
    out[o++] = (a >>> 16) & 0xff;
    out[o++] = (a >>> 8) & 0xff;
    out[o++] = a & 0xff;
  }
  out[o++] = nb >>> 8;
  out[o++] = nb & 0xff;
  for (const b of binders) {
    out[o++] = b.length;
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** ServerHello form: selected_identity. */
export function decodeSelectedIdentity(data: Uint8Array): number {
  return decodeAll(data, 'pre_shared_key', (r) => r.u16());
}

// --- psk_key_exchange_modes (RFC 8446 §4.2.9) --------------------------------------------------

export function decodePskModes(data: Uint8Array): number[] {
  return decodeAll(data, 'psk_key_exchange_modes', (r) => {
    const n = r.u8();
    if (n === 0) throw decodeError('psk_key_exchange_modes: empty list');
    return Array.from(r.bytes(n));
  });
}

export function encodePskModes(modes: readonly number[]): Uint8Array {
  const out = new Uint8Array(1 + modes.length);
  out[0] = modes.length;
  out.set(modes, 1);
  return out;
}

// --- early_data (RFC 8446 §4.2.10), NewSessionTicket form ----------------------------------------

export function decodeMaxEarlyData(data: Uint8Array): number {
  return decodeAll(data, 'early_data', (r) => r.u32());
}

export function encodeU32(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

// --- cookie (RFC 8446 §4.2.2) ------------------------------------------------------------------

export function decodeCookie(data: Uint8Array): Uint8Array {
  return decodeAll(data, 'cookie', (r) => {
    const c = r.u16Bytes();
    if (c.length === 0) throw decodeError('cookie: empty');
    return c;
  });
}

export function encodeCookie(cookie: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + cookie.length);
  out[0] = cookie.length >>> 8;
  out[1] = cookie.length & 0xff;
  out.set(cookie, 2);
  return out;
}

// --- certificate_authorities (RFC 8446 §4.2.4): parsed only for validity -------------------------

export function decodeCertificateAuthorities(data: Uint8Array): Uint8Array[] {
  return decodeAll(data, 'certificate_authorities', (r) => {
    const n = r.u16();
    if (n < 3) throw decodeError('certificate_authorities: empty list');
    r.need(n);
    const end = r.pos + n;
    const out: Uint8Array[] = [];
    while (r.pos < end) {
      const dn = r.u16Bytes();
      if (dn.length === 0 || r.pos > end) throw decodeError('certificate_authorities: bad name');
      out.push(dn);
    }
    return out;
  });
}
