import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Interface, createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { type DaskVersion, requireDask } from './daskVersions.js';

/** test/fixtures, from dist/test/helpers at run time. */
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

/** One started process; `kill()` kills its whole process group (it was started detached). */
export interface Started {
  pid: number;
  output(): string;
  kill(): void;
  exited: Promise<number | null>;
}

/**
 * Every process and temp dir a test file starts, so `after` hooks can kill exactly those (by
 * process group id) and nothing else. Its Python processes are all of one Dask release.
 */
export class ProcessRegistry {
  private readonly procs: Started[] = [];
  private readonly dirs: string[] = [];

  constructor(readonly dask: DaskVersion) {}

  track<T extends Started>(p: T): T {
    this.procs.push(p);
    return p;
  }

  tempDir(prefix: string): string {
    const d = mkdtempSync(join(tmpdir(), `ebbtide-dask-${prefix}-`));
    this.dirs.push(d);
    return d;
  }

  async killAll(): Promise<void> {
    const ps = this.procs.splice(0);
    for (const p of ps) p.kill();
    await Promise.all(ps.map((p) => Promise.race([p.exited, new Promise((r) => setTimeout(r, 3000))])));
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

function startDetached(dask: DaskVersion, args: string[], cwd?: string): { child: ChildProcess; started: Started; lines: Interface } {
  // A missing release fails here, in the setup, saying what to install.
  requireDask(dask);
  const child = spawn(dask.python, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started: Started = {
    pid: child.pid!,
    output: () => out,
    kill: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
    exited,
  };
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const lines = createInterface({ input: child.stderr! });
  lines.on('line', (l) => (out += l + '\n'));
  return { child, started, lines };
}

/** Resolves with the first match of `re` in the process's stderr, or rejects after `ms` or on exit. */
function waitForLine(p: { started: Started; lines: Interface }, re: RegExp, what: string, ms = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const rl = p.lines;
    const timer = setTimeout(() => finish(new Error(`${what}: no line matching ${re} within ${ms} ms; output:\n${p.started.output()}`)), ms);
    const onLine = (l: string) => {
      const m = re.exec(l);
      if (m) finish(undefined, m);
    };
    const onExit = (code: number | null) => finish(new Error(`${what} exited with ${code} before printing ${re}; output:\n${p.started.output()}`));
    void p.started.exited.then(onExit);
    rl.on('line', onLine);
    function finish(err?: Error, m?: RegExpExecArray) {
      clearTimeout(timer);
      rl.off('line', onLine);
      if (err) reject(err);
      else resolve(m!);
    }
  });
}

export interface SchedulerProcess extends Started {
  address: string;
  port: number;
}

/** Starts `dask-scheduler` on 127.0.0.1 (port 0 = any free port) and waits for its address. */
export async function startScheduler(reg: ProcessRegistry, port = 0): Promise<SchedulerProcess> {
  const dir = reg.tempDir('scheduler');
  const p = startDetached(
    reg.dask,
    ['-m', 'distributed.cli.dask_scheduler', '--host', '127.0.0.1', '--port', String(port), '--dashboard-address', '127.0.0.1:0', '--no-show'],
    dir,
  );
  reg.track(p.started);
  const m = await waitForLine(p, /Scheduler at:\s+(tcp:\/\/127\.0\.0\.1:(\d+))/, 'dask-scheduler');
  return { ...p.started, address: m[1]!, port: Number(m[2]) };
}

export interface WorkerProcess extends Started {
  name: string;
  address: string;
}

/** Starts a worker without a nanny (one process) and waits until it registered. */
export async function startWorker(reg: ProcessRegistry, scheduler: string, name: string, nthreads = 1, extra: readonly string[] = []): Promise<WorkerProcess> {
  const dir = reg.tempDir(name);
  const p = startDetached(
    reg.dask,
    [
      '-m', 'distributed.cli.dask_worker', scheduler, '--name', name, '--nthreads', String(nthreads), '--no-nanny',
      '--host', '127.0.0.1', '--dashboard-address', '127.0.0.1:0', '--local-directory', dir, ...extra,
    ],
    dir,
  );
  reg.track(p.started);
  const at = waitForLine(p, /Start worker at:\s+(tcp:\/\/\S+)/, `dask-worker ${name}`);
  at.catch(() => undefined);
  await waitForLine(p, /Registered to:/, `dask-worker ${name}`);
  return { ...p.started, name, address: (await at)[1]! };
}

/** A real Python `distributed.Client` running test/fixtures/dask_client.py, driven line by line. */
export class PythonClient {
  private constructor(
    private readonly p: Started,
    private readonly child: ChildProcess,
    private readonly replies: AsyncIterator<string>,
  ) {}

  static async start(reg: ProcessRegistry, scheduler: string): Promise<PythonClient> {
    const { child, started } = startDetached(reg.dask, [join(FIXTURES, 'dask_client.py'), scheduler]);
    reg.track(started);
    const rl = createInterface({ input: child.stdout! });
    const client = new PythonClient(started, child, rl[Symbol.asyncIterator]());
    const hello = await client.next(30_000);
    if (!hello['ready']) throw new Error(`python client did not start: ${JSON.stringify(hello)}`);
    return client;
  }

  /** Sends one command; resolves with its reply, rejects if the client reports an error. */
  async request(cmd: Record<string, unknown>, ms = 30_000): Promise<Record<string, unknown>> {
    this.child.stdin!.write(JSON.stringify(cmd) + '\n');
    const reply = await this.next(ms);
    if (!reply['ok']) throw new Error(`python client failed ${JSON.stringify(cmd)}: ${String(reply['error'])}`);
    return reply;
  }

  kill(): void {
    this.p.kill();
  }

  private async next(ms: number): Promise<Record<string, unknown>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`python client gave no reply within ${ms} ms; output:\n${this.p.output()}`)), ms);
    });
    try {
      const r = await Promise.race([this.replies.next(), timeout]);
      if (r.done) throw new Error(`python client exited; output:\n${this.p.output()}`);
      return JSON.parse(r.value) as Record<string, unknown>;
    } finally {
      clearTimeout(timer);
    }
  }
}
