// A stand-in connection for endpoint unit tests: records what the endpoint hands it and lets a test
// drive its state and CID issuance, so routing can be tested without TLS.
import type { ConnectionOptions } from '../../src/connection/options.js';
import type { ConnectionState, IssuedCid, PathInfo, SendInfo } from '../../src/connection/types.js';
import type { EndpointConnection } from '../../src/endpoint/index.js';
import { equal } from '../../src/util/bytes.js';

export class FakeConnection implements EndpointConnection {
  readonly options: ConnectionOptions;
  readonly received: Array<{ data: Uint8Array; from: PathInfo; now: number }> = [];
  state: ConnectionState = 'handshaking';
  timeout = Infinity;
  timeouts = 0;
  readonly issued: IssuedCid[] = [];
  /** Reset tokens of the peer's CIDs (what handleStatelessReset checks). */
  peerResetTokens: Uint8Array[] = [];
  resets = 0;

  constructor(options: ConnectionOptions) {
    this.options = options;
    if (options.localCid) this.issued.push(options.localCid);
    else this.issued.push(options.cidGenerator!.generate());
  }

  /** Issue one more CID through the endpoint's generator (as NEW_CONNECTION_ID would). */
  issue(): IssuedCid {
    const c = this.options.cidGenerator!.generate();
    this.issued.push(c);
    return c;
  }

  /** Retire a CID (as RETIRE_CONNECTION_ID from the peer would). */
  retire(cid: Uint8Array): void {
    const i = this.issued.findIndex((c) => equal(c.cid, cid));
    if (i >= 0) this.issued.splice(i, 1);
    (this.options.cidGenerator as { retire?: (c: Uint8Array) => void }).retire?.(cid);
  }

  get localCids(): Uint8Array[] {
    return this.issued.map((c) => c.cid);
  }

  receive(data: Uint8Array, from: PathInfo, now: number): void {
    this.received.push({ data: data.slice(), from, now });
  }

  send(_out: Uint8Array, _now: number): SendInfo | null {
    return null;
  }

  nextTimeout(): number {
    return this.timeout;
  }

  onTimeout(_now: number): void {
    this.timeouts++;
    this.timeout = Infinity;
  }

  handleStatelessReset(datagram: Uint8Array, _now: number): boolean {
    const tail = datagram.subarray(datagram.length - 16);
    if (this.peerResetTokens.some((t) => equal(t, tail))) {
      this.resets++;
      this.state = 'draining';
      return true;
    }
    return false;
  }
}

export function fakeFactory(list: FakeConnection[]): (o: ConnectionOptions) => FakeConnection {
  return (o) => {
    const c = new FakeConnection(o);
    list.push(c);
    return c;
  };
}
