/**
 * The wait before the next poll: the poll interval while the scheduler's state moves, doubling
 * after each poll that found it unchanged, up to `maxMs`; back to the interval at once after a
 * poll that saw a change, or on `reset()` (ebbtide acted on the cluster, or reconnected).
 */
export class PollBackoff {
  private delay: number;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {
    this.delay = baseMs;
  }

  /** The wait before the next poll. */
  get nextMs(): number {
    return this.delay;
  }

  /** Records one poll's outcome. */
  polled(changed: boolean): void {
    this.delay = changed ? this.baseMs : Math.min(Math.max(this.baseMs, this.maxMs), this.delay * 2);
  }

  reset(): void {
    this.delay = this.baseMs;
  }
}
