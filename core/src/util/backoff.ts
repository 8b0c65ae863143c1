/**
 * Delay before retry number `attempt` (1-based): 1 s doubling, capped at 30 s, like the
 * Kubernetes client's ListWatch. Pure, so callers pass it to `timer(ms, rxScheduler)`.
 */
export function backoffMs(attempt: number, baseMs = 1000, capMs = 30_000): number {
  if (attempt <= 0) return 0;
  return Math.min(capMs, baseMs * 2 ** Math.min(attempt - 1, 30));
}
