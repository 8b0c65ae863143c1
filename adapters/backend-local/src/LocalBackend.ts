import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject, injectable } from 'tsyringe';
import { Observable, type SchedulerLike, Subject, type Subscription, interval, timer } from 'rxjs';
import {
  type AdoptOptions,
  type BackendWorkerStatus,
  type CloseOptions,
  EbbtideError,
  LOGGER,
  type Logger,
  PLUGIN_OPTIONS,
  RX_SCHEDULER,
  type ResourceBackend,
  type StopOptions,
  type WorkerSpec,
  describeError,
} from '@ebbtide/core';
import { ClusterStateFile, type WorkerRecord } from './ClusterStateFile.js';
import type { LocalBackendOptions } from './config.js';
import { expandCommand } from './expandCommand.js';
import { findExecutable } from './findExecutable.js';
import { isSameProcessAlive, killGroup, processStartTime } from './processInfo.js';

/** Bytes of a worker's log read back for an unexpected exit's reason. */
const TAIL_BYTES = 2000;
/** Most bytes read back for `logs` (the tail of a long log). */
const LOGS_MAX_BYTES = 1 << 20;
/** A worker name, never a path: what `logs` accepts (names come from HTTP requests). */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

interface Proc {
  record: WorkerRecord;
  /** Set for processes this backend spawned; adopted ones are watched by polling their pid. */
  child?: ChildProcess;
  status: BackendWorkerStatus;
  stopping: boolean;
  exited: Promise<void>;
  finish(status: BackendWorkerStatus): void;
}

function tailOf(path: string, bytes = TAIL_BYTES): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const len = Math.min(size, bytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8').trim();
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * `backend.type: local` — each worker is a process on this machine, in its own process group.
 *
 * - `start` spawns `backend.local.command` with the placeholders filled in, every worker of the
 *   call in one pass (it waits for none to spawn or connect: their start-ups overlap); the
 *   cluster state file is written once per call. A worker is `pending` until its process has
 *   spawned, then `running` (the workers of one call that spawned together in one change). Its stdout and stderr go to a log
 *   file (not a pipe), so a worker outlives an ebbtide that is killed.
 * - Every worker's pid and start time are kept in the cluster's state file under
 *   `backend.local.stateDir`, with a lock naming the live ebbtide: `adopt` takes the lock (a lock
 *   whose process died is taken over) and picks up the processes an earlier ebbtide left, which
 *   are then watched by polling their pid.
 * - `stop` sends SIGTERM to the group and SIGKILL after `gracePeriod`; once the leader exits the
 *   group is killed too, so no grandchild survives.
 * - A process that exits without being stopped is reported `exited` with `failed`, its exit code
 *   and the tail of its log; restarting it is the cluster's decision (with backoff).
 * - `close` stops every worker (adopted ones too), or with `keep` leaves them running for the
 *   next ebbtide; the process `exit` hook kills what is left as a last resort, unless kept.
 */
@injectable()
export class LocalBackend implements ResourceBackend {
  private readonly procs = new Map<string, Proc>();
  private readonly changes = new Subject<BackendWorkerStatus[]>();
  /** Replays the current view to each new subscriber, then every change. */
  readonly status$: Observable<BackendWorkerStatus[]>;
  private readonly exitHook = () => {
    for (const p of this.procs.values()) killGroup(p.record.pid, 'SIGKILL');
  };
  private state?: ClusterStateFile;
  private poll?: Subscription;
  private closed = false;

  constructor(
    @inject(PLUGIN_OPTIONS) private readonly options: LocalBackendOptions,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(RX_SCHEDULER) private readonly rx: SchedulerLike,
  ) {
    this.status$ = new Observable<BackendWorkerStatus[]>((sub) => {
      sub.next([...this.procs.values()].map((p) => ({ ...p.status })));
      return this.changes.subscribe(sub);
    });
    process.on('exit', this.exitHook);
  }

  /** Pids of live worker processes (leaders of their process groups). */
  get pids(): number[] {
    return [...this.procs.values()].filter((p) => p.status.phase !== 'exited').map((p) => p.record.pid);
  }

  /** The cluster's state file (after `adopt`). */
  get stateFile(): ClusterStateFile | undefined {
    return this.state;
  }

  /**
   * Reports status changes. `save: false` when no record changed (a pending worker now running:
   * its pid and start time were saved when it was spawned).
   */
  private publish(changed: Proc[], save = true): void {
    const view = changed.map((p) => ({ ...p.status }));
    // Exited workers are reported once, then forgotten, so a name can be started again.
    for (const p of changed) if (p.status.phase === 'exited' && this.procs.get(p.record.name) === p) this.procs.delete(p.record.name);
    if (save) this.saveState();
    this.changes.next(view);
  }

  /** Workers that spawned since the last report: a batch of starts becomes running in one change. */
  private spawned: Proc[] = [];

  private noteSpawned(proc: Proc): void {
    // Node emits 'spawn' from its tick queue: a batch's spawns all come before this microtask.
    if (this.spawned.push(proc) > 1) return;
    queueMicrotask(() => {
      const batch = this.spawned.filter((p) => p.status.phase === 'running' && this.procs.get(p.record.name) === p);
      this.spawned = [];
      if (batch.length) this.publish(batch, false);
    });
  }

  private saveState(): void {
    if (!this.state || this.closed) return;
    try {
      this.state.writeWorkers([...this.procs.values()].filter((p) => p.status.phase !== 'exited').map((p) => p.record));
    } catch (e) {
      this.logger.warn({ event: 'state.write-failed', dir: this.state.dir, error: describeError(e) }, 'cannot write the cluster state file');
    }
  }

  /** Where worker logs go when no cluster was adopted (a backend used on its own, in tests). */
  private scratch?: string;
  private scratchDir(): string {
    return (this.scratch ??= mkdtempSync(join(tmpdir(), 'ebbtide-local-')));
  }

  private clusterState(cluster: string, scheduler?: string): ClusterStateFile {
    if (this.state && (this.state.cluster !== cluster || this.state.scheduler !== scheduler)) {
      throw new EbbtideError('BACKEND_START_FAILED', `local backend already serves cluster "${this.state.cluster}", not "${cluster}"`);
    }
    this.state ??= new ClusterStateFile(this.options.stateDir, cluster, scheduler);
    return this.state;
  }

  async adopt(options: AdoptOptions): Promise<BackendWorkerStatus[]> {
    const state = this.clusterState(options.cluster, options.scheduler);
    state.lock();
    state.sweepSiblings();
    const found: Proc[] = [];
    for (const rec of state.readWorkers()) {
      if (this.procs.has(rec.name) || !isSameProcessAlive(rec.pid, rec.startTime)) continue;
      const proc = this.track(rec, undefined);
      proc.status = { name: rec.name, phase: 'running' };
      found.push(proc);
      this.logger.info({ event: 'worker.adopted', worker: rec.name, pid: rec.pid }, 'adopted a running worker process');
    }
    this.saveState();
    if (found.length) this.watchAdopted();
    return found.map((p) => ({ ...p.status }));
  }

  /** Processes we did not spawn give no exit event: look at their pids on the injected clock. */
  private watchAdopted(): void {
    if (this.poll) return;
    this.poll = interval(this.options.pollInterval * 1000, this.rx).subscribe(() => {
      let adopted = 0;
      for (const p of [...this.procs.values()]) {
        if (p.child || p.status.phase === 'exited') continue;
        adopted++;
        if (!isSameProcessAlive(p.record.pid, p.record.startTime)) {
          const tail = tailOf(p.record.log);
          p.finish(
            p.stopping
              ? { name: p.record.name, phase: 'exited', failed: false, exitCode: null, reason: 'stopped' }
              : { name: p.record.name, phase: 'exited', failed: true, exitCode: null, reason: `adopted worker exited unexpectedly${tail ? `; log: ${tail}` : ''}` },
          );
        }
      }
      if (adopted === 0) {
        this.poll?.unsubscribe();
        this.poll = undefined;
      }
    });
  }

  private track(record: WorkerRecord, child: ChildProcess | undefined): Proc {
    let resolveExit!: () => void;
    let settled = false;
    const proc: Proc = {
      record,
      status: { name: record.name, phase: 'pending' },
      stopping: false,
      exited: new Promise<void>((r) => (resolveExit = r)),
      finish: (status) => {
        if (settled) return;
        settled = true;
        killGroup(record.pid, 'SIGKILL');
        proc.status = status;
        if (status.failed) {
          this.logger.error({ event: 'worker.exited', worker: record.name, exitCode: status.exitCode, reason: status.reason }, 'worker process failed');
        } else {
          this.logger.info({ event: 'worker.exited', worker: record.name, exitCode: status.exitCode }, 'worker process exited');
        }
        this.publish([proc]);
        resolveExit();
      },
    };
    if (child) proc.child = child;
    this.procs.set(record.name, proc);
    return proc;
  }

  async start(specs: WorkerSpec[]): Promise<void> {
    if (this.closed) throw new EbbtideError('BACKEND_START_FAILED', 'local backend is closed');
    const here = dirname(fileURLToPath(import.meta.url));
    const state = this.state;
    const started: Proc[] = [];
    for (const spec of specs) {
      // Starting a name that is already alive is a no-op: a retried start never duplicates.
      if (this.procs.has(spec.name)) continue;
      const [cmd, ...args] = expandCommand(this.options.command, spec);
      const exe = findExecutable(cmd!, [this.options.cwd || process.cwd(), here]);
      const log = join(state ? state.dir : this.scratchDir(), `${spec.name}.log`);
      const out = openSync(log, 'w');
      let child: ChildProcess;
      try {
        child = spawn(exe, args, {
          detached: true,
          stdio: ['ignore', out, out],
          cwd: this.options.cwd || undefined,
          env: { ...process.env, ...this.options.env, ...spec.env, EBBTIDE_WORKER_NAME: spec.name },
        });
      } finally {
        closeSync(out);
      }
      const pid = child.pid ?? 0;
      const startTime = pid ? processStartTime(pid) : undefined;
      const record: WorkerRecord = { name: spec.name, pid, startedAt: Date.now(), log, ...(startTime !== undefined ? { startTime } : {}) };
      const proc = this.track(record, child);
      started.push(proc);
      child.once('spawn', () => {
        if (proc.status.phase === 'pending') {
          proc.status = { name: spec.name, phase: 'running' };
          this.logger.info({ event: 'worker.started', worker: spec.name, pid: child.pid }, 'worker process started');
          this.noteSpawned(proc);
        }
      });
      child.once('error', (e) => {
        proc.finish({ name: spec.name, phase: 'exited', failed: true, exitCode: null, reason: `cannot start ${JSON.stringify(exe)}: ${describeError(e)}` });
      });
      child.once('exit', (code, signal) => {
        const how = code !== null ? `exit code ${code}` : `signal ${signal}`;
        const failed = !proc.stopping;
        const tail = failed ? tailOf(log) : '';
        proc.finish({
          name: spec.name,
          phase: 'exited',
          failed,
          exitCode: code,
          reason: failed ? `exited unexpectedly with ${how}${tail ? `; output: ${tail}` : ''}` : `stopped (${how})`,
        });
      });
      // The worker must not keep ebbtide alive, nor die with it.
      child.unref();
    }
    if (started.length) this.publish(started);
  }

  /**
   * Stops workers: SIGTERM to the group, SIGKILL after `gracePeriod`. Workers the scheduler has
   * retired (`retired`) are already closing on its request: they get `gracePeriod` to exit on
   * their own before the SIGTERM, since a signal during a worker's own close can wedge it.
   */
  async stop(names: string[], options: StopOptions = {}): Promise<void> {
    const waits: Promise<void>[] = [];
    const changed: Proc[] = [];
    const grace = this.options.gracePeriod * 1000;
    for (const name of names) {
      const p = this.procs.get(name);
      if (!p || p.status.phase === 'exited') continue;
      if (!p.stopping) {
        p.stopping = true;
        p.status = { name, phase: 'stopping' };
        changed.push(p);
        const terminate = () => {
          killGroup(p.record.pid, 'SIGTERM');
          return timer(grace, this.rx).subscribe(() => {
            this.logger.warn({ event: 'worker.kill', worker: name, grace: this.options.gracePeriod }, 'worker ignored SIGTERM; sending SIGKILL');
            killGroup(p.record.pid, 'SIGKILL');
          });
        };
        let pending: Subscription;
        if (options.retired) {
          pending = timer(grace, this.rx).subscribe(() => {
            this.logger.warn({ event: 'worker.term', worker: name, grace: this.options.gracePeriod }, 'retired worker did not exit by itself; sending SIGTERM');
            pending.add(terminate());
          });
        } else {
          pending = terminate();
        }
        void p.exited.then(() => pending.unsubscribe());
        if (!p.child) this.watchAdopted();
      }
      waits.push(p.exited);
    }
    if (changed.length) this.publish(changed);
    await Promise.all(waits);
  }

  /**
   * The last \`lines\` lines (default 200) of a worker's output (its log file gets both stdout
   * and stderr), read from at most the last MiB of the file; \`''\` for a name with no log.
   */
  async logs(name: string, lines = 200): Promise<string> {
    if (!SAFE_NAME.test(name)) return '';
    const known = this.procs.get(name)?.record.log;
    const dir = this.state?.dir ?? this.scratch;
    const path = known ?? (dir ? join(dir, `${name}.log`) : undefined);
    if (!path) return '';
    const text = tailOf(path, LOGS_MAX_BYTES);
    if (!text) return '';
    return text.split('\n').slice(-Math.max(1, lines)).join('\n') + '\n';
  }

  /** Stops watching and writing, leaving every worker running and recorded. */
  private detach(): void {
    this.saveState();
    this.closed = true;
    process.off('exit', this.exitHook);
    this.poll?.unsubscribe();
    for (const p of this.procs.values()) p.child?.removeAllListeners();
    this.procs.clear();
  }

  /**
   * For tests of adoption: leaves this backend as a `kill -9` of its process would — workers
   * running, state file and lock left behind, the lock's pid rewritten to `deadPid`.
   */
  simulateCrash(deadPid: number): void {
    this.detach();
    this.state?.forgeDeadOwner(deadPid);
    this.changes.complete();
  }

  async close(options: CloseOptions = {}): Promise<void> {
    if (options.keep) {
      // Leave every worker running and recorded for the next ebbtide to adopt.
      this.detach();
    } else {
      await this.stop([...this.procs.keys()]);
      this.saveState();
      this.closed = true;
      process.off('exit', this.exitHook);
      this.poll?.unsubscribe();
    }
    this.state?.unlock();
    if (!options.keep) this.state?.removeIfEmpty();
    if (this.scratch && !options.keep) rmSync(this.scratch, { recursive: true, force: true });
    this.changes.complete();
  }
}
