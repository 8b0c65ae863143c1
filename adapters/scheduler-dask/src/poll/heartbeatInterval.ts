/**
 * Seconds between two heartbeats of each worker, as Dask's scheduler asks for them
 * (`distributed.scheduler.heartbeat_interval`, the same in 2022.12 and 2026.8): 0.5 s up to 10
 * workers, 1 s below 50, 2 s below 200, then n/200 + 1 s (6 s at 1,000 workers), so the scheduler
 * receives at most about 200 heartbeats a second.
 *
 * A worker's heartbeat metrics (`managed_bytes`, `task_counts`) cannot change more often than this.
 */
export function heartbeatInterval(workers: number): number {
  if (workers <= 10) return 0.5;
  if (workers < 50) return 1;
  if (workers < 200) return 2;
  return workers / 200 + 1;
}
