import type { WorkerSpec } from '@ebbtide/core';
import type { MesosBackendOptions } from './config.js';
import { expandCommand } from './expandCommand.js';
import type { OfferedResource } from './packOffer.js';

/** The cpus and mem (MB) a worker task asks for. */
export function taskSize(spec: WorkerSpec, options: Pick<MesosBackendOptions, 'cpus' | 'memoryMb'>): { cpus: number; mem: number } {
  const cpus = options.cpus ?? spec.nthreads;
  const mem = options.memoryMb > 0 ? options.memoryMb : spec.memoryLimit > 0 ? Math.ceil(spec.memoryLimit / 2 ** 20) : 1024;
  return { cpus, mem };
}

/**
 * The TaskInfo that launches one worker with the command executor: task id and name are the
 * worker's name, the command runs without a shell (`value` the program, `arguments` its argv),
 * the environment carries the worker's name and the scheduler adapter's variables, and the kill
 * policy gives the worker `gracePeriod` between SIGTERM and SIGKILL.
 */
export function taskInfo(
  spec: WorkerSpec,
  agentId: string,
  resources: OfferedResource[],
  cluster: string,
  options: Pick<MesosBackendOptions, 'command' | 'env' | 'gracePeriod'>,
): Record<string, unknown> {
  const argv = expandCommand(options.command, spec);
  const env: Record<string, string> = { ...options.env, ...(spec.env ?? {}), EBBTIDE_WORKER_NAME: spec.name };
  return {
    name: spec.name,
    task_id: { value: spec.name },
    agent_id: { value: agentId },
    resources,
    command: {
      shell: false,
      value: argv[0],
      arguments: argv,
      environment: { variables: Object.entries(env).map(([name, value]) => ({ name, type: 'VALUE', value })) },
    },
    kill_policy: { grace_period: { nanoseconds: Math.round(options.gracePeriod * 1e9) } },
    labels: {
      labels: [
        { key: 'ebbtide.cluster', value: cluster },
        { key: 'ebbtide.worker', value: spec.name },
      ],
    },
  };
}
