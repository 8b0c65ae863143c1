import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EbbtideError } from '@ebbtide/core';

/** Who drives the cluster. */
export interface LockOwner {
  pid: number;
  host: string;
  /** Tells two backends of one process apart. */
  instance: string;
  /** Epoch milliseconds. */
  since: number;
}

/** What is remembered of the cluster's framework. */
export interface FrameworkRecord {
  frameworkId: string;
  /** The master it was registered with (informational). */
  master: string;
  /** The scheduler address its workers connect to, when known: tasks of another one are not adopted. */
  scheduler?: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
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
  private owner?: LockOwner;

  constructor(
    stateDir: string,
    readonly cluster: string,
  ) {
    this.dir = join(stateDir, cluster);
    this.lockPath = join(this.dir, 'lock');
    this.recordPath = join(this.dir, 'framework.json');
  }

  get locked(): boolean {
    return this.owner !== undefined;
  }

  /** @throws EbbtideError `CLUSTER_LOCKED` naming the live holder. */
  lock(): void {
    if (this.owner) return;
    mkdirSync(this.dir, { recursive: true });
    const me: LockOwner = { pid: process.pid, host: hostname(), instance: randomUUID(), since: Date.now() };
    for (let attempt = 0; attempt < 3; attempt++) {
      let fd: number;
      try {
        fd = openSync(this.lockPath, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = this.readLock();
        if (!holder) continue; // being written by a taker right now
        if (holder.host === me.host && !pidAlive(holder.pid)) {
          // Its holder is gone: take it over; renaming first makes two takers race safely.
          try {
            renameSync(this.lockPath, `${this.lockPath}.stale-${me.instance}`);
            rmSync(`${this.lockPath}.stale-${me.instance}`, { force: true });
          } catch {
            // another taker was first
          }
          continue;
        }
        throw new EbbtideError(
          'CLUSTER_LOCKED',
          `cluster "${this.cluster}" is already driven by ebbtide pid ${holder.pid} on ${holder.host} (since ${new Date(holder.since).toISOString()}); lock file ${this.lockPath}`,
          { hint: 'stop that ebbtide first, or give this one another cluster.name' },
        );
      }
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      this.owner = me;
      return;
    }
    throw new EbbtideError('CLUSTER_LOCKED', `cluster "${this.cluster}": could not take the lock ${this.lockPath} (another ebbtide is taking it at the same moment)`);
  }

  private readLock(): LockOwner | undefined {
    try {
      const v = JSON.parse(readFileSync(this.lockPath, 'utf8')) as LockOwner;
      return typeof v.pid === 'number' && typeof v.host === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  }

  unlock(): void {
    if (!this.owner) return;
    if (this.readLock()?.instance === this.owner.instance) rmSync(this.lockPath, { force: true });
    this.owner = undefined;
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
    const holder = this.readLock();
    if (holder) writeFileSync(this.lockPath, JSON.stringify({ ...holder, pid }));
    this.owner = undefined;
  }
}
