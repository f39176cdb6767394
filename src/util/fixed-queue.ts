// L0: FixedQueue<T>, a power-of-two ring buffer used as a FIFO/deque (DESIGN §7.7).
// Slots are reused; the queue grows by doubling (up to an optional cap) and never shrinks, so a
// queue that reached its working size allocates nothing more. No internal imports.

/** Error code carried by the RangeError thrown when a capped queue is full. */
export const ERR_QUEUE_FULL = 'ERR_QUIC_QUEUE_FULL';

function nextPow2(n: number): number {
  let c = 1;
  while (c < n) c *= 2;
  return c;
}

export class FixedQueue<T> {
  private buf: (T | undefined)[];
  private mask: number;
  private head = 0;
  private len = 0;
  /** Most elements the queue may hold, Infinity if unbounded. */
  readonly maxCapacity: number;

  /**
   * @param initialCapacity rounded up to a power of two (≥ 2).
   * @param maxCapacity most elements the queue holds; past it `tryPush` returns false, `push` throws.
   */
  constructor(initialCapacity = 16, maxCapacity = Infinity) {
    if (!(initialCapacity >= 1) || !Number.isFinite(initialCapacity)) {
      throw new RangeError(`initialCapacity must be a finite number ≥ 1, got ${initialCapacity}`);
    }
    if (!(maxCapacity >= initialCapacity)) {
      throw new RangeError(`maxCapacity must be ≥ initialCapacity, got ${maxCapacity}`);
    }
    const cap = Math.max(2, nextPow2(initialCapacity));
    this.maxCapacity = maxCapacity;
    this.buf = new Array<T | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  get length(): number {
    return this.len;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  isEmpty(): boolean {
    return this.len === 0;
  }

  private grow(): void {
    const cap = this.mask + 1;
    const next = new Array<T | undefined>(cap * 2).fill(undefined);
    for (let i = 0; i < this.len; i++) next[i] = this.buf[(this.head + i) & this.mask];
    this.buf = next;
    this.mask = cap * 2 - 1;
    this.head = 0;
  }

  /** Appends at the tail; false when the queue is at maxCapacity. */
  tryPush(value: T): boolean {
    if (this.len >= this.maxCapacity) return false;
    if (this.len > this.mask) this.grow();
    this.buf[(this.head + this.len) & this.mask] = value;
    this.len++;
    return true;
  }

  /** Appends at the tail; throws RangeError (code ERR_QUIC_QUEUE_FULL) when at maxCapacity. */
  push(value: T): void {
    if (!this.tryPush(value)) {
      const e = new RangeError(`queue full (capacity ${this.capacity})`) as RangeError & { code: string };
      e.code = ERR_QUEUE_FULL;
      throw e;
    }
  }

  /** Prepends at the head; false when the queue is at maxCapacity. */
  tryUnshift(value: T): boolean {
    if (this.len >= this.maxCapacity) return false;
    if (this.len > this.mask) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.buf[this.head] = value;
    this.len++;
    return true;
  }

  /** Removes and returns the head, undefined when empty. */
  shift(): T | undefined {
    if (this.len === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.len--;
    return v;
  }

  /** Removes and returns the tail, undefined when empty. */
  pop(): T | undefined {
    if (this.len === 0) return undefined;
    const i = (this.head + this.len - 1) & this.mask;
    const v = this.buf[i];
    this.buf[i] = undefined;
    this.len--;
    return v;
  }

  /** The head without removing it. */
  peek(): T | undefined {
    return this.len === 0 ? undefined : this.buf[this.head];
  }

  /** The tail without removing it. */
  peekLast(): T | undefined {
    return this.len === 0 ? undefined : this.buf[(this.head + this.len - 1) & this.mask];
  }

  /** Element i (0 = head); undefined outside [0, length). */
  at(i: number): T | undefined {
    if (!(i >= 0 && i < this.len)) return undefined;
    return this.buf[(this.head + i) & this.mask];
  }

  /** Replaces element i (0 = head); RangeError outside [0, length). */
  set(i: number, value: T): void {
    if (!(i >= 0 && i < this.len) || !Number.isInteger(i)) {
      throw new RangeError(`index ${i} out of range [0, ${this.len})`);
    }
    this.buf[(this.head + i) & this.mask] = value;
  }

  /** Drops the first n elements (n clamped to length). */
  discard(n: number): void {
    const k = Math.min(Math.max(0, Math.floor(n)), this.len);
    for (let i = 0; i < k; i++) {
      this.buf[this.head] = undefined;
      this.head = (this.head + 1) & this.mask;
    }
    this.len -= k;
  }

  clear(): void {
    this.discard(this.len);
    this.head = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.len; i++) yield this.buf[(this.head + i) & this.mask] as T;
  }
}
