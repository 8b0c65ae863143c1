import { expect } from 'chai';
import { DUMP_BUDGET_FACTOR, RESTRICTIONS_REREAD_S, TaskRestrictions, parseRestrictionDump } from '../src/poll/TaskRestrictions.js';
import { keyId } from '../src/wire/daskKey.js';

/** A `get_cluster_state` reply as the two releases shape it (restriction-less tasks: `{}` in 2022.12, `None` in 2026.8). */
function dump(tasks: Array<[unknown, unknown]>): unknown {
  return { scheduler: { tasks: Object.fromEntries(tasks.map(([key, r]) => [String(key), { key, resource_restrictions: r }])) }, workers: {}, versions: {} };
}

describe('TaskRestrictions', () => {
  it('parses a dump of either release: tasks by their key field (tuple keys too), {} and null as no restriction', () => {
    const d = parseRestrictionDump(dump([['train-1', { GPU: 1 }], ['plain-1', {}], ['plain-2', null], [['tup-ab', 0], { TPU: 2 }]]));
    expect([...d.ids]).to.deep.equal(['train-1', 'plain-1', 'plain-2', keyId(['tup-ab', 0])]);
    expect(Object.fromEntries(d.restricted)).to.deep.equal({ 'train-1': { GPU: 1 }, [keyId(['tup-ab', 0])]: { TPU: 2 } });
    expect(() => parseRestrictionDump({ workers: {} })).to.throw('get_cluster_state').with.property('code', 'SCHEDULER_PROTOCOL');
  });

  it('reads at once for a prefix never dumped, else at most every RESTRICTIONS_REREAD_S for unread tasks; never for dumped ones', () => {
    const r = new TaskRestrictions();
    expect(r.mustRead([], 0)).to.equal(false);
    expect(r.mustRead(['train-1'], 0)).to.equal(true);
    r.learn(parseRestrictionDump(dump([['train-1', { GPU: 1 }], ['plain-1', {}]])), 0);
    expect(r.mustRead(['train-1', 'plain-1'], 1)).to.equal(false);
    // A new task of a known prefix waits for the re-read interval; a new prefix does not.
    expect(r.mustRead(['train-2'], 1)).to.equal(false);
    expect(r.mustRead(['train-2'], RESTRICTIONS_REREAD_S)).to.equal(true);
    expect(r.mustRead(['infer-1'], 1)).to.equal(true);
  });

  it('waits DUMP_BUDGET_FACTOR times the last dump\'s duration before the next, even for a new prefix', () => {
    const r = new TaskRestrictions();
    r.learn(parseRestrictionDump(dump([['train-1', { GPU: 1 }]])), 0, 0.5);
    const gap = DUMP_BUDGET_FACTOR * 0.5;
    expect(gap).to.be.greaterThan(RESTRICTIONS_REREAD_S);
    expect(r.mustRead(['infer-1'], gap - 1)).to.equal(false);
    expect(r.mustRead(['train-2'], gap - 1)).to.equal(false);
    expect(r.mustRead(['infer-1'], gap)).to.equal(true);
    expect(r.mustRead(['train-2'], gap)).to.equal(true);
  });

  it('tallies processing and unrunnable tasks per resource: exact for dumped tasks, by prefix for newer ones', () => {
    const r = new TaskRestrictions();
    r.learn(parseRestrictionDump(dump([['train-1', { GPU: 1 }], ['train-2', { GPU: 2, MEM: 1 }], ['plain-1', {}]])), 0);
    // train-9 is newer than the dump: taken to need what the last dumped train task needed.
    expect(r.tally(['train-1', 'plain-1'], ['train-2', 'train-9', 'other-1'])).to.deep.equal({
      GPU: { waiting: 2, processing: 1, units: { train: 5 } },
      MEM: { waiting: 2, processing: 0, units: { train: 2 } },
    });
    expect(r.tally(['plain-1'], [])).to.equal(undefined);
    r.invalidate();
    expect(r.tally(['train-1'], [])).to.equal(undefined);
  });
});
