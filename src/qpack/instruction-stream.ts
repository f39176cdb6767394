// L1 QPACK: reading an instruction stream (RFC 9204 §4.2: the encoder and decoder streams carry
// unframed instructions back to back) that arrives in chunks split anywhere. Whole instructions
// are handled at once; a partial one at the end is kept until the rest arrives. Instruction
// readers bound what they wait for (string literals by the table capacity), so the leftover stays
// smaller than one instruction.
import { EMPTY, type Reader, concat } from '../util/bytes.js';

/**
 * Run `instruction` over `leftover` + `chunk` until the bytes run out, using `r` as the cursor.
 * `instruction` reads and applies exactly one instruction and returns true, or returns false
 * (having applied nothing) when the bytes end inside it — the partial bytes are then kept. A chunk
 * ending mid-instruction is normal on a stream, so it is a return value, not an exception (DESIGN
 * §7.6); errors (QpackError) propagate. Returns the new leftover.
 */
export function consumeInstructions(
  r: Reader,
  leftover: Uint8Array,
  chunk: Uint8Array,
  instruction: (r: Reader) => boolean,
): Uint8Array {
  const data = leftover.length === 0 ? chunk : concat(leftover, chunk);
  r.reset(data);
  while (r.pos < r.end) {
    const start = r.pos;
    if (!instruction(r)) {
      r.pos = start;
      break;
    }
  }
  return r.pos < data.length ? data.slice(r.pos) : EMPTY;
}
