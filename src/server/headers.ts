// L7: header conversions between HTTP/3 field lines (RFC 9114 §4.2: lowercase names, no
// connection-specific fields) and node:http's shapes (headers object, rawHeaders) and WHATWG Headers.

import type { HeaderField, HeaderFieldInput } from '../qpack/index.js';

export type OutgoingHeaderValue = number | string | readonly string[];
export type OutgoingHeaders = Record<string, OutgoingHeaderValue | undefined>;
export type IncomingHeaders = Record<string, string | string[] | undefined>;

/** RFC 9114 §4.2: fields HTTP/3 must not carry; node:http users set them out of HTTP/1.1 habit, so they are dropped. */
export const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** Received fields → node:http's `headers` (duplicates joined, set-cookie as an array) and `rawHeaders`. */
export function toNodeHeaders(fields: readonly HeaderField[]): { headers: IncomingHeaders; rawHeaders: string[] } {
  const headers: IncomingHeaders = Object.create(null) as IncomingHeaders;
  const rawHeaders: string[] = [];
  for (const f of fields) {
    const name = f[0];
    const value = f[1];
    rawHeaders.push(name, value);
    const prev = headers[name];
    if (name === 'set-cookie') {
      if (prev === undefined) headers[name] = [value];
      else (prev as string[]).push(value);
    } else if (prev === undefined) {
      headers[name] = value;
    } else if (name === 'cookie') {
      headers[name] = `${prev as string}; ${value}`;
    } else {
      headers[name] = `${prev as string}, ${value}`;
    }
  }
  return { headers, rawHeaders };
}

function checkName(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`name: expected a non-empty header name, got ${String(name)}`);
  return name.toLowerCase();
}

function valueToString(name: string, v: number | string): string {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw new TypeError(`headers[${JSON.stringify(name)}]: expected a string, number or array of strings`);
  return v;
}

/** A node:http-style headers object → field lines (lowercase; arrays become repeated fields). */
export function fromNodeHeaders(obj: OutgoingHeaders): HeaderFieldInput[] {
  const out: HeaderFieldInput[] = [];
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (v === undefined) continue;
    const name = checkName(key);
    if (CONNECTION_SPECIFIC.has(name)) continue;
    if (Array.isArray(v)) for (const x of v as readonly string[]) out.push([name, valueToString(key, x)]);
    else out.push([name, valueToString(key, v as string | number)]);
  }
  return out;
}

/** WHATWG Headers → field lines (set-cookie kept as separate fields). */
export function fromWebHeaders(h: Headers): HeaderFieldInput[] {
  const out: HeaderFieldInput[] = [];
  for (const [name, value] of h) {
    if (CONNECTION_SPECIFIC.has(name)) continue;
    if (name === 'set-cookie') continue;
    out.push([name, value]);
  }
  for (const c of h.getSetCookie()) out.push(['set-cookie', c]);
  return out;
}

/** Field lines → WHATWG Headers (values the WHATWG rules refuse are skipped). */
export function toWebHeaders(fields: readonly HeaderField[]): Headers {
  const h = new Headers();
  for (const f of fields) {
    try {
      h.append(f[0], f[1]);
    } catch {
      // e.g. a value with characters Headers refuses: leave it out of the Web view.
    }
  }
  return h;
}

/** node:http's header-name normalisation for the response object's map. */
export function normalizeName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`name: expected a non-empty header name, got ${String(name)}`);
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new TypeError(`name: invalid header name ${JSON.stringify(name)}`);
  return name.toLowerCase();
}

export function checkValue(name: string, value: unknown): OutgoingHeaderValue {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (/[\r\n\0]/.test(value)) throw new TypeError(`value: invalid character in header ${JSON.stringify(name)}`);
    return value;
  }
  if (Array.isArray(value)) {
    for (const v of value) checkValue(name, v);
    return value as string[];
  }
  throw new TypeError(`value: expected a string, number or array for header ${JSON.stringify(name)}, got ${typeof value}`);
}
