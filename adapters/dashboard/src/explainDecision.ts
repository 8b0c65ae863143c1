import { type DecisionRecord, type HistoryEntry, type ProposedWorker, decisionRule } from '@ebbtide/core';
import { formatBytes } from './clusterStatus.js';

function clock(time: number | undefined): string {
  return time === undefined ? '?' : new Date(time * 1000).toISOString().slice(11, 19);
}

function n(x: unknown, digits = 2): string {
  return typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toFixed(digits)) : String(x);
}

const plural = (k: number, one: string, many = `${one}s`) => `${k} ${k === 1 ? one : many}`;

/** The recommendation in a few words. */
export function headline(r: DecisionRecord): string {
  const rec = r.recommendation;
  const plan = r.inputs?.plan;
  if (r.outcome?.status === 'shutdown') return `shutdown (${r.outcome.reason ?? 'stopped'})`;
  if (rec.status === 'up') return `scale up${plan !== undefined ? ` from ${plan}` : ''} to ${rec.n} workers`;
  if (rec.status === 'down') return `scale down: close ${rec.workers.join(', ')}`;
  return `no change${plan !== undefined ? ` (${plural(plan, 'worker')} planned)` : ''}`;
}

/**
 * Why the target is what it is. The heuristic's own explanation is read where it has the shape
 * of the Dask heuristic's (cpu estimate, task cap, memory rule, closable workers); any other
 * heuristic's explanation is listed as it is.
 */
function whyTarget(r: DecisionRecord): string[] {
  const e = r.explanation;
  const out: string[] = [];
  const manual = e.manual as { n: number; heuristicTarget: number } | undefined;
  if (r.mode === 'manual' && manual) {
    out.push(`manual mode: scale(${manual.n}) holds the cluster at ${plural(manual.n, 'worker')}; the heuristic alone would want ${manual.heuristicTarget} (POST /api/adapt returns to adaptive scaling)`);
    return out;
  }
  const rule = String(e.rule ?? '');
  out.push(`the heuristic wants ${plural(r.target, 'worker')}${rule ? ` — rule: ${rule}` : ''}`);
  const memory = e.memory as { used?: number; limit?: number; doubles?: boolean; workers?: number } | undefined;
  const threads = e.threads as { total?: number; workers?: number; wanted?: number } | undefined;
  if (rule.startsWith('scale-down') && Array.isArray(e.closable)) {
    const closable = e.closable as string[];
    out.push(
      `scale-down via closable workers: ${plural(closable.length, 'worker is', 'workers are')} closable (idle, and their results fit on the others: ${closable.slice(0, 10).join(', ')}${closable.length > 10 ? ', …' : ''}); the others are busy or needed for memory`,
    );
  } else if (memory?.doubles) {
    out.push(`memory rule: the workers hold ${formatBytes(memory.used ?? 0)} of ${formatBytes(memory.limit ?? 0)} (more than 60 %), so the cluster doubles to ${memory.workers}`);
  } else if (e.cappedByTaskCount === true) {
    out.push(`task cap: the work estimate asks for ${n(e.cpuWanted)} threads, but there are only ${plural(Number(e.tasks), 'task')}`);
  } else if (typeof e.cpuWanted === 'number') {
    out.push(
      `cpu estimate: ${n(e.occupancy)} s of work on workers + ${n(e.queuedOccupancy)} s waiting (${plural(Number(e.tasksReady ?? 0), 'task')}) → ${plural(e.cpuWanted, 'thread')}` +
        (threads?.total ? ` → ${plural(Number(e.cpu), 'worker')} at ${n(threads.total / Math.max(1, threads.workers ?? 1))} threads each` : ''),
    );
  } else {
    const rest = Object.entries(e).filter(([k, v]) => !['rule', 'bounds', 'blind', 'capacity', 'manual'].includes(k) && (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean'));
    if (rest.length) out.push(`heuristic details: ${rest.map(([k, v]) => `${k}=${n(v)}`).join(', ')}`);
  }
  const bounds = e.bounds as { minimum?: number; maximum?: number; cappedBy?: string } | undefined;
  if (bounds) {
    const range = `[${bounds.minimum ?? 0}, ${bounds.maximum === Infinity || bounds.maximum === undefined ? 'inf' : bounds.maximum}]`;
    if (bounds.cappedBy === 'minimum') out.push(`bounds ${range}: raised to the minimum, ${r.safeTarget}`);
    else if (bounds.cappedBy === 'maximum') out.push(`bounds ${range}: capped by the maximum, ${r.safeTarget}`);
    else if (bounds.cappedBy === 'capacity') {
      const c = e.capacity as { until?: number; reason?: string; failures?: number } | undefined;
      out.push(`capacity-limited: capped at the ${r.safeTarget} that exist until ${clock(c?.until)} after ${plural(c?.failures ?? 1, 'failed start')}: ${c?.reason ?? ''}`);
    } else out.push(`bounds ${range}: within them, ${r.safeTarget}`);
  }
  if (r.blind) out.push(`blind: the scheduler cannot be read since ${clock(r.blind.since)}; nothing is scaled until it is back${typeof e.blind === 'string' ? ` (${e.blind})` : ''}`);
  return out;
}

function describeProposed(p: ProposedWorker, waitCount: number | undefined): string {
  const when = p.firm ? `closed now (proposed ${plural(p.count, 'tick')} in a row${waitCount ? `, waitCount ${waitCount}` : ''})` : `proposed ${p.count} of ${waitCount ?? '?'} ticks in a row, not yet closed`;
  if (!p.connected) return `${p.name}: never connected to the scheduler — cancelled first; ${when}`;
  const what = [
    p.idle ? 'idle' : `busy with ${plural(p.tasks ?? 0, 'task')} (they move to other workers)`,
    p.nbytes ? `holds ${formatBytes(p.nbytes)} of results (copied to other workers before it goes)` : 'holds no results',
    ...(p.group && p.group !== p.name && p.group !== `worker:${p.name}` ? [`group ${p.group} (closes together)`] : []),
  ];
  return `${p.name}: ${what.join(', ')}; ${when}`;
}

function whatWasDone(r: DecisionRecord): string[] {
  const o = r.outcome;
  if (!o) return [];
  const out: string[] = [];
  switch (o.status) {
    case 'none':
      out.push('nothing to do');
      break;
    case 'failed':
      out.push(`FAILED${o.error?.code ? ` [${o.error.code}]` : ''}: ${o.error?.message ?? 'unknown error'}${o.error?.retryable !== undefined ? ` (retryable: ${o.error.retryable})` : ''}; the loop goes on and tries again on a later tick`);
      break;
    case 'shutdown':
      out.push(`shutdown: ${o.reason ?? ''}`);
      if (o.left?.length) out.push(`left running for the next ebbtide: ${o.left.join(', ')}`);
      if (o.lost?.count) out.push(`results lost: ${o.lost.count} (${o.lost.keys.join(', ')})`);
      break;
    default:
      break;
  }
  if (o.started?.length) out.push(`started ${o.started.join(', ')}`);
  if (o.retired?.length) out.push(`retired ${o.retired.join(', ')} through the scheduler (results moved first), then stopped`);
  if (o.cancelled?.length) out.push(`cancelled ${o.cancelled.join(', ')} (never connected)`);
  if (o.stopped?.length && !o.retired?.length && !o.cancelled?.length) out.push(`stopped ${o.stopped.join(', ')}`);
  for (const k of o.kept ?? []) out.push(`${k.name} ${k.reason}; it keeps running and is proposed again on later ticks`);
  if (o.status === 'skipped') out.push('nothing could be closed this tick');
  return out;
}

function inputsLine(r: DecisionRecord): string | undefined {
  const i = r.inputs;
  if (!i) return undefined;
  const s = i.workersByStatus;
  const parts = [
    `${plural(i.workers, 'worker')} connected${s && (s.paused || s.closing) ? ` (${s.running} running, ${s.paused} paused, ${s.closing} closing)` : ''}`,
    ...(i.threads !== undefined ? [`${plural(i.threads, 'thread')}, occupancy ${n(i.occupancy ?? 0)} tasks per thread`] : []),
    ...(i.memory ? [`memory ${formatBytes(i.memory.used)} used of ${i.memory.limit ? formatBytes(i.memory.limit) : 'no limit'}`] : []),
    `tasks ${i.tasksQueued} queued, ${i.tasksProcessing} processing, ${i.tasksUnrunnable} unrunnable`,
    `plan ${i.plan}, requested ${i.requested}`,
  ];
  return parts.join('; ');
}

/**
 * A decision in words, for `ebbtide explain` and the page: what was decided, why this target,
 * why these workers, what was done. One line per reason.
 *
 * @example
 * ```ts
 * for (const line of explainDecision(auto.history.last()!)) console.log(line);
 * ```
 */
export function explainDecision(entry: HistoryEntry | DecisionRecord): string[] {
  const e: HistoryEntry = 'decision' in entry ? entry : { id: entry.tick ?? 0, tick: entry.tick ?? 0, count: 1, decision: entry };
  const r = e.decision;
  const lines: string[] = [];
  const mode = r.mode ? ` [${r.mode}]` : '';
  lines.push(`tick ${e.tick} at ${clock(r.time)}${mode}: ${headline(r)}${decisionRule(r) ? ` — ${decisionRule(r)}` : ''}`);
  if (e.count > 1) lines.push(`(the last of ${e.count} ticks in a row with no change, since tick ${e.id} at ${clock(e.firstTime)})`);
  const inputs = inputsLine(r);
  if (inputs) lines.push(`seen: ${inputs}`);
  if (r.outcome?.status !== 'shutdown') for (const w of whyTarget(r)) lines.push(`why this target: ${w}`);
  for (const p of r.proposed ?? []) lines.push(`why this worker: ${describeProposed(p, r.waitCount)}`);
  for (const g of r.guards ?? []) lines.push(`guard ${g.guard}: ${g.effect}`);
  for (const a of r.allocation ?? []) lines.push(`pool ${a.pool}: wanted ${a.wanted}, allowed ${a.allowed}${a.reason ? ` (${a.reason})` : ''}`);
  for (const d of whatWasDone(r)) lines.push(`done: ${d}`);
  if (r.duration !== undefined) lines.push(`the tick took ${Math.round(r.duration * 1000)} ms`);
  return lines;
}
