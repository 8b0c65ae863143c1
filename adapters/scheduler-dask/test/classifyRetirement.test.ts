import { expect } from 'chai';
import { KEPT_REASON, classifyRetirement } from '../src/index.js';

describe('classifyRetirement', () => {
  it('retired when Dask returned it, kept when known but not returned, unknown otherwise', () => {
    const outcomes = classifyRetirement(['a', 'b', 'x', 'a'], {
      known: new Set(['a', 'b']),
      retired: new Set(['a']),
      after: new Set(['b']),
      uniqueBytes: new Map([
        ['a', 1024],
        ['b', 9],
      ]),
    });
    expect(outcomes).to.deep.equal([
      { name: 'a', status: 'retired', movedBytes: 1024 },
      { name: 'b', status: 'kept', reason: KEPT_REASON },
      { name: 'x', status: 'unknown', reason: 'the scheduler has no worker of this name' },
    ]);
  });

  it('a known worker that vanished during retirement is unknown, not kept', () => {
    const [o] = classifyRetirement(['b'], { known: new Set(['b']), retired: new Set(), after: new Set() });
    expect(o).to.deep.equal({ name: 'b', status: 'unknown', reason: 'the worker left the scheduler during retirement' });
  });

  it('leaves movedBytes out when it could not be measured', () => {
    expect(classifyRetirement(['a'], { known: new Set(['a']), retired: new Set(['a']) })).to.deep.equal([{ name: 'a', status: 'retired' }]);
  });
});
