/**
 * When each processing task was first seen processing, by task id.
 *
 * Dask 2022.12 keeps how long each task has been executing (`ws.executing`, from heartbeats)
 * but exposes it over no RPC. Seeing a task appear in `processing` from one poll to the next
 * is the closest we get: its age is known to within one poll interval, and it includes time
 * spent waiting in the worker's ready queue (see `buildSnapshot` for how that is limited).
 */
export class ProcessingAges {
  private firstSeen = new Map<string, number>();

  /** Records `now` (seconds) for newly processing ids and forgets ids no longer processing. */
  observe(now: number, processing: Iterable<string>): void {
    const next = new Map<string, number>();
    for (const id of processing) next.set(id, this.firstSeen.get(id) ?? now);
    this.firstSeen = next;
  }

  /** First time `id` was seen processing (seconds), or undefined. */
  since(id: string): number | undefined {
    return this.firstSeen.get(id);
  }

  get size(): number {
    return this.firstSeen.size;
  }
}
