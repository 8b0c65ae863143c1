import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { EBBTIDE_BIN, ROOT } from '../support/paths.js';
import { type YarnServer, pidsWithEnv, rmGet, sharedYarn } from '../support/yarn.js';

interface Service {
  components?: Array<{ containers?: Array<{ component_instance_name: string; state: string }> }>;
}

/**
 * `ebbtide demo -c yarn.yaml` against the real YARN harness: the demo workload on the embedded
 * scheduler, its workers YARN service instances started by the NodeManager. With only
 * `resourceManagers` and `user` set, the default worker command (ebbtide's own worker) runs.
 */
describe('ebbtide demo on a real YARN (test/servers/yarn)', function () {
  this.timeout(900_000);
  let yarn: YarnServer;
  let dir: string;
  before(async () => {
    yarn = await sharedYarn();
    dir = mkdtempSync(join(tmpdir(), 'ebbtide-yarn-demo-'));
  });
  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('scales 0 → N → 0, retires before removing, removes exactly the retired, loses no result; the service is visible in the RM while it runs and gone after', async () => {
    const cluster = `yd${process.pid % 100000}`;
    const service = `ebbtide-${cluster}`;
    const config = join(dir, 'yarn.yaml');
    writeFileSync(config, `cluster:\n  name: ${cluster}\nbackend:\n  type: yarn\n  yarn:\n    resourceManagers: [${yarn.url}]\n    user: ebbtide\n    stateDir: ${join(dir, 'state')}\n`);
    const demo = spawn(process.execPath, [EBBTIDE_BIN, 'demo', '-c', config, '--duration', '40s', '--json', '--log.level', 'info', '--log.format', 'json'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    demo.stdout!.on('data', (d) => (stdout += d));
    demo.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => demo.once('exit', (code) => r(code)));
    let done = false;
    void exited.then(() => (done = true));

    // The RM's own view while the demo runs: the service and its READY instances.
    const seen = new Set<string>();
    let peakReady = 0;
    while (!done) {
      const r = await rmGet<Service>(yarn.url, `/app/v1/services/${service}`).catch(() => undefined);
      if (r?.status === 200) {
        const ready = (r.body.components?.[0]?.containers ?? []).filter((c) => c.state === 'READY');
        for (const c of ready) seen.add(c.component_instance_name);
        peakReady = Math.max(peakReady, ready.length);
      }
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(await exited, stderr.slice(-3000)).to.equal(0);

    const summary = JSON.parse(stdout.trim().split('\n').pop()!) as { resultsLost: number; tasksCompleted: number; tasksSubmitted: number; peakWorkers: number; finalWorkers: number; scaleDowns: number };
    expect(summary.resultsLost).to.equal(0);
    expect(summary.tasksCompleted).to.equal(summary.tasksSubmitted);
    expect(summary.peakWorkers).to.be.greaterThan(1);
    expect(summary.finalWorkers).to.equal(0);
    expect(summary.scaleDowns).to.be.greaterThan(0);
    expect(peakReady, 'READY instances seen through the RM while the demo ran').to.be.greaterThan(1);
    for (const n of seen) expect(n).to.match(new RegExp(`^${cluster}-\\d+$`));

    // Order of events: every worker the backend removed was retired by the scheduler first, and
    // the removed ones are exactly those the autoscaler chose to retire.
    const events = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event?: string; worker?: string; workers?: string[]; reason?: string });
    const chosen = new Set(events.filter((e) => e.event === 'scale.down').flatMap((e) => e.workers ?? []));
    const retiredAt = new Map<string, number>();
    events.forEach((e, i) => {
      if (e.event === 'worker.retired' && e.worker && !retiredAt.has(e.worker)) retiredAt.set(e.worker, i);
    });
    const removed = events
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => e.event === 'worker.exited' && e.worker && /instance removed/.test(e.reason ?? ''));
    expect(removed.length, 'workers removed from the YARN service by a scale-down').to.be.greaterThan(0);
    for (const { e, i } of removed) {
      expect(chosen.has(e.worker!), `${e.worker} was removed without being chosen for retirement`).to.equal(true);
      expect(retiredAt.get(e.worker!) ?? Infinity, `${e.worker} removed before it was retired`).to.be.lessThan(i);
    }
    expect(events.some((e) => e.event === 'worker.failed'), 'no worker failed').to.equal(false);

    // After the demo: the service is destroyed, no worker process is left.
    expect((await rmGet(yarn.url, `/app/v1/services/${service}`)).status).to.equal(404);
    const apps = await rmGet<{ apps: { app?: Array<{ name: string }> | { name: string } } | null }>(yarn.url, '/ws/v1/cluster/apps?states=RUNNING,ACCEPTED');
    const list = apps.body.apps?.app ?? [];
    expect((Array.isArray(list) ? list : [list]).some((a) => a.name === service)).to.equal(false);
    const scheduler = /embedded scheduler at (tcp:\/\/[^\s,]+)/.exec(stderr)?.[1];
    expect(scheduler, 'the demo names its scheduler').to.be.a('string');
    for (const n of seen) expect(pidsWithEnv({ EBBTIDE_WORKER_NAME: n, EBBTIDE_SCHEDULER: scheduler! }), `${n} left running`).to.deep.equal([]);
  });
});
