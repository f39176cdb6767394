// Quiver: QUIC and HTTP/3 for Node.js. The package root re-exports the public surface: the QUIC
// layer (`quiver/quic`: codecs, listen/connect, sessions, streams) and HTTP/3 for applications
// (`quiver/server`: createServer, fetch, request, metrics). The sans-IO HTTP/3 connection is
// `quiver/h3`.
export * from './quic.js';
export * from './server.js';
