import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { asyncScheduler, filter, firstValueFrom, scan, timeout } from 'rxjs';
import { type BackendWorkerStatus, MemoryLogger } from '@ebbtide/core';
import { YarnBackend } from '@ebbtide/backend-yarn';

/**
 * Opt-in: against a real YARN cluster named by EBBTIDE_TEST_YARN_URL (an RM web address with the
 * Services API enabled; EBBTIDE_TEST_YARN_USER, EBBTIDE_TEST_YARN_QUEUE optional). Registered only
 * when the variable is set. Workers are `sleep` processes; the service is destroyed at the end.
 */
const url = process.env.EBBTIDE_TEST_YARN_URL;
if (url) {
  describe(`YARN backend live against ${url}`, function () {
    this.timeout(600_000);
    it('starts two named workers, stops the older one exactly, destroys the service on close', async () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-yarn-live-'));
      const cluster = `live${process.pid % 100000}`;
      const b = new YarnBackend(
        {
          resourceManagers: url.split(','),
          user: process.env.EBBTIDE_TEST_YARN_USER || process.env.USER || 'ebbtide',
          queue: process.env.EBBTIDE_TEST_YARN_QUEUE || 'default',
          serviceName: '',
          command: ['sleep', '3600'],
          cpus: 1,
          memory: 256 * 1024 * 1024,
          lifetime: 1800,
          env: {},
          pollInterval: 2,
          pendingTimeout: 300,
          relaunchGrace: 60,
          requestTimeout: 30,
          stateDir,
        },
        new MemoryLogger(),
        asyncScheduler,
      );
      const view = (done: (v: Map<string, BackendWorkerStatus>) => boolean) =>
        firstValueFrom(
          b.status$.pipe(
            scan((v, l) => (l.forEach((s) => v.set(s.name, s)), v), new Map<string, BackendWorkerStatus>()),
            filter(done),
            timeout(400_000),
          ),
        );
      try {
        await b.adopt({ cluster });
        const names = [`${cluster}-0`, `${cluster}-1`];
        await b.start(names.map((name) => ({ name, scheduler: 'tcp://unused:1', nthreads: 1, memoryLimit: 0 })));
        await view((v) => names.every((n) => v.get(n)?.phase === 'running'));
        const gone = view((v) => v.get(names[0]!)?.phase === 'exited');
        await b.stop([names[0]!]);
        expect((await gone).get(names[0]!)?.failed).to.not.equal(true);
        const svc = await fetch(`${url.split(',')[0]}/app/v1/services/ebbtide-${cluster}?user.name=${process.env.EBBTIDE_TEST_YARN_USER || process.env.USER || 'ebbtide'}`);
        const body = (await svc.json()) as { components: Array<{ containers?: Array<{ component_instance_name: string }> }> };
        expect((body.components[0]!.containers ?? []).map((c) => c.component_instance_name)).to.deep.equal([names[1]]);
      } finally {
        await b.close();
        rmSync(stateDir, { recursive: true, force: true });
      }
    });
  });
}
