// L1 QPACK: reading an instruction stream (RFC 9204 §4.2: the encoder and decoder streams carry
// unframed instructions back to back) that arrives in chunks split anywhere. Whole instructions
// are handled at once; a partial one at the end is kept until the rest arrives. Instruction
// readers bound what they wait for (string literals by the table capacity), so the leftover stays
// smaller than one instruction.
import { BufferUnderflow, EMPTY, type Reader, concat } from '../util/bytes.js';

/**
 * Run `instruction` over `leftover` + `chunk` until the bytes run out, using `r` as the cursor.
 * `instruction` reads exactly one instruction and throws BufferUnderflow when it is cut short
 * (its partial bytes are then kept); any other error propagates. Returns the new leftover.
 */
export function consumeInstructions(
  r: Reader,
  leftover: Uint8Array,
  chunk: Uint8Array,
  instruction: (r: Reader) => void,
): Uint8Array {
  const data = leftover.length === 0 ? chunk : concat(leftover, chunk);
  r.reset(data);
  while (r.pos < r.end) {
    const start = r.pos;
    try {
      instruction(r);
    } catch (e) {
      if (e instanceof BufferUnderflow) {
        r.pos = start;
        break;
      }
      throw e;
    }
  }
  return r.pos < data.length ? data.slice(r.pos) : EMPTY;
}
