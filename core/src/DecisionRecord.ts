import type { Explanation } from './contracts/ScalingHeuristic.js';
import type { Recommendation } from './decide/Recommendation.js';

/** What happened when a tick's recommendation was acted on. */
export interface DecisionOutcome {
  status: 'none' | 'scaled-up' | 'scaled-down' | 'partial' | 'failed' | 'skipped' | 'shutdown';
  /** Workers asked of the backend (up). */
  started?: string[];
  /** Workers retired and stopped (down). */
  stopped?: string[];
  /** Workers kept running, with why (e.g. "kept: holds data that cannot be moved"). */
  kept?: Array<{ name: string; reason: string }>;
  error?: { code?: string; message: string };
  reason?: string;
  /**
   * Shutdown only: results that were lost because their only holder was stopped after
   * `shutdown.timeout` (`keys` lists at most 20 of them).
   */
  lost?: { count: number; keys: string[] };
  /** Shutdown only: workers left running for the next ebbtide (`shutdown.workers: keep`). */
  left?: string[];
}

/** The counts a decision was taken on. */
export interface DecisionInputs {
  workers: number;
  plan: number;
  requested: number;
  tasksQueued: number;
  tasksUnrunnable: number;
  tasksProcessing: number;
}

/**
 * The structured "why" of one tick. One type everywhere: `decisions$`, logs, the CLI's live
 * line, `ebbtide decide` (without `tick`, `time`, `inputs` and `outcome`) and recordings.
 */
export interface DecisionRecord {
  tick?: number;
  time?: number;
  inputs?: DecisionInputs;
  /** Heuristic target before clamping. */
  target: number;
  /** After [minimum, maximum]. */
  safeTarget: number;
  /** What the workers-to-close strategy proposes for `safeTarget` when it is below the worker count. */
  workersToClose: string[];
  /** After hysteresis. */
  recommendation: Recommendation;
  /** Counters after this tick, positive counts only. */
  closeCounts: Record<string, number>;
  /** Heuristic reasons, plus `bounds` (minimum, maximum and which one capped the target). */
  explanation: Explanation;
  outcome?: DecisionOutcome;
  /** Set while the scheduler cannot be read: since when (clock seconds). Nothing is scaled then. */
  blind?: { since: number };
}
