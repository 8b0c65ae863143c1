import { type SchedulerAction, type SchedulerLike, Subscription } from 'rxjs';
import { EventQueue } from './EventQueue.js';

type Work<T> = (this: SchedulerAction<T>, state?: T) => void;

interface Pending {
  action: ClockAction<unknown>;
  gen: number;
}

/**
 * One scheduled piece of work. Rescheduling (what `interval` does after each emission) reuses
 * the same action, so a periodic timer stays one object however long it runs.
 */
class ClockAction<T> extends Subscription implements SchedulerAction<T> {
  /** Bumped on every (re)schedule and on unsubscribe: older queue entries become stale. */
  gen = 0;
  private state?: T;

  constructor(
    private readonly clock: VirtualClock,
    private readonly work: Work<T>,
  ) {
    super();
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.state = state;
    this.gen++;
    if (Number.isFinite(delay)) this.clock.enqueue(this as ClockAction<unknown>, Math.max(0, delay));
    return this;
  }

  run(): void {
    try {
      this.work.call(this, this.state);
    } catch (e) {
      this.unsubscribe();
      throw e;
    }
  }

  override unsubscribe(): void {
    this.gen++;
    super.unsubscribe();
  }
}

/**
 * A virtual-time RxJS scheduler (`now()` in virtual milliseconds from 0) for long simulations.
 *
 * Why not RxJS's `VirtualTimeScheduler`: each reschedule of a periodic action there creates a new
 * action added as a child of the previous one, so a day of one-second `interval` ticks builds an
 * 86,400-deep chain (memory that grows all day, and a stack overflow when it is unsubscribed),
 * and every schedule sorts the whole action list. Here pending actions sit in a binary heap
 * ordered by time, then by scheduling order (so same-time actions run first-scheduled first, as
 * in RxJS), and a rescheduled action is the same object.
 *
 * Drive it like `VirtualTimeScheduler`: `runUntil(clock.nextTime!)` runs what is due at the
 * earliest time, then let promises settle, and repeat.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * interval(1000, clock).subscribe((n) => console.log(clock.now(), n));
 * clock.runUntil(3000); // logs 1000 0, 2000 1, 3000 2
 * ```
 */
export class VirtualClock implements SchedulerLike {
  private time = 0;
  private readonly queue = new EventQueue<Pending>();

  now(): number {
    return this.time;
  }

  schedule<T>(work: Work<T>, delay = 0, state?: T): Subscription {
    return new ClockAction<T>(this, work).schedule(state, delay);
  }

  /** @internal Called by actions when they are (re)scheduled. */
  enqueue(action: ClockAction<unknown>, delay: number): void {
    this.queue.push(this.time + delay, { action, gen: action.gen });
  }

  /** Virtual time of the earliest pending action, or undefined when nothing is pending. */
  get nextTime(): number | undefined {
    this.dropStale();
    return this.queue.peekTime();
  }

  /**
   * Runs, in order, every action due at or before `until` (including actions they schedule in
   * that window), moving the clock to each one's time; then the clock reads `until` if that is
   * later. An action that throws is unsubscribed and the error is rethrown.
   *
   * @returns how many actions ran.
   */
  runUntil(until: number): number {
    let ran = 0;
    for (;;) {
      this.dropStale();
      const at = this.queue.peekTime();
      if (at === undefined || at > until) break;
      const { action } = this.queue.popDue(at)!;
      this.time = Math.max(this.time, at);
      ran++;
      action.run();
    }
    if (until > this.time && Number.isFinite(until)) this.time = until;
    return ran;
  }

  private dropStale(): void {
    for (let p = this.queue.peek(); p && (p.action.closed || p.gen !== p.action.gen); p = this.queue.peek()) {
      this.queue.popDue(Infinity);
    }
  }
}
