/** Shared pieces of the chaos soaks: a seeded fault plan and a sampler of connected workers. */
import { seeded } from '@ebbtide/core/testing';

/** The test kit's seeded generator (mulberry32), so a soak's fault plan is repeatable. */
export { seeded };

/**
 * The faults of a soak, one per cycle, drawn from `kinds` by the seed, each kind at least once
 * (the first cycles go through every kind in a seeded order, the rest are drawn at random).
 */
export function faultPlan<K extends string>(kinds: readonly K[], cycles: number, seed: number): K[] {
  const rnd = seeded(seed);
  const order = [...kinds].sort(() => rnd() - 0.5);
  const plan: K[] = [];
  for (let i = 0; i < cycles; i++) plan.push(i < order.length ? order[i]! : kinds[Math.floor(rnd() * kinds.length)]!);
  return plan;
}

/** The seed of a soak run: `EBBTIDE_CHAOS_SEED`, else 1 (printed, so a failure can be replayed). */
export function chaosSeed(): number {
  const v = Number(process.env.EBBTIDE_CHAOS_SEED ?? 1);
  return Number.isFinite(v) ? v : 1;
}

/** Samples a count on an interval and keeps the maximum seen (and every sample, for a report). */
export class PeakSampler {
  peak = 0;
  samples = 0;
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(private readonly read: () => Promise<number | undefined>) {}

  start(everyMs = 150): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.read()
        .then((n) => {
          if (n !== undefined) {
            this.samples++;
            this.peak = Math.max(this.peak, n);
          }
        })
        .catch(() => undefined)
        .finally(() => (this.busy = false));
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
