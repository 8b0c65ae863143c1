import type { RetireOutcome, RetireResult } from '../contracts/SchedulerAdapter.js';

export interface RetireEachHooks<W> {
  /** The connected worker of that name, if any. */
  lookup(name: string): W | undefined;
  /** Stop assigning to it (and stop choosing it as a recipient) before any data moves. */
  markClosing(worker: W): void;
  /** Retires one worker: move its unique results, then close it. */
  retireOne(worker: W): Promise<RetireOutcome>;
  /** Retirements under way, by name; shared across calls so a second request waits for the first. */
  inFlight: Map<string, Promise<RetireOutcome>>;
}

/**
 * The fan-out every scheduler adapter's `retire(names)` needs: all named workers are marked
 * closing first (so none of them receives another's data), each is retired once even if named
 * twice or already being retired, unknown names come back `unknown`, and outcomes are in the
 * order of `names`.
 */
export async function retireEach<W>(names: readonly string[], hooks: RetireEachHooks<W>): Promise<RetireResult> {
  const distinct = [...new Set(names)];
  for (const name of distinct) {
    const w = hooks.lookup(name);
    if (w !== undefined && !hooks.inFlight.has(name)) hooks.markClosing(w);
  }
  const pending = new Map<string, Promise<RetireOutcome>>();
  for (const name of distinct) {
    const w = hooks.lookup(name);
    if (w === undefined) {
      pending.set(name, Promise.resolve({ name, status: 'unknown', reason: 'no connected worker has this name' }));
      continue;
    }
    let p = hooks.inFlight.get(name);
    if (!p) {
      p = hooks.retireOne(w).finally(() => hooks.inFlight.delete(name));
      hooks.inFlight.set(name, p);
    }
    pending.set(name, p);
  }
  return { outcomes: await Promise.all(names.map((n) => pending.get(n)!)) };
}
