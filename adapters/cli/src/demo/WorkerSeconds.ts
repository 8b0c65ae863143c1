import type { BackendWorkerStatus } from '@ebbtide/core';

/**
 * Worker-seconds used, from the backend's own view: a worker costs from the moment it is
 * requested until its process has exited. Times are seconds on the caller's clock.
 */
export class WorkerSeconds {
  private readonly since = new Map<string, number>();
  private closed = 0;
  peak = 0;

  observe(list: readonly BackendWorkerStatus[], now: number): void {
    for (const s of list) {
      if (s.phase === 'exited') {
        const t = this.since.get(s.name);
        if (t !== undefined) {
          this.closed += now - t;
          this.since.delete(s.name);
        }
      } else if (!this.since.has(s.name)) {
        this.since.set(s.name, now);
      }
    }
    this.peak = Math.max(this.peak, this.since.size);
  }

  /** Workers alive now. */
  get alive(): number {
    return this.since.size;
  }

  total(now: number): number {
    let open = 0;
    for (const t of this.since.values()) open += now - t;
    return this.closed + open;
  }
}
