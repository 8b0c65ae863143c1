import type { WireError } from '../protocol/messages.js';

/** What the pool posts to a task thread. */
export interface ThreadJob {
  id: number;
  fn: string;
  args: unknown[];
}

/** What a task thread posts back: the result as JSON text (its size is the result's nbytes). */
export type ThreadOutcome = { id: number; ok: true; json: string } | { id: number; ok: false; error: WireError };
