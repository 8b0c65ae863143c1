import { parseTaskRef } from '../taskRef.js';

/** A task function: sync or async, taking the task's JSON arguments. */
export type TaskFunction = (...args: unknown[]) => unknown;

const modules = new Map<string, Promise<Record<string, unknown>>>();

/**
 * Imports the module of `module#export` (once per thread) and returns the export.
 *
 * Package names resolve from this package's location, so task packages must be installed where
 * `@ebbtide/scheduler-embedded` can import them.
 *
 * @throws Error saying which module could not be loaded, or which export is missing and what the
 *   module does export.
 */
export async function loadTaskFunction(ref: string): Promise<TaskFunction> {
  const parsed = parseTaskRef(ref);
  if (typeof parsed === 'string') throw new Error(parsed);
  let loading = modules.get(parsed.specifier);
  if (!loading) {
    loading = import(parsed.specifier) as Promise<Record<string, unknown>>;
    modules.set(parsed.specifier, loading);
    // A module that failed to load may be fixed on disk later: do not cache the failure.
    loading.catch(() => modules.delete(parsed.specifier));
  }
  let mod: Record<string, unknown>;
  try {
    mod = await loading;
  } catch (e) {
    throw new Error(`cannot load task module "${parsed.module}": ${e instanceof Error ? e.message : String(e)}`);
  }
  const fn = mod[parsed.exportName];
  if (typeof fn !== 'function') {
    const available = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new Error(
      `task module "${parsed.module}" has no function export "${parsed.exportName}"` +
        (available.length ? ` (its functions: ${available.join(', ')})` : ' (it exports no functions)'),
    );
  }
  return fn as TaskFunction;
}
