import { expect } from 'chai';
import { seeded } from '@ebbtide/core/testing';
import { EventQueue } from '../src/sim/EventQueue.js';

describe('EventQueue', () => {
  it('pops what is due in time order, ties in insertion order, over a long random mix of pushes and pops', () => {
    for (const seed of [1, 2, 3]) {
      const rand = seeded(seed);
      const q = new EventQueue<number>();
      // The reference: every pending event, kept sorted by (time, insertion).
      const pending: Array<{ at: number; id: number }> = [];
      let id = 0;
      let now = 0;
      for (let step = 0; step < 5000; step++) {
        if (rand() < 0.55) {
          // Few distinct times, so ties are common.
          const at = now + Math.floor(rand() * 20);
          q.push(at, id);
          pending.push({ at, id: id++ });
          pending.sort((a, b) => a.at - b.at || a.id - b.id);
        } else {
          now += Math.floor(rand() * 3);
          const due: number[] = [];
          for (let e = q.popDue(now); e !== undefined; e = q.popDue(now)) due.push(e);
          const expected = pending.filter((p) => p.at <= now).map((p) => p.id);
          pending.splice(0, expected.length);
          expect(due, `seed ${seed}, step ${step}`).to.deep.equal(expected);
        }
        expect(q.size).to.equal(pending.length);
        expect(q.peekTime()).to.equal(pending[0]?.at);
        expect(q.peek()).to.equal(pending[0]?.id);
      }
    }
  });
});
