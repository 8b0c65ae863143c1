import { Worker } from 'node:worker_threads';
import type { ThreadJob, ThreadOutcome } from './threadMessages.js';

interface Slot {
  thread: Worker;
  job?: { job: ThreadJob; resolve: (o: ThreadOutcome) => void };
}

const THREAD_URL = new URL('./taskThread.js', import.meta.url);

/**
 * A fixed pool of `size` worker threads, one task at a time per thread, with a FIFO queue in
 * front. A thread that dies (a task called `process.exit`, or threw asynchronously outside its
 * promise) fails its task and is replaced, so one bad task never shrinks the pool.
 */
export class TaskThreadPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Array<{ job: ThreadJob; resolve: (o: ThreadOutcome) => void }> = [];
  private nextId = 1;
  private terminated = false;

  constructor(readonly size: number, private readonly threadUrl: URL = THREAD_URL) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  /** Runs `fn(...args)` on a free thread (queued if none is free); never rejects. */
  run(fn: string, args: unknown[]): Promise<ThreadOutcome> {
    return new Promise((resolve) => {
      this.queue.push({ job: { id: this.nextId++, fn, args }, resolve });
      this.dispatch();
    });
  }

  /** Tasks running now plus tasks waiting for a thread. */
  get load(): number {
    return this.queue.length + this.slots.filter((s) => s.job).length;
  }

  /** Stops every thread; running tasks are abandoned. */
  async terminate(): Promise<void> {
    this.terminated = true;
    await Promise.all(this.slots.map((s) => s.thread.terminate()));
  }

  private spawn(): Slot {
    const slot: Slot = { thread: new Worker(this.threadUrl) };
    slot.thread.on('message', (outcome: ThreadOutcome) => {
      const current = slot.job;
      if (!current || current.job.id !== outcome.id) return;
      slot.job = undefined;
      current.resolve(outcome);
      this.dispatch();
    });
    const died = (why: string): void => {
      const current = slot.job;
      slot.job = undefined;
      current?.resolve({ id: current.job.id, ok: false, error: { kind: 'task', message: `task thread died while running ${current.job.fn}: ${why}` } });
      if (this.terminated) return;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = this.spawn();
      this.dispatch();
    };
    slot.thread.on('error', (e) => died(e instanceof Error ? e.message : String(e)));
    slot.thread.on('exit', (code) => {
      if (this.slots.includes(slot)) died(`thread exited with code ${code}`);
    });
    return slot;
  }

  private dispatch(): void {
    if (this.terminated) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      const next = this.queue.shift()!;
      slot.job = next;
      slot.thread.postMessage(next.job);
    }
  }
}
