// L6 errors of the HTTP/3 API that are not peer violations (those are H3Error / QpackError from
// src/h3/wire and src/qpack, carrying RFC 9114 §8.1 / RFC 9204 §6 codes).

/** Thrown by API calls on a connection that has closed. */
export class H3ClosedError extends Error {
  readonly code = 'ERR_H3_CONNECTION_CLOSED';
  constructor(message = 'the HTTP/3 connection is closed') {
    super(message);
    this.name = 'H3ClosedError';
  }
}
