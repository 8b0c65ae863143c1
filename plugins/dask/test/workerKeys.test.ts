// Core first: it loads reflect-metadata, which tsyringe needs before the plugin's decorated classes
// load (they import tsyringe before @ebbtide/core, so importing one directly would fail).
import '@ebbtide/core';
import { expect } from 'chai';
import { EbbtideError, type WorkerKey } from '@ebbtide/core';
import { makeSnapshot, makeWorker } from '@ebbtide/core/testing';
import { DaskWorkersToClose } from '../src/DaskWorkersToClose.js';
import { HostWorkerKey, LabelWorkerKey, NoneWorkerKey } from '../src/workerKeys.js';
import { MB } from './helpers.js';

/*
 * Worker keys (Dask's `worker_key`, spec §2.1, §4.4): workers with one key close together or not
 * at all. The cases are §4.6's grouped rows (4 workers, groups {1st, 2nd} and {3rd, 4th}, idle,
 * no data) expressed through each key.
 */
describe('worker keys — spec §4.6 grouped rows through each key', () => {
  const strategy = new DaskWorkersToClose({});
  const cluster = makeSnapshot(
    ['w1', 'w2', 'w3', 'w4'].map((name, i) =>
      makeWorker(name, { memoryLimit: 100 * MB, host: i < 2 ? 'host-a' : 'host-b', labels: { job: i < 2 ? 'job-a' : 'job-b' } }),
    ),
  );
  const grouping: Array<{ label: string; key: WorkerKey }> = [
    { label: 'host', key: new HostWorkerKey() },
    { label: 'label:job', key: new LabelWorkerKey('job') },
  ];
  for (const { label, key } of grouping) {
    it(`§4.6 grouped by ${label} (key) -> the later group then the first (all 4)`, () => {
      expect(strategy.select(cluster, { key })).to.deep.equal(['w3', 'w4', 'w1', 'w2']);
    });
    it(`§4.6 grouped by ${label} (key, n=1) and (key, target=3) -> [] (cannot close half a group)`, () => {
      expect(strategy.select(cluster, { key, n: 1 })).to.deep.equal([]);
      expect(strategy.select(cluster, { key, target: 3 })).to.deep.equal([]);
    });
    it(`§4.6 grouped by ${label} (key, target=1) -> the later group only`, () => {
      expect(strategy.select(cluster, { key, target: 1 })).to.deep.equal(['w3', 'w4']);
    });
  }

  it('§4.4 workerKey none: each worker is its own group -> (n=1) closes the last registered', () => {
    expect(strategy.select(cluster, { key: new NoneWorkerKey(), n: 1 })).to.deep.equal(['w4']);
  });

  it('label:<name>: a worker without the label is its own group', () => {
    const key = new LabelWorkerKey('job');
    const mixed = makeSnapshot([
      makeWorker('w1', { labels: { job: 'j' } }),
      makeWorker('w2', { labels: { job: 'j' } }),
      makeWorker('w3'),
    ]);
    expect(key.key(mixed.workers[2]!)).to.not.equal(key.key(mixed.workers[0]!));
    expect(strategy.select(mixed, { key, n: 1 })).to.deep.equal(['w3']);
    expect(strategy.select(mixed, { key, n: 2 })).to.deep.equal(['w3']);
  });

  it('label:<name> without a name is an EbbtideError naming the config key', () => {
    expect(() => new LabelWorkerKey('')).to.throw(EbbtideError).with.property('key', 'workerKey');
  });
});
