import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ConfigOf, ConfigSchemaSection, EbbtideConfig } from '@ebbtide/core';
import { expandCommand } from './expandCommand.js';

/** The `backend.local.*` config section. */
export const localSchema = {
  backend: {
    local: {
      command: {
        doc: 'Command that starts one worker, as an argument array; {name}, {scheduler}, {nthreads} and {memoryLimit} are replaced. A first element without a slash is looked up in node_modules/.bin, then PATH.',
        format: 'command',
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
      stateDir: {
        doc: 'Folder of the per-cluster state files (worker names, pids and start times, the lock, worker logs), so a restarted ebbtide adopts the workers an earlier one left. Empty: $XDG_CACHE_HOME/ebbtide/local, else ~/.cache/ebbtide/local.',
        format: 'string',
        default: '',
      },
      pollInterval: {
        doc: 'How often adopted worker processes (started by an earlier ebbtide, so no exit event reaches this one) are checked for having exited.',
        format: 'positive-duration',
        default: '500ms',
      },
    },
  },
} as const satisfies ConfigSchemaSection;

export interface LocalBackendOptions {
  command: string[];
  /** Seconds. */
  gracePeriod: number;
  env: Record<string, string>;
  cwd: string;
  /** Resolved folder (never empty). */
  stateDir: string;
  /** Seconds. */
  pollInterval: number;
}

/** The default state folder: the user's cache folder. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ebbtide', 'local');
}

/**
 * The typed options. Checks the command's placeholders here, so `ebbtide config --check` reports
 * a typo such as `{nmae}` instead of every start failing at run time.
 * @throws EbbtideError `CONFIG_INVALID`
 */
export function localOptions(config: EbbtideConfig): LocalBackendOptions {
  const s = (config as unknown as ConfigOf<typeof localSchema>).backend.local;
  expandCommand(s.command, { name: 'w', scheduler: 'tcp://127.0.0.1:1', nthreads: 1, memoryLimit: 0 });
  return {
    command: [...s.command],
    gracePeriod: s.gracePeriod,
    env: { ...s.env },
    cwd: s.cwd,
    stateDir: s.stateDir || defaultStateDir(),
    pollInterval: s.pollInterval,
  };
}
