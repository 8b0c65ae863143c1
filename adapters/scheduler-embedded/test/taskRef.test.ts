import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseTaskRef, taskRef } from '../src/taskRef.js';
import { builtinTask, builtinTasksUrl } from '../src/tasks/builtinTask.js';
import * as builtin from '../src/tasks/builtin.js';
import { workerBin } from '../src/index.js';
import { WORKER_BIN } from './helpers/workers.js';

describe('task references', () => {
  it('accepts absolute paths, file URLs and package names', () => {
    expect(parseTaskRef('/opt/tasks.js#run')).to.deep.equal({ module: '/opt/tasks.js', exportName: 'run', specifier: 'file:///opt/tasks.js' });
    expect(parseTaskRef('file:///opt/a#b.js#run')).to.deep.include({ module: 'file:///opt/a#b.js', exportName: 'run' });
    expect(parseTaskRef('@acme/tasks#load')).to.deep.equal({ module: '@acme/tasks', exportName: 'load', specifier: '@acme/tasks' });
  });

  it('explains what is wrong with a bad reference', () => {
    expect(parseTaskRef('tasks.js')).to.contain('not of the form module#export');
    expect(parseTaskRef('./tasks.js#run')).to.contain('is relative');
    expect(parseTaskRef('/x.js#1bad')).to.contain('is not an export name');
  });

  it('builtinTask points at the built-in module, which exists', () => {
    expect(builtinTask('inc')).to.equal(`${builtinTasksUrl()}#inc`);
    expect(existsSync(fileURLToPath(builtinTasksUrl()))).to.equal(true);
    expect(taskRef(new URL('file:///a/b.js'), 'c')).to.equal('file:///a/b.js#c');
    expect(workerBin).to.equal(WORKER_BIN);
  });
});

describe('built-in tasks', () => {
  it('compute what they say', async () => {
    expect(builtin.noop()).to.equal(null);
    expect(builtin.inc(1)).to.equal(2);
    expect(builtin.add(2, 3)).to.equal(5);
    expect(builtin.sum([1, 2, 3])).to.equal(6);
    expect(await builtin.sleep(1)).to.equal(1);
    expect(builtin.burn(1)).to.be.a('number');
    expect(() => builtin.fail('x')).to.throw('x');
  });

  it('blob(n) has a JSON size of exactly n bytes', () => {
    for (const n of [2, 3, 1000]) expect(Buffer.byteLength(JSON.stringify(builtin.blob(n)))).to.equal(n);
  });
});
