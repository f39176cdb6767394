// L7: UDP sockets for QUIC on node:dgram (IPv4 and IPv6). DESIGN §3/§4: receive and send buffers
// of at least 4 MiB — the 208 KiB default drops 14–21 % at 100k datagrams/s — set at bind and
// verified; when the kernel caps them (net.core.rmem_max / wmem_max) we say so once.
//
// Sockets get a synchronous `lookup` that passes IP literals through: the driver only ever sends to
// addresses it received from or resolved beforehand, and the default dns.lookup would defer every
// unconnected send by a tick (and allocate for it).
import dgram from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export const DEFAULT_SOCKET_BUFFER = 4 << 20;

export interface UdpSocketOptions {
  /** SO_RCVBUF request, bytes (default 4 MiB). */
  recvBufferSize?: number;
  /** SO_SNDBUF request, bytes (default 4 MiB). */
  sendBufferSize?: number;
  /** IPv6 socket only: refuse IPv4-mapped traffic (default: true for a specific address, false for '::'). */
  ipv6Only?: boolean;
  /** Warnings (buffer caps, a loopback family that is missing). Default process.emitWarning. */
  warn?: (message: string) => void;
}

export interface BoundSocket {
  socket: dgram.Socket;
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  /** What the kernel granted (Linux reports twice the requested value, the bookkeeping overhead included). */
  recvBufferSize: number;
  sendBufferSize: number;
}

function passThroughLookup(address: string, family: number | { family?: number }, cb: (err: Error | null, address: string, family: number) => void): void {
  const fam = typeof family === 'number' ? family : (family?.family ?? (address.includes(':') ? 6 : 4));
  cb(null, address, fam);
}

let warnedCap = false;

export function defaultWarn(message: string): void {
  process.emitWarning(message, { code: 'QUIVER_UDP' });
}

/** Bind one UDP socket to an IP literal (port 0 = ephemeral). */
export function bindUdpSocket(address: string, port: number, options: UdpSocketOptions = {}): Promise<BoundSocket> {
  const fam = isIP(address);
  if (fam === 0) return Promise.reject(new TypeError(`address: expected an IP literal, got ${JSON.stringify(address)}`));
  const recv = options.recvBufferSize ?? DEFAULT_SOCKET_BUFFER;
  const send = options.sendBufferSize ?? DEFAULT_SOCKET_BUFFER;
  const warn = options.warn ?? defaultWarn;
  const type = fam === 6 ? 'udp6' : 'udp4';
  const ipv6Only = fam === 6 ? (options.ipv6Only ?? address !== '::') : false;
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({
      type,
      ipv6Only,
      recvBufferSize: recv,
      sendBufferSize: send,
      lookup: passThroughLookup as unknown as dgram.SocketOptions['lookup'],
    });
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError);
      const a = socket.address();
      let gotRecv = 0;
      let gotSend = 0;
      try {
        gotRecv = socket.getRecvBufferSize();
        gotSend = socket.getSendBufferSize();
      } catch {
        // Some platforms do not report; keep 0.
      }
      // Linux doubles the value set (bookkeeping overhead); anything below the request means a cap.
      if ((gotRecv > 0 && gotRecv < recv) || (gotSend > 0 && gotSend < send)) {
        if (!warnedCap) {
          warnedCap = true;
          warn(
            `UDP socket buffers capped by the kernel: receive ${gotRecv} B, send ${gotSend} B (asked ${recv}/${send}); ` +
              'raise net.core.rmem_max and net.core.wmem_max (sysctl) to avoid drops at high packet rates',
          );
        }
      }
      resolve({ socket, address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4', recvBufferSize: gotRecv, sendBufferSize: gotSend });
    });
  });
}

/**
 * The IP literals a host name stands for when listening: 'localhost' means both loopbacks
 * (127.0.0.1 and ::1) so a browser that resolves either reaches us; an IP literal is itself; other
 * names resolve through DNS (first address of each family).
 */
export async function listenAddresses(host: string): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  if (host === 'localhost') return ['127.0.0.1', '::1'];
  const all = await dnsLookup(host, { all: true });
  const v4 = all.find((a) => a.family === 4);
  const v6 = all.find((a) => a.family === 6);
  const out: string[] = [];
  if (v4) out.push(v4.address);
  if (v6) out.push(v6.address);
  if (out.length === 0) throw new Error(`host: ${host} did not resolve`);
  return out;
}

/** Resolve a host to one IP literal for connecting (IPv4 first, as Node's default verbatim order allows). */
export async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const fam = isIP(h);
  if (fam !== 0) return { address: h, family: fam as 4 | 6 };
  const r = await dnsLookup(h);
  return { address: r.address, family: r.family as 4 | 6 };
}
