import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LockFile, type LockHolder, isSameProcessAlive } from '@ebbtide/core/sdk';

/** One worker process as the state file remembers it. */
export interface WorkerRecord {
  name: string;
  pid: number;
  /** `processStartTime(pid)` when it was spawned, so a reused pid is not mistaken for it. */
  startTime?: number;
  /** Epoch milliseconds. */
  startedAt: number;
  /** File the worker's stdout and stderr go to. */
  log: string;
}

/** Who holds the cluster. */
export type LockOwner = LockHolder;

interface StateFile {
  version: 1;
  cluster: string;
  workers: WorkerRecord[];
}

/**
 * The local backend's memory of one cluster, in `stateDir/<cluster>/`: `lock` (the live ebbtide
 * that drives it) and `state.json` (every worker process it started, with pid and start time), so
 * an ebbtide started after a crash can find, signal and adopt processes it did not spawn.
 *
 * The lock is a file created exclusively; a lock whose owner process is gone (crash, kill -9) is
 * taken over. Writes of `state.json` go through a temporary file and a rename, so a crash never
 * leaves half a file.
 */
export class ClusterStateFile {
  readonly dir: string;
  private readonly lockFile: LockFile;
  private readonly statePath: string;

  /**
   * @param folder the cluster's folder name under `stateDir` (default: `dirName(cluster, scheduler)`).
   */
  constructor(
    readonly stateDir: string,
    readonly cluster: string,
    readonly scheduler?: string,
    folder = ClusterStateFile.dirName(cluster, scheduler),
  ) {
    this.dir = join(stateDir, folder);
    this.lockFile = new LockFile(join(this.dir, 'lock'), { what: `cluster "${cluster}"` });
    this.statePath = join(this.dir, 'state.json');
  }

  /** `cluster`, or `cluster@scheduler` with the address made safe for a file name. */
  static dirName(cluster: string, scheduler?: string): string {
    return scheduler ? `${cluster}@${scheduler.replace(/[^A-Za-z0-9.-]+/g, '_')}` : cluster;
  }

  /**
   * Removes this cluster's folder once nothing is left in it to adopt (no live worker, lock
   * released), so short-lived clusters (an embedded scheduler on a random port) leave nothing.
   */
  removeIfEmpty(): void {
    if (this.lockFile.held) return;
    if (this.readWorkers().some((w) => isSameProcessAlive(w.pid, w.startTime))) return;
    if (this.readLock()) return;
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Removes the folders of this cluster name on other schedulers that an ebbtide killed before it
   * could clean up left behind: no live lock holder and no live worker.
   */
  sweepSiblings(): void {
    let names: string[];
    try {
      names = readdirSync(this.stateDir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.startsWith(`${this.cluster}@`) || join(this.stateDir, name) === this.dir) continue;
      const other = new ClusterStateFile(this.stateDir, this.cluster, undefined, name);
      const holder = other.readLock();
      if (holder && (holder.host !== hostname() || isSameProcessAlive(holder.pid, holder.startTime))) continue;
      if (other.readWorkers().some((w) => isSameProcessAlive(w.pid, w.startTime))) continue;
      rmSync(other.dir, { recursive: true, force: true });
    }
  }

  /** Log file for a worker. */
  logPath(name: string): string {
    return join(this.dir, `${name}.log`);
  }

  get locked(): boolean {
    return this.lockFile.held;
  }

  /**
   * Takes the cluster's lock.
   * @throws EbbtideError `CLUSTER_LOCKED` naming the live holder.
   */
  lock(): void {
    this.lockFile.acquire(Date.now());
  }

  private readLock(): LockOwner | undefined {
    return this.lockFile.holder();
  }

  /** Releases the lock if this instance holds it. */
  unlock(): void {
    this.lockFile.release();
  }

  /** The workers recorded for the cluster (empty when there is no state file yet). */
  readWorkers(): WorkerRecord[] {
    try {
      const v = JSON.parse(readFileSync(this.statePath, 'utf8')) as StateFile;
      return Array.isArray(v.workers) ? v.workers.filter((w) => typeof w.name === 'string' && typeof w.pid === 'number') : [];
    } catch {
      return [];
    }
  }

  writeWorkers(workers: WorkerRecord[]): void {
    mkdirSync(this.dir, { recursive: true });
    const body: StateFile = { version: 1, cluster: this.cluster, workers };
    const tmp = `${this.statePath}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(body, null, 1));
    renameSync(tmp, this.statePath);
  }

  /** For tests: makes the lock look held by a process that died. */
  forgeDeadOwner(pid: number): void {
    this.lockFile.forgeDeadHolder(pid);
  }
}
