import { prefixOfKey } from '../wire/daskKey.js';
import type { TaskStreamEntry } from './parseReplies.js';

interface PrefixTiming {
  durationAverage: number;
  maxExecTime: number;
}

/**
 * Per-prefix task durations learned by the adapter, the way Dask's `TaskPrefix` learns them:
 *
 * - each completed `compute` of duration `s`: `avg = s` if unknown, else `0.5·s + 0.5·avg`;
 * - each task seen executing for `t` seconds: `maxExecTime = max(maxExecTime, t)`, and the
 *   average is forgotten (-1) when `t > 2·avg`.
 *
 * Dask (2022.12, and still 2026.8) does not expose its own averages over RPC, so these start from the configured
 * `scheduler.defaultTaskDurations` (else unknown) when the adapter attaches, and survive
 * reconnects (they describe the workload, not the scheduler process).
 */
export class PrefixDurations {
  private readonly timings = new Map<string, PrefixTiming>();

  constructor(private readonly defaults: Readonly<Record<string, number>> = {}) {}

  /** Feeds completed tasks (successful ones only, as Dask does) in completion order. */
  observeCompletions(entries: readonly TaskStreamEntry[]): void {
    for (const e of entries) {
      if (e.status !== 'OK') continue;
      const t = this.timing(prefixOfKey(e.key));
      for (const ss of e.startstops) {
        if (ss.action !== 'compute') continue;
        const s = Math.max(0, ss.stop - ss.start);
        t.durationAverage = t.durationAverage < 0 ? s : 0.5 * s + 0.5 * t.durationAverage;
      }
    }
  }

  /** A task of `prefix` has been executing for `elapsed` seconds. */
  observeExecuting(prefix: string, elapsed: number): void {
    const t = this.timing(prefix);
    t.maxExecTime = Math.max(t.maxExecTime, elapsed);
    if (elapsed > 2 * t.durationAverage) t.durationAverage = -1;
  }

  /** Timing of a prefix; unknown ones get their configured default, else -1. */
  get(prefix: string): PrefixTiming {
    const t = this.timings.get(prefix);
    return t ? { ...t } : { durationAverage: this.defaults[prefix] ?? -1, maxExecTime: -1 };
  }

  /** Prefixes with anything learned. */
  prefixes(): IterableIterator<string> {
    return this.timings.keys();
  }

  private timing(prefix: string): PrefixTiming {
    let t = this.timings.get(prefix);
    if (!t) this.timings.set(prefix, (t = { durationAverage: this.defaults[prefix] ?? -1, maxExecTime: -1 }));
    return t;
  }
}
