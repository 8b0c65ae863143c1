import type { WorkerSpec } from '../contracts/ResourceBackend.js';
import { EbbtideError } from '../errors.js';

const PLACEHOLDER = /\{(\w+)\}/g;
const KNOWN = new Set(['name', 'scheduler', 'nthreads', 'memoryLimit']);

/**
 * A worker command's argument array with every `{name}`, `{scheduler}`, `{nthreads}` and
 * `{memoryLimit}` filled in from the spec — the one rule every backend that runs a command uses.
 * An unknown placeholder is a configuration error naming `key` (a typo would otherwise start
 * workers with a literal `{nmae}`); backends call it on a sample spec when they read their
 * options, so `ebbtide config --check` reports it.
 *
 * @throws EbbtideError `CONFIG_INVALID` for an empty command or an unknown placeholder.
 */
export function expandWorkerCommand(template: readonly string[], spec: WorkerSpec, key: string): string[] {
  if (template.length === 0) {
    throw new EbbtideError('CONFIG_INVALID', `${key}: expected a non-empty argument array, got []`, { key });
  }
  const values: Record<string, string> = {
    name: spec.name,
    scheduler: spec.scheduler,
    nthreads: String(spec.nthreads),
    memoryLimit: String(spec.memoryLimit),
  };
  return template.map((arg) =>
    arg.replace(PLACEHOLDER, (whole, name: string) => {
      if (!KNOWN.has(name)) {
        throw new EbbtideError('CONFIG_INVALID', `${key}: unknown placeholder ${whole} in "${arg}"; expected {name}, {scheduler}, {nthreads} or {memoryLimit}`, { key });
      }
      return values[name]!;
    }),
  );
}

/** A spec to check a command template against when options are read (nothing is started). */
export const SAMPLE_WORKER_SPEC: WorkerSpec = { name: 'w', scheduler: 'tcp://127.0.0.1:1', nthreads: 1, memoryLimit: 0 };
