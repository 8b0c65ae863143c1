import { type RetireResult, isEbbtideError } from '@ebbtide/core';
import { type DaskKey, keyFromId, keyId } from '../wire/daskKey.js';
import type { DaskComm } from '../wire/DaskComm.js';
import { parseHasWhat, parseIdentity, parseNbytes, parseRetired, parseWhoHas } from '../poll/parseReplies.js';
import { classifyRetirement } from './classifyRetirement.js';

export interface RetireWorkersOptions {
  /** Deadline of the `retire_workers` call itself (it waits for data to be copied). */
  retireTimeoutMs: number;
  /** Dask `stimulus_id`, to find this retirement in the scheduler's logs and stories. */
  stimulusId: string;
}

/**
 * Retires workers by name through Dask's `retire_workers(names=..., close_workers=True,
 * remove=True)`: Dask's Active Memory Manager copies every result held only by a retiring
 * worker to another running worker, then removes the worker and tells it to close. A worker
 * whose unique results have nowhere to go is not retired and keeps running.
 *
 * Before retiring, it measures the bytes each worker holds alone (`has_what`, `who_has`,
 * `nbytes`); that is what Dask must copy, reported as `movedBytes`. The measurement is
 * best-effort: if the data changes under it, `movedBytes` is left out.
 *
 * @throws EbbtideError `SCHEDULER_UNREACHABLE` / `SCHEDULER_PROTOCOL` from the comm.
 */
export async function retireWorkers(comm: DaskComm, names: readonly string[], options: RetireWorkersOptions): Promise<RetireResult> {
  const workers = parseIdentity(await comm.call('identity'));
  const byName = new Map(workers.map((w) => [w.name, w]));
  const known = new Set(names.filter((n) => byName.has(n)));
  if (known.size === 0) return { outcomes: classifyRetirement(names, { known, retired: new Set() }) };

  const addresses = [...known].map((n) => byName.get(n)!.address);
  const unique = await measureUnique(comm, addresses);
  const uniqueByAddress = unique?.bytes;
  const reply = await comm.call(
    'retire_workers',
    { names: [...known], close_workers: true, remove: true, stimulus_id: options.stimulusId },
    { timeoutMs: options.retireTimeoutMs },
  );
  const retired = new Set(parseRetired(reply).map((r) => r.name));
  let after: Set<string> | undefined;
  if ([...known].some((n) => !retired.has(n))) after = new Set(parseIdentity(await comm.call('identity')).map((w) => w.name));
  const uniqueBytes = uniqueByAddress && new Map([...known].map((n) => [n, uniqueByAddress.get(byName.get(n)!.address) ?? 0]));
  const uniqueKeys = unique && new Map([...known].map((n) => [n, unique.keys.get(byName.get(n)!.address) ?? []]));
  return {
    outcomes: classifyRetirement(names, {
      known,
      retired,
      ...(after ? { after } : {}),
      ...(uniqueBytes ? { uniqueBytes } : {}),
      ...(uniqueKeys ? { uniqueKeys } : {}),
    }),
  };
}

/**
 * Results held only by the given workers, per worker: their bytes and their keys (as Dask
 * shows them: a tuple key as its JSON). A result held by several of them (and nobody else)
 * counts once, for the first of them in `addresses`. Undefined when the scheduler's data
 * changed under the three reads (a key was forgotten).
 */
async function measureUnique(
  comm: DaskComm,
  addresses: readonly string[],
): Promise<{ bytes: Map<string, number>; keys: Map<string, string[]> } | undefined> {
  try {
    const hasWhat = parseHasWhat(await comm.call('has_what', { workers: addresses }));
    const owner = new Map<string, string>();
    for (const address of addresses) for (const key of hasWhat.get(address) ?? []) if (!owner.has(keyId(key))) owner.set(keyId(key), address);
    const bytes = new Map<string, number>(addresses.map((a) => [a, 0]));
    const keys = new Map<string, string[]>(addresses.map((a) => [a, []]));
    if (owner.size === 0) return { bytes, keys };
    const ids: DaskKey[] = [...owner.keys()].map(keyFromId);
    const whoHas = parseWhoHas(await comm.call('who_has', { keys: ids }));
    const retiring = new Set(addresses);
    const unique = [...owner.keys()].filter((id) => (whoHas[id] ?? []).every((a) => retiring.has(a)));
    if (unique.length === 0) return { bytes, keys };
    const sizes = parseNbytes(await comm.call('nbytes', { keys: unique.map(keyFromId), summary: false }));
    for (const id of unique) {
      const at = owner.get(id)!;
      bytes.set(at, bytes.get(at)! + (sizes[id] ?? 0));
      keys.get(at)!.push(displayKey(id));
    }
    return { bytes, keys };
  } catch (e) {
    // A key forgotten between two reads makes Dask raise KeyError: give up on the figure only.
    if (isEbbtideError(e) && e.code === 'SCHEDULER_PROTOCOL') return undefined;
    throw e;
  }
}

/** A key as a person reads it: a string as is, a tuple as its JSON. */
function displayKey(id: string): string {
  const key = keyFromId(id);
  return typeof key === 'string' ? key : JSON.stringify(key);
}
