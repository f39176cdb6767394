// L0: RangeSet — a sorted set of disjoint, non-adjacent half-open integer ranges [start, end).
// Used for received packet numbers (ACK ranges, RFC 9000 §13.2.3 / §19.3.1), received and
// acknowledged stream offsets (RFC 9000 §2.2) and lost-range retransmission queues.
//
// Storage is one interleaved number array [s0, e0, s1, e1, …] in ascending order. Inserting at or
// after the last range (a new largest packet number, in-order stream data) is O(1) amortised;
// other inserts and removals binary-search then splice. Indexed accessors (`start(i)`, `end(i)`)
// let hot paths walk the ranges without allocating iterators or closures.
// Values are plain numbers: exact up to 2^53 (DESIGN §7.4).

export class RangeSet {
  /** Interleaved [start0, end0, start1, end1, …], ascending, disjoint and non-adjacent. */
  private r: number[] = [];

  /** Number of ranges. */
  get length(): number {
    return this.r.length >> 1;
  }

  get isEmpty(): boolean {
    return this.r.length === 0;
  }

  /** Start (inclusive) of range `i` (0 = lowest). */
  start(i: number): number {
    return this.r[i << 1]!;
  }

  /** End (exclusive) of range `i` (0 = lowest). */
  end(i: number): number {
    return this.r[(i << 1) + 1]!;
  }

  /** Smallest member, or -1 when empty. */
  min(): number {
    return this.r.length === 0 ? -1 : this.r[0]!;
  }

  /** Largest member, or -1 when empty. */
  max(): number {
    return this.r.length === 0 ? -1 : this.r[this.r.length - 1]! - 1;
  }

  /** Total number of integers covered (O(ranges)). */
  count(): number {
    const r = this.r;
    let n = 0;
    for (let k = 0; k < r.length; k += 2) n += r[k + 1]! - r[k]!;
    return n;
  }

  clear(): void {
    this.r.length = 0;
  }

  /**
   * Index of the first range whose end is greater than `v` — the range containing `v`, or the
   * first one above it. Returns `length` when every range ends at or below `v`.
   */
  indexAfter(v: number): number {
    const r = this.r;
    let lo = 0;
    let hi = r.length >> 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r[(mid << 1) + 1]! > v) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  contains(v: number): boolean {
    const i = this.indexAfter(v);
    return i < this.r.length >> 1 && this.r[i << 1]! <= v;
  }

  /** True when every integer of [start, end) is a member (true for an empty interval). */
  containsRange(start: number, end: number): boolean {
    if (end <= start) return true;
    const i = this.indexAfter(start);
    return i < this.r.length >> 1 && this.r[i << 1]! <= start && this.r[(i << 1) + 1]! >= end;
  }

  /** Smallest integer ≥ `from` that is not a member. */
  firstGap(from = 0): number {
    const i = this.indexAfter(from);
    if (i < this.r.length >> 1 && this.r[i << 1]! <= from) return this.r[(i << 1) + 1]!;
    return from;
  }

  /** Add the single value `v`; returns true if it was not already a member. */
  add(v: number): boolean {
    return this.insert(v, v + 1) === 1;
  }

  /**
   * Add [start, end). Returns how many integers were newly added (0 = all were members already).
   * O(1) amortised when start ≥ the start of the last range.
   */
  insert(start: number, end: number): number {
    if (end <= start) return 0;
    const r = this.r;
    const n = r.length;
    if (n === 0 || start > r[n - 1]!) {
      r.push(start, end);
      return end - start;
    }
    if (start >= r[n - 2]!) {
      // Overlaps or touches the last range: extend it.
      const lastEnd = r[n - 1]!;
      if (end <= lastEnd) return 0;
      r[n - 1] = end;
      return end - lastEnd;
    }
    // General case: ranges i..j-1 overlap or touch [start, end).
    const count = n >> 1;
    let i = 0;
    {
      let lo = 0;
      let hi = count;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (r[(mid << 1) + 1]! >= start) hi = mid;
        else lo = mid + 1;
      }
      i = lo;
    }
    let j = i;
    let covered = 0;
    while (j < count && r[j << 1]! <= end) {
      covered += r[(j << 1) + 1]! - r[j << 1]!;
      j++;
    }
    if (i === j) {
      r.splice(i << 1, 0, start, end);
      return end - start;
    }
    const newStart = Math.min(r[i << 1]!, start);
    const newEnd = Math.max(r[((j - 1) << 1) + 1]!, end);
    r[i << 1] = newStart;
    r[(i << 1) + 1] = newEnd;
    if (j - i > 1) r.splice((i + 1) << 1, (j - i - 1) << 1);
    return newEnd - newStart - covered;
  }

  /** Remove [start, end). Returns how many integers were removed. */
  remove(start: number, end: number): number {
    if (end <= start) return 0;
    const r = this.r;
    let i = this.indexAfter(start);
    let removed = 0;
    while (i < r.length >> 1) {
      const s = r[i << 1]!;
      const e = r[(i << 1) + 1]!;
      if (s >= end) break;
      if (s < start) {
        if (e > end) {
          // [start, end) strictly inside: split.
          r.splice((i << 1) + 1, 0, start, end);
          return removed + (end - start);
        }
        r[(i << 1) + 1] = start;
        removed += e - start;
        i++;
      } else if (e > end) {
        r[i << 1] = end;
        removed += end - s;
        break;
      } else {
        r.splice(i << 1, 2);
        removed += e - s;
      }
    }
    return removed;
  }

  /** Remove every member below `v`. Returns how many were removed. */
  removeBelow(v: number): number {
    const r = this.r;
    if (r.length === 0 || r[0]! >= v) return 0;
    const i = this.indexAfter(v);
    let removed = 0;
    for (let k = 0; k < i; k++) removed += r[(k << 1) + 1]! - r[k << 1]!;
    if (i < r.length >> 1 && r[i << 1]! < v) {
      removed += v - r[i << 1]!;
      r[i << 1] = v;
    }
    if (i > 0) r.splice(0, i << 1);
    return removed;
  }

  /** Remove the lowest range (e.g. to cap the number of ACK ranges kept). */
  shift(): void {
    this.r.splice(0, 2);
  }

  /** Calls `fn(start, end)` for every range in ascending order. */
  forEach(fn: (start: number, end: number) => void): void {
    const r = this.r;
    for (let k = 0; k < r.length; k += 2) fn(r[k]!, r[k + 1]!);
  }

  /** Ascending [start, end) pairs (allocates; for tests and diagnostics). */
  *[Symbol.iterator](): IterableIterator<[number, number]> {
    const r = this.r;
    for (let k = 0; k < r.length; k += 2) yield [r[k]!, r[k + 1]!];
  }

  toString(): string {
    const parts: string[] = [];
    for (let k = 0; k < this.r.length; k += 2) parts.push(`[${this.r[k]}, ${this.r[k + 1]})`);
    return `RangeSet{${parts.join(' ')}}`;
  }
}
