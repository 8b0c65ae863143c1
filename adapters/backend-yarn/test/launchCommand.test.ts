import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { isEbbtideError } from '@ebbtide/core';
import { buildLaunchCommand } from '../src/launchCommand.js';
import { describeExit } from '../src/exitStatus.js';

describe('YARN launch command', () => {
  it('quotes every argument for YARN\'s `exec /bin/bash -c "<command>"` and turns {name} into the instance token', () => {
    const cmd = buildLaunchCommand(['printf', '%s|', 'a b', "it's", '$HOME', '"q"', '--name={name}', '{scheduler}'], { scheduler: 'tcp://h:1', nthreads: 2, memoryLimit: 0 });
    expect(cmd).to.contain('${COMPONENT_INSTANCE_NAME}');
    // What YARN does: substitute the token, then write the command inside double quotes.
    const script = `exec /bin/bash -c "${cmd.replace('${COMPONENT_INSTANCE_NAME}', 'c-3')}"`;
    const out = execFileSync('/bin/bash', ['-c', script], { encoding: 'utf8' });
    expect(out).to.equal(`a b|it's|$HOME|"q"|--name=c-3|tcp://h:1|`);
  });

  it('rejects an unknown placeholder as a configuration error', () => {
    try {
      buildLaunchCommand(['w', '{nmae}'], { scheduler: 's', nthreads: 1, memoryLimit: 0 });
      expect.fail('no error');
    } catch (e) {
      expect(isEbbtideError(e) && e.code).to.equal('CONFIG_INVALID');
      expect(String(e)).to.contain('{nmae}');
    }
  });

  it('names YARN exit statuses, marks preemption as capacity', () => {
    expect(describeExit('c1', -104).reason).to.contain('physical memory');
    expect(describeExit('c1', -102).capacity).to.equal(true);
    expect(describeExit('c1', 3).reason).to.contain('exited with code 3');
    expect(describeExit('c1', undefined).reason).to.contain('not available');
  });
});
