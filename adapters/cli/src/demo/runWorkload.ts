import type { DemoWorkload, DemoTask } from './workload.js';

/** What the demo needs of a scheduler client. */
export interface TaskClient {
  submit(fn: string, args: unknown[], opts?: { key?: string; prefix?: string }): Promise<string> | string;
  gather(keys: string[]): Promise<unknown[]>;
  release(keys: string[]): Promise<void> | void;
}

export interface WorkloadStats {
  tasksSubmitted: number;
  tasksCompleted: number;
  /** Results fetched and compared with the expected value. */
  resultsChecked: number;
  /** Results that could not be fetched, or came back wrong. */
  resultsLost: number;
  errors: string[];
}

export interface WorkloadHooks {
  /** Seconds since the demo started. */
  now(): number;
  /** Resolves at `t` seconds since the start (at once if already past). */
  sleepUntil(t: number): Promise<void>;
  onPhase?(phase: string): void;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Submits each burst at its time, fetches and checks the results not kept (then releases
 * them), and fetches, checks and releases the kept ones at `fetchKeptAt`.
 */
export async function runWorkload(w: DemoWorkload, client: TaskClient, taskModule: string, hooks: WorkloadHooks): Promise<WorkloadStats> {
  const stats: WorkloadStats = { tasksSubmitted: 0, tasksCompleted: 0, resultsChecked: 0, resultsLost: 0, errors: [] };
  const kept: Array<{ key: string; task: DemoTask }> = [];

  const check = async (batch: Array<{ key: string; task: DemoTask }>) => {
    if (!batch.length) return;
    let values: unknown[] | undefined;
    try {
      values = await client.gather(batch.map((b) => b.key));
    } catch {
      values = undefined;
    }
    for (let i = 0; i < batch.length; i++) {
      const { key, task } = batch[i]!;
      let value: unknown;
      let ok = false;
      try {
        value = values ? values[i] : (await client.gather([key]))[0];
        ok = true;
      } catch (e) {
        stats.errors.push(`${key}: ${e instanceof Error ? e.message : String(e)}`);
      }
      stats.resultsChecked++;
      if (ok) stats.tasksCompleted++;
      if (!ok || !same(value, task.expected)) {
        stats.resultsLost++;
        if (ok) stats.errors.push(`${key}: wrong result ${JSON.stringify(value).slice(0, 80)}`);
      }
    }
    await client.release(batch.map((b) => b.key));
  };

  for (const [b, burst] of w.bursts.entries()) {
    await hooks.sleepUntil(burst.at);
    hooks.onPhase?.(`burst ${b + 1}: ${burst.tasks.length} tasks`);
    const batch: Array<{ key: string; task: DemoTask }> = [];
    for (const task of burst.tasks) {
      const key = await client.submit(`${taskModule}#${task.fn}`, task.args, { key: `${task.fn}-${b}-${task.args[0]}`, prefix: task.fn });
      stats.tasksSubmitted++;
      (task.keep ? kept : batch).push({ key, task });
    }
    await check(batch);
  }
  await hooks.sleepUntil(w.fetchKeptAt);
  hooks.onPhase?.(`fetching ${kept.length} kept results`);
  await check(kept);
  hooks.onPhase?.('workload done: draining');
  return stats;
}
