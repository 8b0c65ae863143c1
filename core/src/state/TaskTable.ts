/** States of a tracked task, as stored in the low bits of its meta word. */
export const QUEUED = 1;
export const UNRUNNABLE = 2;
export const PROCESSING = 3;
export type Tracked = typeof QUEUED | typeof UNRUNNABLE | typeof PROCESSING;

const STATE_MASK = 3;
const LONG_RUNNING = 4;
const PREFIX_SHIFT = 3;
/** Prefix ids must fit the meta word above its three flag bits. */
export const MAX_PREFIXES = 2 ** 28;

/**
 * The tracked tasks (queued, unrunnable or processing), one slot each in typed arrays instead of
 * one object per task: a key maps to its slot, the slot holds its prefix id, state and
 * long-running flag in one Int32 and its worker id in another. About 36 bytes per task at a
 * million (the Map's entry and bucket, 8 bytes of arrays), and nothing for the collector to trace.
 * Slots of finished tasks are reused. Resource needs, rare, live in a side map by slot.
 */
export class TaskTable {
  private slots = new Map<string, number>();
  private meta = new Int32Array(1024);
  private workerIds = new Int32Array(1024);
  /** Head of the free slots, linked through `workerIds` (-1: none). */
  private freeHead = -1;
  private used = 0;
  private needs = new Map<number, Record<string, number>>();

  get size(): number {
    return this.slots.size;
  }

  /** The slot of a tracked key, or -1. */
  find(key: string): number {
    return this.slots.get(key) ?? -1;
  }

  add(key: string, prefix: number, state: Tracked, worker: number, resources: Record<string, number> | undefined): number {
    let slot: number;
    if (this.freeHead >= 0) {
      slot = this.freeHead;
      this.freeHead = this.workerIds[slot]!;
    } else {
      if (this.used === this.meta.length) this.grow();
      slot = this.used++;
    }
    this.slots.set(key, slot);
    this.meta[slot] = (prefix << PREFIX_SHIFT) | state;
    this.workerIds[slot] = worker;
    if (resources) this.needs.set(slot, resources);
    return slot;
  }

  /** Moves a tracked task to another state (its prefix and resources stay); clears the long-running flag. */
  set(slot: number, state: Tracked, worker: number): void {
    this.meta[slot] = (this.meta[slot]! & ~(STATE_MASK | LONG_RUNNING)) | state;
    this.workerIds[slot] = worker;
  }

  remove(key: string, slot: number): void {
    this.slots.delete(key);
    this.needs.delete(slot);
    this.workerIds[slot] = this.freeHead;
    this.freeHead = slot;
  }

  state(slot: number): Tracked {
    return (this.meta[slot]! & STATE_MASK) as Tracked;
  }

  prefix(slot: number): number {
    return this.meta[slot]! >>> PREFIX_SHIFT;
  }

  worker(slot: number): number {
    return this.workerIds[slot]!;
  }

  longRunning(slot: number): boolean {
    return (this.meta[slot]! & LONG_RUNNING) !== 0;
  }

  setLongRunning(slot: number): void {
    this.meta[slot] = this.meta[slot]! | LONG_RUNNING;
  }

  resources(slot: number): Record<string, number> | undefined {
    return this.needs.size === 0 ? undefined : this.needs.get(slot);
  }

  /** Gives a tracked task the resource needs it came without (a later event may carry them). */
  setResources(slot: number, resources: Record<string, number>): void {
    this.needs.set(slot, resources);
  }

  /** Forgets every task and gives the memory back. */
  clear(): void {
    this.slots = new Map();
    this.meta = new Int32Array(1024);
    this.workerIds = new Int32Array(1024);
    this.freeHead = -1;
    this.used = 0;
    this.needs = new Map();
  }

  private grow(): void {
    const n = this.meta.length * 2;
    const meta = new Int32Array(n);
    meta.set(this.meta);
    this.meta = meta;
    const workers = new Int32Array(n);
    workers.set(this.workerIds);
    this.workerIds = workers;
  }
}
