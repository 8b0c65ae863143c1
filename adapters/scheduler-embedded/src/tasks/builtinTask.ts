import { taskRef } from '../taskRef.js';

/** The names exported by `@ebbtide/scheduler-embedded/tasks`. */
export type BuiltinTaskName = 'noop' | 'sleep' | 'inc' | 'add' | 'sum' | 'burn' | 'blob' | 'fail';

/** Absolute `file:` URL of the built-in tasks module, as workers import it. */
export function builtinTasksUrl(): string {
  return new URL('./builtin.js', import.meta.url).href;
}

/**
 * The `module#export` string of a built-in task, for `Client.submit`.
 *
 * @example
 * ```ts
 * const key = await client.submit(builtinTask('inc'), [41]);
 * ```
 */
export function builtinTask(name: BuiltinTaskName): string {
  return taskRef(builtinTasksUrl(), name);
}
