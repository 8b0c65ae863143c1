import assert from 'node:assert/strict';
import type { ScalingHeuristic } from '../contracts/ScalingHeuristic.js';
import type { SchedulerSnapshot } from '../contracts/SchedulerSnapshot.js';
import type { WorkerInfo } from '../contracts/WorkerInfo.js';
import type { WorkerKey } from '../contracts/WorkerKey.js';
import type { WorkersToClose } from '../contracts/WorkersToClose.js';
import { SchedulerStateStore } from '../state/SchedulerStateStore.js';
import { frozenCopy, withoutClockOrRandomness } from './purity.js';
import { sampleSnapshots } from './sampleSnapshots.js';

export interface DecisionSuiteOptions {
  /** More states to check, besides the built-in samples (an empty cluster, idle, busy, held data, random mixes). */
  snapshots?: Array<{ name: string; snapshot: SchedulerSnapshot }>;
}

function states(options: DecisionSuiteOptions): Array<{ name: string; snapshot: SchedulerSnapshot }> {
  return [...sampleSnapshots(), ...(options.snapshots ?? [])];
}

/**
 * The `ScalingHeuristic` conformance suite, for mocha. `make` returns a fresh heuristic (as the
 * kernel would build it, options included). Each case names the guarantee it checks.
 */
export function describeHeuristic(title: string, make: () => ScalingHeuristic, options: DecisionSuiteOptions = {}): void {
  describe(`${title} — ScalingHeuristic contract`, () => {
    for (const { name, snapshot } of states(options)) {
      it(`${name}: a whole-number target >= 0 with an explanation, pure, synchronous, deterministic, input untouched`, () => {
        const h = make();
        const ctx = { minimum: 0, maximum: Infinity };
        const input = frozenCopy(snapshot);
        const first = withoutClockOrRandomness('target()', () => h.target(input, ctx));
        assert.ok(Number.isInteger(first.target) && first.target >= 0, `broken guarantee "the target is a whole number >= 0": got ${first.target}`);
        assert.ok(first.explanation && typeof first.explanation === 'object', 'broken guarantee "an explanation object comes with the target"');
        const again = withoutClockOrRandomness('target()', () => make().target(frozenCopy(snapshot), ctx));
        assert.deepEqual(again, first, 'broken guarantee "deterministic: the same snapshot gives the same result"');
        assert.deepEqual(input, snapshot, 'broken guarantee "the snapshot is not modified"');
      });
    }
  });
}

/** Groups workers by their `job` label (a key with several workers per group). */
const byJob: WorkerKey = { key: (w: WorkerInfo) => w.labels.job ?? w.name };

/**
 * The `WorkersToClose` conformance suite, for mocha. For every sample state and every target
 * from 0 to the worker count, with and without a grouping key. A strategy with the optional
 * `selectFromView` must give the same answer from the state store's closing order.
 */
export function describeWorkersToClose(title: string, make: () => WorkersToClose, options: DecisionSuiteOptions = {}): void {
  describe(`${title} — WorkersToClose contract`, () => {
    for (const { name, snapshot } of states(options)) {
      it(`${name}: names of workers in the snapshot, no duplicates, never a long-running worker, never part of a group; pure`, () => {
        const strategy = make();
        const names = new Set(snapshot.workers.map((w) => w.name));
        const byName = new Map(snapshot.workers.map((w) => [w.name, w]));
        for (const key of [undefined, byJob]) {
          for (let target = 0; target <= snapshot.workers.length; target++) {
            const input = frozenCopy(snapshot);
            const query = key ? { target, key } : { target };
            const out = withoutClockOrRandomness('select()', () => strategy.select(input, query));
            const where = `(target ${target}${key ? ', grouped by job' : ''})`;
            assert.ok(Array.isArray(out), `select must return an array of names ${where}`);
            assert.equal(new Set(out).size, out.length, `broken guarantee "no duplicates" ${where}: ${JSON.stringify(out)}`);
            for (const n of out) assert.ok(names.has(n), `broken guarantee "names of workers in the snapshot" ${where}: ${n}`);
            for (const n of out) {
              assert.equal(byName.get(n)!.longRunning, 0, `broken guarantee "never proposes a worker running a long-running task" ${where}: ${n}`);
            }
            if (key) {
              const proposed = new Set(out);
              for (const n of out) {
                // Workers running a long-running task are no candidates, so not part of any group (Dask main).
                const group = snapshot.workers.filter((w) => w.longRunning === 0 && key.key(w) === key.key(byName.get(n)!));
                for (const g of group) assert.ok(proposed.has(g.name), `broken guarantee "never returns part of a group" ${where}: ${n} without ${g.name}`);
              }
            }
            assert.deepEqual(withoutClockOrRandomness('select()', () => make().select(frozenCopy(snapshot), query)), out, `broken guarantee "deterministic" ${where}`);
            assert.deepEqual(input, snapshot, `broken guarantee "the snapshot is not modified" ${where}`);
            if (strategy.selectFromView) {
              // The optional fast path must agree with select on the store's view of the same state.
              const store = new SchedulerStateStore();
              store.apply({ type: 'snapshot', snapshot: frozenCopy(snapshot) });
              const view = store.snapshot(snapshot.time).closingOrder!(key)!;
              const fast = withoutClockOrRandomness('selectFromView()', () => strategy.selectFromView!(view, query));
              assert.deepEqual(fast, out, `broken guarantee "selectFromView gives select's answer" ${where}`);
            }
          }
        }
      });
    }
  });
}

/** The `WorkerKey` conformance suite, for mocha. */
export function describeWorkerKey(title: string, make: () => WorkerKey, options: DecisionSuiteOptions = {}): void {
  describe(`${title} — WorkerKey contract`, () => {
    it('a string for every worker; pure, synchronous and deterministic; workers that differ only by name may share a group', () => {
      const key = make();
      for (const { snapshot } of states(options)) {
        for (const w of snapshot.workers) {
          const input = frozenCopy(w);
          const k = withoutClockOrRandomness('key()', () => key.key(input));
          assert.equal(typeof k, 'string', `broken guarantee "key returns a string": got ${typeof k} for ${w.name}`);
          assert.equal(withoutClockOrRandomness('key()', () => make().key(frozenCopy(w))), k, `broken guarantee "deterministic" for ${w.name}`);
          assert.deepEqual(input, w, 'broken guarantee "the worker is not modified"');
        }
      }
    });
  });
}
