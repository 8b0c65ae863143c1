/** What the index keeps on a worker: its registration number and where it is filed. */
export interface SlotIndexed {
  /** Registration order: a worker added later has a larger number. */
  readonly seq: number;
  /** Free slots it is filed under; 0 = not in the index. Only the index writes it. */
  slotBucket: number;
  /** Its place in that bucket's heap. Only the index writes it. */
  slotPos: number;
}

/**
 * The running workers with a free thread slot, for placement: `first()` is the one with the most
 * free slots, the earliest registered on a tie — what `pickWorker` finds by scanning every
 * worker, kept incrementally so a placement costs O(log W) instead of O(W) (Dask keeps its idle
 * and saturated sets for the same reason). One bucket per free-slot count (a handful: at most
 * the largest `nthreads`), each a binary min-heap by registration number whose members know their
 * place, so a worker whose run starts or ends moves between buckets in O(log W).
 */
export class FreeSlotIndex<W extends SlotIndexed> {
  private readonly buckets = new Map<number, W[]>();
  /** Free-slot counts that have a non-empty bucket, most first. */
  private readonly counts: number[] = [];

  /** Files `w` under `free` slots; `free <= 0` (or not a number) takes it out. */
  set(w: W, free: number): void {
    const key = free > 0 ? free : 0;
    if (w.slotBucket === key) return;
    if (w.slotBucket > 0) this.take(w);
    if (key > 0) this.file(w, key);
  }

  /** The worker a task without restrictions goes to, if any has a free slot. */
  first(): W | undefined {
    const top = this.counts[0];
    return top === undefined ? undefined : this.buckets.get(top)![0];
  }

  private file(w: W, key: number): void {
    let heap = this.buckets.get(key);
    if (!heap) {
      this.buckets.set(key, (heap = []));
      let i = 0;
      while (i < this.counts.length && this.counts[i]! > key) i++;
      this.counts.splice(i, 0, key);
    }
    w.slotBucket = key;
    w.slotPos = heap.length;
    heap.push(w);
    up(heap, w.slotPos);
  }

  private take(w: W): void {
    const key = w.slotBucket;
    const heap = this.buckets.get(key)!;
    const i = w.slotPos;
    const last = heap.pop()!;
    if (last !== w) {
      heap[i] = last;
      last.slotPos = i;
      down(heap, i);
      up(heap, last.slotPos);
    }
    w.slotBucket = 0;
    w.slotPos = -1;
    if (heap.length === 0) {
      this.buckets.delete(key);
      this.counts.splice(this.counts.indexOf(key), 1);
    }
  }
}

function up(heap: SlotIndexed[], i: number): void {
  const w = heap[i]!;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent]!;
    if (p.seq <= w.seq) break;
    heap[i] = p;
    p.slotPos = i;
    i = parent;
  }
  heap[i] = w;
  w.slotPos = i;
}

function down(heap: SlotIndexed[], i: number): void {
  const w = heap[i]!;
  const n = heap.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && heap[r]!.seq < heap[l]!.seq ? r : l;
    const child = heap[c]!;
    if (child.seq >= w.seq) break;
    heap[i] = child;
    child.slotPos = i;
    i = c;
  }
  heap[i] = w;
  w.slotPos = i;
}
