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
    const slot = { at, seq: this.seq++, item };
    // Sift up with a hole: each step moves one parent down, no swap (a destructuring swap
    // allocates an array per step unless the optimizer removes it).
    let i = heap.length;
    heap.push(slot);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!less(slot, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = slot;
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
    const n = heap.length;
    if (n > 0) {
      // Sift the last slot down from the root's hole.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(heap[r]!, heap[l]!) ? r : l;
        const child = heap[c]!;
        if (!less(child, last)) break;
        heap[i] = child;
        i = c;
      }
      heap[i] = last;
    }
    return top.item;
  }
}

function less<T>(a: Slot<T>, b: Slot<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
