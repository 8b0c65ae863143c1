import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LockFile, type LockHolder } from '@ebbtide/core/sdk';

/** Who drives the cluster. */
export type LockOwner = LockHolder;

/** What is remembered of the cluster's framework. */
export interface FrameworkRecord {
  frameworkId: string;
  /** The master it was registered with (informational). */
  master: string;
  /** The scheduler address its workers connect to, when known: tasks of another one are not adopted. */
  scheduler?: string;
}

/**
 * The Mesos backend's memory of one cluster, in `stateDir/<cluster>/`: `framework.json` (the
 * framework id, so a restarted ebbtide re-subscribes as the same framework and finds its tasks)
 * and `lock` (the live ebbtide driving it, created exclusively; a lock whose process is gone is
 * taken over). Writes go through a temporary file and a rename.
 */
export class FrameworkStateFile {
  readonly dir: string;
  readonly lockPath: string;
  private readonly recordPath: string;
  private readonly lockFile: LockFile;

  constructor(
    stateDir: string,
    readonly cluster: string,
  ) {
    this.dir = join(stateDir, cluster);
    this.lockPath = join(this.dir, 'lock');
    this.recordPath = join(this.dir, 'framework.json');
    this.lockFile = new LockFile(this.lockPath, { what: `cluster "${cluster}"` });
  }

  get locked(): boolean {
    return this.lockFile.held;
  }

  /** @throws EbbtideError `CLUSTER_LOCKED` naming the live holder. */
  lock(): void {
    this.lockFile.acquire(Date.now());
  }

  unlock(): void {
    this.lockFile.release();
  }

  read(): FrameworkRecord | undefined {
    try {
      const v = JSON.parse(readFileSync(this.recordPath, 'utf8')) as FrameworkRecord;
      return typeof v.frameworkId === 'string' && v.frameworkId ? v : undefined;
    } catch {
      return undefined;
    }
  }

  write(record: FrameworkRecord): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.recordPath}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(record, null, 1));
    renameSync(tmp, this.recordPath);
  }

  /** Forgets the framework (after TEARDOWN, or when the master removed it). */
  clear(): void {
    rmSync(this.recordPath, { force: true });
  }

  /** For tests of adoption: makes the lock look held by a process that died. */
  forgeDeadOwner(pid: number): void {
    this.lockFile.forgeDeadHolder(pid);
  }
}
