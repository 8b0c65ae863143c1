import 'reflect-metadata';
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logOf, make, until } from './helpers.js';

const spec = (name: string) => ({ name, scheduler: 'tcp://127.0.0.1:1', nthreads: 1, memoryLimit: 0 });

describe('LocalBackend.logs', function () {
  this.timeout(20_000);

  it("returns the tail of a worker's output, running or exited, and nothing for an unknown name", async () => {
    const { backend } = make('crash');
    await backend.adopt({ cluster: 'logs' });
    try {
      await backend.start([spec('logs-0')]);
      await until(() => /cannot reach the scheduler/.test(logOf(backend, 'logs-0')), 'the crash output');
      await until(() => backend.pids.length === 0, 'the worker to exit');
      expect(await backend.logs('logs-0')).to.equal('fatal: cannot reach the scheduler\n');
      expect(await backend.logs('logs-9')).to.equal('');
    } finally {
      await backend.close();
    }
  });

  it('gives at most the asked number of lines, the last ones', async () => {
    const { backend } = make('run');
    await backend.adopt({ cluster: 'tail' });
    try {
      await backend.start([spec('tail-0')]);
      await until(() => /^ready /m.test(logOf(backend, 'tail-0')), 'ready');
      // The worker's log file, as the worker would have written it.
      writeFileSync(join(backend.stateFile!.dir, 'tail-0.log'), Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n') + '\n');
      expect(await backend.logs('tail-0', 3)).to.equal('line 47\nline 48\nline 49\n');
    } finally {
      await backend.close();
    }
  });

  it('reads nothing but a worker log, whatever the name (names come from HTTP requests)', async () => {
    const { backend } = make('run');
    await backend.adopt({ cluster: 'safe' });
    try {
      writeFileSync(join(backend.stateFile!.dir, 'secret.txt'), 'do not show\n');
      for (const name of ['../safe/secret.txt', '..', '/etc/passwd', 'secret.txt/..', '.hidden', '']) expect(await backend.logs(name), name).to.equal('');
    } finally {
      await backend.close();
    }
  });
});
