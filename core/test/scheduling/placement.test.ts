import { expect } from 'chai';
import { pickRecipient, pickWorker } from '../../src/scheduling/placement.js';
import type { ModelWorker } from '../../src/scheduling/records.js';

function worker(name: string, fields: { nthreads?: number; busy?: number; nbytes?: number; status?: ModelWorker['status'] }): ModelWorker {
  const processing = new Map(Array.from({ length: fields.busy ?? 0 }, (_, i) => [i, {}]));
  return { name, nthreads: fields.nthreads ?? 1, processing, nbytes: fields.nbytes ?? 0, status: fields.status ?? 'running' } as unknown as ModelWorker;
}

describe('placement', () => {
  it('pickWorker: the running worker with the most free slots, the earliest registered on a tie', () => {
    const a = worker('a', { nthreads: 4, busy: 2 });
    const b = worker('b', { nthreads: 3, busy: 0 });
    const c = worker('c', { nthreads: 8, busy: 5 });
    expect(pickWorker([a, b, c])?.name).to.equal('b');
    expect(pickWorker([a, worker('d', { nthreads: 2 })])?.name).to.equal('a');
    expect(pickWorker([worker('x', { nthreads: 9, status: 'closing' }), a])?.name).to.equal('a');
    expect(pickWorker([worker('full', { nthreads: 2, busy: 2 }), worker('over', { nthreads: 1, busy: 2 })])).to.equal(undefined);
    expect(pickWorker([])).to.equal(undefined);
  });

  it('pickRecipient: the running worker holding the fewest bytes, the earliest registered on a tie', () => {
    const a = worker('a', { nbytes: 10 });
    const b = worker('b', { nbytes: 3 });
    const c = worker('c', { nbytes: 3 });
    expect(pickRecipient([a, b, c])?.name).to.equal('b');
    expect(pickRecipient([worker('z', { nbytes: 0, status: 'closing' }), a])?.name).to.equal('a');
    expect(pickRecipient([worker('p', { status: 'paused' })])).to.equal(undefined);
  });
});
