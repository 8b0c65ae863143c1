import { expect } from 'chai';
import type { DecisionRecord } from '@ebbtide/core';
import { explainDecision, headline } from '../src/explainDecision.js';

const base: DecisionRecord = {
  tick: 7,
  time: 3600,
  mode: 'adaptive',
  target: 1,
  safeTarget: 1,
  workersToClose: ['c-2', 'c-1'],
  recommendation: { status: 'down', workers: ['c-2', 'c-1'] },
  closeCounts: {},
  waitCount: 3,
  inputs: { workers: 3, plan: 3, requested: 3, tasksQueued: 0, tasksUnrunnable: 0, tasksProcessing: 0, threads: 3, occupancy: 0, memory: { used: 3 << 20, limit: 3 << 30 } },
  proposed: [
    { name: 'c-2', count: 3, firm: true, connected: true, idle: true, tasks: 0, nbytes: 0, group: 'worker:c-2' },
    { name: 'c-1', count: 3, firm: true, connected: true, idle: true, tasks: 0, nbytes: 3 << 20, group: 'host:h1' },
    { name: 'c-3', count: 1, firm: false, connected: false },
  ],
  explanation: { rule: 'scale-down: keep every worker that is busy or needed for memory', closable: ['c-2', 'c-1'], bounds: { minimum: 0, maximum: Infinity } },
  outcome: { status: 'scaled-down', stopped: ['c-2', 'c-1'], retired: ['c-2', 'c-1'] },
  duration: 0.012,
};

describe('explainDecision', () => {
  it('a scale-down says why each closed worker went: idle, the bytes it held, its group', () => {
    const lines = explainDecision(base);
    expect(lines[0]).to.equal('tick 7 at 01:00:00 [adaptive]: scale down: close c-2, c-1 — scale-down: keep every worker that is busy or needed for memory');
    expect(lines).to.include('why this worker: c-2: idle, holds no results; closed now (proposed 3 ticks in a row, waitCount 3)');
    expect(lines).to.include('why this worker: c-1: idle, holds 3.00 MiB of results (copied to other workers before it goes), group host:h1 (closes together); closed now (proposed 3 ticks in a row, waitCount 3)');
    expect(lines).to.include('why this worker: c-3: never connected to the scheduler — cancelled first; proposed 1 of 3 ticks in a row, not yet closed');
    expect(lines.some((l) => l.startsWith('why this target: scale-down via closable workers: 2 workers are closable'))).to.equal(true);
    expect(lines).to.include('done: retired c-2, c-1 through the scheduler (results moved first), then stopped');
    expect(lines).to.include('the tick took 12 ms');
  });

  it('names the rule that decided a scale-up: cpu estimate, task cap, memory rule; and the bounds', () => {
    const up = (explanation: Record<string, unknown>, over: Partial<DecisionRecord> = {}): string[] =>
      explainDecision({ ...base, target: 8, safeTarget: 4, recommendation: { status: 'up', n: 4 }, proposed: [], outcome: { status: 'scaled-up', started: ['c-3'] }, explanation, ...over });
    const cpu = up({ rule: 'scale-up', occupancy: 12, queuedOccupancy: 28, tasksReady: 56, cpuWanted: 8, cpu: 8, threads: { total: 3, workers: 3 }, bounds: { minimum: 0, maximum: 4, cappedBy: 'maximum' } });
    expect(cpu).to.include('why this target: cpu estimate: 12 s of work on workers + 28 s waiting (56 tasks) → 8 threads → 8 workers at 1 threads each');
    expect(cpu).to.include('why this target: bounds [0, 4]: capped by the maximum, 4');
    const cap = up({ rule: 'scale-up', cappedByTaskCount: true, cpuWanted: 20, tasks: 8 });
    expect(cap).to.include('why this target: task cap: the work estimate asks for 20 threads, but there are only 8 tasks');
    const mem = up({ rule: 'scale-up', memory: { used: 2.5 * 2 ** 30, limit: 3 * 2 ** 30, doubles: true, workers: 6 } });
    expect(mem).to.include('why this target: memory rule: the workers hold 2.50 GiB of 3.00 GiB (more than 60 %), so the cluster doubles to 6');
  });

  it('a manual decision says so, with what the heuristic alone would want; a failure gives the error class', () => {
    const manual = explainDecision({ ...base, mode: 'manual', target: 2, safeTarget: 2, explanation: { rule: 'manual: scale(2) holds the cluster at 2 worker(s)', manual: { n: 2, heuristicTarget: 5 } } });
    expect(manual[0]).to.contain('[manual]');
    expect(manual).to.include('why this target: manual mode: scale(2) holds the cluster at 2 workers; the heuristic alone would want 5 (POST /api/adapt returns to adaptive scaling)');
    const failed = explainDecision({ ...base, recommendation: { status: 'up', n: 4 }, proposed: [], outcome: { status: 'failed', error: { code: 'BACKEND_API', message: 'quota', retryable: true } } });
    expect(failed).to.include('done: FAILED [BACKEND_API]: quota (retryable: true); the loop goes on and tries again on a later tick');
  });

  it('a folded entry says how many quiet ticks it holds', () => {
    const lines = explainDecision({ id: 3, tick: 9, count: 7, firstTime: 3000, decision: { ...base, recommendation: { status: 'same' }, proposed: [], outcome: { status: 'none' } } });
    expect(lines[0]).to.match(/^tick 9 at /);
    expect(lines[1]).to.equal('(the last of 7 ticks in a row with no change, since tick 3 at 00:50:00)');
    expect(headline({ ...base, recommendation: { status: 'same' } })).to.equal('no change (3 workers planned)');
  });
});
