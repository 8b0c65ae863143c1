import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './processes.js';

export const PYTHON = '/usr/bin/python3';

/** True when Debian's Dask is importable by /usr/bin/python3 (`.ci/run` installs it). */
export function daskInstalled(): boolean {
  return spawnSync(PYTHON, ['-c', 'import distributed'], { stdio: 'ignore' }).status === 0;
}

export interface DaskScheduler {
  address: string;
  process: ChildProcess;
  dir: string;
  stop(): Promise<void>;
}

/** Starts a real `dask scheduler` on 127.0.0.1 with a random port. */
export async function startDaskScheduler(): Promise<DaskScheduler> {
  const dir = mkdtempSync(join(tmpdir(), 'ebbtide-dask-'));
  const child = spawn(PYTHON, ['-m', 'distributed.cli.dask_scheduler', '--host', '127.0.0.1', '--port', '0', '--dashboard-address', '127.0.0.1:0', '--no-show'], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  await until(() => /Scheduler at:\s+(tcp:\/\/\S+)/.test(log), 30_000, 'the Dask scheduler to start');
  const address = /Scheduler at:\s+(tcp:\/\/\S+)/.exec(log)![1]!;
  return {
    address,
    process: child,
    dir,
    async stop() {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The `backend.local.command` that starts a real Dask worker (no nanny) named by ebbtide. */
export function daskWorkerCommand(localDir: string): string[] {
  return [
    PYTHON,
    '-m',
    'distributed.cli.dask_worker',
    '{scheduler}',
    '--name',
    '{name}',
    '--nthreads',
    '1',
    '--memory-limit',
    '{memoryLimit}',
    '--no-nanny',
    '--host',
    '127.0.0.1',
    '--no-dashboard',
    '--local-directory',
    localDir,
  ];
}

/** A line-oriented conversation with a Python client process. */
export class PythonClient {
  private out = '';
  constructor(readonly process: ChildProcess) {
    process.stdout!.on('data', (d) => (this.out += d));
    process.stderr!.on('data', () => undefined);
  }
  static start(script: string, address: string): PythonClient {
    return new PythonClient(spawn(PYTHON, [script, address], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] }));
  }
  /** Waits for a line starting with `prefix` that arrived after `from` characters of output. */
  async line(prefix: string, ms = 60_000): Promise<string> {
    let found: string | undefined;
    await until(
      () => {
        const lines = this.out.split('\n');
        const i = lines.findIndex((l) => l.startsWith(prefix));
        if (i < 0) return false;
        found = lines[i];
        this.out = lines.slice(i + 1).join('\n');
        return true;
      },
      ms,
      `client line "${prefix}"`,
    );
    return found!;
  }
  send(cmd: string): void {
    this.process.stdin!.write(cmd + '\n');
  }
  kill(): void {
    try {
      process.kill(-this.process.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
