import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from './workers.js';

/** `module#export` of the gate fixture's blocking task. */
export const WAIT_FOR_FILE = `${fixture('gate.js')}#waitForFile`;
/** `module#export` of the task that logs each run to a file. */
export const COUNT_RUN = `${fixture('gate.js')}#countRun`;

/**
 * A file that blocked tasks wait for: tasks submitted with `gate.args(value)` finish only after
 * `gate.open()`. Lets a test freeze the cluster in a known state without timing.
 */
export class Gate {
  readonly dir = mkdtempSync(join(tmpdir(), 'ebbtide-gate-'));
  readonly path = join(this.dir, 'open');

  args(value: unknown): unknown[] {
    return [this.path, value];
  }

  open(): void {
    writeFileSync(this.path, '');
  }

  /** A file in this gate's directory, e.g. a run log for `COUNT_RUN`. */
  file(name: string): string {
    return join(this.dir, name);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
