// `quiver/quic`: QUIC wire codecs and (as later layers land) the sans-IO connection and endpoint.
export { Reader, Writer, BufferUnderflow, BufferOverflow } from './util/bytes.js';
export { TransportError, TransportErrorCode } from './codec/errors.js';
