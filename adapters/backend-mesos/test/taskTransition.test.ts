import { expect } from 'chai';
import { taskTransition } from '../src/taskTransition.js';

const st = (state: string, extra: Record<string, unknown> = {}) => ({ task_id: { value: 'c-1' }, state, ...extra });
const live = { launched: true, stopRequested: false, reported: true };
const stopping = { launched: true, stopRequested: true, reported: true };
const queued = { launched: false, stopRequested: false };

describe('taskTransition', () => {
  const cases: Array<[string, ReturnType<typeof st>, { launched: boolean; stopRequested: boolean; reported?: boolean }, unknown]> = [
    ['STARTING is pending', st('TASK_STARTING'), live, { kind: 'phase', phase: 'pending' }],
    ['RUNNING is running', st('TASK_RUNNING'), live, { kind: 'phase', phase: 'running' }],
    ['RUNNING of a worker being stopped stays stopping', st('TASK_RUNNING'), stopping, { kind: 'phase', phase: 'stopping' }],
    ['KILLING is stopping', st('TASK_KILLING'), live, { kind: 'phase', phase: 'stopping' }],
    [
      'FAILED on its own is a failure with the exit code',
      st('TASK_FAILED', { reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'Command exited with status 3' }),
      live,
      { kind: 'exited', failed: true, exitCode: 3, reason: 'TASK_FAILED (REASON_COMMAND_EXECUTOR_FAILED): Command exited with status 3', mayLive: false },
    ],
    [
      'KILLED after a stop is not a failure',
      st('TASK_KILLED', { message: 'Command terminated with signal SIGTERM' }),
      stopping,
      { kind: 'exited', failed: false, exitCode: null, reason: 'stopped (TASK_KILLED: Command terminated with signal SIGTERM)', mayLive: false },
    ],
    [
      'FINISHED after a stop (a retired worker that closed) is not a failure',
      st('TASK_FINISHED', { message: 'Command exited with status 0' }),
      stopping,
      { kind: 'exited', failed: false, exitCode: 0, reason: 'stopped (TASK_FINISHED: Command exited with status 0)', mayLive: false },
    ],
    ['DROPPED (rescinded offer) is relaunched', st('TASK_DROPPED', { reason: 'REASON_INVALID_OFFERS' }), live, { kind: 'relaunch', reason: 'TASK_DROPPED (REASON_INVALID_OFFERS)' }],
    ['LOST for invalid offers (non partition-aware) is relaunched too', st('TASK_LOST', { reason: 'REASON_INVALID_OFFERS' }), live, { kind: 'relaunch', reason: 'TASK_LOST (REASON_INVALID_OFFERS)' }],
    ['a void launch of a worker being stopped just ended', st('TASK_DROPPED'), stopping, { kind: 'exited', failed: false, exitCode: null, reason: 'stopped (TASK_DROPPED)', mayLive: false }],
    [
      'UNREACHABLE gives the worker up but it may live',
      st('TASK_UNREACHABLE', { reason: 'REASON_AGENT_REMOVED' }),
      live,
      { kind: 'exited', failed: true, exitCode: null, reason: 'agent unreachable: TASK_UNREACHABLE (REASON_AGENT_REMOVED)', mayLive: true },
    ],
    ['a reconciliation GONE about a queued worker means nothing', st('TASK_GONE', { reason: 'REASON_RECONCILIATION' }), queued, { kind: 'none' }],
    ['a RUNNING about a worker thought queued (unanswered ACCEPT) is news', st('TASK_RUNNING'), queued, { kind: 'phase', phase: 'running' }],
    [
      'TASK_UNKNOWN of a worker that ran is an exit',
      st('TASK_UNKNOWN', { reason: 'REASON_RECONCILIATION' }),
      { ...live, reported: true },
      { kind: 'exited', failed: true, exitCode: null, reason: 'TASK_UNKNOWN (REASON_RECONCILIATION)', mayLive: false },
    ],
    ['TASK_GONE by reconciliation of a launch never reported (unanswered ACCEPT) is relaunched', st('TASK_GONE', { reason: 'REASON_RECONCILIATION' }), { ...live, reported: false }, { kind: 'relaunch', reason: 'TASK_GONE (REASON_RECONCILIATION)' }],
  ];
  for (const [title, status, worker, want] of cases) {
    it(title, () => expect(taskTransition(status, worker)).to.deep.equal(want));
  }
});
