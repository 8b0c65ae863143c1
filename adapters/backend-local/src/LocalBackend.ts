import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject, injectable } from 'tsyringe';
import { BehaviorSubject, type Observable, type SchedulerLike, timer } from 'rxjs';
import {
  type BackendWorkerStatus,
  EbbtideError,
  LOGGER,
  type Logger,
  PLUGIN_OPTIONS,
  RX_SCHEDULER,
  type ResourceBackend,
  type WorkerSpec,
  describeError,
} from '@ebbtide/core';
import type { LocalBackendOptions } from './config.js';
import { expandCommand } from './expandCommand.js';
import { findExecutable } from './findExecutable.js';

const TAIL_LINES = 20;

interface Proc {
  name: string;
  child: ChildProcess;
  pid?: number;
  status: BackendWorkerStatus;
  stopping: boolean;
  stderrTail: string[];
  exited: Promise<void>;
}

function appendTail(tail: string[], chunk: string): void {
  const lines = chunk.split('\n');
  if (tail.length && lines.length) tail[tail.length - 1] += lines.shift()!;
  tail.push(...lines);
  while (tail.length > TAIL_LINES) tail.shift();
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/**
 * `backend.type: local` — each worker is a process on this machine, in its own process group.
 *
 * - `start` spawns `backend.local.command` with the placeholders filled in; the worker is
 *   `pending` until the process has spawned, then `running`.
 * - `stop` sends SIGTERM to the group and SIGKILL after `gracePeriod`; once the leader exits the
 *   group is killed too, so no grandchild survives.
 * - A process that exits without being stopped is reported `exited` with `failed`, its exit code
 *   and the tail of its stderr; restarting it is the cluster's decision (with backoff).
 * - `close`, and the process `exit` hook as a last resort, stop every worker it started.
 */
@injectable()
export class LocalBackend implements ResourceBackend {
  private readonly procs = new Map<string, Proc>();
  private readonly subject = new BehaviorSubject<BackendWorkerStatus[]>([]);
  readonly status$: Observable<BackendWorkerStatus[]> = this.subject.asObservable();
  private readonly exitHook = () => {
    for (const p of this.procs.values()) killGroup(p.pid, 'SIGKILL');
  };
  private closed = false;

  constructor(
    @inject(PLUGIN_OPTIONS) private readonly options: LocalBackendOptions,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(RX_SCHEDULER) private readonly rx: SchedulerLike,
  ) {
    process.on('exit', this.exitHook);
  }

  /** Pids of live worker processes (leaders of their process groups). */
  get pids(): number[] {
    return [...this.procs.values()].filter((p) => p.status.phase !== 'exited' && p.pid).map((p) => p.pid!);
  }

  private publish(): void {
    const view = [...this.procs.values()].map((p) => ({ ...p.status }));
    // Exited workers are reported once, then forgotten, so a name can be started again.
    for (const p of [...this.procs.values()]) if (p.status.phase === 'exited') this.procs.delete(p.name);
    this.subject.next(view);
  }

  async start(specs: WorkerSpec[]): Promise<void> {
    if (this.closed) throw new EbbtideError('BACKEND_START_FAILED', 'local backend is closed');
    const here = dirname(fileURLToPath(import.meta.url));
    for (const spec of specs) {
      if (this.procs.has(spec.name)) {
        throw new EbbtideError('BACKEND_START_FAILED', `worker ${spec.name} is already running on the local backend`);
      }
      const [cmd, ...args] = expandCommand(this.options.command, spec);
      const exe = findExecutable(cmd!, [this.options.cwd || process.cwd(), here]);
      const child = spawn(exe, args, {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: this.options.cwd || undefined,
        env: { ...process.env, ...this.options.env, EBBTIDE_WORKER_NAME: spec.name },
      });
      let resolveExit!: () => void;
      const proc: Proc = {
        name: spec.name,
        child,
        status: { name: spec.name, phase: 'pending' },
        stopping: false,
        stderrTail: [],
        exited: new Promise<void>((r) => (resolveExit = r)),
      };
      if (child.pid !== undefined) proc.pid = child.pid;
      this.procs.set(spec.name, proc);
      child.stdout?.setEncoding('utf8').on('data', () => undefined);
      child.stderr?.setEncoding('utf8').on('data', (d: string) => appendTail(proc.stderrTail, d));
      child.once('spawn', () => {
        if (proc.status.phase === 'pending') {
          proc.status = { name: spec.name, phase: 'running' };
          this.logger.info({ event: 'worker.started', worker: spec.name, pid: child.pid }, 'worker process started');
          this.publish();
        }
      });
      let settled = false;
      const finish = (status: BackendWorkerStatus) => {
        if (settled) return;
        settled = true;
        killGroup(proc.pid, 'SIGKILL');
        proc.status = status;
        if (status.failed) {
          this.logger.error({ event: 'worker.exited', worker: spec.name, exitCode: status.exitCode, reason: status.reason }, 'worker process failed');
        } else {
          this.logger.info({ event: 'worker.exited', worker: spec.name, exitCode: status.exitCode }, 'worker process exited');
        }
        this.publish();
        resolveExit();
      };
      child.once('error', (e) => {
        finish({ name: spec.name, phase: 'exited', failed: true, exitCode: null, reason: `cannot start ${JSON.stringify(exe)}: ${describeError(e)}` });
      });
      child.once('close', (code, signal) => {
        const tail = proc.stderrTail.join('\n').trim();
        const how = code !== null ? `exit code ${code}` : `signal ${signal}`;
        const failed = !proc.stopping;
        finish({
          name: spec.name,
          phase: 'exited',
          failed,
          exitCode: code,
          reason: failed ? `exited unexpectedly with ${how}${tail ? `; stderr: ${tail.slice(-2000)}` : ''}` : `stopped (${how})`,
        });
      });
      this.publish();
    }
  }

  async stop(names: string[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const name of names) {
      const p = this.procs.get(name);
      if (!p || p.status.phase === 'exited') continue;
      if (!p.stopping) {
        p.stopping = true;
        p.status = { name, phase: 'stopping' };
        killGroup(p.pid, 'SIGTERM');
        const grace = timer(this.options.gracePeriod * 1000, this.rx).subscribe(() => {
          this.logger.warn({ event: 'worker.kill', worker: name, grace: this.options.gracePeriod }, 'worker ignored SIGTERM; sending SIGKILL');
          killGroup(p.pid, 'SIGKILL');
        });
        void p.exited.then(() => grace.unsubscribe());
      }
      waits.push(p.exited);
    }
    if (waits.length) this.publish();
    await Promise.all(waits);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop([...this.procs.keys()]);
    process.off('exit', this.exitHook);
    this.subject.complete();
  }
}
