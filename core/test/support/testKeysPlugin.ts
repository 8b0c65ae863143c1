// tsyringe needs the Reflect polyfill loaded before it (see report: @ebbtide/core/testing lacks it).
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import type { WorkerInfo } from '../../src/contracts/WorkerInfo.js';
import type { WorkerKey } from '../../src/contracts/WorkerKey.js';
import { definePlugin } from '../../src/plugins/EbbtidePlugin.js';
import { NAME_ARGUMENT } from '../../src/tokens.js';

/** Each worker is its own group. */
@injectable()
export class NameWorkerKey implements WorkerKey {
  key(worker: WorkerInfo): string {
    return worker.name;
  }
}

/** Groups workers by the label named in `workerKey: label:<name>` (injected as NAME_ARGUMENT). */
@injectable()
export class LabelValueWorkerKey implements WorkerKey {
  constructor(@inject(NAME_ARGUMENT) readonly label: string) {}

  key(worker: WorkerInfo): string {
    return worker.labels[this.label] ?? '';
  }
}

/**
 * The worker keys the core's default config selects (`workerKey: none`) plus a parameterised
 * `label:<name>`, so kernel tests need no plugin package (core must not depend on plugins).
 */
export const testKeysPlugin = definePlugin({
  name: 'test-keys',
  register(r) {
    r.workerKey('none', NameWorkerKey);
    r.workerKey('label', LabelValueWorkerKey, { parameter: 'name' });
  },
});
