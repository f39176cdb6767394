// L2b: the readiness queue of streams with STREAM data to send (RFC 9000 §2.3 leaves priorities to
// the application). Eight urgency levels as in RFC 9218 §4 (0 = most urgent, default 3); the lowest
// non-empty level is served first. Within a level, incremental streams rotate round-robin one
// frame at a time; a non-incremental stream keeps its place at the front until it has nothing left
// (RFC 9218 §4: served in order). The transport default is urgency 3, incremental — plain round
// robin — and HTTP/3 sets per-stream values from the priority header / PRIORITY_UPDATE.
//
// Intrusive doubly linked lists (links live on the stream record): push, remove and rotate are O(1)
// and allocate nothing.

export interface Schedulable {
  urgency: number;
  incremental: boolean;
  schedNext: Schedulable | null;
  schedPrev: Schedulable | null;
  scheduled: boolean;
}

export const URGENCY_LEVELS = 8;
export const DEFAULT_URGENCY = 3;

export class StreamScheduler<T extends Schedulable> {
  private readonly heads: (T | null)[] = new Array<T | null>(URGENCY_LEVELS).fill(null);
  private readonly tails: (T | null)[] = new Array<T | null>(URGENCY_LEVELS).fill(null);
  /** Number of scheduled streams. */
  size = 0;

  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** Queue `s` at the back of its urgency level (no-op when already queued). */
  push(s: T): void {
    if (s.scheduled) return;
    const u = clampUrgency(s.urgency);
    s.scheduled = true;
    s.schedNext = null;
    s.schedPrev = this.tails[u]!;
    if (this.tails[u] !== null) this.tails[u]!.schedNext = s;
    else this.heads[u] = s;
    this.tails[u] = s;
    this.size++;
  }

  remove(s: T): void {
    if (!s.scheduled) return;
    const u = clampUrgency(s.urgency);
    const prev = s.schedPrev as T | null;
    const next = s.schedNext as T | null;
    if (prev !== null) prev.schedNext = next;
    else this.heads[u] = next;
    if (next !== null) next.schedPrev = prev;
    else this.tails[u] = prev;
    s.schedNext = null;
    s.schedPrev = null;
    s.scheduled = false;
    this.size--;
  }

  /** First stream to serve, or null. */
  first(): T | null {
    if (this.size === 0) return null;
    for (let u = 0; u < URGENCY_LEVELS; u++) if (this.heads[u] !== null) return this.heads[u]!;
    return null;
  }

  /** The stream served after `s` (same level, then less urgent levels), or null. */
  next(s: T): T | null {
    if (s.schedNext !== null) return s.schedNext as T;
    for (let u = clampUrgency(s.urgency) + 1; u < URGENCY_LEVELS; u++) if (this.heads[u] !== null) return this.heads[u]!;
    return null;
  }

  /** `s` just sent a frame and still has data: incremental streams go to the back of their level. */
  rotate(s: T): void {
    if (!s.scheduled || !s.incremental) return;
    const u = clampUrgency(s.urgency);
    if (this.tails[u] === s) return;
    this.remove(s);
    this.push(s);
  }

  /** Change a stream's priority, keeping it queued if it was. */
  setPriority(s: T, urgency: number, incremental: boolean): void {
    const was = s.scheduled;
    if (was) this.remove(s);
    s.urgency = clampUrgency(urgency);
    s.incremental = incremental;
    if (was) this.push(s);
  }
}

function clampUrgency(u: number): number {
  return u < 0 ? 0 : u >= URGENCY_LEVELS ? URGENCY_LEVELS - 1 : u | 0;
}
