import type { Explanation } from './contracts/ScalingHeuristic.js';
import type { WorkerStatus } from './contracts/WorkerInfo.js';
import type { Recommendation } from './decide/Recommendation.js';

/**
 * How the loop chooses its target: `adaptive` (the heuristic, clamped to [minimum, maximum]) or
 * `manual` (a fixed count asked for with `scale(n)`, like Dask's `cluster.scale(n)`, until
 * `adapt(...)` switches back).
 */
export type ScalingMode = 'adaptive' | 'manual';

/** What happened when a tick's recommendation was acted on. */
export interface DecisionOutcome {
  status: 'none' | 'scaled-up' | 'scaled-down' | 'partial' | 'failed' | 'skipped' | 'shutdown';
  /** Workers asked of the backend (up). */
  started?: string[];
  /** Workers stopped (down): the retired ones and the cancelled ones. */
  stopped?: string[];
  /** Of `stopped`: workers the scheduler retired first (their results moved elsewhere). */
  retired?: string[];
  /** Of `stopped`: workers that never connected, cancelled without asking the scheduler. */
  cancelled?: string[];
  /** Workers kept running, with why (e.g. "kept: holds data that cannot be moved"). */
  kept?: Array<{ name: string; reason: string }>;
  /**
   * A failed action: `code` is the error's class (`BACKEND_API`, `BACKEND_CAPACITY`,
   * `SCHEDULER_UNREACHABLE`, …; absent for an unclassified error), `retryable` what the
   * backend said about trying again, when it said.
   */
  error?: { code?: string; message: string; retryable?: boolean };
  reason?: string;
  /**
   * Shutdown only: results that were lost because their only holder was stopped after
   * `shutdown.timeout` (`keys` lists at most 20 of them).
   */
  lost?: { count: number; keys: string[] };
  /** Shutdown only: workers left running for the next ebbtide (`shutdown.workers: keep`). */
  left?: string[];
}

/** The scheduler's state a decision was taken on, summarised. */
export interface DecisionInputs {
  /** Connected workers. */
  workers: number;
  plan: number;
  requested: number;
  tasksQueued: number;
  tasksUnrunnable: number;
  tasksProcessing: number;
  /** Connected workers by their scheduler status. */
  workersByStatus?: Record<WorkerStatus, number>;
  /** Threads of the connected workers. */
  threads?: number;
  /**
   * Tasks on workers per thread: 0 idle, 1 every thread busy, above 1 tasks waiting on
   * workers. (The heuristic's own occupancy, in seconds of work, is in its explanation.)
   */
  occupancy?: number;
  /** Bytes of results held by the connected workers, and the sum of their memory limits (0 = none). */
  memory?: { used: number; limit: number };
}

/**
 * One worker proposed for closing this tick (Dask's `workers_to_close`, or a worker that never
 * connected), with what a user needs to see why: how long it has been proposed, whether it was
 * idle, what it holds, its group.
 */
export interface ProposedWorker {
  name: string;
  /** Ticks in a row it has been proposed, this one included. */
  count: number;
  /** `count` reached `waitCount`: it is in this tick's `down` recommendation. */
  firm: boolean;
  /** False for a worker that never connected: it is cancelled, not retired. */
  connected: boolean;
  /** Connected only: no task assigned to it. */
  idle?: boolean;
  /** Connected only: tasks assigned to it (long-running ones included). */
  tasks?: number;
  /** Connected only: bytes of results it holds (they move to other workers on retirement). */
  nbytes?: number;
  /** Connected only: its worker-key group; a group closes together. */
  group?: string;
}

/**
 * One pool's share of a tick (see docs/pools.md): what the allocation step wanted of it, what
 * its bounds and state allowed, and why; then what its guard rails made of that (`target`) and
 * the pool's own recommendation.
 */
export interface PoolAllocation {
  pool: string;
  /** Workers the demand asked of this pool (its floor, its share of a resource's demand, the spill-over that reached it). */
  wanted: number;
  /** What its bounds, its capacity state and the cluster's maximum allowed: the allocation. */
  allowed: number;
  /** Why it got `allowed` (`cheapest pool with room`, `skipped: capacity-limited until 12:03:10 after 3 failed starts`, ...). */
  reason?: string;
  /** Its plan before the tick. */
  plan?: number;
  /** After the pool's guard rails (stabilisation, policies, cooldown, blind fallback). */
  target?: number;
  /** Relative price per worker-hour. */
  cost?: number;
  /** The pool's recommendation after its own `waitCount` hysteresis. */
  recommendation?: Recommendation;
}

/**
 * A guard rail that changed the outcome (a stabilisation window, a rate policy, a cooldown, a
 * cron floor or ceiling, the blind fallback, a capacity hold) and what it did, in words:
 * `capped by scaleDown.policies: 25% per 60s`, `held by stabilizationWindow 300s: highest recent 12`.
 */
export interface GuardEffect {
  /** The rule: `scaleDown.policies`, `scaleUp.stabilizationWindow`, `scaleDown.cooldown`, `schedule`, `blind`, `capacity`. */
  guard: string;
  effect: string;
  /** The pool it applied to; absent for the cluster-wide rules (`adaptive.*`). */
  pool?: string;
  /** The number before and after the rule. */
  from?: number;
  to?: number;
}

/**
 * The structured "why" of one tick. One type everywhere: `decisions$`, logs, the CLI's live
 * line, the control API and its page, `ebbtide decide` (without `tick`, `time`, `inputs` and
 * `outcome`) and recordings.
 */
export interface DecisionRecord {
  tick?: number;
  time?: number;
  /** Seconds the tick took on the loop's clock, its actions included (millisecond resolution). */
  duration?: number;
  /** How the target was chosen; absent in records made outside the loop (`ebbtide decide`). */
  mode?: ScalingMode;
  inputs?: DecisionInputs;
  /** Heuristic target before clamping; in manual mode, the asked-for count. */
  target: number;
  /** After [minimum, maximum] (and a capacity hold); in manual mode, the asked-for count. */
  safeTarget: number;
  /** What the workers-to-close strategy proposes for `safeTarget` when it is below the worker count. */
  workersToClose: string[];
  /** After hysteresis. */
  recommendation: Recommendation;
  /** Counters after this tick, positive counts only. */
  closeCounts: Record<string, number>;
  /** Ticks a worker must be proposed in a row before it is closed (1 in manual mode). */
  waitCount?: number;
  /** Every worker proposed for closing this tick, firm ones first, with why. */
  proposed?: ProposedWorker[];
  /**
   * Heuristic reasons, plus `bounds` (minimum, maximum and which one capped the target), and,
   * when they applied, `blind`, `capacity` and `manual` (`{ n, heuristicTarget }`).
   */
  explanation: Explanation;
  /** With pools: each pool's share, in allocation order (absent with the single default pool). */
  allocation?: PoolAllocation[];
  /** Each guard rail that changed the outcome this tick, in the order they applied. */
  guards?: GuardEffect[];
  outcome?: DecisionOutcome;
  /** Set while the scheduler cannot be read: since when (clock seconds). Nothing is scaled then. */
  blind?: { since: number };
}
