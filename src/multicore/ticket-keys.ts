// L7: session ticket keys of a multi-core server (RFC 8446 §4.6.1 tickets are opaque to the client;
// any worker must open a ticket any other worker sealed, RFC 9001 §4.5 resumption). The main thread
// owns the keyring and rotates it; every rotation is pushed to the workers over the control plane,
// so all workers seal with the same newest key and open with the same older ones. A worker's ring
// never rotates on its own before the main thread would (its rotation period is twice the main
// thread's: a fallback if the pushes stopped).
import { TicketKeyring, type TicketKeyMaterial, type TicketKeyringOptions } from '../tls/session-ticket.js';

/** A TicketKeyring whose keys can be replaced as a whole (what the main thread pushed). */
export class SharedTicketKeyring extends TicketKeyring {
  private inner: TicketKeyring;
  private readonly init: TicketKeyringOptions;

  constructor(opts: TicketKeyringOptions) {
    super(opts);
    this.init = opts;
    this.inner = new TicketKeyring(opts);
  }

  /** Use exactly these keys from now on (newest last: it seals). */
  replace(keys: readonly TicketKeyMaterial[]): void {
    this.inner = new TicketKeyring({ ...this.init, keys });
  }

  override exportKeys(): TicketKeyMaterial[] {
    return this.inner.exportKeys();
  }

  override rotate(now: number): void {
    this.inner.rotate(now);
  }

  override sealedLength(plaintextLength: number): number {
    return this.inner.sealedLength(plaintextLength);
  }

  override seal(plaintext: Uint8Array, now: number): Uint8Array {
    return this.inner.seal(plaintext, now);
  }

  override open(ticket: Uint8Array, now: number): Uint8Array | null {
    return this.inner.open(ticket, now);
  }
}
