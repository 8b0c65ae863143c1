import 'reflect-metadata';
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { CallRecord, Task } from '../servers/mesos/index.js';
import { type TestMaster, liveTaskCounts, startTestMaster } from '../support/mesos.js';

const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE']);
import { ROOT } from '../support/paths.js';
import { runCli } from '../support/runCli.js';

/**
 * `ebbtide demo -c mesos.yaml`: the demo workload on the embedded scheduler, its workers Mesos
 * tasks of the test master (ebbtide's own worker, found on the agents' PATH).
 */
describe('ebbtide demo -c with backend.type: mesos', function () {
  this.timeout(180_000);
  let tm: TestMaster | undefined;
  const path = process.env.PATH;
  before(() => {
    process.env.PATH = `${join(ROOT, 'node_modules', '.bin')}${delimiter}${path}`;
  });
  after(() => {
    process.env.PATH = path;
  });
  afterEach(async () => {
    await tm?.stop();
  });

  it('scales 0 -> N -> 0 through Mesos offers, every result checked, none lost, every task ended by retirement, no name ever twice at once', async () => {
    tm = await startTestMaster({ agents: [{ cpus: 2, mem: 4096 }, { cpus: 2, mem: 4096 }] });
    const { master } = tm;
    const dir = mkdtempSync(join(tmpdir(), 'ebbtide-mesos-demo-'));
    const config = join(dir, 'mesos.yaml');
    writeFileSync(
      config,
      ['cluster:', '  name: mdemo', 'adaptive:', '  maximum: 6', 'backend:', '  type: mesos', '  mesos:', `    master: ${master.url()}`, `    stateDir: ${join(dir, 'state')}`, '    cpus: 0.5', ''].join('\n'),
    );
    // One timeline of launches and task ends, to check that no name ever ran twice at once.
    const timeline: Array<{ name: string; what: 'launch' | 'end'; state?: string }> = [];
    master.on('call', (c: CallRecord) => {
      if (c.type === 'ACCEPT') for (const op of c.body!.accept!.operations ?? []) for (const t of op.launch?.task_infos ?? []) timeline.push({ name: t.task_id.value, what: 'launch' });
    });
    master.on('task', (t: Task, state: string) => {
      if (TERMINAL.has(state)) timeline.push({ name: t.id, what: 'end', state });
    });
    const r = await runCli(['demo', '-c', config, '--duration', '20', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const s = JSON.parse(r.stdout) as Record<string, number>;
    expect(s.tasksCompleted).to.equal(s.tasksSubmitted);
    expect(s.resultsChecked).to.equal(s.tasksSubmitted);
    expect(s.resultsLost).to.equal(0);
    expect(s.finalWorkers).to.equal(0);
    expect(s.peakWorkers).to.be.at.least(2).and.at.most(6);
    expect(s.scaleDowns).to.be.at.least(1);

    // A name may come back after its worker is gone (the cluster reuses free names), but never
    // while a task of that name lives; every task ended by retirement, none failed.
    const running = new Map<string, number>();
    for (const e of timeline) {
      const n = (running.get(e.name) ?? 0) + (e.what === 'launch' ? 1 : -1);
      expect(n, `${e.name} ${e.what}: tasks of that name at once`).to.be.within(0, 1);
      running.set(e.name, n);
      if (e.what === 'end') expect(['TASK_FINISHED', 'TASK_KILLED'], `${e.name} ended ${e.state}`).to.include(e.state);
    }
    expect(timeline.filter((e) => e.what === 'launch').length, 'at least the peak was launched').to.be.at.least(s.peakWorkers!);
    expect([...running.values()].every((n) => n === 0), 'every launched task ended').to.equal(true);
    expect(liveTaskCounts(master).size, 'no task left running').to.equal(0);
    expect(master.calls.some((c) => c.type === 'TEARDOWN')).to.equal(true);
  });
});
