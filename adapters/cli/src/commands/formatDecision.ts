import { type DecisionRecord, decisionRule } from '@ebbtide/core';

function clock(time: number | undefined): string {
  return new Date((time ?? 0) * 1000).toISOString().slice(11, 19);
}

/** One line for a non-same decision: time, target, workers, what happened and why. */
export function formatDecision(r: DecisionRecord): string {
  const rec = r.recommendation;
  const plan = r.inputs?.plan ?? 0;
  const why = decisionRule(r);
  const out = r.outcome;
  let action: string;
  if (rec.status === 'up') action = `up ${plan} -> ${rec.n}${out?.started?.length ? ` started ${out.started.join(',')}` : ''}`;
  else if (rec.status === 'down') action = `down ${rec.workers.join(',')}${out?.stopped?.length ? ` stopped ${out.stopped.join(',')}` : ''}`;
  else action = 'same';
  const kept = out?.kept?.length ? ` ${out.kept.map((k) => `${k.name} ${k.reason}`).join('; ')}` : '';
  const failed = out?.status === 'failed' ? ` FAILED: ${out.error?.message}` : '';
  const capped = (r.explanation.bounds as { cappedBy?: string } | undefined)?.cappedBy;
  return `${clock(r.time)} target=${r.target}${capped ? ` (capped to ${r.safeTarget} by ${capped})` : ''} workers=${r.inputs?.workers ?? '?'} ${action}${kept}${failed}${why ? ` (${why})` : ''}`;
}

/**
 * The compact status line `up` prints: what the scheduler shows, what ebbtide plans and why it
 * is holding, if it is. While the scheduler cannot be read it says `blind since HH:MM:SS`, so
 * stale numbers are never shown as current.
 */
export function formatStatus(r: DecisionRecord): string {
  return `${clock(r.time)} status ${statusBody(r)}`;
}

/** The status line without its time: two equal bodies mean nothing changed. */
export function statusBody(r: DecisionRecord): string {
  const i = r.inputs;
  const capacity = r.explanation.capacity as { until?: number; reason?: string } | undefined;
  const holds = [
    ...(r.blind ? [`blind since ${clock(r.blind.since)} (scheduler unreachable; numbers are from before)`] : []),
    ...(capacity ? [`capacity-limited until ${clock(capacity.until)}: ${capacity.reason ?? ''}`] : []),
  ];
  return (
    `workers=${i?.workers ?? 0} plan=${i?.plan ?? 0} requested=${i?.requested ?? 0} queued=${i?.tasksQueued ?? 0} unrunnable=${i?.tasksUnrunnable ?? 0} processing=${i?.tasksProcessing ?? 0} target=${r.target}` +
    (r.mode === 'manual' ? ' mode=manual' : '') +
    (holds.length ? ` ${holds.join('; ')}` : '')
  );
}
