// Worker-index connection IDs (src/multicore/cid.ts): every generated CID maps back to its worker
// (fast-check over lengths 8..20, 1..256 workers, config ids); other keys, other config ids, other
// lengths and random bytes do not map — measured rates:
//   - uniformly random 8-byte CIDs, 2 workers: 0 of 1 000 000 (expected rate 2^-25 ≈ 3e-8);
//   - random CIDs with our config id, 256 workers (the tag alone decides): ~2^-16 ≈ 1.5e-5, checked
//     as a count in a Poisson band over 2^20 tries (seeded, so the count is fixed);
//   - flipping bits of a valid CID's encrypted worker byte (steering attempts): ~2^-16 as well.
// Also: the generator plugs into src/endpoint's Endpoint, and CIDs of one connection share nothing
// visible (no common prefix beyond the config bits).
import test from 'ava';
import fc from 'fast-check';
import { SeededRandom } from '../../src/crypto/random.js';
import { Endpoint } from '../../src/endpoint/index.js';
import { WorkerCidCodec } from '../../src/multicore/cid.js';

const KEY = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

test('fast-check: every generated CID maps back to its worker', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 1, max: 256 }),
      fc.integer({ min: 8, max: 20 }),
      fc.integer({ min: 0, max: 2 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      (key, workers, length, configId, seed, wsel) => {
        const codec = new WorkerCidCodec({ key, workers, length, configId });
        const rng = new SeededRandom(seed);
        const worker = wsel % workers;
        for (let i = 0; i < 20; i++) {
          const cid = codec.generate(worker, rng);
          if (cid.length !== length) return false;
          if (cid[0]! >>> 6 !== configId) return false;
          if (codec.workerOf(cid) !== worker) return false;
          // Also in place, inside a short header (offset 1).
          const pkt = new Uint8Array(1 + length + 30);
          pkt[0] = 0x40;
          pkt.set(cid, 1);
          if (codec.workerAt(pkt, 1) !== worker) return false;
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('CIDs of another key, config id or length are not ours', (t) => {
  const rng = new SeededRandom(7);
  const a = new WorkerCidCodec({ key: KEY, workers: 4 });
  const otherKey = new WorkerCidCodec({ key: KEY.map((b) => b ^ 1), workers: 4 });
  const otherConfig = new WorkerCidCodec({ key: KEY, workers: 4, configId: 1 });
  const longer = new WorkerCidCodec({ key: KEY, workers: 4, length: 12 });
  let foreign = 0;
  for (let i = 0; i < 20_000; i++) {
    const w = i & 3;
    if (a.workerOf(otherKey.generate(w, rng)) >= 0) foreign++;
    t.is(a.workerOf(otherConfig.generate(w, rng)), -1);
    t.is(a.workerOf(longer.generate(w, rng)), -1);
    t.is(longer.workerOf(longer.generate(w, rng)), w);
  }
  // Another key passes only the 16-bit tag (and the worker range): ~20 000 × 2^-16 × 4/256 ≈ 0.005.
  t.is(foreign, 0);
  t.is(a.workerAt(new Uint8Array(5), 0), -1, 'too short');
  t.is(a.workerAt(new Uint8Array(20), 15), -1, 'runs past the end');
});

test('random CIDs rarely map: 0 of 1 000 000 with 2 workers (rate 2^-25)', (t) => {
  const codec = new WorkerCidCodec({ key: KEY, workers: 2 });
  t.is(codec.falseAcceptRate, 2 ** -25);
  const rng = new SeededRandom(99);
  const buf = new Uint8Array(8 * 4096);
  let hits = 0;
  for (let round = 0; round < 1_000_000 / 4096; round++) {
    rng.fillRandom(buf);
    for (let off = 0; off < buf.length; off += 8) if (codec.workerAt(buf, off) >= 0) hits++;
  }
  t.is(hits, 0);
});

test('the tag alone: random CIDs with our config id and 256 workers map at ~2^-16', (t) => {
  const codec = new WorkerCidCodec({ key: KEY, workers: 256 });
  const rng = new SeededRandom(2024);
  const n = 1 << 20;
  const buf = new Uint8Array(8 * 4096);
  let hits = 0;
  for (let done = 0; done < n; done += 4096) {
    rng.fillRandom(buf);
    for (let off = 0; off < buf.length; off += 8) {
      buf[off] = buf[off]! & 0x3f; // config id 0
      if (codec.workerAt(buf, off) >= 0) hits++;
    }
  }
  // Poisson(16): P(X < 3) ≈ 1e-4, P(X > 40) ≈ 1e-7.
  t.true(hits >= 3 && hits <= 40, `${hits} of 2^20 random config-0 CIDs accepted (expected ~16)`);
  t.log(`tag false-accept: ${hits} / ${n} = ${(hits / n).toExponential(2)} (2^-16 = ${(2 ** -16).toExponential(2)})`);
});

test('steering: flipping bits of the encrypted worker byte of valid CIDs almost never yields a valid CID, and a lucky delta is not reusable', (t) => {
  const codec = new WorkerCidCodec({ key: KEY, workers: 256 });
  const rng = new SeededRandom(5);
  let tries = 0;
  let hits = 0;
  /** Hits per (original worker, delta): a reusable steering key would hit every CID of that worker. */
  const perPair = new Map<number, number>();
  const workerByte = 1 + codec.nonceBytes;
  for (let i = 0; i < 4096; i++) {
    const w = i & 255;
    const cid = codec.generate(w, rng);
    for (let delta = 1; delta < 256; delta++) {
      const forged = cid.slice();
      forged[workerByte] = forged[workerByte]! ^ delta;
      tries++;
      if (codec.workerOf(forged) >= 0) {
        hits++;
        const k = w * 256 + delta;
        perPair.set(k, (perPair.get(k) ?? 0) + 1);
      }
    }
  }
  // ~1M tries at 2^-16: expected ~16 (a malleable design would accept all of them).
  t.true(hits <= 40, `${hits} of ${tries} forged CIDs accepted`);
  // 16 CIDs per worker: a (worker, delta) that worked once works again only by chance (2^-16).
  t.true(Math.max(0, ...perPair.values()) <= 2, 'no delta steers two CIDs of the same worker');
  t.log(`steering by bit flips: ${hits} / ${tries}`);
});

test('CIDs of one worker share no visible structure beyond the 2 config bits', (t) => {
  const codec = new WorkerCidCodec({ key: KEY, workers: 2 });
  const rng = new SeededRandom(11);
  // Per byte position, values across many CIDs of worker 0 look uniform (the worker byte too).
  const counts = Array.from({ length: 8 }, () => new Uint32Array(256));
  const n = 25_600;
  for (let i = 0; i < n; i++) {
    const cid = codec.generate(0, rng);
    for (let p = 0; p < 8; p++) counts[p]![p === 0 ? cid[p]! & 0x3f : cid[p]!]!++;
  }
  for (let p = 0; p < 8; p++) {
    const buckets = p === 0 ? 64 : 256;
    const expected = n / buckets;
    let chi = 0;
    for (let v = 0; v < buckets; v++) chi += (counts[p]![v]! - expected) ** 2 / expected;
    // χ² with 255 (63) degrees of freedom: far below 400 (120) unless a byte is constant or skewed.
    t.true(chi < (p === 0 ? 120 : 400), `byte ${p}: χ² ${chi.toFixed(1)}`);
  }
});

test('the generator drives an Endpoint: every CID it issues routes back to the worker', (t) => {
  const codec = new WorkerCidCodec({ key: KEY, workers: 3, length: 10 });
  const rng = new SeededRandom(3);
  const gen = codec.generator(2, rng);
  t.is(gen.length, 10);
  const ep = new Endpoint({ rng, server: { alpn: ['x'] }, cidGenerator: gen });
  t.is(ep.cidLength, 10);
  for (let i = 0; i < 100; i++) t.is(codec.workerOf(gen.generate()), 2);
});

test('argument checks name the argument', (t) => {
  t.throws(() => new WorkerCidCodec({ key: new Uint8Array(8), workers: 2 }), { instanceOf: RangeError, message: /options\.key/ });
  t.throws(() => new WorkerCidCodec({ key: KEY, workers: 0 }), { instanceOf: RangeError, message: /options\.workers/ });
  t.throws(() => new WorkerCidCodec({ key: KEY, workers: 257 }), { instanceOf: RangeError, message: /options\.workers/ });
  t.throws(() => new WorkerCidCodec({ key: KEY, workers: 2, length: 7 }), { instanceOf: RangeError, message: /options\.length/ });
  t.throws(() => new WorkerCidCodec({ key: KEY, workers: 2, length: 21 }), { instanceOf: RangeError, message: /options\.length/ });
  t.throws(() => new WorkerCidCodec({ key: KEY, workers: 2, configId: 3 }), { instanceOf: RangeError, message: /configId/ });
  const c = new WorkerCidCodec({ key: KEY, workers: 2 });
  t.throws(() => c.generate(2, new SeededRandom(1)), { instanceOf: RangeError, message: /worker/ });
  t.throws(() => c.generator(-1, new SeededRandom(1)), { instanceOf: RangeError, message: /worker/ });
  t.throws(() => c.encode(0, new SeededRandom(1), new Uint8Array(7)), { instanceOf: RangeError, message: /out/ });
});
