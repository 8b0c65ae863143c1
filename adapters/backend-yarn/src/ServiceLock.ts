import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EbbtideError } from '@ebbtide/core';

export interface LockHolder {
  pid: number;
  /** Start time of the holding process (clock ticks since boot), so a reused pid is not taken for it. */
  startTime?: number;
  host: string;
  /** Distinguishes two backends in one process. */
  instance: string;
  /** Epoch milliseconds. */
  since: number;
}

function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

function alive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true; // cannot check another machine's process: assume live
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = startTimeOf(holder.pid);
  return holder.startTime === undefined || now === undefined || now === holder.startTime;
}

/**
 * One live ebbtide per YARN service: a lock file in `stateDir/<rm>/<user>/<service>/lock`. YARN
 * has nothing to lock with through its REST API, so the lock covers ebbtides that share this
 * machine's state folder (the usual case: one host runs ebbtide for a cluster). A lock whose
 * process is gone is taken over.
 */
export class ServiceLock {
  private readonly path: string;
  private readonly me: LockHolder;
  private held = false;

  constructor(stateDir: string, rm: string, user: string, service: string) {
    const safe = (s: string) => s.replace(/[^A-Za-z0-9.-]+/g, '_');
    const dir = join(stateDir, safe(rm), safe(user), safe(service));
    this.path = join(dir, 'lock');
    const st = startTimeOf(process.pid);
    this.me = { pid: process.pid, ...(st === undefined ? {} : { startTime: st }), host: hostname(), instance: randomUUID(), since: Date.now() };
  }

  get file(): string {
    return this.path;
  }

  read(): LockHolder | undefined {
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as LockHolder;
    } catch {
      return undefined;
    }
  }

  /** @throws EbbtideError `CLUSTER_LOCKED` while another live ebbtide holds the service. */
  acquire(what: string): void {
    if (this.held) return;
    mkdirSync(join(this.path, '..'), { recursive: true });
    const holder = this.read();
    if (holder && holder.instance !== this.me.instance && alive(holder)) {
      throw new EbbtideError(
        'CLUSTER_LOCKED',
        `${what} is driven by another ebbtide (pid ${holder.pid} on ${holder.host}, since ${new Date(holder.since).toISOString()})`,
        { hint: `stop that ebbtide first; if it is gone from another machine, remove ${this.path}`, data: { holder } },
      );
    }
    const tmp = `${this.path}.${this.me.instance}`;
    writeFileSync(tmp, JSON.stringify(this.me));
    renameSync(tmp, this.path);
    // Two takers racing: the rename that landed last wins; the other sees it and backs off.
    if (this.read()?.instance !== this.me.instance) {
      throw new EbbtideError('CLUSTER_LOCKED', `${what} was just taken by another ebbtide`, { data: { holder: this.read() } });
    }
    this.held = true;
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    if (this.read()?.instance === this.me.instance) rmSync(this.path, { force: true });
  }
}
