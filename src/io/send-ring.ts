// L7: a fixed ring of datagram buffers for the send path (DESIGN §4/§7: no allocation per packet;
// `Buffer.alloc` of a small buffer costs ~1.5 µs here). All slots are views into ONE ArrayBuffer.
// A slot is lent to the core (`conn.send(slot.buf, now)` writes one datagram into it), then to the
// socket until dgram's send callback fires; `onSent` is a function made once per slot, so sending
// allocates no closure either.

export interface SendSlot {
  readonly index: number;
  /** The whole slot (write the datagram at offset 0). */
  readonly buf: Buffer;
  /** Bytes of the datagram written into the slot. */
  length: number;
  /** Called by dgram when the kernel took (or refused) the datagram. */
  readonly onSent: (err: Error | null) => void;
}

export class SendRing {
  readonly slotSize: number;
  readonly capacity: number;
  private readonly slots: SendSlot[];
  private readonly free: number[];
  /** Slots handed out and not yet released. */
  inUse = 0;
  /** Total send errors reported by dgram callbacks, by error code. */
  readonly errors: Record<string, number> = {};
  private readonly onRelease: (err: Error | null) => void;

  constructor(capacity: number, slotSize: number, onRelease: (err: Error | null) => void = () => {}) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity: expected a positive integer, got ${capacity}`);
    if (!Number.isInteger(slotSize) || slotSize < 1200 || slotSize > 65527) throw new RangeError(`slotSize: expected 1200..65527, got ${slotSize}`);
    this.capacity = capacity;
    this.slotSize = slotSize;
    this.onRelease = onRelease;
    const backing = Buffer.allocUnsafeSlow(capacity * slotSize);
    this.slots = new Array<SendSlot>(capacity);
    this.free = new Array<number>(capacity);
    for (let i = 0; i < capacity; i++) {
      const index = i;
      const slot: SendSlot = {
        index,
        buf: backing.subarray(i * slotSize, (i + 1) * slotSize),
        length: 0,
        onSent: (err: Error | null) => {
          if (err) {
            const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
            this.errors[code] = (this.errors[code] ?? 0) + 1;
          }
          this.release(slot, err);
        },
      };
      this.slots[i] = slot;
      this.free[i] = capacity - 1 - i;
    }
  }

  get available(): number {
    return this.free.length;
  }

  /** A free slot, or undefined when every slot is with the socket (backpressure). */
  acquire(): SendSlot | undefined {
    const i = this.free.pop();
    if (i === undefined) return undefined;
    this.inUse++;
    return this.slots[i]!;
  }

  release(slot: SendSlot, err: Error | null = null): void {
    slot.length = 0;
    this.free.push(slot.index);
    this.inUse--;
    this.onRelease(err);
  }
}
