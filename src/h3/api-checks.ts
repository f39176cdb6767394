// L6 small checks shared by the HTTP/3 API: argument validation (TypeError/RangeError naming the
// argument), stable error-code strings (DESIGN §5) and which errors are stream errors.

import { QpackError } from '../qpack/index.js';
import { H3Error, h3ErrorName, type Priority } from './wire/index.js';

/** 'ERR_H3_…' / 'ERR_QPACK_…' for a registered code, 'ERR_H3' otherwise. */
export function errCodeOf(code: number): string {
  const name = h3ErrorName(code);
  return name.startsWith('0x') || name.startsWith('RESERVED') ? 'ERR_H3' : `ERR_${name}`;
}

/** An H3/QPACK error that resets one stream rather than closing the connection. */
export function isStreamLevel(e: unknown): e is H3Error | QpackError {
  return (e instanceof H3Error || e instanceof QpackError) && e.streamError;
}

/** Validate an RFC 9218 priority argument. */
export function checkPriority(p: unknown, name: string): Priority {
  if (typeof p !== 'object' || p === null) throw new TypeError(`${name} must be { urgency, incremental }`);
  const { urgency, incremental } = p as Priority;
  if (!Number.isInteger(urgency) || urgency < 0 || urgency > 7) throw new RangeError(`${name}.urgency must be an integer 0..7`);
  if (typeof incremental !== 'boolean') throw new TypeError(`${name}.incremental must be a boolean`);
  return { urgency, incremental };
}

/** Validate an application error code argument. */
export function checkCode(code: unknown, name: string): number {
  if (typeof code !== 'number' || !Number.isSafeInteger(code) || code < 0) throw new RangeError(`${name} must be a non-negative integer error code`);
  return code;
}
