import assert from 'node:assert/strict';
import { type Observable, filter, firstValueFrom, map, scan, take, timeout, timer } from 'rxjs';
import type { SchedulerAdapter } from '../contracts/SchedulerAdapter.js';
import type { SchedulerEvent } from '../contracts/SchedulerEvent.js';
import { SchedulerStateStore } from '../state/SchedulerStateStore.js';

/**
 * What `describeSchedulerAdapter` needs: a way to make an adapter over a scheduler, and to make
 * a worker connect to that scheduler under a given name (a real process, or a fake's event).
 */
export interface SchedulerHarness {
  /** A new, not yet started adapter for the scheduler under test. */
  create(): SchedulerAdapter | Promise<SchedulerAdapter>;
  /**
   * Makes a worker named `name` connect to the scheduler `adapter` talks to (after `start`).
   * Returns a function that makes it go away again.
   */
  connectWorker(adapter: SchedulerAdapter, name: string): Promise<() => Promise<void>>;
  /** Milliseconds to wait for a worker to appear or go (default 60 000). */
  waitMs?: number;
  cleanup?(): Promise<void>;
}

/** The workers a fresh store built from `events$` shows, as each event arrives. */
function workersSeen(events$: Observable<SchedulerEvent>): Observable<string[]> {
  return events$.pipe(
    scan((store, e) => {
      store.apply(e);
      return store;
    }, new SchedulerStateStore()),
    map((store) => store.workerNames()),
  );
}

function until(events$: Observable<SchedulerEvent>, what: string, ms: number, done: (names: string[]) => boolean): Promise<string[]> {
  return firstValueFrom(
    workersSeen(events$).pipe(
      filter(done),
      take(1),
      timeout({ first: ms, with: () => { throw new Error(`timed out after ${ms} ms waiting for ${what}`); } }),
    ),
  );
}

/**
 * The `SchedulerAdapter` conformance suite, for mocha. Each case names the guarantee it checks.
 */
export function describeSchedulerAdapter(title: string, makeHarness: () => SchedulerHarness | Promise<SchedulerHarness>): void {
  describe(`${title} — SchedulerAdapter contract`, function () {
    let h: SchedulerHarness;
    let ms: number;
    const open: SchedulerAdapter[] = [];
    const leave: Array<() => Promise<void>> = [];
    let counter = 0;
    const name = () => `contract-${process.pid}-${counter++}`;
    const started = async () => {
      const a = await h.create();
      open.push(a);
      await a.start();
      return a;
    };

    this.timeout(300_000);
    before(async () => {
      h = await makeHarness();
      ms = h.waitMs ?? 60_000;
    });
    afterEach(async () => {
      for (const l of leave.splice(0)) await l().catch(() => undefined);
      for (const a of open.splice(0)) await a.close().catch(() => undefined);
      await h.cleanup?.();
    });

    it('events$ shows a worker that connects, and a late subscriber first gets the current state', async () => {
      const a = await started();
      const w = name();
      const seen = until(a.events$, `${w} to appear`, ms, (n) => n.includes(w));
      leave.push(await h.connectWorker(a, w));
      await seen;
      const late = await until(a.events$, `a late subscriber to see ${w}`, 5000, (n) => n.includes(w)).catch(() => undefined);
      assert.ok(late, `broken guarantee "a late subscriber first receives the current state": a new subscription never showed connected worker ${w}`);
    });

    it('retire of a name the scheduler does not know answers unknown, one outcome per name', async () => {
      const a = await started();
      const ghost = `${name()}-ghost`;
      const { outcomes } = await a.retire([ghost]);
      assert.deepEqual(outcomes.map((o) => [o.name, o.status]), [[ghost, 'unknown']], `broken guarantee "retire of an unknown name is unknown": ${JSON.stringify(outcomes)}`);
    });

    it('retire of an idle worker holding nothing retires it, and it leaves the state', async () => {
      const a = await started();
      const w = name();
      const seen = until(a.events$, `${w} to appear`, ms, (n) => n.includes(w));
      leave.push(await h.connectWorker(a, w));
      await seen;
      const gone = until(a.events$, `${w} to leave after retirement`, ms, (n) => !n.includes(w));
      const { outcomes } = await a.retire([w]);
      assert.deepEqual(outcomes.map((o) => [o.name, o.status]), [[w, 'retired']], `broken guarantee "an idle worker with no data is retired": ${JSON.stringify(outcomes)}`);
      await gone;
    });

    it('events$ never errors and completes on close', async () => {
      const a = await started();
      const done = new Promise<string>((resolve) =>
        a.events$.subscribe({ error: (e: unknown) => resolve(`errored: ${String(e)}`), complete: () => resolve('completed') }),
      );
      await a.close();
      open.splice(open.indexOf(a), 1);
      const result = await Promise.race([done, firstValueFrom(timer(5000)).then(() => 'still open 5 s after close()')]);
      assert.equal(result, 'completed', `broken guarantee "events$ never errors and completes on close": ${result}`);
    });
  });
}
