// The log-linear latency histogram of `quiver load`: bucket bounds and their relative error, exact
// moments, percentiles within the stated error, merging (also through its structured-clone form)
// equals recording everything in one.
import test from 'ava';
import fc from 'fast-check';
import { HISTOGRAM_BUCKETS, HISTOGRAM_RELATIVE_ERROR, Histogram, bucketOf, bucketRange, summarize } from '../../src/cli/load-histogram.js';

test('buckets tile the integers and are at most 1/128 of their lower bound wide', (t) => {
  let expectLo = 0;
  for (let i = 0; i < HISTOGRAM_BUCKETS - 1; i++) {
    const [lo, w] = bucketRange(i);
    t.is(lo, expectLo, `bucket ${i}`);
    if (lo >= 128) t.true(w / lo <= 1 / 128);
    t.is(bucketOf(lo), i);
    t.is(bucketOf(lo + w - 1), i);
    expectLo = lo + w;
  }
  t.is(bucketOf(2 ** 45), HISTOGRAM_BUCKETS - 1, 'huge values land in the last bucket');
  t.is(bucketOf(-5), 0);
});

test('property: a recorded value is reported within the relative error', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 39 }), (v) => {
      const h = new Histogram();
      h.record(v);
      h.record(v + 1e9); // keeps max away so the percentile is not clamped to the value itself
      const p = h.percentile(0.5);
      return Math.abs(p - v) <= Math.max(0.5, v * HISTOGRAM_RELATIVE_ERROR);
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('exact moments; percentiles within the error; +/- sd share', (t) => {
  const h = new Histogram();
  const values: number[] = [];
  for (let i = 1; i <= 10_000; i++) {
    const v = i * 37;
    values.push(v);
    h.record(v);
  }
  const s = h.summary();
  const exact = summarize(values);
  t.is(s.count, 10_000);
  t.is(s.min, 37);
  t.is(s.max, 370_000);
  t.true(Math.abs(s.mean - exact.mean) < 1e-6);
  t.true(Math.abs(s.sd - exact.sd) < 1e-6);
  t.true(Math.abs(s.withinSd - exact.withinSd) < 0.01);
  for (const q of [0.5, 0.9, 0.99, 0.999]) {
    const truth = values[Math.ceil(q * values.length) - 1]!;
    t.true(Math.abs(h.percentile(q) - truth) <= truth * HISTOGRAM_RELATIVE_ERROR + 0.5, `p${q * 100}`);
  }
});

test('merging (also from the structured-clone form) equals recording in one histogram', (t) => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0, max: 1e7, noNaN: true }), { maxLength: 200 }), fc.array(fc.double({ min: 0, max: 1e7, noNaN: true }), { maxLength: 200 }), (a, b) => {
      const one = new Histogram();
      const ha = new Histogram();
      const hb = new Histogram();
      for (const v of a) {
        one.record(v);
        ha.record(v);
      }
      for (const v of b) {
        one.record(v);
        hb.record(v);
      }
      const merged = Histogram.fromData(structuredClone(ha.toData()));
      merged.merge(structuredClone(hb.toData()));
      if (merged.count !== one.count) return false;
      for (let i = 0; i < HISTOGRAM_BUCKETS; i++) if (merged.counts[i] !== one.counts[i]) return false;
      if (one.count === 0) return true;
      const close = (x: number, y: number): boolean => Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(y));
      return merged.min === one.min && merged.max === one.max && close(merged.mean, one.mean) && close(merged.sd, one.sd);
    }),
    { numRuns: 300 },
  );
  t.throws(() => new Histogram().merge({ count: 1, min: 0, max: 0, mean: 0, m2: 0, buckets: [[HISTOGRAM_BUCKETS, 1]] }), { instanceOf: RangeError });
});

test('+/- sd share: identical samples are all within; the estimate errs by at most the boundary buckets', (t) => {
  // Regression: midpoints compared with mean ± sd put a constant 1000.4 µs (bucket 1000..1003,
  // midpoint 1001.5) outside [1000.4, 1000.4] — h2load would print 100 %, we printed 0 %.
  const h = new Histogram();
  for (let i = 0; i < 50; i++) h.record(1000.4);
  t.is(h.summary().withinSd, 1);
  t.is(h.summary().sd, 0);
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }), (values) => {
      const hh = new Histogram();
      for (const v of values) hh.record(v);
      const s = hh.summary();
      const exact = summarize(values);
      const lo = s.mean - s.sd;
      const hi = s.mean + s.sd;
      // Samples whose bucket straddles a bound are the only ones the estimate may misplace.
      const edge = new Set([bucketOf(Math.round(lo)), bucketOf(Math.round(hi))]);
      let straddling = 0;
      for (const v of values) if (edge.has(bucketOf(Math.round(v)))) straddling++;
      return Math.abs(s.withinSd - exact.withinSd) <= straddling / values.length + 1e-9;
    }),
    { numRuns: 300 },
  );
});

test('empty histogram and empty sample list summarise to zeros', (t) => {
  t.deepEqual(new Histogram().summary(), { count: 0, min: 0, max: 0, mean: 0, sd: 0, withinSd: 0 });
  t.is(new Histogram().percentile(0.5), 0);
  t.deepEqual(summarize([]), { count: 0, min: 0, max: 0, mean: 0, sd: 0, withinSd: 0 });
  t.deepEqual(summarize([5, 5]), { count: 2, min: 5, max: 5, mean: 5, sd: 0, withinSd: 1 });
});
