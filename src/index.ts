// Quiver: QUIC and HTTP/3 for Node.js. The package root re-exports the public surface.
export * from './quic.js';
