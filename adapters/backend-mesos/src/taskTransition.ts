import { TERMINAL_STATES, type TaskStatus } from './mesosTypes.js';

/** What a task status update means for the worker it is about. */
export type Transition =
  | { kind: 'none' }
  | { kind: 'phase'; phase: 'pending' | 'running' | 'stopping' }
  /** The launch never happened (its offer was rescinded): queue the worker again. */
  | { kind: 'relaunch'; reason: string }
  /** `mayLive`: the task may still run somewhere (lost agent) and must be killed if seen again. */
  | { kind: 'exited'; failed: boolean; exitCode: number | null; reason: string; mayLive: boolean };

const EXIT_CODE = /exited with status (\d+)/;

/** "TASK_FAILED (REASON_…): message", for reasons shown to people. */
export function describeStatus(s: TaskStatus): string {
  return `${s.state}${s.reason ? ` (${s.reason})` : ''}${s.message ? `: ${s.message}` : ''}`;
}

/**
 * Maps a Mesos task status to the worker's transition, given whether its launch was sent and
 * whether ebbtide asked it to stop. Pure.
 *
 * - STAGING/STARTING → pending, RUNNING → running, KILLING → stopping (a worker being stopped
 *   stays stopping whatever it reports until it ends).
 * - TASK_DROPPED or REASON_INVALID_OFFERS, or a reconciliation that does not know a task no
 *   state was ever `reported` for: the launch was void → relaunch (or, when stopping, it ended).
 * - TASK_UNREACHABLE: its agent is partitioned away; the worker is given up (failed) now, and
 *   `mayLive` says to kill the task if it comes back.
 * - Terminal states → exited; failed unless stopping; exit code from "exited with status N".
 * - About a worker not launched (a reconciliation answer the master gave before it saw the
 *   launch), terminal news means nothing.
 */
export function taskTransition(s: TaskStatus, w: { launched: boolean; stopRequested: boolean; reported?: boolean }): Transition {
  // A launch the master never heard of (its ACCEPT went unanswered, then reconciliation says
  // unknown) is void as well, as long as no state was ever reported for it.
  const neverArrived = w.launched && !w.reported && s.reason === 'REASON_RECONCILIATION' && ['TASK_GONE', 'TASK_UNKNOWN', 'TASK_LOST'].includes(s.state);
  const launchLost = s.state === 'TASK_DROPPED' || s.reason === 'REASON_INVALID_OFFERS' || neverArrived;
  if (!w.launched && (TERMINAL_STATES.has(s.state) || launchLost)) return { kind: 'none' };
  switch (s.state) {
    case 'TASK_STAGING':
    case 'TASK_STARTING':
      return { kind: 'phase', phase: w.stopRequested ? 'stopping' : 'pending' };
    case 'TASK_RUNNING':
      return { kind: 'phase', phase: w.stopRequested ? 'stopping' : 'running' };
    case 'TASK_KILLING':
      return { kind: 'phase', phase: 'stopping' };
    case 'TASK_UNREACHABLE':
      return w.stopRequested
        ? { kind: 'exited', failed: false, exitCode: null, reason: describeStatus(s), mayLive: true }
        : { kind: 'exited', failed: true, exitCode: null, reason: `agent unreachable: ${describeStatus(s)}`, mayLive: true };
    default:
      break;
  }
  if (launchLost && !w.stopRequested) return { kind: 'relaunch', reason: describeStatus(s) };
  if (!TERMINAL_STATES.has(s.state)) return { kind: 'none' };
  const code = EXIT_CODE.exec(s.message ?? '');
  const exitCode = code ? Number(code[1]) : null;
  return w.stopRequested
    ? { kind: 'exited', failed: false, exitCode, reason: `stopped (${describeStatus(s)})`, mayLive: false }
    : { kind: 'exited', failed: true, exitCode, reason: describeStatus(s), mayLive: false };
}
