// L3: PEM textual encoding (RFC 7468 §2–3) and the base64 it wraps (RFC 4648 §4).
// Decoding follows RFC 7468's "lax" reading outside blocks (explanatory text is skipped) and is
// strict inside: matching BEGIN/END labels, canonical base64 with padding, no RFC 1421 headers.
// Encoding is RFC 7468's strict form: 64-character lines, LF line endings.

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INV = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INV[B64.charCodeAt(i)] = i;

/** Standard base64 with padding (RFC 4648 §4). */
export function base64Encode(data: Uint8Array): string {
  let out = '';
  const n = data.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
    out += B64[v >>> 18]! + B64[(v >>> 12) & 63]! + B64[(v >>> 6) & 63]! + B64[v & 63]!;
  }
  if (n - i === 1) {
    const v = data[i]! << 16;
    out += B64[v >>> 18]! + B64[(v >>> 12) & 63]! + '==';
  } else if (n - i === 2) {
    const v = (data[i]! << 16) | (data[i + 1]! << 8);
    out += B64[v >>> 18]! + B64[(v >>> 12) & 63]! + B64[(v >>> 6) & 63]! + '=';
  }
  return out;
}

/**
 * Strict base64 decoding: ASCII whitespace is ignored; anything else outside the alphabet, a
 * length not a multiple of 4, misplaced '=' or non-zero pad bits throw TypeError.
 */
export function base64Decode(text: string): Uint8Array {
  const s = text.replace(/[\t\n\r ]+/g, '');
  if (s.length % 4 !== 0) throw new TypeError('base64: length is not a multiple of 4');
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  const outLen = (s.length / 4) * 3 - pad;
  const out = new Uint8Array(outLen);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    const a = c0 < 128 ? B64_INV[c0]! : -1;
    const b = c1 < 128 ? B64_INV[c1]! : -1;
    const c = last && pad === 2 ? 0 : c2 < 128 ? B64_INV[c2]! : -1;
    const d = last && pad >= 1 ? 0 : c3 < 128 ? B64_INV[c3]! : -1;
    if ((a | b | c | d) < 0) throw new TypeError(`base64: invalid character near offset ${i}`);
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >>> 16;
    if (o < outLen) out[o++] = (v >>> 8) & 0xff;
    if (o < outLen) out[o++] = v & 0xff;
    if (last && ((pad === 2 && (v & 0xffff) !== 0) || (pad === 1 && (v & 0xff) !== 0))) {
      throw new TypeError('base64: non-zero padding bits');
    }
  }
  return out;
}

const LABEL_RE = /^[\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*$/;

function checkLabel(label: string, arg: string): void {
  if (typeof label !== 'string' || (label !== '' && !LABEL_RE.test(label))) {
    throw new TypeError(`${arg}: invalid PEM label ${JSON.stringify(label)}`);
  }
}

const BLOCK_RE = /-----BEGIN ([^\r\n-]*(?:-[^\r\n-]+)*)-----([\s\S]*?)-----END ([^\r\n-]*(?:-[^\r\n-]+)*)-----/g;

/**
 * Every PEM block in `text` (optionally only those labelled `label`, e.g. 'CERTIFICATE'), in order.
 * Text outside blocks is ignored. A block with mismatched END label, RFC 1421 headers
 * (legacy encryption) or invalid base64 throws TypeError, even when its label is not asked for.
 */
export function pemDecode(text: string, label?: string): Uint8Array[] {
  if (typeof text !== 'string') throw new TypeError('text: expected a string');
  if (label !== undefined) checkLabel(label, 'label');
  const out: Uint8Array[] = [];
  BLOCK_RE.lastIndex = 0;
  for (let m = BLOCK_RE.exec(text); m; m = BLOCK_RE.exec(text)) {
    const begin = m[1]!;
    const end = m[3]!;
    if (begin !== end) throw new TypeError(`text: PEM BEGIN ${begin} closed by END ${end}`);
    const body = m[2]!;
    if (body.includes(':')) throw new TypeError(`text: PEM block ${begin} has headers (legacy encryption is not supported)`);
    if (label !== undefined && begin !== label) continue;
    try {
      out.push(base64Decode(body));
    } catch (e) {
      throw new TypeError(`text: PEM block ${begin}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** One PEM block with 64-column base64 lines and a trailing newline (RFC 7468 §2). */
export function pemEncode(der: Uint8Array, label: string): string {
  if (!(der instanceof Uint8Array)) throw new TypeError('der: expected a Uint8Array');
  checkLabel(label, 'label');
  const b64 = base64Encode(der);
  let out = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  return out + `-----END ${label}-----\n`;
}
