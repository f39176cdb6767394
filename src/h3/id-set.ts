// L6: which peer-initiated streams of one type HTTP/3 has already seen (RFC 9000 §2.1 stream
// indices). A watermark covers the in-order prefix, a set the few seen out of order, so a
// 'stream-readable' for a stream that is long finished is told apart from one never seen.

export class IdSet {
  private below = 0;
  private readonly above = new Set<number>();

  /** Every index below this was seen. */
  get watermark(): number {
    return this.below;
  }

  has(index: number): boolean {
    return index < this.below || this.above.has(index);
  }

  add(index: number): void {
    if (index < this.below) return;
    if (index !== this.below) {
      this.above.add(index);
      return;
    }
    this.below++;
    while (this.above.size > 0 && this.above.delete(this.below)) this.below++;
  }
}
