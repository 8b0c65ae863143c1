import { type Observable, Subject } from 'rxjs';
import type { DecisionRecord } from '../DecisionRecord.js';

/**
 * One entry of the decision history: a record, or a run of `same` ticks folded into one.
 *
 * Entries are never changed in place: folding another tick into the last entry replaces it with
 * a new object of the same `id`, a later `tick` and a higher `count` — a reader that keeps
 * entries by `id` just replaces its copy.
 */
export interface HistoryEntry {
  /** The entry's first tick; stays the same while ticks are folded into it. */
  id: number;
  /** Its latest tick (`id` unless `count` > 1). */
  tick: number;
  /** Ticks in this entry. */
  count: number;
  /** Clock seconds of its first tick. */
  firstTime?: number;
  /** The latest record of the entry. */
  decision: DecisionRecord;
}

/**
 * A tick that changed nothing: same recommendation, nothing done. Runs of these fold while the
 * situation they hold in stays the same (mode, blindness, a capacity hold).
 */
function quiet(r: DecisionRecord): boolean {
  return r.recommendation.status === 'same' && (r.outcome?.status ?? 'none') === 'none';
}

function sameSituation(a: DecisionRecord, b: DecisionRecord): boolean {
  return a.mode === b.mode && Boolean(a.blind) === Boolean(b.blind) && Boolean(a.explanation.capacity) === Boolean(b.explanation.capacity);
}

/**
 * The last decisions of a running autoscaler, bounded (`adaptive.historyLength` entries), with
 * runs of quiet `same` ticks folded into one entry with a count — so a day of idling is one
 * entry, not 86,400, while every decision that did something keeps an entry of its own.
 *
 * @example
 * ```ts
 * const history = new DecisionHistory(1000);
 * auto.decisions$.subscribe((r) => history.push(r));
 * history.since(40); // entries whose latest tick is after 40
 * ```
 */
export class DecisionHistory {
  private readonly list: HistoryEntry[] = [];
  private readonly changes = new Subject<HistoryEntry>();
  private lastTick = 0;
  /** Each new or replaced entry, as it is pushed (hot; completes on `complete()`). */
  readonly entries$: Observable<HistoryEntry> = this.changes.asObservable();

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`history capacity must be a whole number >= 1, got ${capacity}`);
  }

  /**
   * Adds a record: folded into the last entry when both are quiet `same` ticks in the same
   * situation, else a new entry (the oldest one goes past `capacity`). A record without a tick
   * (the shutdown record) is numbered after the last one.
   */
  push(record: DecisionRecord): HistoryEntry {
    const tick = record.tick ?? this.lastTick + 1;
    this.lastTick = Math.max(this.lastTick, tick);
    const last = this.list.at(-1);
    let entry: HistoryEntry;
    if (last && quiet(record) && quiet(last.decision) && sameSituation(record, last.decision)) {
      entry = { ...last, tick, count: last.count + 1, decision: record };
      this.list[this.list.length - 1] = entry;
    } else {
      entry = { id: tick, tick, count: 1, ...(record.time !== undefined ? { firstTime: record.time } : {}), decision: record };
      this.list.push(entry);
      if (this.list.length > this.capacity) this.list.shift();
    }
    this.changes.next(entry);
    return entry;
  }

  /** Entries whose latest tick is after `tick` (every entry for 0), oldest first. */
  since(tick = 0): HistoryEntry[] {
    // The list is ordered by tick, so only its tail can match.
    let i = this.list.length;
    while (i > 0 && this.list[i - 1]!.tick > tick) i--;
    return this.list.slice(i);
  }

  /** The entry holding `tick` (its first tick up to its latest), if still kept. */
  find(tick: number): HistoryEntry | undefined {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const e = this.list[i]!;
      if (e.id <= tick && tick <= e.tick) return e;
      if (e.tick < tick) return undefined;
    }
    return undefined;
  }

  /** The newest entry. */
  last(): HistoryEntry | undefined {
    return this.list.at(-1);
  }

  /** Entries kept now. */
  get size(): number {
    return this.list.length;
  }

  /** Ends `entries$` (after the shutdown record). */
  complete(): void {
    this.changes.complete();
  }
}
