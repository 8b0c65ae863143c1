import { expect } from 'chai';
import { parseWorkerArgs } from '../src/worker/parseWorkerArgs.js';

describe('parseWorkerArgs', () => {
  it('reads every flag, with defaults for the optional ones', () => {
    expect(parseWorkerArgs(['--scheduler', 'tcp://127.0.0.1:9', '--name', 'w1'])).to.deep.equal({
      scheduler: 'tcp://127.0.0.1:9',
      name: 'w1',
      nthreads: 1,
      memoryLimit: 0,
      labels: {},
    });
    expect(
      parseWorkerArgs(['--scheduler', 'tcp://h:9', '--name', 'w', '--nthreads', '4', '--memory-limit', '2GiB', '--label', 'pool=gpu', '--label', 'zone=a=b']),
    ).to.deep.include({ nthreads: 4, memoryLimit: 2 ** 31, labels: { pool: 'gpu', zone: 'a=b' } });
  });

  it('reads --resources as dask worker does, else EBBTIDE_WORKER_RESOURCES (a pool\'s resources)', () => {
    const base = ['--scheduler', 'tcp://h:9', '--name', 'w'];
    expect(parseWorkerArgs([...base, '--resources', 'GPU=1,MEM=2e9'], {}).resources).to.deep.equal({ GPU: 1, MEM: 2e9 });
    expect(parseWorkerArgs(base, { EBBTIDE_WORKER_RESOURCES: 'GPU=2' }).resources).to.deep.equal({ GPU: 2 });
    expect(parseWorkerArgs([...base, '--resources', 'TPU=1'], { EBBTIDE_WORKER_RESOURCES: 'GPU=2' }).resources).to.deep.equal({ TPU: 1 });
    expect(parseWorkerArgs(base, {})).to.not.have.property('resources');
    expect(() => parseWorkerArgs(base, { EBBTIDE_WORKER_RESOURCES: 'GPU' })).to.throw('EBBTIDE_WORKER_RESOURCES: expected NAME=QUANTITY, got "GPU"');
    expect(() => parseWorkerArgs([...base, '--resources', 'GPU=-1'], {})).to.throw('--resources: resource "GPU": expected a quantity > 0, got "-1"');
  });

  const bad: Array<[string[], string]> = [
    [['--name', 'w'], '--scheduler is required'],
    [['--scheduler', 'tcp://h:1'], '--name is required'],
    [['--scheduler', 'tcp://h:1', '--name', 'w', '--nthreads', '0'], '--nthreads: expected a whole number >= 1, got "0"'],
    [['--scheduler', 'tcp://h:1', '--name', 'w', '--memory-limit', 'lots'], '--memory-limit: expected a size'],
    [['--scheduler', 'tcp://h:1', '--name', 'w', '--label', 'novalue'], '--label: expected KEY=VALUE'],
    [['--scheduler', 'tcp://h:1', '--name', 'w', '--colour', 'red'], "Unknown option '--colour'"],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${argv.join(' ')}`, () => {
      expect(() => parseWorkerArgs(argv)).to.throw(message).with.property('code', 'USAGE');
    });
  }
});
