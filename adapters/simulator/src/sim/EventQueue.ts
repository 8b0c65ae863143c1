interface Slot<T> {
  at: number;
  seq: number;
  item: T;
}

/**
 * A binary min-heap of future events ordered by time, then by insertion order, so that events
 * due at the same moment run in the order they were scheduled (deterministic).
 *
 * The simulated scheduler keeps its own events here and arms a single RxJS timer for the
 * earliest one (one timer object instead of one per running task); `VirtualClock` keeps its
 * pending actions here too.
 */
export class EventQueue<T> {
  private readonly heap: Array<Slot<T>> = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Time of the earliest event, if any. */
  peekTime(): number | undefined {
    return this.heap[0]?.at;
  }

  push(at: number, item: T): void {
    const heap = this.heap;
    heap.push({ at, seq: this.seq++, item });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** The earliest event, without removing it. */
  peek(): T | undefined {
    return this.heap[0]?.item;
  }

  /** Removes and returns the earliest event if it is due at or before `now`. */
  popDue(now: number): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (!top || top.at > now) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && this.less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top.item;
  }

  private less(a: Slot<T>, b: Slot<T>): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}
