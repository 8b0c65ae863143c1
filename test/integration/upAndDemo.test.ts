import 'reflect-metadata';
import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, builtinTask } from '@ebbtide/scheduler-embedded';
import { EBBTIDE_BIN, ROOT } from '../support/paths.js';
import { runCli } from '../support/runCli.js';
import { alive, killAll, pidsMatching, until } from '../support/processes.js';
import { EbbtideProcess } from '../support/upProcess.js';

describe('ebbtide up (embedded scheduler, local workers)', function () {
  this.timeout(90_000);
  let up: ChildProcess | undefined;
  const workerPids = new Set<number>();
  afterEach(() => {
    if (up?.pid && alive(up.pid)) up.kill('SIGKILL');
    killAll(workerPids);
  });

  it('prints the scheduler address, scales up under load, records, and leaves no worker process after SIGTERM', async () => {
    const recording = join(mkdtempSync(join(tmpdir(), 'ebbtide-rec-')), 'run.jsonl');
    up = spawn(process.execPath, [EBBTIDE_BIN, 'up', '--adaptive.interval', '200ms', '--adaptive.maximum', '3', '--adaptive.targetDuration', '1s', '--record', recording], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    up.stdout!.on('data', (d) => (stdout += d));
    up.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => up!.on('exit', (code) => r(code)));
    await until(() => /scheduler at (tcp:\/\/\S+)/.test(stdout), 20_000, 'the scheduler address');
    const address = /scheduler at (tcp:\/\/\S+)/.exec(stdout)![1]!;
    const client = await Client.connect(address);
    const keys: string[] = [];
    for (let i = 0; i < 12; i++) keys.push(await client.submit(builtinTask('sleep'), [2000], { prefix: 'nap' }));
    await until(
      () => {
        for (const pid of pidsMatching('ebbtide-worker', address)) workerPids.add(pid);
        return workerPids.size >= 2;
      },
      30_000,
      'two worker processes',
    );
    // The decision line is printed once the backend accepted the workers, just after they spawn.
    await until(() => /target=\d+.* up 0 -> \d/.test(stdout), 10_000, 'the scale-up line');
    // A result computed means a worker connected and worked.
    const quick = await client.submit(builtinTask('inc'), [1]);
    expect(await client.gather([quick])).to.deep.equal([2]);
    await client.close();
    up.kill('SIGTERM');
    expect(await exited, stderr).to.equal(0);
    expect(stdout).to.contain('received SIGTERM: shutting down');
    for (const pid of pidsMatching('ebbtide-worker', address)) workerPids.add(pid);
    await until(() => [...workerPids].every((p) => !alive(p)), 10_000, 'worker processes to be gone');

    const lines = readFileSync(recording, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).to.include({ type: 'header', format: 'ebbtide-recording', version: 1 });
    const events = lines.filter((l) => 'event' in l) as Array<{ t: number; event: { type: string } }>;
    const decisions = lines.filter((l) => 'decision' in l) as Array<{ t: number; decision: { recommendation: { status: string } } }>;
    expect(events.some((e) => e.event.type === 'worker.added')).to.equal(true);
    expect(events.filter((e) => e.event.type === 'task.transition')).to.have.length.at.least(12);
    expect(decisions.some((d) => d.decision.recommendation.status === 'up')).to.equal(true);
    const times = lines.slice(1).map((l) => l.t as number);
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
  });

  it('a worker command that exits at once is reported with its exit code and output, and backed off', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-state-'));
    const p = EbbtideProcess.start([
      'up',
      '--backend.local.stateDir',
      stateDir,
      '--adaptive.interval',
      '200ms',
      '--adaptive.minimum',
      '1',
      '--backend.local.command',
      JSON.stringify([process.execPath, '-e', 'console.error("worker: cannot bind"); process.exit(7)']),
    ]);
    try {
      await until(() => p.events('worker.failed').length >= 3 || !p.running, 30_000, 'three failed starts');
      p.kill('SIGTERM');
      expect((await p.exited).code).to.equal(0);
      const failures = p.events('worker.failed');
      expect(failures[0]).to.include({ exitCode: 7 });
      expect(String(failures[0]!.reason)).to.contain('worker: cannot bind');
      // Each relaunch waits out the backoff the failure before it announced: 1 s, then 2 s, ...
      // (without backoff, 200 ms ticks would relaunch at once). Read from the log's timestamps.
      const starts = p.events('worker.started').map((l) => Date.parse(l.time!));
      expect(failures.slice(0, 2).map((f) => f.retryIn)).to.deep.equal([1, 2]);
      for (const [k, f] of failures.slice(0, 2).entries()) {
        const next = starts.find((t) => t > Date.parse(f.time!));
        expect(next, `a start after failure ${k + 1}`).to.not.equal(undefined);
        expect(next! - Date.parse(f.time!)).to.be.at.least((f.retryIn as number) * 1000 - 50);
      }
    } finally {
      p.kill('SIGKILL');
    }
  });
});

describe('ebbtide demo', function () {
  this.timeout(120_000);
  it('runs the bursty workload, checks every result, and ends back at minimum with nothing lost', async () => {
    const r = await runCli(['demo', '--duration', '20', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const s = JSON.parse(r.stdout) as Record<string, number>;
    expect(Object.keys(s).sort()).to.deep.equal(
      ['finalWorkers', 'maximum', 'minimum', 'peakWorkers', 'resultsChecked', 'resultsLost', 'scaleDowns', 'scaleUps', 'staticWorkerSeconds', 'tasksCompleted', 'tasksSubmitted', 'workerSeconds'].sort(),
    );
    expect(s.tasksCompleted).to.equal(s.tasksSubmitted);
    expect(s.resultsChecked).to.equal(s.tasksSubmitted);
    expect(s.resultsLost).to.equal(0);
    expect(s.finalWorkers).to.equal(s.minimum);
    expect(s.peakWorkers).to.be.at.least(2).and.at.most(s.maximum!);
    expect(s.scaleUps).to.be.at.least(1);
    expect(s.scaleDowns).to.be.at.least(1);
    expect(s.workerSeconds).to.be.below(s.staticWorkerSeconds!);
    expect(r.stderr).to.match(/\[\s*\d+s\] workers/);
  });

  it('stops its workers and exits 130 on SIGINT', async () => {
    const demo = spawn(process.execPath, [EBBTIDE_BIN, 'demo', '--duration', '30'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    demo.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => demo.on('exit', (code) => r(code)));
    const pids = new Set<number>();
    try {
      await until(() => /embedded scheduler at (tcp:\/\/\S+),/.test(stderr), 20_000, 'the demo to start');
      const address = /embedded scheduler at (tcp:\/\/\S+),/.exec(stderr)![1]!;
      await until(
        () => {
          for (const pid of pidsMatching('ebbtide-worker', address)) pids.add(pid);
          return pids.size >= 2;
        },
        30_000,
        'demo workers',
      );
      demo.kill('SIGINT');
      expect(await exited).to.equal(130);
      expect(stderr).to.contain('received SIGINT');
      await until(() => [...pids].every((p) => !alive(p)), 10_000, 'demo workers to be gone');
    } finally {
      if (demo.pid && alive(demo.pid)) demo.kill('SIGKILL');
      killAll(pids);
    }
  });
});
