import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidsMatching, until } from './processes.js';

/** Debian's Python, with `python3-distributed` 2022.12 (`.ci/run` installs it). */
export const PYTHON = '/usr/bin/python3';

/**
 * A Dask release the end-to-end suites run against: Debian's 2022.12, and today's `distributed`
 * from PyPI in the virtualenv `test/servers/dask/build-venv.sh` builds (`.ci/run` calls it).
 * Suites loop over `DASK_VERSIONS` and put the label in their titles.
 */
export interface DaskVersion {
  /** Release series: `2022.12`, `2026.8`. */
  readonly label: string;
  readonly python: string;
  /** What to run when it is missing. */
  readonly install: string;
}

/** Where build-venv.sh puts the venv (same override variable). */
const VENV = process.env['EBBTIDE_DASK_VENV'] ?? join(homedir(), '.cache', 'ebbtide', 'dask-venv', '2026.8');

export const DASK_2022: DaskVersion = { label: '2022.12', python: PYTHON, install: 'run .ci/run, or apt-get install python3-distributed' };
export const DASK_2026: DaskVersion = {
  label: '2026.8',
  python: join(VENV, 'bin', 'python'),
  install: `run .ci/run, or bash test/servers/dask/build-venv.sh (it builds the virtualenv ${VENV})`,
};
export const DASK_VERSIONS: readonly DaskVersion[] = [DASK_2022, DASK_2026];

/** True when Debian's Dask is importable by /usr/bin/python3 (`.ci/run` installs it). */
export function daskInstalled(): boolean {
  return spawnSync(PYTHON, ['-c', 'import distributed'], { stdio: 'ignore' }).status === 0;
}

/**
 * The `distributed` version of `dask`'s Python; fails (for a `before` hook) with what to install
 * unless it imports a `distributed` of its series.
 */
export function requireDask(dask: DaskVersion): string {
  const r = spawnSync(dask.python, ['-c', 'import distributed; print(distributed.__version__)'], { encoding: 'utf8' });
  const version = r.status === 0 ? r.stdout.trim() : undefined;
  if (version?.startsWith(dask.label + '.')) return version;
  const found = version ? `it has distributed ${version}` : r.error ? `${dask.python} does not exist` : 'it cannot import distributed';
  throw new Error(`Dask ${dask.label} is not installed for ${dask.python} (${found}): ${dask.install}`);
}

export interface DaskScheduler {
  address: string;
  port: number;
  process: ChildProcess;
  dir: string;
  /** Everything the scheduler logged so far. */
  log(): string;
  /** Kills the scheduler (SIGKILL to its group); `keepDir` leaves its folder for a restart. */
  stop(keepDir?: boolean): Promise<void>;
}

/**
 * Starts a real `dask scheduler` of release `dask` on 127.0.0.1: on a random port, or on `port`
 * (to restart one at the address its workers and ebbtide know).
 */
export async function startDaskScheduler(port = 0, dask: DaskVersion = DASK_2022): Promise<DaskScheduler> {
  const dir = mkdtempSync(join(tmpdir(), 'ebbtide-dask-'));
  const child = spawn(dask.python, ['-m', 'distributed.cli.dask_scheduler', '--host', '127.0.0.1', '--port', String(port), '--dashboard-address', '127.0.0.1:0', '--no-show'], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await until(() => /Scheduler at:\s+(tcp:\/\/\S+)/.test(log) || child.exitCode !== null, 30_000, 'the Dask scheduler to start');
  if (!/Scheduler at:\s+(tcp:\/\/\S+)/.test(log)) throw new Error(`the Dask scheduler did not start: ${log.slice(-2000)}`);
  const address = /Scheduler at:\s+(tcp:\/\/\S+)/.exec(log)![1]!;
  return {
    address,
    port: Number(/:(\d+)$/.exec(address)![1]),
    process: child,
    dir,
    log: () => log,
    async stop(keepDir = false) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      await exited;
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The `backend.local.command` that starts a real Dask worker (no nanny) of release `dask`, named by ebbtide. */
export function daskWorkerCommand(localDir: string, dask: DaskVersion = DASK_2022): string[] {
  return [
    dask.python,
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
  static start(script: string, address: string, dask: DaskVersion = DASK_2022): PythonClient {
    return new PythonClient(spawn(dask.python, [script, address], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] }));
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

/**
 * Pids of the real Dask worker processes of a scheduler: their command line is
 * `python3 -m distributed.cli.dask_worker ADDRESS …` (an `ebbtide up` whose config holds that
 * command as JSON does not match).
 */
export function daskWorkerPids(address: string): number[] {
  return pidsMatching(`-m distributed.cli.dask_worker ${address}`);
}

/**
 * Worker names in the order the scheduler logged their registration: 2022.12 logs
 * `Register worker <WorkerState 'tcp://…', name: N, …>`, newer releases
 * `Register worker addr: tcp://… name: N`.
 */
export function registeredNames(schedulerLog: string): string[] {
  return [...schedulerLog.matchAll(/Register worker (?:<WorkerState '[^']+', name: ([^,]+),|addr: \S+ name: (\S+))/g)].map((m) => (m[1] ?? m[2])!);
}

/** How many workers the scheduler refused for a duplicate name (same line in both releases). */
export function duplicateNameRefusals(schedulerLog: string): number {
  return (schedulerLog.match(/duplicate name/g) ?? []).length;
}
