import { expect } from 'chai';
import { Kernel, type SchedulerEvent, type WorkerKey, definePlugin } from '@ebbtide/core';
import { injectable } from 'tsyringe';
import { noopPlugin } from '@ebbtide/core/testing';
import embeddedPlugin from '../src/index.js';
import { Client } from '../src/client/Client.js';
import { builtinTask } from '../src/tasks/builtinTask.js';
import { killWorkers, spawnWorker } from './helpers/workers.js';

@injectable()
class NoneKey implements WorkerKey {
  key(): string {
    return '';
  }
}

/** The kernel insists every selected decision kind exists; these fill them for the test. */
const fillers = definePlugin({ name: 'fillers', register: (r) => r.workerKey('none', NoneKey) });

describe('EmbeddedSchedulerAdapter through the kernel', () => {
  afterEach(killWorkers);

  it('is registered as scheduler "embedded", configured from scheduler.embedded.*, and serves', async () => {
    const kernel = await Kernel.create({
      builtins: [noopPlugin, fillers, embeddedPlugin],
      sources: { env: {}, preset: { heuristic: 'noop', workersToClose: 'noop', workerKey: 'none', scheduler: { type: 'embedded' } }, flags: { 'scheduler.embedded.heartbeatInterval': '100ms' } },
    });
    expect(kernel.config.scheduler.embedded).to.deep.equal({
      host: '127.0.0.1',
      port: 0,
      heartbeatInterval: 0.1,
      workerTimeout: 30,
      retireTimeout: 10,
      maxFrameBytes: 64 * 1024 * 1024,
      maxBufferedBytes: 256 * 1024 * 1024,
      handshakeTimeout: 10,
      idleTimeout: 60,
      maxConnections: 1024,
      token: '',
      maxFrameSize: null,
    });
    const adapter = kernel.resolve('scheduler');
    const events: SchedulerEvent[] = [];
    adapter.events$.subscribe((e) => events.push(e));
    await adapter.start();
    try {
      expect(adapter.address).to.match(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      await spawnWorker(adapter.address!, 'w1', 1);
      const client = await Client.connect(adapter.address!);
      const key = await client.submit(builtinTask('inc'), [1]);
      expect(await client.gather([key])).to.deep.equal([2]);
      await client.close();
      expect((await adapter.retire(['nobody'])).outcomes).to.deep.equal([{ name: 'nobody', status: 'unknown', reason: 'no connected worker has this name' }]);
      expect(events.map((e) => e.type)).to.include.members(['worker.added', 'task.transition', 'worker.updated']);
    } finally {
      await adapter.close();
    }
  });

  it('fails to start with SCHEDULER_UNREACHABLE when the port is taken', async () => {
    const kernel = await Kernel.create({ builtins: [noopPlugin, fillers, embeddedPlugin], sources: { env: {}, preset: { heuristic: 'noop', workersToClose: 'noop', workerKey: 'none', scheduler: { type: 'embedded' } } } });
    const first = kernel.resolve('scheduler');
    await first.start();
    try {
      const port = first.address!.split(':').pop()!;
      const k2 = await Kernel.create({
        builtins: [noopPlugin, fillers, embeddedPlugin],
        sources: { env: {}, preset: { heuristic: 'noop', workersToClose: 'noop', workerKey: 'none', scheduler: { type: 'embedded' } }, flags: { 'scheduler.embedded.port': port } },
      });
      const error = await k2.resolve('scheduler').start().then(() => undefined, (e: unknown) => e as { code?: string; message: string });
      expect(error?.code).to.equal('SCHEDULER_UNREACHABLE');
      expect(error?.message).to.contain(`cannot listen on 127.0.0.1:${port}`);
    } finally {
      await first.close();
    }
  });
});
