// L1 QPACK dynamic table: RFC 9204 §3.2. FIFO of entries with absolute indices (§3.2.4), size =
// name + value + 32 octets per entry (§3.2.1), eviction from the oldest end before an insertion or
// on a capacity change (§3.2.2). DynamicTable is the decoder's table; EncoderTable adds what the
// encoder must track: lookup maps, per-entry counts of unacknowledged references, and the
// evictability rule of §2.1.1 (acknowledged and unreferenced).

export const ENTRY_OVERHEAD = 32;

/** Size of an entry (RFC 9204 §3.2.1); names and values are Latin-1 strings, one char per octet. */
export function entrySize(name: string, value: string): number {
  return name.length + value.length + ENTRY_OVERHEAD;
}

export class DynamicEntry {
  readonly name: string;
  readonly value: string;
  readonly size: number;
  readonly index: number;
  /** Encoder only: references from field sections not yet acknowledged or cancelled. */
  refs: number;

  constructor(name: string, value: string, index: number) {
    this.name = name;
    this.value = value;
    this.size = name.length + value.length + ENTRY_OVERHEAD;
    this.index = index;
    this.refs = 0;
  }
}

export class DynamicTable {
  /** Current capacity (set by Set Dynamic Table Capacity). */
  capacity = 0;
  /** Sum of entry sizes. */
  size = 0;
  /** Total insertions so far: the absolute index the next entry gets. */
  insertCount = 0;
  /** Absolute index of the oldest live entry (= number of entries evicted). */
  dropped = 0;

  private ring: Array<DynamicEntry | undefined> = [];
  private head = 0;

  /** Number of live entries. */
  get length(): number {
    return this.insertCount - this.dropped;
  }

  /** The entry with absolute index `abs`, or undefined when evicted or not yet inserted. */
  get(abs: number): DynamicEntry | undefined {
    if (abs < this.dropped || abs >= this.insertCount) return undefined;
    return this.ring[this.head + (abs - this.dropped)];
  }

  /** The oldest live entry. */
  oldest(): DynamicEntry | undefined {
    return this.insertCount > this.dropped ? this.ring[this.head] : undefined;
  }

  /** Evict the oldest entry. */
  evictOldest(): void {
    const e = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head++;
    this.dropped++;
    this.size -= e.size;
    this.onEvict(e);
    if (this.head >= 64 && this.head * 2 >= this.ring.length) {
      this.ring.copyWithin(0, this.head);
      this.ring.length -= this.head;
      this.head = 0;
    }
  }

  /** Set the capacity, evicting the oldest entries until the table fits (caller checked evictability). */
  setCapacity(capacity: number): void {
    this.capacity = capacity;
    while (this.size > capacity) this.evictOldest();
  }

  /**
   * Insert an entry, first evicting the oldest entries until it fits. The caller checked that the
   * entry fits the capacity at all and (encoder) that the evicted entries are evictable.
   */
  insert(name: string, value: string): DynamicEntry {
    const e = new DynamicEntry(name, value, this.insertCount);
    while (this.size + e.size > this.capacity) this.evictOldest();
    this.ring.push(e);
    this.insertCount++;
    this.size += e.size;
    this.onInsert(e);
    return e;
  }

  protected onInsert(_e: DynamicEntry): void {}
  protected onEvict(_e: DynamicEntry): void {}
}

interface NameSlot {
  /** Newest absolute index with this name. */
  latest: number;
  /** Newest absolute index per value. */
  values: Map<string, number>;
}

/** The encoder's copy of the table, with lookups and reference tracking. */
export class EncoderTable extends DynamicTable {
  private byName = new Map<string, NameSlot>();

  /** Newest entry exactly matching (name, value), or -1. */
  findExact(name: string, value: string): number {
    const s = this.byName.get(name);
    if (!s) return -1;
    const i = s.values.get(value);
    return i === undefined ? -1 : i;
  }

  /** Newest entry with this name, or -1. */
  findName(name: string): number {
    const s = this.byName.get(name);
    return s ? s.latest : -1;
  }

  /**
   * Whether `needed` bytes can be made free by evicting only evictable entries: acknowledged
   * (absolute index < knownReceivedCount) and with no outstanding references (RFC 9204 §2.1.1).
   */
  canMakeRoom(needed: number, knownReceivedCount: number): boolean {
    if (needed > this.capacity) return false;
    let free = this.capacity - this.size;
    let abs = this.dropped;
    while (free < needed) {
      const e = this.get(abs);
      if (!e || e.refs > 0 || abs >= knownReceivedCount) return false;
      free += e.size;
      abs++;
    }
    return true;
  }

  /**
   * The draining index (RFC 9204 §2.1.1.1): the smallest absolute index the encoder still
   * references in new field sections. Entries below it are left to drain so that unused space plus
   * their space reaches `headroom` bytes.
   */
  drainingIndex(headroom: number): number {
    let free = this.capacity - this.size;
    let abs = this.dropped;
    while (free < headroom && abs < this.insertCount) {
      free += this.get(abs)!.size;
      abs++;
    }
    return abs;
  }

  protected override onInsert(e: DynamicEntry): void {
    let s = this.byName.get(e.name);
    if (!s) {
      s = { latest: e.index, values: new Map() };
      this.byName.set(e.name, s);
    } else {
      s.latest = e.index;
    }
    s.values.set(e.value, e.index);
  }

  protected override onEvict(e: DynamicEntry): void {
    const s = this.byName.get(e.name);
    if (!s) return;
    if (s.values.get(e.value) === e.index) s.values.delete(e.value);
    // Entries leave oldest first: if the newest entry with this name is leaving, no entry is left.
    if (s.latest === e.index) this.byName.delete(e.name);
  }
}
