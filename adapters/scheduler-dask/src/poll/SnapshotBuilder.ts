import type { SchedulerSnapshot, TaskPrefixInfo } from '@ebbtide/core';
import { prefixOfId } from '../wire/daskKey.js';
import { PrefixDurations } from './PrefixDurations.js';
import { ProcessingAges } from './ProcessingAges.js';
import { PollState, type RawPoll } from './readPoll.js';
import type { TaskStreamCursor } from './TaskStreamCursor.js';
import { workerInfos } from './workerInfos.js';

/**
 * Turns successive polls into snapshots, keeping what must be learned across polls: when each
 * task was first seen processing, what the polls read last (`PollState`: the task-stream
 * position, the last workers read, when to read them again) and the per-prefix durations.
 * No I/O: `readPoll(comm, builder.state, now)` reads, this builds.
 */
export class SnapshotBuilder {
  private readonly ages = new ProcessingAges();
  /** What `readPoll` keeps between polls. */
  readonly state = new PollState();
  readonly durations: PrefixDurations;

  /** Position in the scheduler's task stream; `readPoll` advances it. */
  get cursor(): TaskStreamCursor {
    return this.state.cursor;
  }

  constructor(defaultTaskDurations: Readonly<Record<string, number>> = {}) {
    this.durations = new PrefixDurations(defaultTaskDurations);
  }

  /**
   * The snapshot for one poll.
   * @param now seconds on the adapter's (RxJS) clock; also the snapshot's `time`
   */
  build(raw: Pick<RawPoll, 'workers' | 'processing' | 'pending' | 'stream' | 'resources'>, now: number): SchedulerSnapshot {
    const processingIds: string[] = [];
    for (const ids of raw.processing.values()) processingIds.push(...ids);
    this.ages.observe(now, processingIds);

    const { workers, executing } = workerInfos(raw.workers, raw.processing, (id) => this.ages.since(id), now);
    // Completions first, then running tasks, as Dask applies a finished task before the next heartbeat.
    this.durations.observeCompletions(raw.stream);
    for (const e of executing) this.durations.observeExecuting(e.prefix, e.elapsed);

    const names = new Set<string>(this.durations.prefixes());
    for (const id of processingIds) names.add(prefixOfId(id));
    for (const p of raw.pending.keys()) names.add(p);
    const prefixes: Record<string, TaskPrefixInfo> = {};
    for (const name of names) {
      const pending = raw.pending.get(name);
      prefixes[name] = { ...this.durations.get(name), queued: pending?.queued ?? 0, unrunnable: pending?.unrunnable ?? 0 };
    }
    return raw.resources ? { time: now, workers, prefixes, resources: raw.resources } : { time: now, workers, prefixes };
  }
}
