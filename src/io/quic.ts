// L7: listen() and connect() — the QUIC API (in the spirit of node:quic and quic-go) over the UDP
// driver, the sans-IO endpoint (L5) and connection (L4). A server binds one socket per address
// ('localhost' = 127.0.0.1 and ::1) and yields sessions once their handshake completes; a client
// session gets its own connected socket (connected sends are ~1.5 µs cheaper per datagram here,
// DESIGN §4). Key logs go to SSLKEYLOGFILE / options.keylog (src/io/keylog.ts), qlog files to
// QLOGDIR / options.qlog, one per connection (src/io/qlog-writer.ts).
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { Connection, type ConnectionOptions, type PathInfo } from '../connection/index.js';
import { Endpoint, type ServerConnectionOptions } from '../endpoint/index.js';
import { secureRandom } from '../crypto/random.js';
import { TicketKeyring } from '../tls/session-ticket.js';
import { AntiReplay } from '../tls/anti-replay.js';
import { pemDecode } from '../pki/pem.js';
import { parseCertificate } from '../pki/x509.js';
import { AsyncQueue } from './async-queue.js';
import { keyLogSink } from './keylog.js';
import { qlogWriterFor, type QlogWriter } from './qlog-writer.js';
import { parseAddress, resolveClientOptions, resolveServerOptions, type ClientOptions, type ResolvedTransport, type ServerOptions } from './options.js';
import { QuicSession } from './session.js';
import { UdpDriver } from './udp-driver.js';
import { bindUdpSocket, listenAddresses, resolveHost, type BoundSocket } from './udp-socket.js';
import { QuicError, QuicErrorCode } from './errors.js';

export interface AddressInfo {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** Per-connection qlog files: the factory opens one per connection, removal closes it. */
function connectionFactory(io: ResolvedTransport, vantage: 'client' | 'server', writers: WeakMap<Connection, QlogWriter>) {
  return (options: ConnectionOptions, now: number): Connection => {
    const odcid = options.originalDcid ?? options.initialDcid;
    const writer = odcid === undefined ? undefined : qlogWriterFor(io.qlog, { vantage, odcid, startTime: now, referenceTime: now });
    const conn = new Connection(writer === undefined ? options : { ...options, qlog: writer.sink }, now);
    if (writer !== undefined) writers.set(conn, writer);
    return conn;
  };
}

function slotSize(io: ResolvedTransport): number {
  return Math.max(1500, io.largestDatagram);
}

/**
 * A listening QUIC server: emits 'session' (QuicSession, after its handshake) and is an async
 * iterable of sessions. 'connection' reports every new connection (before its handshake);
 * 'handshake-error' those that failed before completing.
 */
export class QuicServer extends EventEmitter implements AsyncIterable<QuicSession> {
  /** @internal */
  readonly driver: UdpDriver<Connection>;
  /** @internal */
  readonly endpoint: Endpoint<Connection>;
  /** Sessions whose handshake completed and that are still open. */
  readonly sessions = new Set<QuicSession>();
  private readonly pending = new Set<QuicSession>();
  private readonly queue = new AsyncQueue<QuicSession>();
  private closing: Promise<void> | null = null;
  private readonly writers: WeakMap<Connection, QlogWriter>;
  /** Sessions created for HTTP/3 get a tap before any event is delivered. */
  private sessionHook: ((s: QuicSession) => void) | undefined;

  /** @internal Use listen(). */
  constructor(endpoint: Endpoint<Connection>, driver: UdpDriver<Connection>, writers: WeakMap<Connection, QlogWriter>) {
    super();
    this.endpoint = endpoint;
    this.driver = driver;
    this.writers = writers;
  }

  /** Bound addresses (one per socket). */
  addresses(): AddressInfo[] {
    return this.driver.boundSockets.map((b) => ({ address: b.address, port: b.port, family: b.family }));
  }

  /** The first bound address. */
  address(): AddressInfo {
    return this.addresses()[0]!;
  }

  get listening(): boolean {
    return this.closing === null;
  }

  /** Counters of the endpoint (datagrams, drops by reason, connections) and the driver (sends, errors). */
  get stats(): { endpoint: Endpoint<Connection>['stats']; io: UdpDriver<Connection>['stats'] } {
    return { endpoint: this.endpoint.stats, io: this.driver.stats };
  }

  [Symbol.asyncIterator](): AsyncIterator<QuicSession> {
    return this.queue[Symbol.asyncIterator]();
  }

  /** @internal */
  setSessionHook(hook: (s: QuicSession) => void): void {
    this.sessionHook = hook;
  }

  /** @internal The driver saw a new server connection. */
  accept(conn: Connection): QuicSession | undefined {
    if (this.closing !== null) {
      conn.close(0, 'server shutting down', true);
      return undefined;
    }
    const session = new QuicSession({
      conn,
      driver: this.driver,
      role: 'server',
      ownsDriver: false,
      onGone: (s) => {
        this.pending.delete(s);
        this.sessions.delete(s);
        const w = this.writers.get(conn);
        if (w !== undefined) void w.close();
      },
      // Synchronously, so 'session' listeners see the session before its first stream event.
      onOpened: (s) => {
        if (!this.pending.delete(s)) return;
        this.sessions.add(s);
        this.queue.push(s);
        this.emit('session', s);
      },
    });
    this.pending.add(session);
    this.sessionHook?.(session);
    this.emit('connection', session);
    session.opened.catch((err: unknown) => {
      this.pending.delete(session);
      if (this.listenerCount('handshake-error') > 0) this.emit('handshake-error', err, session);
    });
    return session;
  }

  /**
   * Stop accepting, close every session with `code` (default 0) and release the sockets. Sessions
   * get `timeout` ms (default 2000) to finish their closing period.
   */
  close(options: { code?: number; timeout?: number } = {}): Promise<void> {
    if (this.closing !== null) return this.closing;
    const code = options.code ?? 0;
    const timeout = options.timeout ?? 2000;
    this.queue.end();
    const all = [...this.sessions, ...this.pending];
    this.closing = (async () => {
      await Promise.race([Promise.all(all.map((s) => s.close(code, 'server closing'))), new Promise((r) => setTimeout(r, timeout).unref())]);
      await this.driver.close();
      this.emit('close');
    })();
    return this.closing;
  }
}

/** Start a QUIC server. Resolves once every socket is bound. */
export async function listen(options: ServerOptions): Promise<QuicServer> {
  return listenWith(options);
}

/**
 * @internal listen() with defaults and extra option names (HTTP/3 passes its own); `core` adds
 * server connection options of the layer above (HTTP/3: ticketAppData / acceptEarlyData).
 */
export async function listenWith(
  options: ServerOptions,
  defaults: { alpn?: string[] } = {},
  extra: readonly string[] = [],
  hook?: (s: QuicSession) => void,
  core: Pick<ServerConnectionOptions, 'ticketAppData' | 'acceptEarlyData'> = {},
): Promise<QuicServer> {
  const o = resolveServerOptions(options, defaults, extra);
  const keylog = keyLogSink(o.keylog);
  const server: ServerConnectionOptions = {
    ...o.core,
    certificate: o.certificate,
    privateKey: o.privateKey,
  } as ServerConnectionOptions;
  if (o.ca !== undefined) server.ca = o.ca;
  if (o.requestCert) server.requestClientCertificate = true;
  if (keylog !== undefined) server.keylog = keylog;
  if (o.sessionTickets) server.ticketKeys = o.ticketKeys ?? new TicketKeyring({ random: secureRandom });
  if (o.enableEarlyData) {
    server.enableEarlyData = true;
    server.antiReplay = new AntiReplay();
  }
  if (core.ticketAppData !== undefined) server.ticketAppData = core.ticketAppData;
  if (core.acceptEarlyData !== undefined) server.acceptEarlyData = core.acceptEarlyData;
  if (o.versions !== undefined) server.versions = o.versions;
  // Fail fast on a bad certificate/key pair (the core would only find out at the first handshake).
  validateServerIdentity(server);
  const writers = new WeakMap<Connection, QlogWriter>();
  const endpoint = new Endpoint<Connection>({
    rng: secureRandom,
    server,
    retry: o.retry,
    maxConnections: o.maxConnections,
    ...(o.versions === undefined ? {} : { versions: o.versions }),
    connectionFactory: connectionFactory(o, 'server', writers),
  });
  let quicServer: QuicServer | undefined;
  const driver = new UdpDriver<Connection>(endpoint, {
    slotSize: slotSize(o),
    onConnection: (conn) => quicServer?.accept(conn),
  });
  quicServer = new QuicServer(endpoint, driver, writers);
  if (hook !== undefined) quicServer.setSessionHook(hook);
  const addrs = await listenAddresses(o.host);
  let port = o.port;
  const bound: BoundSocket[] = [];
  try {
    for (const a of addrs) {
      try {
        const b = await bindUdpSocket(a, port, socketOptions(o));
        bound.push(b);
        port = b.port; // the other family gets the same port
      } catch (e) {
        // 'localhost' without IPv6 (or without IPv4): serve on what exists.
        if (o.host === 'localhost' && bound.length > 0 && (e as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') continue;
        if (o.host === 'localhost' && a === '127.0.0.1' && (e as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') continue;
        throw e;
      }
    }
  } catch (e) {
    for (const b of bound) b.socket.close();
    throw new QuicError(QuicErrorCode.SOCKET, `listen: cannot bind ${o.host}:${o.port}: ${(e as Error).message}`, { cause: e });
  }
  for (const b of bound) driver.addSocket(b);
  return quicServer;
}

function socketOptions(o: ResolvedTransport): { recvBufferSize?: number; sendBufferSize?: number } {
  const s: { recvBufferSize?: number; sendBufferSize?: number } = {};
  if (o.recvBufferSize !== undefined) s.recvBufferSize = o.recvBufferSize;
  if (o.sendBufferSize !== undefined) s.sendBufferSize = o.sendBufferSize;
  return s;
}

/** The private key's public half equals the leaf certificate's SubjectPublicKeyInfo. */
function keyMatchesCertificate(cert: string | readonly Uint8Array[], key: unknown): boolean | undefined {
  try {
    const leaf = typeof cert === 'string' ? pemDecode(cert, 'CERTIFICATE')[0] : cert[0];
    if (leaf === undefined) return undefined;
    const spki = parseCertificate(leaf).spki;
    let priv: KeyObject;
    if (typeof key === 'string') priv = createPrivateKey(key);
    else if (key instanceof Uint8Array) {
      try {
        priv = createPrivateKey({ key: Buffer.from(key), format: 'der', type: 'pkcs8' });
      } catch {
        priv = createPrivateKey({ key: Buffer.from(key), format: 'der', type: 'sec1' });
      }
    } else return undefined;
    const pub = createPublicKey(priv).export({ type: 'spki', format: 'der' });
    return Buffer.compare(pub, Buffer.from(spki)) === 0;
  } catch {
    return undefined;
  }
}

function validateServerIdentity(server: ServerConnectionOptions): void {
  if (server.certificate !== undefined && keyMatchesCertificate(server.certificate, server.privateKey) === false) {
    throw new TypeError('options.key: the private key does not belong to the certificate in options.cert');
  }
  try {
    // A throwaway server connection parses the chain and key exactly as handshakes will.
    new Connection({ ...server, role: 'server', rng: secureRandom, initialDcid: new Uint8Array(8) } as ConnectionOptions, 0);
  } catch (e) {
    const msg = (e as Error).message.replace(/^options\.certificate/, 'options.cert').replace(/^options\.privateKey/, 'options.key');
    const named = /^options\.(cert|key)\b/.test(msg) ? msg : `options.cert/options.key: ${msg}`;
    throw e instanceof RangeError ? new RangeError(named) : new TypeError(named);
  }
}

/**
 * Connect to a QUIC server at `address` ("host:port", "[v6]:port" or { host, port }). Resolves
 * once the first flight is on its way; `session.opened` resolves when the handshake completes.
 */
export async function connect(address: string | { host: string; port: number }, options: ClientOptions): Promise<QuicSession> {
  return connectWith(address, options);
}

/** @internal connect() with defaults and extra option names (HTTP/3 passes its own). */
export async function connectWith(
  address: string | { host: string; port: number },
  options: ClientOptions,
  defaults: { alpn?: string[] } = {},
  extra: readonly string[] = [],
  hook?: (s: QuicSession) => void,
): Promise<QuicSession> {
  const { host, port } = parseAddress(address);
  const o = resolveClientOptions(options, defaults, extra);
  const target = await resolveHost(host);
  const remote: PathInfo = { remoteAddress: target.address, remotePort: port };
  const localAddress = o.localAddress ?? (target.family === 6 ? '::' : '0.0.0.0');
  let bound: BoundSocket;
  try {
    bound = await bindUdpSocket(localAddress, o.localPort, { ...socketOptions(o), ipv6Only: false });
    await new Promise<void>((resolve, reject) => {
      bound.socket.once('error', reject);
      bound.socket.connect(port, target.address, () => {
        bound.socket.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    throw new QuicError(QuicErrorCode.SOCKET, `connect: cannot open a UDP socket to ${target.address}:${port}: ${(e as Error).message}`, { cause: e });
  }
  const writers = new WeakMap<Connection, QlogWriter>();
  const endpoint = new Endpoint<Connection>({ rng: secureRandom, connectionFactory: connectionFactory(o, 'client', writers) });
  let session: QuicSession | undefined;
  const driver = new UdpDriver<Connection>(endpoint, {
    slotSize: slotSize(o),
    ringSize: 256,
    onSocketError: (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') session?.socketError(err);
    },
  });
  driver.addSocket(bound, remote);
  const bareHost = host.replace(/^\[|\]$/g, '');
  const servername = o.servername ?? (isIP(bareHost) ? bareHost : host);
  const keylog = keyLogSink(o.keylog);
  const core: Omit<ConnectionOptions, 'role' | 'rng' | 'cidGenerator' | 'initialDcid'> = {
    ...o.core,
    serverName: servername,
    rejectUnauthorized: o.rejectUnauthorized,
    remote,
  } as Omit<ConnectionOptions, 'role' | 'rng' | 'cidGenerator' | 'initialDcid'>;
  // As tls.connect (servername || host): servername '' = "send no SNI", never "check no name";
  // the certificate is then checked against the host we dialled.
  core.verifyName = o.verifyName ?? (servername !== '' ? servername : bareHost.replace(/%.*$/, ''));
  if (o.ca !== undefined) core.ca = o.ca;
  if (o.certificate !== undefined) core.certificate = o.certificate;
  if (o.privateKey !== undefined) core.privateKey = o.privateKey;
  if (o.session !== undefined) core.session = o.session;
  if (o.enableEarlyData) core.enableEarlyData = true;
  if (o.token !== undefined) core.token = o.token;
  if (o.version !== undefined) core.version = o.version;
  if (o.probeVersion !== undefined) core.probeVersion = o.probeVersion;
  if (keylog !== undefined) core.keylog = keylog;
  let conn: Connection;
  try {
    conn = endpoint.connect(remote, core, driver.clock());
  } catch (e) {
    await driver.close();
    throw e;
  }
  session = new QuicSession({
    conn,
    driver,
    role: 'client',
    ownsDriver: true,
    servername,
    onGone: () => {
      const w = writers.get(conn);
      if (w !== undefined) void w.close();
    },
  });
  hook?.(session);
  driver.attach(conn, session);
  return session;
}
