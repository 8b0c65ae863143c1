import { EbbtideError, type SchedulerEvent, keySplit } from '@ebbtide/core';
import type { Trace, TraceTask } from './Trace.js';

interface Seen {
  order: number;
  submit: number;
  prefix: string;
  start?: number;
  worker?: string;
  memoryAt?: number;
  duration?: number;
  releasedAt?: number;
  nbytes: number;
  erred?: number;
}

/** Seconds within which a worker's nbytes update counts as part of the same completion. */
const SAME_MOMENT = 0.05;

function invalid(line: number, what: string): EbbtideError {
  return new EbbtideError('INPUT_INVALID', `recording line ${line}: ${what}`, {
    hint: 'a recording is JSON lines: {"type":"header","version":1,...}, then {"t": seconds, "event": {...}} or {"t": seconds, "decision": {...}}',
  });
}

/**
 * Turns a recording (the JSON lines `ebbtide` records: a header, then `{t, event}` and
 * `{t, decision}` lines) into a trace of the tasks it saw, from their `task.transition` events.
 *
 * - Times are shifted so the first recorded line is at t = 0.
 * - submit = the first time a key is seen; prefix = the event's `prefix`, else `keySplit(key)`.
 * - duration = the `memory` transition's `duration`, else memory time − processing start.
 * - holdFor = released time − memory time; a result still held when the recording ends is held
 *   until its end.
 * - nbytes, best effort: the growth of the computing worker's `nbytes` in the `worker.updated`
 *   event that follows the `memory` transition within 50 ms (the embedded scheduler reports it
 *   right after); 0 when no such event follows.
 * - A task that erred keeps its run time as duration and no result; a task that never finished
 *   is left out.
 *
 * @param input the recording text, or its lines.
 * @throws EbbtideError `INPUT_INVALID` for a missing header, a bad line or an unknown version.
 */
export function traceFromRecording(input: string | Iterable<string>, name?: string): Trace {
  const lines = typeof input === 'string' ? input.split('\n') : input;
  const seen = new Map<string, Seen>();
  const workerBytes = new Map<string, number>();
  /** Worker -> the key whose result it just stored, waiting for its nbytes update. */
  const pendingBytes = new Map<string, { key: string; t: number }>();
  let header: Record<string, unknown> | undefined;
  let lineNo = 0;
  let t0: number | undefined;
  let end = 0;
  for (const raw of lines) {
    lineNo++;
    const text = raw.trim();
    if (text === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw invalid(lineNo, `not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(lineNo, 'expected a JSON object');
    const rec = value as Record<string, unknown>;
    if (!header) {
      if (rec.type !== 'header') throw invalid(lineNo, `expected the header {"type":"header","version":1,...} first, got ${text.slice(0, 80)}`);
      if (rec.version !== 1) throw invalid(lineNo, `unsupported recording version ${JSON.stringify(rec.version)}; expected 1`);
      header = rec;
      continue;
    }
    if (typeof rec.t !== 'number' || !Number.isFinite(rec.t)) throw invalid(lineNo, `expected a number t, got ${JSON.stringify(rec.t)}`);
    t0 ??= rec.t;
    const t = rec.t - t0;
    end = Math.max(end, t);
    if (rec.event === undefined) continue;
    const event = rec.event as SchedulerEvent;
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string') throw invalid(lineNo, 'expected an event object with a type');
    switch (event.type) {
      case 'worker.added':
        workerBytes.set(event.worker.name, event.worker.nbytes ?? 0);
        break;
      case 'worker.updated': {
        if (event.nbytes === undefined) break;
        const pending = pendingBytes.get(event.name);
        if (pending && t - pending.t <= SAME_MOMENT) {
          const task = seen.get(pending.key);
          if (task) task.nbytes = Math.max(0, event.nbytes - (workerBytes.get(event.name) ?? 0));
        }
        pendingBytes.delete(event.name);
        workerBytes.set(event.name, event.nbytes);
        break;
      }
      case 'task.transition': {
        if (typeof event.key !== 'string') throw invalid(lineNo, 'task.transition without a key');
        let task = seen.get(event.key);
        if (!task) {
          task = { order: seen.size, submit: t, prefix: event.prefix ?? keySplit(event.key), nbytes: 0 };
          seen.set(event.key, task);
        }
        if (event.to === 'processing') {
          task.start = t;
          if (event.worker !== undefined) task.worker = event.worker;
        } else if (event.to === 'memory' && task.memoryAt === undefined) {
          task.memoryAt = t;
          task.duration = event.duration ?? t - (task.start ?? task.submit);
          if (task.worker !== undefined) pendingBytes.set(task.worker, { key: event.key, t });
        } else if (event.to === 'released' && task.memoryAt !== undefined && task.releasedAt === undefined) {
          task.releasedAt = t;
        } else if (event.to === 'erred' && task.erred === undefined) {
          task.erred = t - (task.start ?? task.submit);
        }
        break;
      }
      default:
        break;
    }
  }
  if (!header) throw invalid(lineNo, 'empty recording: expected a header line');

  const tasks: TraceTask[] = [];
  const ordered = [...seen.entries()].sort((a, b) => a[1].submit - b[1].submit || a[1].order - b[1].order);
  for (const [key, s] of ordered) {
    if (s.memoryAt !== undefined) {
      tasks.push({ t: s.submit, key, prefix: s.prefix, duration: Math.max(0, s.duration ?? 0), nbytes: s.nbytes, holdFor: (s.releasedAt ?? end) - s.memoryAt });
    } else if (s.erred !== undefined) {
      tasks.push({ t: s.submit, key, prefix: s.prefix, duration: Math.max(0, s.erred), nbytes: 0, holdFor: 0 });
    }
  }
  const headerName = typeof header.name === 'string' ? header.name : undefined;
  return { version: 1, name: name ?? headerName ?? 'recording', tasks };
}
