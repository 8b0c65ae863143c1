import { keyId } from '../wire/daskKey.js';
import type { TaskStreamEntry } from './parseReplies.js';

/** The smallest tail read while tasks complete: each poll re-reads about this many entries. */
const MIN_COUNT = 8;
/** The read after a poll with no new completion: the newest entry alone tells whether anything followed. */
const IDLE_COUNT = 1;
/** The smallest re-read after the anchor fell out of the tail. */
const MIN_RETRY = 32;
/** The largest read. Beyond it older completions are given up (the EWMA is dominated by recent ones anyway). */
const MAX_COUNT = 10_000;
/** Read before anything is known: recent history from the scheduler's buffer. */
const FIRST_COUNT = 1000;

/** What to do with one `get_task_stream` reply. */
export type StreamStep = { fresh: TaskStreamEntry[] } | { retryCount: number };

/**
 * Reads Dask's task stream incrementally by tail reads: `get_task_stream(count=N)` returns the
 * last N completions in the order the scheduler recorded them. The newest entry read so far is
 * the anchor; in the next reply, what follows the anchor is new. If the anchor is missing, more
 * completions happened than were asked for, so the read is repeated with a larger count
 * (×4, at least 32, up to 10,000); if even that misses it — or the reply is the whole buffer, as after a
 * scheduler restart — every entry is taken as new.
 *
 * This relies only on the buffer's order, not on clocks: stop times come from the workers and
 * are not strictly ordered. The count adapts to the completion rate (twice the last number of
 * new entries, at least 8), and after a poll with nothing new it reads the newest entry alone,
so a quiet cluster costs one entry per poll.
 *
 * The scheduler's `TaskStreamPlugin` exists only once something asks for the stream: the first
 * call enables it (and returns nothing), so durations are learned from then on.
 */
export class TaskStreamCursor {
  private anchor?: string;
  private count = FIRST_COUNT;

  /** Keyword arguments for the next read. */
  args(): { count: number } {
    return { count: this.count };
  }

  /**
   * Takes a reply to a read of `requested` entries: the new entries (in order), or the larger
   * count to read again with.
   */
  accept(entries: readonly TaskStreamEntry[], requested: number): StreamStep {
    let fresh: TaskStreamEntry[];
    if (this.anchor === undefined) {
      fresh = [...entries];
    } else {
      let at = -1;
      for (let i = entries.length - 1; i >= 0; i--) {
        if (entryId(entries[i]!) === this.anchor) {
          at = i;
          break;
        }
      }
      if (at >= 0) fresh = entries.slice(at + 1);
      else if (entries.length < requested || requested >= MAX_COUNT) fresh = [...entries];
      else return { retryCount: Math.min(MAX_COUNT, Math.max(MIN_RETRY, requested * 4)) };
    }
    if (entries.length > 0) this.anchor = entryId(entries[entries.length - 1]!);
    if (this.anchor !== undefined) this.count = fresh.length === 0 ? IDLE_COUNT : Math.min(MAX_COUNT, Math.max(MIN_COUNT, 2 * fresh.length));
    return { fresh };
  }
}

function entryId(e: TaskStreamEntry): string {
  let stop = -Infinity;
  for (const s of e.startstops) if (s.stop > stop) stop = s.stop;
  return `${keyId(e.key)}|${e.worker}|${stop}`;
}
