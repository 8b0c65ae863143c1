import { parseArgs } from 'node:util';
import { EbbtideError, parseBytes } from '@ebbtide/core/sdk';
import { parseResources } from '../protocol/resources.js';
import type { WorkerRuntimeOptions } from './WorkerRuntime.js';

/** Usage text of `ebbtide-worker`. */
export const WORKER_USAGE = `usage: ebbtide-worker --scheduler tcp://HOST:PORT --name NAME [--nthreads N] [--memory-limit BYTES] [--label KEY=VALUE ...] [--resources "GPU=1,MEM=2e9"]

  --scheduler     address of the embedded scheduler (required)
  --name          worker name, unique on the scheduler (required)
  --nthreads      task threads = tasks run at once (default 1)
  --memory-limit  bytes reported to the scheduler, e.g. 2GB or 512MiB (default 0 = no limit)
  --label         KEY=VALUE label used by worker keys; repeatable
  --resources     what this worker offers, as dask worker --resources: NAME=QUANTITY pairs
                  separated by commas or spaces; tasks submitted with resources run only on
                  workers offering them (default: EBBTIDE_WORKER_RESOURCES, set by a pool)`;

function usage(message: string): EbbtideError {
  return new EbbtideError('USAGE', `ebbtide-worker: ${message}`, { hint: WORKER_USAGE });
}

/**
 * Options from `ebbtide-worker` arguments. Without `--resources`, the worker offers what
 * `EBBTIDE_WORKER_RESOURCES` in `env` says (a pool's `resources`, see the core's `poolWorkerEnv`).
 *
 * @throws EbbtideError `USAGE` naming the flag and what it expects.
 */
export function parseWorkerArgs(argv: string[], env: Readonly<Record<string, string | undefined>> = process.env): WorkerRuntimeOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        scheduler: { type: 'string' },
        name: { type: 'string' },
        nthreads: { type: 'string', default: '1' },
        'memory-limit': { type: 'string', default: '0' },
        label: { type: 'string', multiple: true, default: [] },
        resources: { type: 'string' },
      },
    }));
  } catch (e) {
    throw usage(e instanceof Error ? e.message : String(e));
  }
  if (!values.scheduler) throw usage('--scheduler is required');
  if (!values.name) throw usage('--name is required');
  const nthreads = /^\d+$/.test(values.nthreads) ? Number(values.nthreads) : NaN;
  if (!(nthreads >= 1)) throw usage(`--nthreads: expected a whole number >= 1, got "${values.nthreads}"`);
  const memoryLimit = parseBytes(/^\d+$/.test(values['memory-limit']) ? Number(values['memory-limit']) : values['memory-limit']);
  if (memoryLimit === undefined) throw usage(`--memory-limit: expected a size such as "2GB", "512MiB" or a number of bytes, got "${values['memory-limit']}"`);
  const labels: Record<string, string> = {};
  for (const l of values.label) {
    const eq = l.indexOf('=');
    if (eq <= 0) throw usage(`--label: expected KEY=VALUE, got "${l}"`);
    labels[l.slice(0, eq)] = l.slice(eq + 1);
  }
  const fromEnv = values.resources === undefined ? env.EBBTIDE_WORKER_RESOURCES : undefined;
  const resources = parseResources(values.resources ?? fromEnv ?? '');
  if (typeof resources === 'string') throw usage(`${fromEnv !== undefined ? 'EBBTIDE_WORKER_RESOURCES' : '--resources'}: ${resources}`);
  return { scheduler: values.scheduler, name: values.name, nthreads, memoryLimit, labels, ...(Object.keys(resources).length ? { resources } : {}) };
}
