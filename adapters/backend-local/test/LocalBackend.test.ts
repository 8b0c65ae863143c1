import 'reflect-metadata';
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { asyncScheduler } from 'rxjs';
import { type BackendWorkerStatus, MemoryLogger } from '@ebbtide/core';
import { LocalBackend } from '../src/LocalBackend.js';
import { expandCommand } from '../src/expandCommand.js';

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/worker.mjs', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function make(mode: string, grace = 0.3) {
  const logger = new MemoryLogger();
  const backend = new LocalBackend(
    { command: [process.execPath, FIXTURE, mode, '{name}', '{scheduler}', '{nthreads}', '{memoryLimit}'], gracePeriod: grace, env: {}, cwd: '' },
    logger,
    asyncScheduler,
  );
  const seen: BackendWorkerStatus[] = [];
  backend.status$.subscribe((l) => seen.push(...l));
  return { backend, seen, logger };
}

const spec = (name: string) => ({ name, scheduler: 'tcp://127.0.0.1:1', nthreads: 2, memoryLimit: 0 });

describe('LocalBackend', function () {
  this.timeout(20_000);
  const started: LocalBackend[] = [];
  afterEach(async () => {
    for (const b of started.splice(0)) await b.close();
  });

  it('fills the command placeholders', () => {
    expect(expandCommand(['w', '--s', '{scheduler}', '--name={name}', '{nthreads}', '{memoryLimit}'], spec('a-1'))).to.deep.equal([
      'w',
      '--s',
      'tcp://127.0.0.1:1',
      '--name=a-1',
      '2',
      '0',
    ]);
    expect(() => expandCommand(['w', '{nmae}'], spec('a'))).to.throw(/unknown placeholder \{nmae\}/);
  });

  it('reports pending -> running -> stopping -> exited and stops with SIGTERM', async () => {
    const { backend, seen } = make('run');
    started.push(backend);
    await backend.start([spec('w-0')]);
    await until(() => seen.some((s) => s.phase === 'running'));
    const [pid] = backend.pids;
    expect(alive(pid!)).to.equal(true);
    await new Promise((r) => setTimeout(r, 300)); // let it install its SIGTERM handler
    await backend.stop(['w-0']);
    expect(alive(pid!)).to.equal(false);
    expect(seen.filter((s) => s.name === 'w-0').map((s) => s.phase)).to.include.members(['pending', 'running', 'stopping', 'exited']);
    const exit = seen.find((s) => s.phase === 'exited')!;
    expect(exit).to.include({ failed: false, exitCode: 0 });
  });

  it('sends SIGKILL after the grace period to a worker that ignores SIGTERM', async () => {
    const { backend, logger } = make('stubborn', 0.3);
    started.push(backend);
    await backend.start([spec('w-0')]);
    await until(() => backend.pids.length === 1);
    const [pid] = backend.pids;
    await new Promise((r) => setTimeout(r, 200)); // let it install its SIGTERM handler
    await backend.stop(['w-0']);
    expect(alive(pid!)).to.equal(false);
    expect(logger.records.some((r) => r.fields.event === 'worker.kill')).to.equal(true);
  });

  it('reports a worker that exits at once with its exit code and stderr tail', async () => {
    const { backend, seen } = make('crash');
    started.push(backend);
    await backend.start([spec('w-0')]);
    await until(() => seen.some((s) => s.phase === 'exited'));
    const exit = seen.find((s) => s.phase === 'exited')!;
    expect(exit.failed).to.equal(true);
    expect(exit.exitCode).to.equal(3);
    expect(exit.reason).to.contain('exit code 3').and.contain('fatal: cannot reach the scheduler');
  });

  it('reports a command that cannot be started', async () => {
    const backend = new LocalBackend({ command: ['/nonexistent/ebbtide-worker'], gracePeriod: 1, env: {}, cwd: '' }, new MemoryLogger(), asyncScheduler);
    started.push(backend);
    const seen: BackendWorkerStatus[] = [];
    backend.status$.subscribe((l) => seen.push(...l));
    await backend.start([spec('w-0')]);
    await until(() => seen.some((s) => s.phase === 'exited'));
    expect(seen.find((s) => s.phase === 'exited')!.reason).to.match(/cannot start .*ENOENT/);
  });

  it('kills the whole process group, grandchildren included', async () => {
    const { backend } = make('family');
    started.push(backend);
    let out = '';
    await backend.start([spec('w-0')]);
    await until(() => backend.pids.length === 1);
    // Read the grandchild pid from /proc: it is the one whose parent is our worker.
    const leader = backend.pids[0]!;
    const { execFileSync } = await import('node:child_process');
    await until(() => {
      try {
        out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(leader)], { encoding: 'utf8' }).trim();
      } catch {
        out = ''; // ps exits 1 while there is no child yet
      }
      return out.length > 0;
    });
    const grandchild = Number(out.split('\n')[0]);
    expect(alive(grandchild)).to.equal(true);
    await backend.stop(['w-0']);
    await until(() => !alive(grandchild), 5000);
  });

  it('close stops every worker it started; a stopped name can be started again', async () => {
    const { backend } = make('run');
    await backend.start([spec('a'), spec('b')]);
    await until(() => backend.pids.length === 2);
    const pids = backend.pids;
    await backend.stop(['a']);
    await backend.start([spec('a')]);
    await until(() => backend.pids.length === 2);
    const all = [...pids, ...backend.pids];
    await backend.close();
    for (const pid of all) expect(alive(pid)).to.equal(false);
  });
});
