// L7: the latency histogram of `quiver load` — log-linear buckets (in the manner of HdrHistogram):
// values below 128 µs have a bucket each; above, every power of two [2^e, 2^(e+1)) is split into 128
// equal buckets, so a bucket is at most 1/128 of its lower bound wide. A percentile is reported as
// its bucket's midpoint (clamped to [min, max]): at most ±0.4 % relative error (and ±0.5 µs from
// rounding to whole microseconds). Count, min, max, mean and standard deviation are kept exactly
// (Welford/Chan running moments, mergeable across threads). The "+/- sd" share is an estimate:
// buckets wholly inside or outside mean ± sd count exactly; the (at most two) buckets straddling a
// bound contribute the overlapping fraction of their range (clamped to [min, max]), as if their
// samples were spread evenly — so its error is at most the share of samples in those two buckets. 4,352 buckets cover up to
// 2^40 µs (12.7 days); larger values land in the last bucket. Fixed memory (34 KB) whatever the
// number of samples, and a merge is one pass over the buckets.

const SUB_BITS = 7;
const SUB = 1 << SUB_BITS; // 128
const MAX_EXP = 40;
/** Number of buckets: 128 exact ones, then 128 per power of two from 2^7 to 2^39. */
export const HISTOGRAM_BUCKETS = SUB + (MAX_EXP - SUB_BITS) * SUB;
/** Largest relative error of a reported value (half a bucket over its lower bound). */
export const HISTOGRAM_RELATIVE_ERROR = 1 / (2 * SUB);

/** Bucket index of a non-negative integer value. */
export function bucketOf(v: number): number {
  if (v < SUB) return v < 0 ? 0 : v;
  const e = v < 0x1_0000_0000 ? 31 - Math.clz32(v) : Math.floor(Math.log2(v));
  if (e >= MAX_EXP) return HISTOGRAM_BUCKETS - 1;
  const g = e - SUB_BITS;
  const sub = Math.floor(v / 2 ** g) - SUB; // 0..127
  return SUB + g * SUB + sub;
}

/** [lower, width] of a bucket: it holds the integers lower .. lower + width - 1. */
export function bucketRange(i: number): [number, number] {
  if (i < SUB) return [i, 1];
  const g = Math.floor((i - SUB) / SUB);
  const sub = (i - SUB) % SUB;
  return [(SUB + sub) * 2 ** g, 2 ** g];
}

/** The value a bucket reports: its midpoint. */
function bucketValue(i: number): number {
  const [lo, w] = bucketRange(i);
  return w === 1 ? lo : lo + (w - 1) / 2;
}

/** A histogram in a form that survives structured clone / JSON: non-empty buckets only. */
export interface HistogramData {
  count: number;
  min: number;
  max: number;
  mean: number;
  /** Sum of squared deviations from the mean (Welford's M2). */
  m2: number;
  /** [bucket index, count] of the non-empty buckets. */
  buckets: Array<[number, number]>;
}

export interface SummaryStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation. */
  sd: number;
  /** Share (0..1) of the samples within mean ± sd. */
  withinSd: number;
}

export class Histogram {
  readonly counts = new Float64Array(HISTOGRAM_BUCKETS);
  count = 0;
  min = Infinity;
  max = -Infinity;
  mean = 0;
  m2 = 0;

  /** Record one value (a unit of your choice, e.g. µs; bucketed after rounding to an integer). */
  record(v: number): void {
    this.counts[bucketOf(Math.round(v))]!++;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const d = v - this.mean;
    this.mean += d / this.count;
    this.m2 += d * (v - this.mean);
  }

  /** Add another histogram's samples (Chan et al.'s parallel moments). */
  merge(o: Histogram | HistogramData): void {
    if (o.count === 0) return;
    if (o instanceof Histogram) {
      for (let i = 0; i < HISTOGRAM_BUCKETS; i++) this.counts[i]! += o.counts[i]!;
    } else {
      for (const [i, c] of o.buckets) {
        if (!Number.isInteger(i) || i < 0 || i >= HISTOGRAM_BUCKETS) throw new RangeError(`histogram: bucket index ${i} out of range`);
        this.counts[i]! += c;
      }
    }
    const n = this.count + o.count;
    const d = o.mean - this.mean;
    this.m2 += o.m2 + (d * d * this.count * o.count) / n;
    this.mean += (d * o.count) / n;
    this.count = n;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
  }

  toData(): HistogramData {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return { count: this.count, min: this.min, max: this.max, mean: this.mean, m2: this.m2, buckets };
  }

  static fromData(d: HistogramData): Histogram {
    const h = new Histogram();
    h.merge(d);
    return h;
  }

  get sd(): number {
    return this.count > 0 ? Math.sqrt(this.m2 / this.count) : 0;
  }

  /** The value at quantile q (0..1), within HISTOGRAM_RELATIVE_ERROR; clamped to [min, max]. */
  percentile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, bucketValue(i)));
    }
    return this.max;
  }

  summary(): SummaryStats {
    if (this.count === 0) return { count: 0, min: 0, max: 0, mean: 0, sd: 0, withinSd: 0 };
    const sd = this.sd;
    const lo = this.mean - sd;
    const hi = this.mean + sd;
    let within = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      const c = this.counts[i]!;
      if (c === 0) continue;
      // The recorded values that round into this bucket's integers, within what was seen.
      const [b, w] = bucketRange(i);
      const a = Math.max(i === 0 ? -Infinity : b - 0.5, this.min);
      const z = Math.min(i === HISTOGRAM_BUCKETS - 1 ? Infinity : b + w - 0.5, this.max);
      if (z <= a) {
        if (a >= lo && a <= hi) within += c;
        continue;
      }
      const overlap = Math.min(z, hi) - Math.max(a, lo);
      if (overlap > 0) within += (c * overlap) / (z - a);
    }
    return { count: this.count, min: this.min, max: this.max, mean: this.mean, sd, withinSd: Math.min(1, within / this.count) };
  }
}

/** Exact summary of a small list of samples (per-client figures: connect time, req/s). */
export function summarize(values: readonly number[]): SummaryStats {
  const n = values.length;
  if (n === 0) return { count: 0, min: 0, max: 0, mean: 0, sd: 0, withinSd: 0 };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = sum / n;
  let sq = 0;
  for (const v of values) sq += (v - mean) * (v - mean);
  const sd = Math.sqrt(sq / n);
  let within = 0;
  for (const v of values) if (v >= mean - sd && v <= mean + sd) within++;
  return { count: n, min, max, mean, sd, withinSd: within / n };
}
