import { EbbtideError, type WorkerSpec } from '@ebbtide/core';

const PLACEHOLDER = /\{(\w+)\}/g;
const KNOWN = new Set(['name', 'scheduler', 'nthreads', 'memoryLimit']);

/**
 * The argument array for one worker: every `{name}`, `{scheduler}`, `{nthreads}` and
 * `{memoryLimit}` replaced. An unknown placeholder is a configuration error (a typo would
 * otherwise start workers with a literal `{nmae}`).
 */
export function expandCommand(template: readonly string[], spec: WorkerSpec): string[] {
  if (template.length === 0) {
    throw new EbbtideError('CONFIG_INVALID', 'backend.mesos.command: expected a non-empty argument array, got []', { key: 'backend.mesos.command' });
  }
  const values: Record<string, string> = {
    name: spec.name,
    scheduler: spec.scheduler,
    nthreads: String(spec.nthreads),
    memoryLimit: String(spec.memoryLimit),
  };
  return template.map((arg) =>
    arg.replace(PLACEHOLDER, (whole, key: string) => {
      if (!KNOWN.has(key)) {
        throw new EbbtideError(
          'CONFIG_INVALID',
          `backend.mesos.command: unknown placeholder ${whole} in "${arg}"; expected {name}, {scheduler}, {nthreads} or {memoryLimit}`,
          { key: 'backend.mesos.command' },
        );
      }
      return values[key]!;
    }),
  );
}
