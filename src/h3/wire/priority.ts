// L1 RFC 9218 priority parameters (§4: urgency "u" 0..7 default 3, §4.2: incremental "i" default
// false) from a Priority header field value or a PRIORITY_UPDATE Priority Field Value (§7). The
// value is a Structured Field Dictionary (RFC 8941 §3.2), parsed per RFC 8941 §4.2.2. Unknown keys,
// out-of-range or wrongly typed values are ignored (RFC 9218 §4); a value that fails to parse is
// ignored as a whole (RFC 8941 §4.2), leaving the defaults. Never throws.

export interface Priority {
  /** 0 (most urgent) .. 7; default 3. */
  urgency: number;
  /** Whether the response can be delivered interleaved with others of the same urgency; default false. */
  incremental: boolean;
}

export const DEFAULT_URGENCY = 3;

export function defaultPriority(): Priority {
  return { urgency: DEFAULT_URGENCY, incremental: false };
}

/** Serialize, omitting default parameters ("" for the defaults). */
export function serializePriority(p: Priority): string {
  const parts: string[] = [];
  if (p.urgency !== DEFAULT_URGENCY) parts.push(`u=${p.urgency}`);
  if (p.incremental) parts.push('i');
  return parts.join(', ');
}

// ---- a small RFC 8941 parser: enough to validate any dictionary and extract bare items ---------
// Malformed input is expected peer input, so every step reports failure as a return value (DESIGN
// §7.6): bareItem() a Bare kind (FAIL = -1), the others false.

const FAIL = -1;
const OTHER = 0;
const INT = 1;
const BOOL = 2;
type Bare = typeof FAIL | typeof OTHER | typeof INT | typeof BOOL;

class SfParser {
  s: string;
  i = 0;
  /** The value of the last INT (number) or BOOL (1/0) bareItem(). */
  val = 0;
  constructor(s: string) {
    this.s = s;
  }
  peek(): number {
    return this.i < this.s.length ? this.s.charCodeAt(this.i) : -1;
  }
  sp(): void {
    while (this.peek() === 0x20) this.i++;
  }
  ows(): void {
    for (let c = this.peek(); c === 0x20 || c === 0x09; c = this.peek()) this.i++;
  }
  /** RFC 8941 §4.2.3.3 key; false when none starts here. */
  key(): boolean {
    const c = this.peek();
    if (!((c >= 0x61 && c <= 0x7a) || c === 0x2a)) return false;
    this.i++;
    for (let d = this.peek(); (d >= 0x61 && d <= 0x7a) || (d >= 0x30 && d <= 0x39) || d === 0x5f || d === 0x2d || d === 0x2e || d === 0x2a; d = this.peek()) this.i++;
    return true;
  }
  bareItem(): Bare {
    const c = this.peek();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x22) return this.string();
    if (c === 0x3a) return this.bytes();
    if (c === 0x3f) return this.boolean();
    if (c === 0x2a || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return this.token();
    return FAIL;
  }
  number(): Bare {
    let neg = false;
    if (this.peek() === 0x2d) {
      neg = true;
      this.i++;
    }
    let digits = 0;
    let intDigits = -1;
    let v = 0;
    for (;;) {
      const c = this.peek();
      if (c >= 0x30 && c <= 0x39) {
        digits++;
        v = v * 10 + (c - 0x30);
        this.i++;
        if (intDigits < 0 && digits > 15) return FAIL;
        if (intDigits >= 0 && (digits - intDigits > 3 || intDigits > 12)) return FAIL;
      } else if (c === 0x2e && intDigits < 0) {
        if (digits === 0 || digits > 12) return FAIL;
        intDigits = digits;
        this.i++;
      } else {
        break;
      }
    }
    if (digits === 0) return FAIL;
    if (intDigits >= 0) return digits === intDigits ? FAIL : OTHER; // "1." has no fraction digits; else a decimal
    this.val = neg ? -v : v;
    return INT;
  }
  string(): Bare {
    this.i++;
    for (;;) {
      const c = this.peek();
      if (c < 0) return FAIL;
      this.i++;
      if (c === 0x22) return OTHER;
      if (c === 0x5c) {
        const d = this.peek();
        if (d !== 0x22 && d !== 0x5c) return FAIL;
        this.i++;
      } else if (c < 0x20 || c > 0x7e) {
        return FAIL;
      }
    }
  }
  bytes(): Bare {
    this.i++;
    const start = this.i;
    for (;;) {
      const c = this.peek();
      if (c < 0) return FAIL;
      if (c === 0x3a) break;
      if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === 0x3d)) return FAIL;
      this.i++;
    }
    if ((this.i - start) % 4 !== 0) return FAIL;
    this.i++;
    return OTHER;
  }
  boolean(): Bare {
    this.i++;
    const c = this.peek();
    if (c !== 0x30 && c !== 0x31) return FAIL;
    this.i++;
    this.val = c === 0x31 ? 1 : 0;
    return BOOL;
  }
  token(): Bare {
    this.i++;
    for (;;) {
      const c = this.peek();
      // tchar / ":" / "/"
      const ok =
        (c >= 0x30 && c <= 0x39) ||
        (c >= 0x41 && c <= 0x5a) ||
        (c >= 0x61 && c <= 0x7a) ||
        c === 0x21 || c === 0x23 || c === 0x24 || c === 0x25 || c === 0x26 || c === 0x27 || c === 0x2a || c === 0x2b ||
        c === 0x2d || c === 0x2e || c === 0x5e || c === 0x5f || c === 0x60 || c === 0x7c || c === 0x7e || c === 0x3a || c === 0x2f;
      if (!ok) return OTHER;
      this.i++;
    }
  }
  parameters(): boolean {
    while (this.peek() === 0x3b) {
      this.i++;
      this.sp();
      if (!this.key()) return false;
      if (this.peek() === 0x3d) {
        this.i++;
        if (this.bareItem() === FAIL) return false;
      }
    }
    return true;
  }
  innerList(): boolean {
    this.i++; // "("
    for (;;) {
      this.sp();
      const c = this.peek();
      if (c === 0x29) {
        this.i++;
        return this.parameters();
      }
      if (this.bareItem() === FAIL || !this.parameters()) return false;
      const d = this.peek();
      if (d !== 0x20 && d !== 0x29) return false;
    }
  }
}

/**
 * Parse a Priority field value (RFC 9218 §4, §5) or PRIORITY_UPDATE value (§7). `undefined`, empty
 * or malformed input gives the defaults (u=3, non-incremental).
 */
export function parsePriority(value: string | undefined | null): Priority {
  const out = defaultPriority();
  if (!value) return out;
  let u = DEFAULT_URGENCY;
  let inc = false;
  const p = new SfParser(value);
  p.sp();
  if (p.i === value.length) return out;
  for (;;) {
    const keyStart = p.i;
    if (!p.key()) return out;
    // The two keys RFC 9218 defines are one char long.
    const k = p.i - keyStart === 1 ? value.charCodeAt(keyStart) : 0;
    let item: Bare;
    if (p.peek() === 0x3d) {
      p.i++;
      if (p.peek() === 0x28) {
        if (!p.innerList()) return out;
        item = OTHER;
      } else {
        item = p.bareItem();
        if (item === FAIL || !p.parameters()) return out;
      }
    } else {
      item = BOOL; // a bare key is Boolean true (RFC 8941 §4.2.2)
      p.val = 1;
      if (!p.parameters()) return out;
    }
    // Later duplicates overwrite earlier ones (RFC 8941 §4.2.2); bad types fall back to the default.
    if (k === 0x75) u = item === INT && p.val >= 0 && p.val <= 7 ? p.val : DEFAULT_URGENCY;
    else if (k === 0x69) inc = item === BOOL && p.val === 1;
    p.ows();
    if (p.i === value.length) break;
    if (p.peek() !== 0x2c) return out;
    p.i++;
    p.ows();
    if (p.i === value.length) return out; // trailing comma
  }
  out.urgency = u;
  out.incremental = inc;
  return out;
}
