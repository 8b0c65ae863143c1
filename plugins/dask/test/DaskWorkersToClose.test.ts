// Core first: it loads reflect-metadata, which tsyringe needs before the plugin's decorated classes
// load (they import tsyringe before @ebbtide/core, so importing one directly would fail).
import '@ebbtide/core';
import { expect } from 'chai';
import { makeSnapshot, makeWorker } from '@ebbtide/core/testing';
import { DaskWorkersToClose } from '../src/DaskWorkersToClose.js';
import { NoneWorkerKey } from '../src/workerKeys.js';
import { DaskTickLedger, MB } from './helpers.js';

/*
 * `workersToClose: dask` with the `dask.memoryRatio` option, Dask's `Adaptive(**kwargs)` that is
 * forwarded to every `workers_to_close` call (spec §2.1, §4.4 "n + memory_ratio is OR", §9.6).
 * State: §4.6's 3 workers in registration order [1, 0, 2] holding 0 B, 10 MB and 20 MB.
 */
describe('DaskWorkersToClose — memoryRatio forwarded like Adaptive(**kwargs)', () => {
  const state = (limit: number) =>
    makeSnapshot([
      makeWorker('1', { memoryLimit: limit, nbytes: 0 }),
      makeWorker('0', { memoryLimit: limit, nbytes: 10 * MB }),
      makeWorker('2', { memoryLimit: limit, nbytes: 20 * MB }),
    ]);
  const key = new NoneWorkerKey();

  it('§4.6 (n=1) without the option -> [0-byte] (n mode only)', () => {
    expect(new DaskWorkersToClose({}).select(state(100 * MB), { n: 1, key })).to.deep.equal(['1']);
  });

  it('§4.6 (memory_ratio=1, n=1) with dask.memoryRatio = 1 -> [0-byte, 10 MB] (OR semantics: closes 2 > n)', () => {
    expect(new DaskWorkersToClose({ memoryRatio: 1 }).select(state(100 * MB), { n: 1, key })).to.deep.equal(['1', '0']);
  });

  it('§4.6 limits 25 MB, () with dask.memoryRatio = 1 -> [0-byte]; a memoryRatio in the query wins over the option', () => {
    const strategy = new DaskWorkersToClose({ memoryRatio: 1 });
    expect(strategy.select(state(25 * MB), { key })).to.deep.equal(['1']);
    expect(strategy.select(state(25 * MB), { key, memoryRatio: 2 })).to.deep.equal([]);
  });

  it('§9.6 memoryRatio forwarded through decideTick can propose more workers than the target asks for', () => {
    // target 2 (n = 1) would close only the 0-byte worker; memory_ratio 1 also accepts the 10 MB one.
    const ledger = new DaskTickLedger({ minimum: 2, waitCount: 1, memoryRatio: 1 });
    const r = ledger.tick(state(100 * MB));
    expect(r.safeTarget).to.equal(2);
    expect(r.workersToClose).to.deep.equal(['1', '0']);
  });
});
