import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { asyncScheduler, filter, firstValueFrom, scan, timeout } from 'rxjs';
import { type BackendWorkerStatus, MemoryLogger, type WorkerSpec } from '@ebbtide/core';
import { describeResourceBackend } from '@ebbtide/core/testing';
import { YarnBackend, type YarnBackendOptions } from '@ebbtide/backend-yarn';
import { until } from '../support/processes.js';
import { TEST_YARN_USER, type YarnServer, pidsWithEnv, rmGet, sharedYarn, testYarnOptions } from '../support/yarn.js';

const RUN = `r${process.pid}`;
const USER = TEST_YARN_USER;
const yarnOptions = (url: string | string[], stateDir: string, extra: Partial<YarnBackendOptions> = {}) => testYarnOptions(url, stateDir, { env: { EBBTIDE_TEST_RUN: RUN }, ...extra });

function alive(name: string): boolean {
  return pidsWithEnv({ EBBTIDE_TEST_RUN: RUN, EBBTIDE_WORKER_NAME: name }).length > 0;
}

function deadPid(): number {
  return spawnSync('true').pid!;
}

/** Resolves with the accumulated view once `done` holds for it. */
function waitView(b: YarnBackend, what: string, ms: number, done: (v: Map<string, BackendWorkerStatus>) => boolean): Promise<Map<string, BackendWorkerStatus>> {
  return firstValueFrom(
    b.status$.pipe(
      scan((v, list) => {
        for (const s of list) v.set(s.name, s);
        return v;
      }, new Map<string, BackendWorkerStatus>()),
      filter(done),
      timeout({ first: ms, with: () => { throw new Error(`timed out after ${ms} ms waiting for ${what}`); } }),
    ),
  );
}

describe('YARN backend against a real YARN (test/servers/yarn)', function () {
  this.timeout(900_000);
  let yarn: YarnServer;
  let stateDir: string;

  before(async () => {
    yarn = await sharedYarn();
    stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-yarn-state-'));
  });
  after(async () => {
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    // The harness is shared with the other YARN files; this file's services are destroyed, so
    // their worker processes must go (the NodeManager kills a destroyed service's containers).
    await until(() => pidsWithEnv({ EBBTIDE_TEST_RUN: RUN }).length === 0, 60_000, 'worker processes of this file to be gone');
  });

  describeResourceBackend('YarnBackend', () => {
    const cluster = `c${process.pid % 100000}`;
    return {
      cluster,
      waitMs: 90_000,
      create: () => new YarnBackend(yarnOptions(yarn.url, stateDir), new MemoryLogger(), asyncScheduler),
      spec: (name: string): WorkerSpec => ({ name, scheduler: 'tcp://127.0.0.1:1', nthreads: 1, memoryLimit: 0 }),
      failingSpec: (name: string): WorkerSpec => ({ name, scheduler: 'fail', nthreads: 1, memoryLimit: 0 }),
      async crash(b) {
        const y = b as YarnBackend;
        // Abandoned: no more polling or reconciling, as if the process had died…
        y['pollSub']?.unsubscribe();
        y['closed'] = true;
        // …and its lock names a process that is gone.
        y['lock']!.forgeDeadHolder(deadPid());
      },
      isAlive: async (name: string) => alive(name),
      async cleanup() {
        await fetch(`${yarn.url}/app/v1/services/ebbtide-${cluster}?user.name=${USER}`, { method: 'DELETE' });
      },
    };
  });

  describe('YARN specifics', () => {
    const logger = new MemoryLogger();
    let b: YarnBackend | undefined;
    afterEach(async () => {
      await b?.close();
      b = undefined;
    });

    it('retired names go, not the newest; the service and its instances are visible through the RM and gone after close', async () => {
      const cluster = `d${process.pid % 100000}`;
      b = new YarnBackend(yarnOptions(yarn.url, stateDir), logger, asyncScheduler);
      await b.adopt({ cluster });
      const names = [0, 1, 2, 3].map((i) => `${cluster}-${i}`);
      await b.start(names.map((name) => ({ name, scheduler: 'tcp://127.0.0.1:1', nthreads: 1, memoryLimit: 0 })));
      await waitView(b, 'four running', 120_000, (v) => names.every((n) => v.get(n)?.phase === 'running'));

      const svc = await rmGet<{ state: string; components: Array<{ containers: Array<{ component_instance_name: string; state: string }> }> }>(yarn.url, `/app/v1/services/ebbtide-${cluster}`);
      expect(svc.status).to.equal(200);
      expect(svc.body.components[0]!.containers.map((c) => c.component_instance_name).sort()).to.deep.equal(names);
      const apps = await rmGet<{ apps: { app?: Array<{ name: string; state: string; applicationType: string }> } | null }>(yarn.url, '/ws/v1/cluster/apps?states=RUNNING');
      expect(apps.body.apps?.app?.some((a) => a.name === `ebbtide-${cluster}` && a.applicationType === 'yarn-service')).to.equal(true);

      // Retire the two oldest: exactly those go, the newest stay.
      const gone = waitView(b, 'the retired two exited', 60_000, (v) => v.get(names[0]!)?.phase === 'exited' && v.get(names[1]!)?.phase === 'exited');
      await b.stop([names[0]!, names[1]!]);
      const view = await gone;
      expect(view.get(names[0]!)?.failed).to.not.equal(true);
      expect(alive(names[0]!)).to.equal(false);
      expect(alive(names[1]!)).to.equal(false);
      expect(alive(names[2]!)).to.equal(true);
      expect(alive(names[3]!)).to.equal(true);
      const after = await rmGet<{ components: Array<{ decommissioned_instances: string[]; containers: Array<{ component_instance_name: string }> }> }>(yarn.url, `/app/v1/services/ebbtide-${cluster}`);
      expect(after.body.components[0]!.containers.map((c) => c.component_instance_name).sort()).to.deep.equal([names[2], names[3]]);
      expect(after.body.components[0]!.decommissioned_instances.sort()).to.deep.equal([names[0], names[1]]);

      // Growing again takes the core's next names: d-4 (YARN would have given d-4 too) and, after
      // the newest were flexed down, a reused name.
      const more = [`${cluster}-4`, `${cluster}-5`];
      await b.start(more.map((name) => ({ name, scheduler: 'tcp://127.0.0.1:1', nthreads: 1, memoryLimit: 0 })));
      await waitView(b, 'the new two running', 120_000, (v) => more.every((n) => v.get(n)?.phase === 'running'));
      expect(alive(more[0]!) && alive(more[1]!)).to.equal(true);
      const newest = waitView(b, 'the newest exited', 60_000, (v) => v.get(more[1]!)?.phase === 'exited');
      await b.stop([more[1]!]);
      await newest;
      expect(alive(more[1]!)).to.equal(false);
      await b.start([{ name: more[1]!, scheduler: 'tcp://127.0.0.1:1', nthreads: 1, memoryLimit: 0 }]);
      await waitView(b, `${more[1]} running again`, 120_000, (v) => v.get(more[1]!)?.phase === 'running');
      expect(alive(more[1]!)).to.equal(true);

      await b.close();
      b = undefined;
      const gone404 = await rmGet(yarn.url, `/app/v1/services/ebbtide-${cluster}`);
      expect(gone404.status).to.equal(404);
      for (const n of [...names, ...more]) expect(alive(n), `${n} alive after close`).to.equal(false);
      const running = await rmGet<{ apps: { app?: Array<{ name: string }> } | null }>(yarn.url, '/ws/v1/cluster/apps?states=RUNNING,ACCEPTED');
      expect((running.body.apps?.app ?? []).some((a) => a.name === `ebbtide-${cluster}`)).to.equal(false);
    });
  });
});
