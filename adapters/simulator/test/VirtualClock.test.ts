import { expect } from 'chai';
import { interval, timer } from 'rxjs';
import { VirtualClock } from '../src/sim/VirtualClock.js';

describe('VirtualClock', () => {
  it('runs interval ticks at their virtual times and reads the time it was run to', () => {
    const clock = new VirtualClock();
    const seen: Array<[number, number]> = [];
    interval(1000, clock).subscribe((n) => seen.push([clock.now(), n]));
    clock.runUntil(3500);
    expect(seen).to.deep.equal([
      [1000, 0],
      [2000, 1],
      [3000, 2],
    ]);
    expect(clock.now()).to.equal(3500);
    expect(clock.nextTime).to.equal(4000);
  });

  it('runs earlier times first, and same-time actions in the order they were scheduled', () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    timer(20, clock).subscribe(() => order.push('b@20'));
    timer(10, clock).subscribe(() => order.push('a@10'));
    timer(20, clock).subscribe(() => order.push('c@20'));
    timer(10, clock).subscribe(() => {
      order.push('d@10');
      // Scheduled while running at 10 for 20: after the two scheduled earlier for 20.
      timer(10, clock).subscribe(() => order.push('e@20'));
    });
    clock.runUntil(20);
    expect(order).to.deep.equal(['a@10', 'd@10', 'b@20', 'c@20', 'e@20']);
  });

  it('never runs an unsubscribed action', () => {
    const clock = new VirtualClock();
    let ran = false;
    const sub = timer(5, clock).subscribe(() => (ran = true));
    sub.unsubscribe();
    expect(clock.nextTime).to.equal(undefined);
    clock.runUntil(100);
    expect(ran).to.equal(false);
  });

  it('keeps a periodic action one object: a day of one-second ticks, then unsubscribing, is fine', () => {
    const clock = new VirtualClock();
    let ticks = 0;
    const sub = interval(1000, clock).subscribe(() => ticks++);
    for (let t = 1000; t <= 86_400_000; t += 1000) clock.runUntil(t);
    expect(ticks).to.equal(86_400);
    // RxJS's VirtualTimeScheduler chains one action per reschedule: this would overflow the stack.
    expect(() => sub.unsubscribe()).not.to.throw();
    expect(clock.nextTime).to.equal(undefined);
  });

  it('rethrows an error from an action and goes on with the others', () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    clock.schedule(() => {
      throw new Error('boom');
    }, 10);
    timer(20, clock).subscribe(() => seen.push(clock.now()));
    expect(() => clock.runUntil(100)).to.throw('boom');
    clock.runUntil(100);
    expect(seen).to.deep.equal([20]);
  });
});
