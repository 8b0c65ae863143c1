/**
 * Entry point of one task thread. Runs one job at a time, so a CPU-bound task blocks only its
 * thread and never the worker's main thread (heartbeats, data requests).
 */
import { parentPort } from 'node:worker_threads';
import { loadTaskFunction } from './loadTaskFunction.js';
import type { ThreadJob, ThreadOutcome } from './threadMessages.js';

function errorOf(e: unknown): ThreadOutcome & { ok: false } {
  const error = e instanceof Error ? { kind: 'task' as const, message: e.message, name: e.name, ...(e.stack ? { stack: e.stack } : {}) } : { kind: 'task' as const, message: String(e) };
  return { id: -1, ok: false, error };
}

async function run(job: ThreadJob): Promise<ThreadOutcome> {
  try {
    const fn = await loadTaskFunction(job.fn);
    const value = await fn(...job.args);
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (e) {
      throw new Error(`the result of ${job.fn} is not JSON-serialisable: ${e instanceof Error ? e.message : String(e)}`);
    }
    // undefined, functions and symbols have no JSON: they are stored as null.
    return { id: job.id, ok: true, json: json ?? 'null' };
  } catch (e) {
    return { ...errorOf(e), id: job.id };
  }
}

parentPort!.on('message', (job: ThreadJob) => {
  void run(job).then((outcome) => parentPort!.postMessage(outcome));
});
