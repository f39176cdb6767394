// Test helper: a NAT-like UDP relay whose upstream source port can be changed (RFC 9000 §9.3
// rebinding as a server sees it).
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

/**
 * A NAT in miniature: the client talks to `front`; the relay forwards from its current `back`
 * socket to the server and returns the server's answers to the client. rebind() swaps `back` for
 * a new socket — the server sees the same client from a new port, as after a NAT rebinding.
 */
export class NatRelay {
  private readonly front = dgram.createSocket('udp4');
  private back: dgram.Socket | null = null;
  private client: { address: string; port: number } | null = null;
  private readonly serverPort: number;
  constructor(serverPort: number) {
    this.serverPort = serverPort;
    this.front.on('message', (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      this.back?.send(msg, this.serverPort, '127.0.0.1');
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.front.bind(0, '127.0.0.1', () => r()));
    await this.openBack();
    return (this.front.address() as AddressInfo).port;
  }

  private async openBack(): Promise<number> {
    const s = dgram.createSocket('udp4');
    s.on('message', (msg) => {
      if (s === this.back && this.client !== null) this.front.send(msg, this.client.port, this.client.address);
    });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const old = this.back;
    this.back = s;
    old?.close();
    return (s.address() as AddressInfo).port;
  }

  /** The port the server sees now. */
  get upstreamPort(): number {
    return (this.back!.address() as AddressInfo).port;
  }

  rebind(): Promise<number> {
    return this.openBack();
  }

  close(): void {
    this.front.close();
    this.back?.close();
  }
}

