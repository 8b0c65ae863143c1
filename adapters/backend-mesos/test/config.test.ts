import { expect } from 'chai';
import { checkMasterUrl } from '../src/config.js';
import { reconnectDelayMs } from '../src/MesosSubscription.js';
import { taskInfo, taskSize } from '../src/taskInfo.js';

describe('backend-mesos config and task shapes', () => {
  it('checks the master URL and names the key', () => {
    expect(checkMasterUrl('http://m:5050/')).to.equal('http://m:5050');
    expect(() => checkMasterUrl('')).to.throw(/backend\.mesos\.master: expected the URL/);
    expect(() => checkMasterUrl('m:5050')).to.throw(/backend\.mesos\.master: expected an http/);
    expect(() => checkMasterUrl('not a url')).to.throw(/backend\.mesos\.master/);
  });

  it('reconnects after 1 s, doubling, capped at 15 s', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(reconnectDelayMs)).to.deep.equal([1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  });

  it('sizes a task from the spec unless cpus/memory are set', () => {
    const spec = { name: 'c-1', scheduler: 'tcp://s:1', nthreads: 2, memoryLimit: 3 * 2 ** 30 };
    expect(taskSize(spec, { cpus: null, memoryMb: 0 })).to.deep.equal({ cpus: 2, mem: 3072 });
    expect(taskSize({ ...spec, memoryLimit: 0 }, { cpus: 0.5, memoryMb: 0 })).to.deep.equal({ cpus: 0.5, mem: 1024 });
    expect(taskSize(spec, { cpus: null, memoryMb: 512 })).to.deep.equal({ cpus: 2, mem: 512 });
  });

  it('builds a command-executor TaskInfo named after the worker, without a shell', () => {
    const spec = { name: 'c-1', scheduler: 'tcp://s:1', nthreads: 2, memoryLimit: 0, env: { EBBTIDE_TOKEN: 't' } };
    const t = taskInfo(spec, 'A1', [], 'c', { command: ['ebbtide-worker', '--scheduler', '{scheduler}', '--name', '{name}'], env: { X: '1' }, gracePeriod: 2.5 }) as Record<string, any>;
    expect(t.task_id).to.deep.equal({ value: 'c-1' });
    expect(t.name).to.equal('c-1');
    expect(t.agent_id).to.deep.equal({ value: 'A1' });
    expect(t.command.shell).to.equal(false);
    expect(t.command.value).to.equal('ebbtide-worker');
    expect(t.command.arguments).to.deep.equal(['ebbtide-worker', '--scheduler', 'tcp://s:1', '--name', 'c-1']);
    expect(t.command.environment.variables).to.deep.include({ name: 'EBBTIDE_TOKEN', type: 'VALUE', value: 't' });
    expect(t.command.environment.variables).to.deep.include({ name: 'EBBTIDE_WORKER_NAME', type: 'VALUE', value: 'c-1' });
    expect(t.command.environment.variables).to.deep.include({ name: 'X', type: 'VALUE', value: '1' });
    expect(t.kill_policy).to.deep.equal({ grace_period: { nanoseconds: 2.5e9 } });
  });
});
