// Process identity (pid + start time) is shared with the other backends' lock files.
export { isSameProcessAlive, processStartTime } from '@ebbtide/core/sdk';

/** Sends `signal` to the process group led by `pid`; a group that is gone already is fine. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}
