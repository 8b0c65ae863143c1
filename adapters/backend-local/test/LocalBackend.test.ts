import 'reflect-metadata';
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { asyncScheduler } from 'rxjs';
import { type BackendWorkerStatus, MemoryLogger } from '@ebbtide/core';
import { LocalBackend } from '../src/LocalBackend.js';
import { expandCommand } from '../src/expandCommand.js';
import { alive, logOf, make, options, until } from './helpers.js';

const spec = (name: string) => ({ name, scheduler: 'tcp://127.0.0.1:1', nthreads: 2, memoryLimit: 0 });

function record(backend: LocalBackend): BackendWorkerStatus[] {
  const seen: BackendWorkerStatus[] = [];
  backend.status$.subscribe((l) => seen.push(...l));
  return seen;
}

describe('LocalBackend', function () {
  this.timeout(20_000);
  const started: LocalBackend[] = [];
  afterEach(async () => {
    for (const b of started.splice(0)) await b.close();
  });
  const ready = (b: LocalBackend, name: string) => until(() => /^ready /m.test(logOf(b, name)), `${name} ready`);

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

  it('reports pending, running, stopping, exited in that order and stops with SIGTERM', async () => {
    const { backend } = make('run');
    started.push(backend);
    await backend.adopt({ cluster: 'order' });
    const seen = record(backend);
    await backend.start([spec('order-0')]);
    await ready(backend, 'order-0');
    const [pid] = backend.pids;
    expect(alive(pid!)).to.equal(true);
    await backend.stop(['order-0']);
    expect(alive(pid!)).to.equal(false);
    expect(seen.filter((s) => s.name === 'order-0').map((s) => s.phase)).to.deep.equal(['pending', 'running', 'stopping', 'exited']);
    expect(seen.find((s) => s.phase === 'exited')).to.include({ failed: false, exitCode: 0 });
  });

  it('sends SIGKILL after the grace period to a worker that ignores SIGTERM', async () => {
    const { backend, logger } = make('stubborn');
    started.push(backend);
    await backend.adopt({ cluster: 'stubborn' });
    await backend.start([spec('stubborn-0')]);
    await ready(backend, 'stubborn-0');
    const [pid] = backend.pids;
    await backend.stop(['stubborn-0']);
    expect(alive(pid!)).to.equal(false);
    expect(logger.records.some((r) => r.fields.event === 'worker.kill')).to.equal(true);
  });

  it('does not wait out the grace period for a worker that exits on SIGTERM', async () => {
    const { backend, logger } = make('run', { gracePeriod: 30 });
    started.push(backend);
    await backend.adopt({ cluster: 'prompt' });
    await backend.start([spec('prompt-0')]);
    await ready(backend, 'prompt-0');
    // With a 30 s grace and a 20 s test timeout, this only passes if stop resolves on the exit.
    await backend.stop(['prompt-0']);
    expect(logger.records.some((r) => r.fields.event === 'worker.kill')).to.equal(false);
  });

  it('lets a retired worker exit on its own instead of signalling it during its close', async () => {
    const { backend, logger } = make('closing', { gracePeriod: 10 });
    started.push(backend);
    await backend.adopt({ cluster: 'retired' });
    const seen = record(backend);
    await backend.start([spec('retired-0')]);
    await ready(backend, 'retired-0');
    // With a 10 s grace and a 20 s test timeout, a SIGTERM (which wedges this worker until the
    // SIGKILL 10 s later) would fail the test; waiting for its own exit passes at once.
    await backend.stop(['retired-0'], { retired: true });
    expect(logOf(backend, 'retired-0')).to.not.contain('got SIGTERM');
    expect(logger.records.filter((r) => r.fields.event === 'worker.kill' || r.fields.event === 'worker.term')).to.deep.equal([]);
    expect(seen.find((s) => s.phase === 'exited')).to.include({ failed: false, exitCode: 0 });
  });

  it('signals a retired worker that does not exit within the grace period', async () => {
    const { backend, logger } = make('run', { gracePeriod: 0.2 });
    started.push(backend);
    await backend.adopt({ cluster: 'retired-stuck' });
    await backend.start([spec('retired-stuck-0')]);
    await ready(backend, 'retired-stuck-0');
    const [pid] = backend.pids;
    await backend.stop(['retired-stuck-0'], { retired: true });
    expect(alive(pid!)).to.equal(false);
    expect(logger.records.some((r) => r.fields.event === 'worker.term')).to.equal(true);
  });

  it('reports a worker that exits at once with its exit code and output tail', async () => {
    const { backend } = make('crash');
    started.push(backend);
    const seen = record(backend);
    await backend.start([spec('w-0')]);
    await until(() => seen.some((s) => s.phase === 'exited'), 'exit');
    const exit = seen.find((s) => s.phase === 'exited')!;
    expect(exit.failed).to.equal(true);
    expect(exit.exitCode).to.equal(3);
    expect(exit.reason).to.contain('exit code 3').and.contain('fatal: cannot reach the scheduler');
  });

  it('reports a command that cannot be started', async () => {
    const backend = new LocalBackend(options('run', { command: ['/nonexistent/ebbtide-worker'] }), new MemoryLogger(), asyncScheduler);
    started.push(backend);
    const seen = record(backend);
    await backend.start([spec('w-0')]);
    await until(() => seen.some((s) => s.phase === 'exited'), 'exit');
    expect(seen.find((s) => s.phase === 'exited')!.reason).to.match(/cannot start .*ENOENT/);
  });

  it('passes the spec environment to the worker', async () => {
    const { backend } = make('run', { command: [process.execPath, '-e', 'process.stdout.write("ready " + process.env.EBBTIDE_TOKEN + "\\n"); setInterval(() => {}, 1000)'] });
    started.push(backend);
    await backend.adopt({ cluster: 'env' });
    await backend.start([{ ...spec('env-0'), env: { EBBTIDE_TOKEN: 's3cret' } }]);
    await ready(backend, 'env-0');
    expect(logOf(backend, 'env-0')).to.contain('ready s3cret');
  });

  it('kills the whole process group, grandchildren included', async () => {
    const { backend } = make('family');
    started.push(backend);
    await backend.adopt({ cluster: 'family' });
    await backend.start([spec('family-0')]);
    await ready(backend, 'family-0');
    const grandchild = Number(/^grandchild (\d+)$/m.exec(logOf(backend, 'family-0'))![1]);
    expect(alive(grandchild)).to.equal(true);
    await backend.stop(['family-0']);
    await until(() => !alive(grandchild), 'grandchild gone', 5000);
  });

  it('close stops every worker it started; a stopped name can be started again', async () => {
    const { backend } = make('run');
    await backend.adopt({ cluster: 'again' });
    await backend.start([spec('again-a'), spec('again-b')]);
    await until(() => backend.pids.length === 2, 'two pids');
    const pids = backend.pids;
    await backend.stop(['again-a']);
    await backend.start([spec('again-a')]);
    await until(() => backend.pids.length === 2, 'two pids again');
    const all = [...pids, ...backend.pids];
    await backend.close();
    for (const pid of all) expect(alive(pid)).to.equal(false);
  });

  it('keeps each worker in the cluster state file and adopts it after a kill -9 of its ebbtide', async () => {
    const opts = options('run');
    // A real ebbtide process: this script starts one worker through the backend, then is killed -9.
    const script = `
      import 'reflect-metadata';
      import { asyncScheduler } from 'rxjs';
      import { MemoryLogger } from '@ebbtide/core';
      import { LocalBackend } from ${JSON.stringify(new URL('../src/LocalBackend.js', import.meta.url).href)};
      const b = new LocalBackend(${JSON.stringify(opts)}, new MemoryLogger(), asyncScheduler);
      await b.adopt({ cluster: 'crash' });
      await b.start([{ name: 'crash-0', scheduler: 'x', nthreads: 1, memoryLimit: 0 }]);
      b.status$.subscribe((l) => { if (l.some((s) => s.phase === 'running')) process.stdout.write('started\\n'); });
      setInterval(() => {}, 1000);
    `;
    const { spawn } = await import('node:child_process');
    const host = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], cwd: new URL('..', import.meta.url).pathname });
    let out = '';
    host.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('started'), 'host started its worker');
    const state = JSON.parse(readFileSync(`${opts.stateDir}/crash/state.json`, 'utf8')) as { workers: Array<{ name: string; pid: number }> };
    const worker = state.workers.find((w) => w.name === 'crash-0')!;
    expect(alive(worker.pid)).to.equal(true);
    host.kill('SIGKILL');
    await new Promise((r) => host.once('exit', r));
    expect(alive(worker.pid), 'the worker outlives its killed ebbtide').to.equal(true);

    const { backend } = make('run', { stateDir: opts.stateDir });
    started.push(backend);
    const found = await backend.adopt({ cluster: 'crash' });
    expect(found.map((s) => [s.name, s.phase])).to.deep.equal([['crash-0', 'running']]);
    await backend.start([spec('crash-0')]);
    expect(backend.pids, 'starting an adopted name again does not spawn a second one').to.deep.equal([worker.pid]);
    await backend.stop(['crash-0']);
    expect(alive(worker.pid)).to.equal(false);
  });

  it('reports an adopted worker that dies on its own as failed', async () => {
    const a = make('run');
    await a.backend.adopt({ cluster: 'adopted-dies' });
    await a.backend.start([spec('adopted-dies-0')]);
    await ready(a.backend, 'adopted-dies-0');
    const [pid] = a.backend.pids;
    await a.backend.close({ keep: true });
    const { backend } = make('run', { stateDir: a.backend.stateFile!.dir.replace(/\/adopted-dies$/, '') });
    started.push(backend);
    await backend.adopt({ cluster: 'adopted-dies' });
    const seen = record(backend);
    execFileSync('kill', ['-9', String(pid)]);
    await until(() => seen.some((s) => s.phase === 'exited'), 'adopted exit seen');
    expect(seen.find((s) => s.phase === 'exited')).to.include({ name: 'adopted-dies-0', failed: true });
  });

  it('keys the cluster by scheduler: one name on two schedulers is two clusters; a closed one leaves no folder', async () => {
    const opts = options('run');
    const a = new LocalBackend(opts, new MemoryLogger(), asyncScheduler);
    const b = new LocalBackend(opts, new MemoryLogger(), asyncScheduler);
    started.push(a, b);
    await a.adopt({ cluster: 'twin', scheduler: 'tcp://127.0.0.1:1111' });
    await b.adopt({ cluster: 'twin', scheduler: 'tcp://127.0.0.1:2222' });
    expect(a.stateFile!.dir).to.not.equal(b.stateFile!.dir);
    await a.start([spec('twin-0')]);
    await until(() => a.pids.length === 1, 'a started');
    await a.close();
    await b.close();
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(opts.stateDir)).to.deep.equal([]);
  });

  it('clears the folder a killed ebbtide left for the same cluster on another scheduler once nothing in it lives', async () => {
    const opts = options('run');
    const dead = new LocalBackend(opts, new MemoryLogger(), asyncScheduler);
    await dead.adopt({ cluster: 'sweep', scheduler: 'tcp://127.0.0.1:1' });
    dead.simulateCrash(Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })));
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(opts.stateDir)).to.deep.equal(['sweep@tcp_127.0.0.1_1']);
    const next = new LocalBackend(opts, new MemoryLogger(), asyncScheduler);
    started.push(next);
    await next.adopt({ cluster: 'sweep', scheduler: 'tcp://127.0.0.1:2' });
    expect(readdirSync(opts.stateDir)).to.deep.equal(['sweep@tcp_127.0.0.1_2']);
  });
});
