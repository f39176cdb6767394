// `quiver/qpack`: QPACK field compression for HTTP/3 (RFC 9204), sans-IO encoder and decoder.
export * from './qpack/index.js';
