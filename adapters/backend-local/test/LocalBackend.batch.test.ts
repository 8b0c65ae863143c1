import 'reflect-metadata';
import { expect } from 'chai';
import type { BackendWorkerStatus } from '@ebbtide/core';
import type { LocalBackend } from '../src/LocalBackend.js';
import { make, until } from './helpers.js';

const spec = (name: string) => ({ name, scheduler: 'tcp://127.0.0.1:1', nthreads: 1, memoryLimit: 0 });

describe('LocalBackend: a batch of starts', function () {
  this.timeout(20_000);
  const started: LocalBackend[] = [];
  afterEach(async () => {
    for (const b of started.splice(0)) await b.close();
  });

  it('spawns every worker of one call at once: one state-file write, one change to pending, one to running', async () => {
    const { backend } = make('run');
    started.push(backend);
    await backend.adopt({ cluster: 'batch' });
    const changes: BackendWorkerStatus[][] = [];
    backend.status$.subscribe((l) => changes.push(l));
    const state = backend.stateFile!;
    const write = state.writeWorkers.bind(state);
    const writes: number[] = [];
    state.writeWorkers = (workers) => {
      writes.push(workers.length);
      write(workers);
    };
    const names = ['batch-0', 'batch-1', 'batch-2', 'batch-3'];
    await backend.start(names.map(spec));
    // Every process exists (and is recorded) once start returns: none waited for another.
    expect(backend.pids).to.have.length(4);
    expect(state.readWorkers().map((w) => w.name).sort()).to.deep.equal(names);
    await until(() => changes.flat().filter((s) => s.phase === 'running').length === 4, 'all running');
    const phases = changes.filter((c) => c.length).map((c) => c.map((s) => `${s.name}:${s.phase}`).sort());
    expect(phases).to.deep.equal([names.map((n) => `${n}:pending`), names.map((n) => `${n}:running`)]);
    // The pids and start times were saved with the spawn; becoming running changes no record.
    expect(writes).to.deep.equal([4]);
  });
});
