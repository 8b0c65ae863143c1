import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CommandInfo, CommandURI } from './types.js';

/** How a task's process ended, in the terms the command executor reports. */
export type TaskExit =
  | { kind: 'exited'; code: number }
  | { kind: 'signalled'; signal: NodeJS.Signals }
  | { kind: 'fetch-failed'; message: string }
  | { kind: 'spawn-failed'; message: string };

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone.
  }
}

async function fetchUri(uri: CommandURI, sandbox: string): Promise<void> {
  const target = join(sandbox, uri.output_file ?? basename(new URL(uri.value, 'file:///').pathname));
  if (/^https?:\/\//.test(uri.value)) {
    const res = await fetch(uri.value);
    if (!res.ok) throw new Error(`GET ${uri.value}: HTTP ${res.status}`);
    writeFileSync(target, Buffer.from(await res.arrayBuffer()));
  } else {
    copyFileSync(uri.value.replace(/^file:\/\//, ''), target);
  }
  if (uri.executable) chmodSync(target, 0o755);
}

/**
 * One task's process, as the Mesos fetcher and command executor would run it: the URIs are
 * fetched into the sandbox, then `command` runs there in its own process group (`shell: true`,
 * the default, through `/bin/sh -c`; otherwise `value` is the program and `arguments` its argv),
 * with stdout and stderr in the sandbox's `stdout`/`stderr` files. `kill(graceMs)` sends SIGTERM
 * to the group and SIGKILL after the grace period, like the command executor's kill policy.
 */
export class TaskProcess {
  private child?: ChildProcess;
  private killTimer?: NodeJS.Timeout;
  private aborted = false;
  pid?: number;
  readonly done: Promise<TaskExit>;

  constructor(
    readonly sandbox: string,
    command: CommandInfo,
    env: Record<string, string>,
    onStarted: () => void,
  ) {
    mkdirSync(sandbox, { recursive: true });
    this.done = this.run(command, env, onStarted);
  }

  private async run(command: CommandInfo, env: Record<string, string>, onStarted: () => void): Promise<TaskExit> {
    try {
      for (const uri of command.uris ?? []) await fetchUri(uri, this.sandbox);
    } catch (e) {
      return { kind: 'fetch-failed', message: (e as Error).message };
    }
    if (this.aborted) return { kind: 'signalled', signal: 'SIGKILL' };
    const vars: Record<string, string> = { ...(process.env as Record<string, string>) };
    for (const v of command.environment?.variables ?? []) if (v.value !== undefined) vars[v.name] = v.value;
    Object.assign(vars, env);
    const shell = command.shell !== false;
    const [file, args, argv0] = shell
      ? ['/bin/sh', ['-c', command.value ?? ''], undefined]
      : [command.value ?? '', (command.arguments ?? []).slice(1), command.arguments?.[0]];
    const out = createWriteStream(join(this.sandbox, 'stdout'));
    const err = createWriteStream(join(this.sandbox, 'stderr'));
    return new Promise<TaskExit>((resolve) => {
      const child = spawn(file, args, { cwd: this.sandbox, env: vars, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...(argv0 ? { argv0 } : {}) });
      this.child = child;
      if (child.pid !== undefined) this.pid = child.pid;
      child.stdout!.pipe(out);
      child.stderr!.pipe(err);
      child.once('spawn', onStarted);
      child.once('error', (e) => resolve({ kind: 'spawn-failed', message: e.message }));
      child.once('close', (code, signal) => {
        if (this.killTimer) clearTimeout(this.killTimer);
        // Like the executor's container teardown: nothing of the task outlives its leader.
        killGroup(this.pid, 'SIGKILL');
        resolve(code !== null ? { kind: 'exited', code } : { kind: 'signalled', signal: signal ?? 'SIGKILL' });
      });
    });
  }

  /** SIGTERM now, SIGKILL after `graceMs` (0: at once). Before the process exists: it never starts. */
  kill(graceMs: number): void {
    this.aborted = true;
    if (!this.child) return;
    if (graceMs <= 0) {
      killGroup(this.pid, 'SIGKILL');
      return;
    }
    killGroup(this.pid, 'SIGTERM');
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => killGroup(this.pid, 'SIGKILL'), graceMs);
  }

  /** Sends a signal from outside, as the kernel's OOM killer or an operator would. */
  signal(signal: NodeJS.Signals): void {
    killGroup(this.pid, signal);
  }
}
