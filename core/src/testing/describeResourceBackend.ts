import assert from 'node:assert/strict';
import { type Observable, filter, firstValueFrom, map, scan, take, timeout } from 'rxjs';
import type { BackendWorkerStatus, ResourceBackend, WorkerSpec } from '../contracts/ResourceBackend.js';
import { isEbbtideError } from '../errors.js';

/**
 * What `describeResourceBackend` needs to exercise a backend against its real resource manager
 * (or a faithful test server).
 */
export interface BackendHarness {
  /** A cluster name used only by this run of the suite, so runs never see each other's workers. */
  cluster: string;
  /**
   * A new backend for `cluster`, as a newly started ebbtide process would construct it: two
   * backends made by `create` share the resource manager and any state kept for the cluster
   * (state directory, namespace, service, framework id).
   */
  create(): ResourceBackend | Promise<ResourceBackend>;
  /** A worker that runs until it is stopped (a sleeping process is enough). */
  spec(name: string): WorkerSpec;
  /** A worker that exits with a failure by itself soon after it starts. */
  failingSpec(name: string): WorkerSpec;
  /**
   * Makes `backend` look like the remains of a crashed ebbtide: it is abandoned without `close`,
   * its workers keep running, and its lock must look held by a process that is gone (for a
   * lock keyed by pid, rewrite it to a dead pid; for a lease, let it expire).
   */
  crash(backend: ResourceBackend): Promise<void>;
  /**
   * An independent look at the resource manager (not through the backend under test): whether
   * a worker of this name is alive there (process, pod, container, task).
   */
  isAlive(name: string): Promise<boolean>;
  /** Milliseconds to wait for a worker to run or to go (default 60 000). */
  waitMs?: number;
  /** Called after every case (e.g. to remove leftovers); failures are reported. */
  cleanup?(): Promise<void>;
}

function wait(backend: ResourceBackend, what: string, ms: number, done: (view: Map<string, BackendWorkerStatus>) => boolean): Promise<Map<string, BackendWorkerStatus>> {
  return firstValueFrom(
    backend.status$.pipe(
      scan((view, list) => {
        for (const s of list) view.set(s.name, s);
        return view;
      }, new Map<string, BackendWorkerStatus>()),
      filter(done),
      take(1),
      timeout({ first: ms, with: () => { throw new Error(`timed out after ${ms} ms waiting for ${what}`); } }),
    ),
  );
}

/** Starts workers and waits for them to run, subscribed first so no replay is relied on. */
async function startAndWait(b: ResourceBackend, specs: WorkerSpec[], what: string, ms: number, names: string[]): Promise<void> {
  const up = wait(b, what, ms, running(names));
  await b.start(specs);
  await up;
}

const running = (names: string[]) => (v: Map<string, BackendWorkerStatus>) => names.every((n) => v.get(n)?.phase === 'running');
const exited = (names: string[]) => (v: Map<string, BackendWorkerStatus>) => names.every((n) => v.get(n)?.phase === 'exited');

/** The first emission a new subscriber gets, within a short bound. */
function firstView(status$: Observable<BackendWorkerStatus[]>, ms: number): Promise<BackendWorkerStatus[]> {
  return firstValueFrom(
    status$.pipe(
      take(1),
      map((l) => l),
      timeout({ first: ms, with: () => { throw new Error(`broken guarantee "status$ replays the current view": a new subscriber got nothing within ${ms} ms`); } }),
    ),
  );
}

/**
 * The `ResourceBackend` conformance suite, for mocha. Call it from a backend's own test file;
 * each case names the guarantee it checks, so a failure says which promise the backend broke.
 *
 * @example
 * ```ts
 * describeResourceBackend('LocalBackend', () => ({
 *   cluster: `t${process.pid}`,
 *   create: () => new LocalBackend({ ...options, stateDir }, silentLogger, asyncScheduler),
 *   spec: (name) => ({ name, scheduler: '', nthreads: 1, memoryLimit: 0 }),
 *   failingSpec: (name) => ({ name, scheduler: 'fail', nthreads: 1, memoryLimit: 0 }),
 *   isAlive: async (name) => pidAlive(name),
 * }));
 * ```
 */
export function describeResourceBackend(title: string, makeHarness: () => BackendHarness | Promise<BackendHarness>): void {
  describe(`${title} — ResourceBackend contract`, function () {
    let h: BackendHarness;
    let ms: number;
    const open: ResourceBackend[] = [];
    let counter = 0;
    const name = () => `${h.cluster}-${counter++}`;
    const make = async () => {
      const b = await h.create();
      open.push(b);
      return b;
    };
    const adopted = async () => {
      const b = await make();
      if (b.adopt) await b.adopt({ cluster: h.cluster });
      return b;
    };

    this.timeout(300_000);

    before(async () => {
      h = await makeHarness();
      ms = h.waitMs ?? 60_000;
    });

    afterEach(async () => {
      for (const b of open.splice(0)) await b.close().catch(() => undefined);
      await h.cleanup?.();
    });

    it('status$ replays the current view to a new subscriber', async () => {
      const b = await adopted();
      const w = name();
      await startAndWait(b, [h.spec(w)], `${w} to run`, ms, [w]);
      const view = await firstView(b.status$, 1000);
      const mine = view.find((s) => s.name === w);
      assert.ok(mine, `broken guarantee "status$ replays the current view": a new subscriber's first emission lacks running worker ${w} (got ${JSON.stringify(view)})`);
      assert.equal(mine.phase, 'running', `broken guarantee "status$ replays the current view": ${w} is running but the replay says ${mine.phase}`);
    });

    it('starting a name it already has alive is a no-op, never a duplicate', async () => {
      const b = await adopted();
      const w = name();
      const up = wait(b, `${w} to run`, ms, running([w]));
      await b.start([h.spec(w)]);
      await b.start([h.spec(w)]).catch((e: unknown) => assert.fail(`broken guarantee "start of a name already requested is a no-op": the second start rejected: ${String(e)}`));
      await up;
      const gone = wait(b, `${w} to exit`, ms, exited([w]));
      await b.stop([w]);
      await gone;
      assert.equal(await h.isAlive(w), false, `broken guarantee "start of a name already requested is a no-op": a second ${w} is still alive after stopping it`);
    });

    it('stop of an unknown name resolves', async () => {
      const b = await adopted();
      await b.stop([`${h.cluster}-never-started`]);
    });

    it('stop of a running worker reports it exited, not failed, and it is gone', async () => {
      const b = await adopted();
      const w = name();
      await startAndWait(b, [h.spec(w)], `${w} to run`, ms, [w]);
      assert.equal(await h.isAlive(w), true, `${w} reported running but the resource manager does not show it alive`);
      const seen = wait(b, `${w} to exit`, ms, exited([w]));
      await b.stop([w]);
      const view = await seen;
      assert.notEqual(view.get(w)?.failed, true, `broken guarantee "a stopped worker is not a failure": ${w} was reported failed (${view.get(w)?.reason})`);
      assert.equal(await h.isAlive(w), false, `broken guarantee "stop removes the worker": ${w} is still alive after stop resolved`);
    });

    it('a worker that dies on its own is reported exited and failed, with a reason', async () => {
      const b = await adopted();
      const w = name();
      // Subscribed first: a worker may fail before start() even resolves.
      const failed = wait(b, `${w} to fail`, ms, exited([w]));
      await b.start([h.failingSpec(w)]);
      const view = await failed;
      assert.equal(view.get(w)?.failed, true, `broken guarantee "an unexpected exit is reported failed": got ${JSON.stringify(view.get(w))}`);
      assert.ok(view.get(w)?.reason, 'an unexpected exit must carry a reason');
    });

    it('close() stops every worker it started', async () => {
      const b = await adopted();
      const ws = [name(), name()];
      await startAndWait(b, ws.map((w) => h.spec(w)), `${ws.join(', ')} to run`, ms, ws);
      await b.close();
      for (const w of ws) assert.equal(await h.isAlive(w), false, `broken guarantee "close stops every worker": ${w} is still alive`);
    });

    it('adopt: close({ keep: true }) leaves workers running, and the next backend adopts, stops and closes them', async () => {
      const a = await adopted();
      const ws = [name(), name()];
      await startAndWait(a, ws.map((w) => h.spec(w)), `${ws.join(', ')} to run`, ms, ws);
      await a.close({ keep: true });
      for (const w of ws) assert.equal(await h.isAlive(w), true, `broken guarantee "close({ keep }) leaves workers running": ${w} is gone`);

      const b = await make();
      assert.ok(b.adopt, 'broken guarantee "adoption is part of the contract": the backend has no adopt()');
      const found = await b.adopt({ cluster: h.cluster });
      for (const w of ws) {
        assert.ok(
          found.some((s) => s.name === w && s.phase !== 'exited'),
          `broken guarantee "adopt returns the cluster's existing workers": ${w} missing from ${JSON.stringify(found)}`,
        );
      }
      const view = await firstView(b.status$, 1000);
      for (const w of ws) assert.ok(view.some((s) => s.name === w), `broken guarantee "status$ covers adopted workers": ${w} missing from ${JSON.stringify(view)}`);
      await b.start([h.spec(ws[0]!)]);
      const gone = wait(b, `${ws[0]} to exit`, ms, exited([ws[0]!]));
      await b.stop([ws[0]!]);
      await gone;
      assert.equal(await h.isAlive(ws[0]!), false, `broken guarantee "stop works on adopted workers": ${ws[0]} is still alive`);
      await b.close();
      assert.equal(await h.isAlive(ws[1]!), false, `broken guarantee "close stops adopted workers": ${ws[1]} is still alive`);
    });

    it('adopt: a second live backend for the same cluster is refused with CLUSTER_LOCKED', async () => {
      const a = await adopted();
      const b = await make();
      assert.ok(b.adopt, 'broken guarantee "adoption is part of the contract": the backend has no adopt()');
      await b.adopt({ cluster: h.cluster }).then(
        () => assert.fail('broken guarantee "one live ebbtide per cluster": a second adopt() succeeded while the first backend holds the cluster'),
        (e: unknown) => assert.ok(isEbbtideError(e) && e.code === 'CLUSTER_LOCKED', `expected CLUSTER_LOCKED, got ${String(e)}`),
      );
      await a.close();
      const c = await make();
      await c.adopt!({ cluster: h.cluster });
    });

    it('adopt: the lock and workers of a crashed ebbtide are taken over', async () => {
      const a = await adopted();
      const w = name();
      await startAndWait(a, [h.spec(w)], `${w} to run`, ms, [w]);
      await h.crash(a);
      open.splice(open.indexOf(a), 1);
      const b = await make();
      const found = await b.adopt!({ cluster: h.cluster });
      assert.ok(found.some((s) => s.name === w), `broken guarantee "a crashed ebbtide's workers are adopted": ${w} missing from ${JSON.stringify(found)}`);
      await b.close();
      assert.equal(await h.isAlive(w), false, `${w} is still alive after the adopting backend closed`);
    });
  });
}
