/** YARN's `ContainerExitStatus` values (hadoop-yarn-api), with what they mean for a worker. */
const STATUSES: Record<number, { label: string; text: string; capacity?: boolean }> = {
  [-100]: { label: 'ABORTED', text: 'container released by YARN (node lost or container aborted)' },
  [-101]: { label: 'DISKS_FAILED', text: 'the node\'s disks failed' },
  [-102]: { label: 'PREEMPTED', text: 'preempted by the scheduler for another queue', capacity: true },
  [-103]: { label: 'KILLED_EXCEEDED_VMEM', text: 'killed for exceeding its virtual memory limit' },
  [-104]: { label: 'KILLED_EXCEEDED_PMEM', text: 'killed for exceeding its physical memory limit' },
  [-105]: { label: 'KILLED_BY_APPMASTER', text: 'killed by the service AM' },
  [-106]: { label: 'KILLED_BY_RESOURCEMANAGER', text: 'killed by the ResourceManager' },
  [-107]: { label: 'KILLED_AFTER_APP_COMPLETION', text: 'killed because the service finished' },
  [-108]: { label: 'KILLED_BY_CONTAINER_SCHEDULER', text: 'killed by the NodeManager\'s container scheduler (opportunistic container preempted)', capacity: true },
  [-109]: { label: 'KILLED_FOR_EXCESS_LOGS', text: 'killed for writing too many logs' },
};

export interface ExitDescription {
  reason: string;
  /** The resources were taken away (preemption), not the worker's fault. */
  capacity: boolean;
}

/**
 * Human text for a container's exit: YARN's negative statuses by name, positive ones as the
 * process's exit code; `diagnostics` (the NodeManager's) appended when known.
 */
export function describeExit(container: string, exitStatus: number | undefined, diagnostics?: string): ExitDescription {
  const diag = diagnostics?.trim() ? `; ${diagnostics.trim().replace(/\s+/g, ' ').slice(0, 1000)}` : '';
  if (exitStatus === undefined) {
    return { reason: `container ${container} ended (exit status not available from the NodeManager)${diag}`, capacity: false };
  }
  const known = STATUSES[exitStatus];
  if (known) return { reason: `container ${container} ${known.text} (exit status ${exitStatus} ${known.label})${diag}`, capacity: known.capacity ?? false };
  return { reason: `container ${container} exited with code ${exitStatus}${diag}`, capacity: false };
}
