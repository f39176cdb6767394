// L7: IP addresses as the 16 bytes a ring slot carries (src/multicore/ring.ts) — the main thread
// turns dgram's rinfo.address string into bytes, the worker turns them back into the string the
// core's PathInfo compares. IPv4 in the first 4 bytes (family 4); IPv6 as its 16 bytes (family 6),
// text per RFC 5952 (lowercase, longest run of ≥ 2 zero groups as "::", first one on a tie,
// IPv4-mapped addresses as ::ffff:a.b.c.d). An IPv6 zone ("%eth0") is not carried.

export const AddressFamily = {
  None: 0,
  IPv4: 4,
  IPv6: 6,
} as const;
export type AddressFamily = (typeof AddressFamily)[keyof typeof AddressFamily];

/** Parse dotted-quad IPv4 at s[start, end) into out[off..off+4). False when malformed. */
function parseV4(s: string, start: number, end: number, out: Uint8Array, off: number): boolean {
  let part = 0;
  let val = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && val === 0) return false; // no leading zeros ("01")
      val = val * 10 + (c - 48);
      if (val > 255 || ++digits > 3) return false;
    } else if (c === 46) {
      if (digits === 0 || part === 3) return false;
      out[off + part++] = val;
      val = 0;
      digits = 0;
    } else return false;
  }
  if (digits === 0 || part !== 3) return false;
  out[off + 3] = val;
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parse IPv6 text at s[0, end) into out[0..16). False when malformed. */
function parseV6(s: string, end: number, out: Uint8Array): boolean {
  // Groups before and after "::" are collected, then placed.
  const groups = new Array<number>(8).fill(0);
  let n = 0;
  let gap = -1; // group index where "::" stands
  let i = 0;
  if (end >= 2 && s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) {
    gap = 0;
    i = 2;
    if (i === end) {
      out.fill(0, 0, 16);
      return true;
    }
  } else if (end > 0 && s.charCodeAt(0) === 58) return false;
  while (i < end) {
    // An embedded IPv4 tail ("::ffff:1.2.3.4"): the rest contains a dot.
    let j = i;
    let hasDot = false;
    while (j < end && s.charCodeAt(j) !== 58) {
      if (s.charCodeAt(j) === 46) hasDot = true;
      j++;
    }
    if (hasDot) {
      if (j !== end || n > 6) return false;
      const v4 = new Uint8Array(4);
      if (!parseV4(s, i, end, v4, 0)) return false;
      groups[n++] = (v4[0]! << 8) | v4[1]!;
      groups[n++] = (v4[2]! << 8) | v4[3]!;
      i = end;
      break;
    }
    const len = j - i;
    if (len === 0 || len > 4 || n === 8) return false;
    let v = 0;
    for (let k = i; k < j; k++) {
      const h = hexValue(s.charCodeAt(k));
      if (h < 0) return false;
      v = (v << 4) | h;
    }
    groups[n++] = v;
    if (j === end) {
      i = end;
      break;
    }
    // s[j] is ':'
    if (j + 1 < end && s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return false; // a second "::"
      gap = n;
      i = j + 2;
    } else {
      if (j + 1 === end) return false; // trailing single ':'
      i = j + 1;
    }
  }
  if (gap < 0) {
    if (n !== 8) return false;
  } else if (n > 7) return false;
  const tail = gap < 0 ? 0 : n - gap;
  const head = gap < 0 ? n : gap;
  let g = 0;
  for (let k = 0; k < head; k++) {
    out[g * 2] = groups[k]! >> 8;
    out[g * 2 + 1] = groups[k]! & 0xff;
    g++;
  }
  for (; g < 8 - tail; g++) {
    out[g * 2] = 0;
    out[g * 2 + 1] = 0;
  }
  for (let k = head; k < n; k++) {
    out[g * 2] = groups[k]! >> 8;
    out[g * 2 + 1] = groups[k]! & 0xff;
    g++;
  }
  return true;
}

/**
 * Write `address` (an IPv4 or IPv6 literal, as dgram reports it) into `out` (≥ 16 bytes). Returns
 * the family (4 or 6), or 0 when the text is not an IP literal (out is then unspecified).
 */
export function encodeAddress(address: string, out: Uint8Array): AddressFamily {
  let end = address.length;
  let colon = false;
  for (let i = 0; i < end; i++) {
    const c = address.charCodeAt(i);
    if (c === 58) colon = true;
    else if (c === 37) {
      end = i; // zone id: not carried
      break;
    }
  }
  if (!colon) return parseV4(address, 0, end, out, 0) ? AddressFamily.IPv4 : AddressFamily.None;
  return parseV6(address, end, out) ? AddressFamily.IPv6 : AddressFamily.None;
}

/** The IPv4 address in bytes[0..4) as text. */
export function formatV4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** The IPv6 address in bytes[0..16) as RFC 5952 text. */
export function formatV6(b: Uint8Array): string {
  // IPv4-mapped (::ffff:0:0/96): dotted tail.
  let mapped = b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false;
  if (mapped) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  let bestStart = -1;
  let bestLen = 0;
  for (let g = 0; g < 8; ) {
    if (b[g * 2] === 0 && b[g * 2 + 1] === 0) {
      let e = g;
      while (e < 8 && b[e * 2] === 0 && b[e * 2 + 1] === 0) e++;
      if (e - g > bestLen) {
        bestStart = g;
        bestLen = e - g;
      }
      g = e;
    } else g++;
  }
  if (bestLen < 2) bestStart = -1;
  let s = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      s += g === 0 ? '::' : ':';
      g += bestLen - 1;
      continue;
    }
    s += ((b[g * 2]! << 8) | b[g * 2 + 1]!).toString(16);
    if (g < 7) s += ':';
  }
  return s;
}

/**
 * Bytes → address text with a bounded cache (the same few peers send most datagrams; formatting
 * IPv6 costs far more than a Map lookup). IPv4 is keyed by its 32-bit value, IPv6 by 16 chars.
 */
export class AddressFormatter {
  private readonly v4 = new Map<number, string>();
  private readonly v6 = new Map<string, string>();
  private readonly limit: number;

  constructor(limit = 4096) {
    this.limit = limit;
  }

  format(family: number, b: Uint8Array): string {
    if (family === AddressFamily.IPv4) {
      const key = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      let s = this.v4.get(key);
      if (s === undefined) {
        if (this.v4.size >= this.limit) this.v4.clear();
        s = formatV4(b);
        this.v4.set(key, s);
      }
      return s;
    }
    if (family === AddressFamily.IPv6) {
      let key = '';
      for (let i = 0; i < 16; i += 2) key += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
      let s = this.v6.get(key);
      if (s === undefined) {
        if (this.v6.size >= this.limit) this.v6.clear();
        s = formatV6(b);
        this.v6.set(key, s);
      }
      return s;
    }
    throw new RangeError(`family: expected 4 or 6, got ${family}`);
  }
}

/**
 * Text → bytes with a one-entry memo (a connection sends to the same peer datagram after datagram:
 * the string is usually the very same object). Returns the family; bytes go to `out`.
 */
export class AddressEncoder {
  private last = '';
  private lastFamily: AddressFamily = AddressFamily.None;
  private readonly lastBytes = new Uint8Array(16);

  encode(address: string, out: Uint8Array): AddressFamily {
    if (address === this.last && this.lastFamily !== AddressFamily.None) {
      out.set(this.lastBytes, 0);
      return this.lastFamily;
    }
    const f = encodeAddress(address, this.lastBytes);
    this.last = address;
    this.lastFamily = f;
    if (f !== AddressFamily.None) out.set(this.lastBytes, 0);
    return f;
  }
}
