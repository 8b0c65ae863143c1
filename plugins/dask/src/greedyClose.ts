import type { SelectQuery } from './selectWorkersToClose.js';

/**
 * Dask's `workers_to_close` rule, shared by the from-scratch path (`selectWorkersToClose`) and
 * the store's incremental view (`selectFromView`), which differ only in how they reach the groups
 * in closing order.
 */
export class GreedyClose {
  /** Groups to close by count (`n`/`target` mode), or undefined. */
  readonly n: number | undefined;
  private readonly least: number;
  private readonly memoryRatio: number | undefined;
  private readonly minimum: number | undefined;
  private nRemain: number;

  /**
   * @param workerCount every worker, candidates or not (Dask's `len(self.workers)`)
   * @param limit the candidates' memory limit in total, @param total their bytes in total
   */
  constructor(
    workerCount: number,
    query: Omit<SelectQuery, 'key'>,
    private limit: number,
    private readonly total: number,
  ) {
    let { n, target, memoryRatio } = query;
    if (target !== undefined && n === undefined) n = workerCount - target;
    if (n !== undefined) {
      if (n < 0) n = 0;
      target = workerCount - n;
    }
    if (n === undefined && memoryRatio === undefined) memoryRatio = 2;
    this.n = n;
    this.least = target || 0;
    this.memoryRatio = memoryRatio;
    this.minimum = query.minimum;
    this.nRemain = workerCount;
  }

  /** No more workers than this close: the rule always keeps `minimum`, and `target` unless memory also decides. */
  get mostClosed(): number {
    const kept = this.memoryRatio === undefined ? Math.max(this.least, this.minimum || 0) : this.minimum || 0;
    return Math.max(0, this.nRemain - kept);
  }

  /** Dask returns nothing when every worker is busy, unless asked for a count. */
  nothingWhenAllBusy(): boolean {
    return !this.n;
  }

  /** The next group in closing order: true when it closes, false when the greedy search ends here. */
  accept(size: number, idle: boolean, memoryLimit: number): boolean {
    if (this.n === undefined && !idle) return false;
    if (this.minimum && this.nRemain - size < this.minimum) return false;
    this.limit -= memoryLimit;
    const byCount = this.n !== undefined && this.nRemain - size >= this.least;
    const byMemory = this.memoryRatio !== undefined && this.limit >= this.memoryRatio * this.total;
    if (!(byCount || byMemory)) return false;
    this.nRemain -= size;
    return true;
  }
}
