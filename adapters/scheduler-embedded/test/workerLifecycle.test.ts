import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { EmbeddedScheduler } from '../src/scheduler/EmbeddedScheduler.js';
import { builtinTask } from '../src/tasks/builtinTask.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { Gate, WAIT_FOR_FILE } from './helpers/gate.js';
import { fixture, killWorkers, spawnWorker, spawnWorkerProcess } from './helpers/workers.js';
import { isAlive, waitFor } from './helpers/waitFor.js';

describe('worker process lifecycle', () => {
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.close();
    h = undefined;
    await killWorkers();
  });

  it('prints one ready line once registered', async () => {
    h = await startHarness();
    const w = await spawnWorker(h.address, 'w1', 3);
    expect(w.stdout.filter((l) => l.startsWith('ebbtide-worker ready'))).to.deep.equal([
      `ebbtide-worker ready name=w1 nthreads=3 scheduler=${h.address} pid=${w.pid}`,
    ]);
    expect(h.store.snapshot(0).workers[0]).to.deep.include({ name: 'w1', nthreads: 3, host: '127.0.0.1', status: 'running' });
  });

  it('exits by itself when the scheduler closes, even while running a task', async () => {
    h = await startHarness();
    const gate = new Gate();
    try {
      const w1 = await spawnWorker(h.address, 'w1', 1);
      const w2 = await spawnWorker(h.address, 'w2', 1);
      await h.client.submit(WAIT_FOR_FILE, gate.args(0));
      await h.close();
      h = undefined;
      expect(await w1.exited).to.equal(0);
      expect(await w2.exited).to.equal(0);
      expect(isAlive(w1.pid)).to.equal(false);
      expect(isAlive(w2.pid)).to.equal(false);
    } finally {
      gate.dispose();
    }
  });

  it('exits by itself when the scheduler process is killed (no orphans)', async () => {
    const schedulerProcess = spawn(process.execPath, [fixture('schedulerProcess.js')], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    const schedulerExited = new Promise((resolve) => schedulerProcess.once('exit', resolve));
    try {
      let out = '';
      schedulerProcess.stdout!.on('data', (c: Buffer) => (out += String(c)));
      const address = await waitFor('the scheduler process address', () => /^(tcp:\S+)\n/.exec(out)?.[1]);
      const w1 = await spawnWorker(address, 'w1', 1);
      process.kill(schedulerProcess.pid!, 'SIGKILL');
      expect(await w1.exited).to.equal(0);
      expect(isAlive(w1.pid)).to.equal(false);
      expect(w1.stderr.join('\n')).to.contain('scheduler connection closed');
    } finally {
      if (isAlive(schedulerProcess.pid!)) process.kill(-schedulerProcess.pid!, 'SIGKILL');
      await schedulerExited;
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`exits on ${signal}, and the scheduler re-queues its task`, async () => {
      h = await startHarness();
      const gate = new Gate();
      try {
        const w1 = await spawnWorker(h.address, 'w1', 1);
        const key = await h.client.submit(WAIT_FOR_FILE, gate.args('x'));
        process.kill(w1.pid, signal);
        expect(await w1.exited).to.equal(0);
        await waitFor('w1 removed', () => h!.store.workerNames().length === 0);
        expect(h.scheduler.taskStatus(key)).to.equal('queued');
      } finally {
        gate.dispose();
      }
    });
  }

  it('refuses a second worker with a taken name; the first keeps working', async () => {
    h = await startHarness();
    await spawnWorker(h.address, 'w1', 1);
    const dup = spawnWorkerProcess(['--scheduler', h.address, '--name', 'w1'], 'dup');
    expect(await dup.exited).to.equal(1);
    expect(dup.stderr.join('\n')).to.contain('a worker named "w1" is already connected');
    const key = await h.client.submit(builtinTask('inc'), [1]);
    expect(await h.client.gather([key])).to.deep.equal([2]);
  });

  it('exits with an error when no scheduler listens at the address', async () => {
    // A port that was just free: listen, note it, close.
    const s = new EmbeddedScheduler();
    const address = await s.listen();
    await s.close();
    const w = spawnWorkerProcess(['--scheduler', address, '--name', 'lonely'], 'lonely');
    expect(await w.exited).to.equal(1);
    expect(w.stderr.join('\n')).to.match(/error\[SCHEDULER_UNREACHABLE\]: worker lonely: cannot connect to scheduler/);
  });

  it('exits 2 with usage on bad arguments', async () => {
    const w = spawnWorkerProcess(['--scheduler', 'tcp://127.0.0.1:1', '--name', 'x', '--nthreads', 'zero'], 'bad');
    expect(await w.exited).to.equal(2);
    expect(w.stderr.join('\n')).to.contain('error[USAGE]: ebbtide-worker: --nthreads: expected a whole number >= 1, got "zero"');
  });
});
