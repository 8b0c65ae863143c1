import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { EbbtideError } from '../errors.js';

/** Who holds a lock file: enough to tell whether that process is still alive. */
export interface LockHolder {
  pid: number;
  /** Start time of the holding process (clock ticks since boot), so a reused pid is not taken for it. */
  startTime?: number;
  host: string;
  /** Tells two holders in one process apart. */
  instance: string;
  /** Epoch milliseconds. */
  since: number;
}

/**
 * A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or `undefined`
 * where /proc is not available. With the pid it identifies a process: a pid reused by another
 * process after a crash has a different start time.
 */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is parenthesised and may hold spaces: split after its ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** True when a zombie or no process has this pid. */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** True when the process `pid` is alive and (when known) is the one that started at `startTime`. */
export function isSameProcessAlive(pid: number, startTime?: number): boolean {
  if (!(pid > 0) || gone(pid)) return false;
  if (startTime === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}

export interface LockFileOptions {
  /** What the lock guards, as the error names it: `cluster "x"`. */
  what: string;
  /** The error's hint when a live holder has it. */
  hint?: string;
}

/**
 * "One live ebbtide drives this" for backends whose resource manager has nothing to lock with:
 * a file created exclusively, holding its holder's pid, process start time and host. A lock
 * whose holder on this host is gone (or whose pid now belongs to another process) is taken
 * over; a holder on another host cannot be checked and counts as alive.
 */
export class LockFile {
  private owner?: LockHolder;

  constructor(
    readonly path: string,
    private readonly options: LockFileOptions,
  ) {}

  /** True while this instance holds the lock. */
  get held(): boolean {
    return this.owner !== undefined;
  }

  /** The holder written in the file, if it can be read. */
  holder(): LockHolder | undefined {
    try {
      const v = JSON.parse(readFileSync(this.path, 'utf8')) as LockHolder;
      return typeof v.pid === 'number' && typeof v.host === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * @param since epoch milliseconds written as the holder's `since`: a wall-clock stamp for the
   *   people reading a CLUSTER_LOCKED error, passed in because the core reads no clock itself.
   * @throws EbbtideError `CLUSTER_LOCKED` naming the live holder.
   */
  acquire(since: number): void {
    if (this.owner) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const startTime = processStartTime(process.pid);
    const me: LockHolder = { pid: process.pid, ...(startTime === undefined ? {} : { startTime }), host: hostname(), instance: randomUUID(), since };
    for (let attempt = 0; attempt < 3; attempt++) {
      let fd: number;
      try {
        fd = openSync(this.path, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = this.holder();
        if (!holder) continue; // a taker is between create and write: try again
        if (holder.host === me.host && !isSameProcessAlive(holder.pid, holder.startTime)) {
          // Its holder is gone: take it over. Renaming first makes two takers race safely.
          try {
            renameSync(this.path, `${this.path}.stale-${me.instance}`);
            rmSync(`${this.path}.stale-${me.instance}`, { force: true });
          } catch {
            // Another taker was first; try again.
          }
          continue;
        }
        throw new EbbtideError(
          'CLUSTER_LOCKED',
          `${this.options.what} is already driven by ebbtide pid ${holder.pid} on ${holder.host} (since ${new Date(holder.since).toISOString()}); lock file ${this.path}`,
          { hint: this.options.hint ?? 'stop that ebbtide first, or give this one another cluster.name', data: { holder } },
        );
      }
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      this.owner = me;
      return;
    }
    throw new EbbtideError('CLUSTER_LOCKED', `${this.options.what}: could not take the lock ${this.path} (another ebbtide is taking it at the same moment)`);
  }

  /**
   * For tests of a takeover: leaves the lock as a holder that died would, the file naming `pid`
   * (a process that is gone) and this instance no longer holding it.
   */
  forgeDeadHolder(pid: number): void {
    const holder = this.holder();
    if (holder) writeFileSync(this.path, JSON.stringify({ ...holder, pid, startTime: undefined }));
    this.owner = undefined;
  }

  /** Releases the lock if this instance holds it. */
  release(): void {
    if (!this.owner) return;
    if (this.holder()?.instance === this.owner.instance) rmSync(this.path, { force: true });
    this.owner = undefined;
  }
}
