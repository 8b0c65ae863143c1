import { expect } from 'chai';
import { TaskError } from '../src/client/TaskError.js';
import { builtinTask } from '../src/tasks/builtinTask.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { type SpawnedWorker, fixture, killWorkers, spawnWorker } from './helpers/workers.js';
import { isAlive } from './helpers/waitFor.js';

async function gatherError(h: Harness, fn: string, args: unknown[] = []): Promise<TaskError> {
  const key = await h.client.submit(fn, args);
  const error = await h.client.gather([key]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `gather of ${fn} should fail`).to.be.instanceOf(TaskError);
  expect((error as TaskError).key).to.equal(key);
  return error as TaskError;
}

describe('task failures', () => {
  let h: Harness;
  let worker: SpawnedWorker;

  before(async () => {
    h = await startHarness();
    worker = await spawnWorker(h.address, 'w1', 1);
  });

  after(async () => {
    await h.close();
    await killWorkers();
  });

  // Each case is followed by a successful task on the same (only) worker: it survived.
  afterEach(async () => {
    const key = await h.client.submit(builtinTask('inc'), [1]);
    expect(await h.client.gather([key])).to.deep.equal([2]);
    expect(isAlive(worker.pid)).to.equal(true);
    expect(h.store.workerNames()).to.deep.equal(['w1']);
  });

  it('a module that does not exist', async () => {
    const e = await gatherError(h, '/definitely/not/here.js#run');
    expect(e.message).to.contain('cannot load task module "/definitely/not/here.js"');
    expect(e.worker).to.equal('w1');
  });

  it('an export that does not exist lists what the module exports', async () => {
    const e = await gatherError(h, `${fixture('failing.js')}#nothing`);
    expect(e.message).to.contain('has no function export "nothing"').and.contain('throwsTypeError');
  });

  it('an export that is not a function', async () => {
    const e = await gatherError(h, `${fixture('failing.js')}#notAFunction`);
    expect(e.message).to.contain('has no function export "notAFunction"');
  });

  it('a task that throws keeps its error class and message', async () => {
    const e = await gatherError(h, `${fixture('failing.js')}#throwsTypeError`);
    expect(e.message).to.contain('TypeError: bad input on purpose');
    expect(e.remoteName).to.equal('TypeError');
    expect(e.remoteStack).to.contain('failing.js');
  });

  it('an async task that rejects', async () => {
    const e = await gatherError(h, `${fixture('failing.js')}#rejects`, ['async boom']);
    expect(e.message).to.contain('async boom');
    expect(h.store.snapshot(0).prefixes.rejects).to.deep.include({ queued: 0 });
  });

  it('a task whose result is not JSON', async () => {
    const e = await gatherError(h, `${fixture('failing.js')}#returnsBigInt`);
    expect(e.message).to.contain('not JSON-serialisable');
  });

  it('a task that ends its thread: the pool replaces the thread', async () => {
    const e = await gatherError(h, `${fixture('failing.js')}#exitsThread`);
    expect(e.message).to.contain('task thread died');
  });

  it('a malformed task reference is refused by the client before it is sent', async () => {
    const error = await h.client.submit('relative/path.js', []).then(() => undefined, (err: unknown) => err as Error & { code?: string });
    expect(error?.code).to.equal('INPUT_INVALID');
    expect(error?.message).to.contain('module#export');
  });
});
