import type { V1Pod } from '@kubernetes/client-node';

export type PodView =
  | { phase: 'pending'; reason: string; unschedulable: boolean }
  | { phase: 'running' }
  | { phase: 'terminating' }
  | { phase: 'succeeded'; exitCode: number | null; reason: string }
  | { phase: 'failed'; exitCode: number | null; reason: string };

/**
 * What a pod says about its worker (backends.md §2.3): Pending with its reason (Unschedulable
 * with the scheduler's message, an image pull error, ContainerCreating), Running, terminating
 * (deletionTimestamp), or terminal with the worker container's exit code and why: OOMKilled,
 * Evicted, preempted (DisruptionTarget), an error exit.
 */
export function viewPod(pod: V1Pod, container: string): PodView {
  const st = pod.status ?? {};
  const phase = st.phase ?? 'Pending';
  if (phase === 'Succeeded' || phase === 'Failed') {
    const cs = st.containerStatuses?.find((c) => c.name === container) ?? st.containerStatuses?.[0];
    const term = cs?.state?.terminated ?? cs?.lastState?.terminated;
    const exitCode = term?.exitCode ?? null;
    const disruption = st.conditions?.find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
    const parts: string[] = [];
    if (term?.reason === 'OOMKilled') parts.push(`OOMKilled (exit code ${exitCode})`);
    if (st.reason) parts.push(`${st.reason}${st.message ? `: ${st.message}` : ''}`);
    else if (disruption) parts.push(`${disruption.reason === 'PreemptionByScheduler' ? 'preempted' : 'disrupted'} (${disruption.reason})${disruption.message ? `: ${disruption.message}` : ''}`);
    if (!parts.length && exitCode !== null) parts.push(`${term?.reason ?? 'exited'} with exit code ${exitCode}${term?.message ? `: ${term.message}` : ''}`);
    const reason = parts.join('; ') || `pod ${phase}`;
    return phase === 'Succeeded' ? { phase: 'succeeded', exitCode, reason } : { phase: 'failed', exitCode, reason };
  }
  if (pod.metadata?.deletionTimestamp) return { phase: 'terminating' };
  if (phase === 'Running') return { phase: 'running' };
  const scheduled = st.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    return { phase: 'pending', reason: `${scheduled.reason ?? 'Unschedulable'}: ${scheduled.message ?? 'not scheduled'}`, unschedulable: true };
  }
  const waiting = st.containerStatuses?.map((c) => c.state?.waiting).find((w) => w?.reason);
  if (waiting) return { phase: 'pending', reason: `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`, unschedulable: false };
  return { phase: 'pending', reason: pod.spec?.nodeName ? 'starting' : 'waiting to be scheduled', unschedulable: false };
}
