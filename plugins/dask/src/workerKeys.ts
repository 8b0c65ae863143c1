import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { EbbtideError, NAME_ARGUMENT, type WorkerInfo, type WorkerKey } from '@ebbtide/core';

/** `workerKey: none` — every worker is its own group (Dask's default, keyed by address). */
@injectable()
export class NoneWorkerKey implements WorkerKey {
  key(w: WorkerInfo): string {
    return `worker:${w.name}`;
  }
}

/** `workerKey: host` — workers on one host close together. */
@injectable()
export class HostWorkerKey implements WorkerKey {
  key(w: WorkerInfo): string {
    return `host:${w.host}`;
  }
}

/**
 * `workerKey: label:<name>` — workers sharing the value of label `<name>` close together (a job,
 * a pod group, a node pool). A worker without the label is its own group.
 */
@injectable()
export class LabelWorkerKey implements WorkerKey {
  constructor(@inject(NAME_ARGUMENT) private readonly label: string) {
    if (!label) throw new EbbtideError('CONFIG_UNKNOWN_NAME', 'workerKey: label:<name> needs a label name', { key: 'workerKey' });
  }
  key(w: WorkerInfo): string {
    const v = w.labels[this.label];
    return v === undefined ? `worker:${w.name}` : `label:${v}`;
  }
}
