import type { WireError } from '../protocol/messages.js';

/**
 * A task failed on its worker (it threw, or its `module#export` could not be loaded). This is the
 * task's own error relayed to the caller, not an ebbtide failure, hence not an `EbbtideError`.
 * The message names the key and the worker; `remoteStack` is the stack on the worker.
 */
export class TaskError extends Error {
  /** Key of the failed task. */
  readonly key: string;
  /** Worker it failed on, when known. */
  readonly worker?: string;
  /** Class name of the original error (`TypeError`, ...). */
  readonly remoteName?: string;
  readonly remoteStack?: string;

  constructor(wire: WireError) {
    const where = wire.worker ? ` on worker "${wire.worker}"` : '';
    super(`task "${wire.key ?? '?'}" failed${where}: ${wire.name && wire.name !== 'Error' ? `${wire.name}: ` : ''}${wire.message}`);
    this.name = 'TaskError';
    this.key = wire.key ?? '';
    if (wire.worker !== undefined) this.worker = wire.worker;
    if (wire.name !== undefined) this.remoteName = wire.name;
    if (wire.stack !== undefined) this.remoteStack = wire.stack;
  }
}
