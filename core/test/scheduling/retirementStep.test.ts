import { expect } from 'chai';
import { KEPT_COPY_FAILED, KEPT_NO_RECIPIENT, retirementStep } from '../../src/scheduling/retirementStep.js';
import { setup } from './helpers.js';

describe('retirementStep', () => {
  it('plans moving the unique results to the running worker holding the fewest bytes, then says clear', () => {
    const s = setup();
    const a = s.add('a', 2);
    const b = s.add('b');
    const c = s.add('c');
    const [x, y, z] = s.submit('x-0', 'y-0', 'z-0');
    s.model.schedule(0);
    s.model.finished(a, x!.run, { nbytes: 10, duration: 1 });
    s.model.finished(a, y!.run, { nbytes: 20, duration: 1 });
    s.model.finished(b, z!.run, { nbytes: 5, duration: 1 });
    s.model.setStatus(a, 'closing');
    const step = retirementStep(s.model, a);
    expect(step).to.deep.equal({ kind: 'move', tasks: [x, y], to: c, bytes: 30 });
    s.model.addReplicas(c, [x!, y!]);
    expect(retirementStep(s.model, a)).to.deep.equal({ kind: 'clear' });
    expect(a.status).to.equal('closing');
  });

  it('keeps a worker whose unique results have nowhere to go, back to running', () => {
    const s = setup();
    const a = s.add('a');
    const [x] = s.submit('x-0');
    s.model.schedule(0);
    s.model.finished(a, x!.run, { nbytes: 1, duration: 1 });
    s.model.setStatus(a, 'closing');
    expect(retirementStep(s.model, a)).to.deep.equal({ kind: 'kept', reason: KEPT_NO_RECIPIENT });
    expect(a.status).to.equal('running');
    expect(s.events.at(-1)).to.deep.equal({ type: 'worker.updated', name: 'a', status: 'running' });
  });

  it('keeps it when the host gives up copying, and says gone once it disconnected', () => {
    const s = setup();
    const a = s.add('a');
    s.add('b');
    const [x] = s.submit('x-0');
    s.model.schedule(0);
    s.model.finished(a, x!.run, { nbytes: 1, duration: 1 });
    s.model.setStatus(a, 'closing');
    expect(retirementStep(s.model, a, { giveUp: true })).to.deep.equal({ kind: 'kept', reason: KEPT_COPY_FAILED });
    s.model.setStatus(a, 'closing');
    s.model.removeWorker(a);
    expect(retirementStep(s.model, a)).to.deep.equal({ kind: 'gone' });
  });

  it('two workers retired together do not count as homes for each other\'s results', () => {
    const s = setup();
    const a = s.add('a');
    const b = s.add('b');
    const [x] = s.submit('x-0');
    s.model.schedule(0);
    s.model.finished(a, x!.run, { nbytes: 1, duration: 1 });
    s.model.addReplicas(b, [x!]);
    s.model.setStatus(a, 'closing');
    s.model.setStatus(b, 'closing');
    expect(retirementStep(s.model, a)).to.deep.equal({ kind: 'kept', reason: KEPT_NO_RECIPIENT });
  });
});
