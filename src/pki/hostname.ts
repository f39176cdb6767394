// L3: server identity checks against subjectAltName — RFC 6125 §6.4 (DNS-ID, with only a whole
// left-most label wildcard, §6.4.3 as the CA/Browser Forum and browsers restrict it), RFC 5280
// §4.2.1.6 (iPAddress: 4 or 16 octets, exact match), and the name-constraint subtree tests of
// RFC 5280 §4.2.1.10 for dNSName and iPAddress. The subject CN is never consulted (RFC 6125 §6.4.4
// allows it only without SAN; browsers dropped it): a DNS name needs a SAN dNSName.
import { equal } from '../util/bytes.js';

/** Parse a strict dotted-quad IPv4 literal (no leading zeros, 4 parts); null if not one. */
export function parseIPv4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** Parse an IPv6 literal (RFC 4291 §2.2, optional [brackets], no zone); null if not one. */
export function parseIPv6(input: string): Uint8Array | null {
  let s = input;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (!s.includes(':') || s.includes('%')) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const groups = part.split(':');
    const out: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !tail) return null;
  let words: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return null;
    words = [...head, ...new Array<number>(fill).fill(0), ...tail];
  } else {
    words = head;
  }
  if (words.length !== 8) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

/** The address bytes if `host` is an IPv4 or IPv6 literal, else null. */
export function parseIpLiteral(host: string): Uint8Array | null {
  return parseIPv4(host) ?? parseIPv6(host);
}

/** Lower-case a DNS name and drop one trailing dot (absolute form). */
export function normalizeDnsName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Does SAN dNSName `pattern` match host name `host` (both any case)? Exact match, or a wildcard
 * that is the whole left-most label ("*.example.com") matching exactly one non-empty label, with at
 * least two labels after it (no "*.com"). Partial-label wildcards ("f*.example.com") never match.
 */
export function matchDnsName(pattern: string, host: string): boolean {
  const p = normalizeDnsName(pattern);
  const h = normalizeDnsName(host);
  if (p.length === 0 || h.length === 0) return false;
  if (!p.includes('*')) return p === h;
  if (!p.startsWith('*.')) return false;
  const rest = p.slice(2);
  if (rest.includes('*') || !rest.includes('.') || rest.startsWith('.') || rest.endsWith('.')) return false;
  const dot = h.indexOf('.');
  if (dot <= 0) return false;
  return h.slice(dot + 1) === rest;
}

/** Is `ip` one of the SAN iPAddress entries (exact, same family)? */
export function matchIp(sanIps: readonly Uint8Array[], ip: Uint8Array): boolean {
  for (const a of sanIps) if (equal(a, ip)) return true;
  return false;
}

/**
 * RFC 5280 §4.2.1.10 dNSName subtree: "example.com" covers itself and every subdomain; a leading
 * dot (".example.com", a common extension) covers subdomains only. `name` may be a wildcard
 * pattern: "*.example.com" is within a subtree when every name it can match is.
 */
export function dnsWithinSubtree(name: string, subtree: string): boolean {
  const n = normalizeDnsName(name);
  const c = normalizeDnsName(subtree);
  if (c === '' || c === '.') return true; // an empty constraint covers every name
  if (c.startsWith('.')) return n.endsWith(c) && n.length > c.length;
  return n === c || n.endsWith('.' + c);
}

/** Could wildcard pattern `name` match some name inside `subtree`? (For excluded subtrees.) */
export function dnsMayIntersectSubtree(name: string, subtree: string): boolean {
  if (dnsWithinSubtree(name, subtree)) return true;
  const n = normalizeDnsName(name);
  if (!n.startsWith('*.')) return false;
  const rest = n.slice(2);
  const c = normalizeDnsName(subtree).replace(/^\./, '');
  // "*.rest" matches "x.rest"; it meets subtree c when c is exactly one label above rest.
  const dot = c.indexOf('.');
  return dot > 0 && c.slice(dot + 1) === rest;
}

/** RFC 5280 §4.2.1.10 iPAddress subtree: same family and (ip & mask) == (addr & mask). */
export function ipWithinSubtree(ip: Uint8Array, addr: Uint8Array, mask: Uint8Array): boolean {
  if (ip.length !== addr.length || mask.length !== addr.length) return false;
  for (let i = 0; i < ip.length; i++) if ((ip[i]! & mask[i]!) !== (addr[i]! & mask[i]!)) return false;
  return true;
}
