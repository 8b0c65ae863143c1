import 'reflect-metadata';
import { injectable } from 'tsyringe';
import type { ScalingHeuristic, HeuristicResult } from '../contracts/ScalingHeuristic.js';
import type { WorkersToClose } from '../contracts/WorkersToClose.js';
import { definePlugin } from '../plugins/EbbtidePlugin.js';

/** Keeps the cluster as it is: target = current worker count. A starting point for new heuristics. */
@injectable()
export class NoopHeuristic implements ScalingHeuristic {
  target(snapshot: { workers: unknown[] }): HeuristicResult {
    return { target: snapshot.workers.length, explanation: { rule: 'noop: keep the current size' } };
  }
}

/** Proposes nothing. A starting point for new strategies. */
@injectable()
export class NoopWorkersToClose implements WorkersToClose {
  select(): string[] {
    return [];
  }
}

/** One no-op implementation per decision kind, for tests and as a template. */
export const noopPlugin = definePlugin({
  name: 'noop',
  register(r) {
    r.heuristic('noop', NoopHeuristic);
    r.workersToClose('noop', NoopWorkersToClose);
  },
});
