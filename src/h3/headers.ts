// L6 HTTP/3 message header rules: RFC 9114 §4.1.2 (malformed messages), §4.2 (lowercase names,
// connection-specific fields, TE), §4.2.1 (cookie crumbs), §4.3 (pseudo-header fields: order,
// duplicates, required/forbidden per request/response/trailers), §4.3.1 (request pseudo-headers,
// :authority vs Host), §4.4 (CONNECT), §10.3 (field name/value characters, RFC 9110 §5.1/§5.5),
// RFC 9110 §8.6 (Content-Length), RFC 9220 §3 + RFC 8441 §4 (Extended CONNECT, :protocol).
//
// One checker serves both directions: received sections that break a rule are malformed
// (H3Error H3_MESSAGE_ERROR as a stream error, §4.1.2); sections the application asks to send that
// break one are API misuse (TypeError naming `headers`).

import { H3Error, H3ErrorCode } from './wire/index.js';
import type { HeaderField, HeaderFieldInput } from '../qpack/index.js';

/** A validated request header section. */
export interface RequestHead {
  method: string;
  /** undefined for CONNECT (RFC 9114 §4.4). */
  scheme: string | undefined;
  authority: string | undefined;
  /** undefined for CONNECT. */
  path: string | undefined;
  /** RFC 9220 Extended CONNECT protocol, e.g. "websocket", "connect-udp", "webtransport". */
  protocol: string | undefined;
  /** Regular fields (no pseudo-headers), cookie lines joined with "; " (§4.2.1). */
  headers: HeaderField[];
  /** Content-Length, or -1 when absent. */
  contentLength: number;
}

/** A validated response header section (interim or final). */
export interface ResponseHead {
  status: number;
  headers: HeaderField[];
  contentLength: number;
}

// Character classes (RFC 9110 §5.6.2 tchar; field-vchar = VCHAR / obs-text, §5.5).
const NAME_OK = 1;
const NAME_UPPER = 2;
const NAME_CLASS = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") NAME_CLASS[c.charCodeAt(0)] = NAME_OK;
for (let c = 0x30; c <= 0x39; c++) NAME_CLASS[c] = NAME_OK;
for (let c = 0x61; c <= 0x7a; c++) NAME_CLASS[c] = NAME_OK;
for (let c = 0x41; c <= 0x5a; c++) NAME_CLASS[c] = NAME_UPPER;

/** Why a field name is invalid (RFC 9114 §4.2, §10.3), or null. `start` skips a pseudo-header colon. */
function nameProblem(name: string, start: number): string | null {
  if (name.length <= start) return 'empty field name';
  for (let i = start; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const k = c < 256 ? NAME_CLASS[c]! : 0;
    if (k === NAME_OK) continue;
    if (k === NAME_UPPER) return `uppercase character in field name "${name}"`;
    return `invalid character 0x${c.toString(16)} in field name`;
  }
  return null;
}

/** RFC 9110 §5.6.2 token (methods may be any case). */
function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 256 || NAME_CLASS[c] === 0) return false;
  }
  return true;
}

/** Why a field value is invalid (RFC 9110 §5.5 field-content, RFC 9114 §10.3), or null. */
function valueProblem(name: string, value: string): string | null {
  const n = value.length;
  if (n === 0) return null;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if ((c >= 0x21 && c <= 0x7e) || (c >= 0x80 && c <= 0xff)) continue;
    if (c === 0x20 || c === 0x09) {
      if (i === 0 || i === n - 1) return `leading or trailing whitespace in the value of "${name}"`;
      continue;
    }
    return `invalid character 0x${c.toString(16)} in the value of "${name}"`;
  }
  return null;
}

/** Connection-specific fields (RFC 9114 §4.2, RFC 9110 §7.6.1). */
function connectionSpecific(name: string, value: string, request: boolean): string | null {
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'transfer-encoding':
    case 'upgrade':
      return `connection-specific field "${name}"`;
    case 'te':
      if (!request) return 'TE in a response';
      if (value.toLowerCase() !== 'trailers') return `TE value "${value}" other than "trailers"`;
      return null;
    default:
      return null;
  }
}

/** Parse Content-Length (RFC 9110 §8.6): digits; repeated identical values are one value. -2 = invalid. */
function parseContentLength(value: string, prev: number): number {
  let result = -1;
  let i = 0;
  const n = value.length;
  while (i < n) {
    while (i < n && (value.charCodeAt(i) === 0x20 || value.charCodeAt(i) === 0x09)) i++;
    const start = i;
    let v = 0;
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      i++;
    }
    if (i === start || i - start > 15) return -2;
    while (i < n && (value.charCodeAt(i) === 0x20 || value.charCodeAt(i) === 0x09)) i++;
    if (i < n) {
      if (value.charCodeAt(i) !== 0x2c) return -2;
      i++;
      if (i === n) return -2;
    }
    if (result >= 0 && v !== result) return -2;
    result = v;
  }
  if (result < 0) return -2;
  if (prev >= 0 && prev !== result) return -2;
  return result;
}

/** Problems are reported through this (received: H3Error; to send: TypeError). */
type Fail = (reason: string) => never;

function failReceived(reason: string): never {
  throw new H3Error(H3ErrorCode.H3_MESSAGE_ERROR, reason, -1, true);
}

function failSend(reason: string): never {
  throw new TypeError(`headers: ${reason}`);
}

/**
 * Check the regular fields from index `from`, collecting them (cookies joined) into `out`.
 * Returns the Content-Length (-1 absent).
 */
function regularFields(fields: ReadonlyArray<HeaderFieldInput>, from: number, request: boolean, out: HeaderField[], fail: Fail): number {
  let contentLength = -1;
  let cookieAt = -1;
  for (let i = from; i < fields.length; i++) {
    const f = fields[i]!;
    const name = f[0];
    const value = f[1];
    if (name.charCodeAt(0) === 0x3a) fail(`pseudo-header field "${name}" after a regular field`);
    const np = nameProblem(name, 0);
    if (np) fail(np);
    const vp = valueProblem(name, value);
    if (vp) fail(vp);
    const cs = connectionSpecific(name, value, request);
    if (cs) fail(cs);
    if (name === 'content-length') {
      contentLength = parseContentLength(value, contentLength);
      if (contentLength === -2) fail(`invalid or conflicting content-length "${value}"`);
    }
    if (name === 'cookie') {
      if (cookieAt >= 0) {
        const c = out[cookieAt]!;
        const joined = `${c[1]}; ${value}`;
        out[cookieAt] = c[2] === true || f[2] === true ? [c[0], joined, true] : [c[0], joined];
        continue;
      }
      cookieAt = out.length;
    }
    out.push(f[2] === true ? [name, value, true] : [name, value]);
  }
  return contentLength;
}

/** Index of the first regular field, after checking the pseudo-header names' syntax. */
function pseudoEnd(fields: ReadonlyArray<HeaderFieldInput>, fail: Fail): number {
  let i = 0;
  for (; i < fields.length; i++) {
    const f = fields[i]!;
    if (typeof f[0] !== 'string' || typeof f[1] !== 'string') fail(`field ${i} must be [name, value] strings`);
    if (f[0].charCodeAt(0) !== 0x3a) break;
  }
  for (let j = i; j < fields.length; j++) {
    const f = fields[j]!;
    if (typeof f[0] !== 'string' || typeof f[1] !== 'string') fail(`field ${j} must be [name, value] strings`);
  }
  return i;
}

function checkAuthority(authority: string, scheme: string | undefined, fail: Fail): void {
  if (authority.length === 0) fail('empty :authority');
  const vp = valueProblem(':authority', authority);
  if (vp) fail(vp);
  for (let i = 0; i < authority.length; i++) {
    const c = authority.charCodeAt(i);
    if (c === 0x40 && (scheme === 'http' || scheme === 'https')) fail(':authority contains userinfo');
    if (c <= 0x20 || c === 0x2f || c === 0x3f || c === 0x23 || c >= 0x7f) fail(`invalid character 0x${c.toString(16)} in :authority`);
  }
}

function requestHead(fields: ReadonlyArray<HeaderFieldInput>, connectProtocol: boolean, fail: Fail): RequestHead {
  const end = pseudoEnd(fields, fail);
  let method: string | undefined;
  let scheme: string | undefined;
  let authority: string | undefined;
  let path: string | undefined;
  let protocol: string | undefined;
  for (let i = 0; i < end; i++) {
    const [name, value] = fields[i]!;
    switch (name) {
      case ':method':
        if (method !== undefined) fail('duplicate :method');
        method = value;
        break;
      case ':scheme':
        if (scheme !== undefined) fail('duplicate :scheme');
        scheme = value;
        break;
      case ':authority':
        if (authority !== undefined) fail('duplicate :authority');
        authority = value;
        break;
      case ':path':
        if (path !== undefined) fail('duplicate :path');
        path = value;
        break;
      case ':protocol':
        if (protocol !== undefined) fail('duplicate :protocol');
        protocol = value;
        break;
      case ':status':
        fail(':status in a request');
        break;
      default:
        fail(`unknown pseudo-header field "${name}"`);
    }
  }
  if (method === undefined) fail('missing :method');
  if (!isToken(method)) fail(`invalid :method "${method}"`);
  const headers: HeaderField[] = [];
  const contentLength = regularFields(fields, end, true, headers, fail);

  if (protocol !== undefined) {
    // RFC 9220 §3, RFC 8441 §4.
    if (!connectProtocol) fail(':protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL');
    if (method !== 'CONNECT') fail(':protocol with a method other than CONNECT');
    if (protocol.length === 0 || valueProblem(':protocol', protocol)) fail('invalid :protocol');
    if (scheme === undefined || path === undefined || authority === undefined) fail('Extended CONNECT without :scheme, :path and :authority');
  } else if (method === 'CONNECT') {
    // RFC 9114 §4.4.
    if (scheme !== undefined || path !== undefined) fail('CONNECT with :scheme or :path');
    if (authority === undefined) fail('CONNECT without :authority');
    checkAuthority(authority, undefined, fail);
    for (const h of headers) if (h[0] === 'host' && h[1] !== authority) fail(':authority and host differ');
    return { method, scheme, authority, path, protocol, headers, contentLength };
  } else {
    if (scheme === undefined) fail('missing :scheme');
    if (path === undefined) fail('missing :path');
  }
  const sp = scheme.length === 0 ? 'empty :scheme' : valueProblem(':scheme', scheme);
  if (sp) fail(sp);
  const httpish = scheme === 'http' || scheme === 'https';
  if (path.length === 0) fail('empty :path');
  const pp = valueProblem(':path', path);
  if (pp) fail(pp);
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 0x20) fail('space in :path');
  if (httpish && path.charCodeAt(0) !== 0x2f && !(path === '*' && method === 'OPTIONS')) {
    fail(`:path "${path}" is neither absolute ("/…") nor "*" for OPTIONS`);
  }
  let host: string | undefined;
  for (const h of headers) {
    if (h[0] !== 'host') continue;
    if (host !== undefined) fail('duplicate host');
    host = h[1];
  }
  if (authority !== undefined) checkAuthority(authority, scheme, fail);
  if (host !== undefined) {
    if (host.length === 0) fail('empty host');
    if (authority !== undefined && host !== authority) fail(':authority and host differ');
  }
  if (httpish && authority === undefined && host === undefined) fail(`${scheme} request without :authority or host`);
  return { method, scheme, authority, path, protocol, headers, contentLength };
}

function responseHead(fields: ReadonlyArray<HeaderFieldInput>, fail: Fail): ResponseHead {
  const end = pseudoEnd(fields, fail);
  let status: string | undefined;
  for (let i = 0; i < end; i++) {
    const [name, value] = fields[i]!;
    if (name === ':status') {
      if (status !== undefined) fail('duplicate :status');
      status = value;
    } else if (name === ':method' || name === ':scheme' || name === ':authority' || name === ':path' || name === ':protocol') {
      fail(`request pseudo-header field "${name}" in a response`);
    } else {
      fail(`unknown pseudo-header field "${name}"`);
    }
  }
  if (status === undefined) fail('missing :status');
  if (!/^[1-5][0-9][0-9]$/.test(status)) fail(`invalid :status "${status}"`);
  const code = Number(status);
  if (code === 101) fail(':status 101 (HTTP/3 has no Upgrade, RFC 9114 §4.5)');
  const headers: HeaderField[] = [];
  const contentLength = regularFields(fields, end, false, headers, fail);
  return { status: code, headers, contentLength };
}

function trailerFields(fields: ReadonlyArray<HeaderFieldInput>, fail: Fail): HeaderField[] {
  const end = pseudoEnd(fields, fail);
  if (end > 0) fail(`pseudo-header field "${fields[0]![0]}" in a trailer section`);
  const out: HeaderField[] = [];
  regularFields(fields, 0, true, out, fail);
  return out;
}

/** Validate a received request header section; malformed → H3Error(H3_MESSAGE_ERROR) stream error. */
export function parseRequestHead(fields: ReadonlyArray<HeaderField>, connectProtocolEnabled: boolean): RequestHead {
  return requestHead(fields, connectProtocolEnabled, failReceived);
}

/** Validate a received response header section; malformed → H3Error(H3_MESSAGE_ERROR) stream error. */
export function parseResponseHead(fields: ReadonlyArray<HeaderField>): ResponseHead {
  return responseHead(fields, failReceived);
}

/** Validate a received trailer section; malformed → H3Error(H3_MESSAGE_ERROR) stream error. */
export function parseTrailers(fields: ReadonlyArray<HeaderField>): HeaderField[] {
  return trailerFields(fields, failReceived);
}

/** Check a request the application wants to send (TypeError naming `headers`). */
export function checkRequestToSend(fields: ReadonlyArray<HeaderFieldInput>, peerConnectProtocol: boolean): RequestHead {
  if (!Array.isArray(fields)) throw new TypeError('headers must be an array of [name, value] pairs');
  return requestHead(fields, peerConnectProtocol, failSend);
}

/** Check a response the application wants to send (TypeError naming `headers`). */
export function checkResponseToSend(fields: ReadonlyArray<HeaderFieldInput>): ResponseHead {
  if (!Array.isArray(fields)) throw new TypeError('headers must be an array of [name, value] pairs');
  return responseHead(fields, failSend);
}

/** Check trailers the application wants to send (TypeError naming `headers`). */
export function checkTrailersToSend(fields: ReadonlyArray<HeaderFieldInput>): void {
  if (!Array.isArray(fields)) throw new TypeError('trailers must be an array of [name, value] pairs');
  trailerFields(fields, (reason) => {
    throw new TypeError(`trailers: ${reason}`);
  });
}

/**
 * Split cookie values into crumbs ("a=1; b=2" → two field lines) so each can be indexed on its own
 * (RFC 9114 §4.2.1). Returns `fields` itself when there is nothing to split.
 */
export function splitCookies(fields: ReadonlyArray<HeaderFieldInput>): ReadonlyArray<HeaderFieldInput> {
  let out: HeaderFieldInput[] | null = null;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f[0] === 'cookie' && f[1].includes('; ')) {
      out ??= fields.slice(0, i);
      for (const crumb of f[1].split('; ')) out.push(f[2] === true ? ['cookie', crumb, true] : ['cookie', crumb]);
    } else if (out) {
      out.push(f);
    }
  }
  return out ?? fields;
}

/** RFC 9114 §4.2.2 field section size of an outgoing list: Σ (name + value + 32). */
export function headerListSize(fields: ReadonlyArray<HeaderFieldInput>): number {
  let n = 0;
  for (const f of fields) n += f[0].length + f[1].length + 32;
  return n;
}
