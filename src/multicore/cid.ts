// L7: connection IDs that carry a worker index — keyed and checkable, in the spirit of QUIC-LB
// (draft-ietf-quic-load-balancers: a config-rotation code point in the first octet, the server ID
// hidden under a key) — so the main thread routes every short-header packet to its worker without
// a table, also after NAT rebinding or migration (DESIGN §3). RFC 9000 §5.1: a CID must not let
// an observer link it to another CID of the same connection; here every CID is fresh randomness
// plus a keyed encryption of the worker index, so CIDs of one connection share nothing visible.
//
// Layout of an L-byte CID (8 ≤ L ≤ 20), T = 2 tag bytes when L < 12, else 4; N = L − 2 − T:
//   byte 0         : configId (2 bits, 0..2; 3 is QUIC-LB's "unroutable") | 6 random bits
//   bytes 1..N     : nonce (random)
//   byte N+1       : worker index XOR pad,   pad = SipHash_k(byte 0 ‖ nonce) bits 0..7
//   bytes N+2..L-1 : tag = (SipHash_k(byte 0 ‖ nonce) bits 8..23 (T=2) or bits 32..63 (T=4))
//                    XOR K[worker], K a 256-entry table derived from the key
// workerOf() recomputes the pad, decrypts the index and checks the tag. Without the key a forged
// CID is accepted with probability 2^-8T (and lands on a uniformly random worker): an attacker
// cannot steer traffic to a chosen worker. Flipping bits of the encrypted index of a CID seen on
// the wire changes the worker, so the tag must change by K[w] ^ K[w'], which is hidden under the
// per-nonce pad: again 2^-8T.
// Rate at which a uniformly random L-byte CID maps to a worker (so the router hands it to one):
//   1/4 (configId) × N_workers/256 (index in range) × 2^-8T — e.g. 2 workers, L = 8: 2^-25 ≈ 3e-8.
import type { ConnectionIdGenerator, EndpointRandom } from '../endpoint/index.js';
import { SipHash24 } from './siphash.js';

export const MIN_WORKER_CID_LENGTH = 8;
export const MAX_WORKER_CID_LENGTH = 20;
export const MAX_WORKERS = 256;
/** QUIC-LB's reserved config rotation code point: never issued. */
export const UNROUTABLE_CONFIG_ID = 3;

export interface WorkerCidOptions {
  /** 16-byte key. Share it between the router and every worker; keep it across restarts to route old CIDs. */
  key: Uint8Array;
  /** Number of workers (1..256). */
  workers: number;
  /** CID length, 8..20 (default 8). */
  length?: number;
  /** Config rotation code point, 0..2 (default 0). CIDs with another value in byte 0 are not ours. */
  configId?: number;
}

function fill(rng: EndpointRandom, out: Uint8Array): void {
  if ('fillRandom' in rng) rng.fillRandom(out);
  else rng.fill(out);
}

export class WorkerCidCodec {
  readonly length: number;
  readonly workers: number;
  readonly configId: number;
  /** Tag bytes (2 or 4). */
  readonly tagBytes: number;
  /** Random nonce bytes after byte 0. */
  readonly nonceBytes: number;
  private readonly prf: SipHash24;
  private readonly table: Uint32Array;

  constructor(options: WorkerCidOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('options: expected { key, workers }');
    const { key, workers } = options;
    if (!(key instanceof Uint8Array) || key.length !== 16) throw new RangeError('options.key: expected 16 bytes');
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) throw new RangeError(`options.workers: expected 1..${MAX_WORKERS}, got ${workers}`);
    const length = options.length ?? 8;
    if (!Number.isInteger(length) || length < MIN_WORKER_CID_LENGTH || length > MAX_WORKER_CID_LENGTH) {
      throw new RangeError(`options.length: expected ${MIN_WORKER_CID_LENGTH}..${MAX_WORKER_CID_LENGTH}, got ${length}`);
    }
    const configId = options.configId ?? 0;
    if (!Number.isInteger(configId) || configId < 0 || configId >= UNROUTABLE_CONFIG_ID) throw new RangeError(`options.configId: expected 0..2, got ${configId}`);
    this.length = length;
    this.workers = workers;
    this.configId = configId;
    this.tagBytes = length < 12 ? 2 : 4;
    this.nonceBytes = length - 2 - this.tagBytes;
    this.prf = new SipHash24(key);
    // K[w]: SipHash of a 3-byte input (shorter than any CID input of 1 + N ≥ 5 bytes, so the two
    // uses of the key never hash the same message).
    this.table = new Uint32Array(MAX_WORKERS);
    const m = new Uint8Array([0xff, 0x4b, 0]);
    for (let w = 0; w < MAX_WORKERS; w++) {
      m[2] = w;
      const lo = this.prf.hash(m, 0, 3);
      this.table[w] = (lo ^ this.prf.hi) >>> 0;
    }
  }

  /**
   * Write a fresh CID for `worker` into out[off, off + length), drawing randomness from `rng`.
   */
  encode(worker: number, rng: EndpointRandom, out: Uint8Array, off = 0): void {
    if (!Number.isInteger(worker) || worker < 0 || worker >= this.workers) throw new RangeError(`worker: expected 0..${this.workers - 1}, got ${worker}`);
    const L = this.length;
    const cid = out.subarray(off, off + L);
    if (cid.length !== L) throw new RangeError(`out: needs ${L} bytes at offset ${off}`);
    fill(rng, cid.subarray(0, 1 + this.nonceBytes));
    this.seal(worker, out, off);
  }

  /** Fill in the worker and tag bytes of a CID whose byte 0 (low 6 bits) and nonce are already random. */
  private seal(worker: number, out: Uint8Array, off: number): void {
    const n = this.nonceBytes;
    out[off] = (this.configId << 6) | (out[off]! & 0x3f);
    const lo = this.prf.hash(out, off, 1 + n);
    out[off + 1 + n] = (worker ^ lo) & 0xff;
    const k = this.table[worker]!;
    const p = off + 2 + n;
    if (this.tagBytes === 2) {
      const tag = ((lo >>> 8) ^ k) & 0xffff;
      out[p] = tag >>> 8;
      out[p + 1] = tag & 0xff;
    } else {
      const tag = (this.prf.hi ^ k) >>> 0;
      out[p] = tag >>> 24;
      out[p + 1] = (tag >>> 16) & 0xff;
      out[p + 2] = (tag >>> 8) & 0xff;
      out[p + 3] = tag & 0xff;
    }
  }

  /** A new CID for `worker` (allocates the array the endpoint keeps). */
  generate(worker: number, rng: EndpointRandom): Uint8Array {
    const cid = new Uint8Array(this.length);
    this.encode(worker, rng, cid, 0);
    return cid;
  }

  /** The worker a CID we issued belongs to, or −1 (wrong length, other config, failed check). */
  workerOf(dcid: Uint8Array): number {
    if (dcid.length !== this.length) return -1;
    return this.workerAt(dcid, 0);
  }

  /**
   * workerOf() of the `length` bytes at buf[off] (e.g. a short header's DCID at offset 1, without
   * making a subarray). −1 when the bytes are not one of our CIDs.
   */
  workerAt(buf: Uint8Array, off: number): number {
    if (off < 0 || buf.length - off < this.length) return -1;
    if (buf[off]! >>> 6 !== this.configId) return -1;
    const n = this.nonceBytes;
    const lo = this.prf.hash(buf, off, 1 + n);
    const w = (buf[off + 1 + n]! ^ lo) & 0xff;
    if (w >= this.workers) return -1;
    const k = this.table[w]!;
    const p = off + 2 + n;
    if (this.tagBytes === 2) {
      const tag = (buf[p]! << 8) | buf[p + 1]!;
      return tag === (((lo >>> 8) ^ k) & 0xffff) ? w : -1;
    }
    const tag = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
    return tag === ((this.prf.hi ^ k) >>> 0) ? w : -1;
  }

  /** The endpoint's ConnectionIdGenerator for one worker (src/endpoint: options.cidGenerator). */
  generator(worker: number, rng: EndpointRandom): ConnectionIdGenerator {
    if (!Number.isInteger(worker) || worker < 0 || worker >= this.workers) throw new RangeError(`worker: expected 0..${this.workers - 1}, got ${worker}`);
    if (rng === null || typeof rng !== 'object') throw new TypeError('rng: expected a RandomSource');
    const length = this.length;
    return {
      length,
      generate: (): Uint8Array => this.generate(worker, rng),
    };
  }

  /** Probability that a uniformly random CID of our length maps to some worker (see the header). */
  get falseAcceptRate(): number {
    return 0.25 * (this.workers / 256) * 2 ** (-8 * this.tagBytes);
  }
}
