import type { ConfigSchemaSection, EbbtideConfig } from '@ebbtide/core';

/** The `backend.local.*` config section. */
export const localSchema = {
  backend: {
    local: {
      command: {
        doc: 'Command that starts one worker, as an argument array; {name}, {scheduler}, {nthreads} and {memoryLimit} are replaced. A first element without a slash is looked up in node_modules/.bin, then PATH.',
        format: 'string-list',
        default: ['ebbtide-worker', '--scheduler', '{scheduler}', '--name', '{name}', '--nthreads', '{nthreads}', '--memory-limit', '{memoryLimit}'],
      },
      gracePeriod: {
        doc: 'Time between SIGTERM and SIGKILL when stopping a worker process group.',
        format: 'duration',
        default: '5s',
      },
      env: {
        doc: 'Extra environment variables for worker processes.',
        format: 'string-map',
        default: {},
      },
      cwd: {
        doc: 'Working directory of worker processes (empty: ebbtide\'s).',
        format: 'string',
        default: '',
      },
    },
  },
} satisfies ConfigSchemaSection;

export interface LocalBackendOptions {
  command: string[];
  /** Seconds. */
  gracePeriod: number;
  env: Record<string, string>;
  cwd: string;
}

export function localOptions(config: EbbtideConfig): LocalBackendOptions {
  const s = (config.backend as unknown as { local: LocalBackendOptions }).local;
  return { command: [...s.command], gracePeriod: s.gracePeriod, env: { ...s.env }, cwd: s.cwd };
}
