import { type Observable, filter, firstValueFrom, timeout } from 'rxjs';

/**
 * Resolves with the first value of `source$` that satisfies `predicate`, or rejects after `ms`
 * with `what` in the message. For waiting on real processes; never used to assert on timing.
 */
export function first<T>(source$: Observable<T>, predicate: (v: T) => boolean, what: string, ms = 20_000): Promise<T> {
  return firstValueFrom(
    source$.pipe(
      filter(predicate),
      timeout({ first: ms, with: () => Promise.reject(new Error(`timed out after ${ms} ms waiting for ${what}`)) }),
    ),
  );
}

/** Polls `check` every 100 ms until it returns a value other than undefined, or rejects after `ms`. */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, what: string, ms = 20_000): Promise<T> {
  const deadline = performance.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
