// L1 QPACK: reading an instruction stream (RFC 9204 §4.2: the encoder and decoder streams carry
// unframed instructions back to back) that arrives in chunks split anywhere. Whole instructions
// are handled at once; a partial one at the end is kept until the rest arrives. Instruction
// readers bound what they wait for (string literals by the table capacity, RFC 9204 §4.3), so the
// kept bytes stay within one instruction; they accumulate in a growable buffer, so an instruction
// trickling in over many chunks costs linear, not quadratic, copying.
import { EMPTY, Reader } from '../util/bytes.js';

/** A kept buffer larger than this is released once it empties. */
const KEEP_BYTES = 4096;

export class InstructionBuffer {
  private buf: Uint8Array = EMPTY;
  /** Bytes of the partial instruction kept at the start of `buf`. */
  private len = 0;
  private readonly r = new Reader();

  /** Bytes of an incomplete instruction waiting for the rest. */
  get pending(): number {
    return this.len;
  }

  /**
   * Run `instruction` over the kept bytes + `chunk` until they run out. `instruction` reads and
   * applies exactly one instruction and returns true, or returns false (having applied nothing)
   * when the bytes end inside it — the partial bytes are then kept. A chunk ending mid-instruction
   * is normal on a stream, so it is a return value, not an exception (DESIGN §7.6). Errors
   * (QpackError) propagate; they are connection errors, after which the stream is not read again.
   */
  feed(chunk: Uint8Array, instruction: (r: Reader) => boolean): void {
    const fromChunk = this.len === 0;
    if (!fromChunk) this.append(chunk);
    const r = fromChunk ? this.r.reset(chunk) : this.r.reset(this.buf, 0, this.len);
    while (r.pos < r.end) {
      const start = r.pos;
      if (!instruction(r)) {
        r.pos = start;
        break;
      }
    }
    const rest = r.end - r.pos;
    if (rest === 0) {
      this.len = 0;
      if (this.buf.length > KEEP_BYTES) this.buf = EMPTY;
    } else if (fromChunk) {
      this.len = 0;
      this.append(chunk.subarray(r.pos));
    } else if (r.pos > 0) {
      this.buf.copyWithin(0, r.pos, this.len);
      this.len = rest;
    }
  }

  private append(b: Uint8Array): void {
    const need = this.len + b.length;
    if (need > this.buf.length) {
      let size = Math.max(64, this.buf.length * 2);
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(b, this.len);
    this.len = need;
  }
}
