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
//   byte N+1       : worker index XOR pad,  pad = low byte of SipHash_k(byte 0 ‖ nonce)
//   bytes N+2..L-1 : tag = low T bytes of SipHash_k(byte 0 ‖ nonce ‖ worker index)
// workerOf() recomputes the pad, decrypts the index and recomputes the tag: two SipHash-2-4 calls
// on 5–16 bytes (~70 ns each here), no allocation. The two inputs differ in length, so the key
// never hashes the same message for both purposes (SipHash mixes the length into its last block).
// Without the key a forged CID is accepted with probability 2^-8T and lands on a uniformly random
// worker: an attacker cannot steer traffic to a chosen worker. Flipping bits of the encrypted
// index of a CID seen on the wire yields another index whose tag is an independent PRF output:
// again 2^-8T per try, and a success for one CID says nothing about the next. (A single-call
// design — tag = PRF-pad XOR a per-worker table — would let a table collision K[w] = K[w'] turn
// one delta into a reusable steering key; the second call is the price of binding the tag to the
// index under each nonce.)
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
  private readonly scratch = new Uint8Array(MAX_WORKER_CID_LENGTH);

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
    const pad = this.prf.hash(out, off, 1 + n);
    // The tag's input is byte 0 ‖ nonce ‖ worker: put the plain index there for one hash, then encrypt it.
    const p = off + 1 + n;
    out[p] = worker;
    this.writeTag(this.prf.hash(out, off, 2 + n), out, p + 1);
    out[p] = (worker ^ pad) & 0xff;
  }

  private writeTag(h: number, out: Uint8Array, p: number): void {
    if (this.tagBytes === 2) {
      out[p] = (h >>> 8) & 0xff;
      out[p + 1] = h & 0xff;
    } else {
      out[p] = h >>> 24;
      out[p + 1] = (h >>> 16) & 0xff;
      out[p + 2] = (h >>> 8) & 0xff;
      out[p + 3] = h & 0xff;
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
    const p = off + 1 + n;
    const w = (buf[p]! ^ this.prf.hash(buf, off, 1 + n)) & 0xff;
    if (w >= this.workers) return -1;
    // Tag input byte 0 ‖ nonce ‖ w, assembled in a scratch buffer (the datagram is not touched).
    const m = this.scratch;
    for (let i = 0; i <= n; i++) m[i] = buf[off + i]!;
    m[1 + n] = w;
    const h = this.prf.hash(m, 0, 2 + n);
    const t = p + 1;
    if (this.tagBytes === 2) return ((buf[t]! << 8) | buf[t + 1]!) === (h & 0xffff) ? w : -1;
    return ((buf[t]! << 24) | (buf[t + 1]! << 16) | (buf[t + 2]! << 8) | buf[t + 3]!) >>> 0 === h ? w : -1;
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
