import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, openSync } from 'node:fs';

/** One control-plane program running as a child process, its output in a log file. */
export class Daemon {
  private readonly child: ChildProcess;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    exe: string,
    args: string[],
    readonly logFile: string,
  ) {
    const fd = openSync(logFile, 'a');
    this.child = spawn(exe, args, { stdio: ['ignore', fd, fd], env: { ...process.env } });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
      this.child.once('error', (e) => {
        createWriteStream(logFile, { flags: 'a' }).end(`spawn failed: ${String(e)}\n`);
        this.exitInfo = { code: null, signal: null };
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Why it is not running, or undefined while it is. */
  get exitReason(): string | undefined {
    if (!this.exitInfo) return undefined;
    return this.exitInfo.signal ? `killed by ${this.exitInfo.signal}` : `exit code ${this.exitInfo.code}`;
  }

  /** SIGKILL now, synchronously (for a process `exit` hook). */
  killNow(): void {
    if (!this.exitInfo) this.child.kill('SIGKILL');
  }

  /** SIGTERM, SIGKILL after `graceMs`; resolves once it is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exitInfo) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** Resolves when `probe` returns true; rejects when `daemon` exits first or after `ms`. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, daemons: Daemon[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let delay = 50;
  for (;;) {
    for (const d of daemons) {
      if (d.exitReason) throw new Error(`${d.name} exited (${d.exitReason}) while waiting for ${what}; see ${d.logFile}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    const gone = Promise.race(daemons.map((d) => d.exited));
    await Promise.race([new Promise((r) => setTimeout(r, delay)), gone]);
    delay = Math.min(delay * 2, 500);
  }
}
