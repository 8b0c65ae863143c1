import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isAlive, waitFor } from './waitFor.js';

/** The worker bin, as a backend would run it: `node bin/ebbtide-worker.js ...`. */
export const WORKER_BIN = fileURLToPath(new URL('../../../bin/ebbtide-worker.js', import.meta.url));

/** Absolute path of a test fixture module (plain ESM in test/fixtures). */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));
}

/** A worker process started by a test. */
export interface SpawnedWorker {
  name: string;
  pid: number;
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/** Every process started through `spawnWorker`, so `killWorkers` can clean up after a test. */
const started: SpawnedWorker[] = [];

/** Starts `ebbtide-worker` in its own process group without waiting for it. */
export function spawnWorkerProcess(args: string[], name = '?', env?: Record<string, string>): SpawnedWorker {
  const child = spawn(process.execPath, [WORKER_BIN, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) });
  const w: SpawnedWorker = {
    name,
    pid: child.pid!,
    child,
    stdout: [],
    stderr: [],
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1))),
  };
  const lines = (into: string[]) => (chunk: Buffer) => into.push(...String(chunk).split('\n').filter(Boolean));
  child.stdout!.on('data', lines(w.stdout));
  child.stderr!.on('data', lines(w.stderr));
  started.push(w);
  return w;
}

/** Starts a worker and waits for its ready line. */
export async function spawnWorker(address: string, name: string, nthreads = 1, extra: string[] = [], env?: Record<string, string>): Promise<SpawnedWorker> {
  const w = spawnWorkerProcess(['--scheduler', address, '--name', name, '--nthreads', String(nthreads), ...extra], name, env);
  let exitedEarly: number | string | undefined;
  void w.exited.then((c) => (exitedEarly = c));
  await waitFor(`ready line of worker ${name}`, () => {
    if (exitedEarly !== undefined) throw new Error(`worker ${name} exited with ${exitedEarly}: ${w.stderr.join('\n')}`);
    return w.stdout.some((l) => l.startsWith('ebbtide-worker ready'));
  });
  return w;
}

/** Kills (SIGKILL, whole process group) every worker a test started that is still alive. */
export async function killWorkers(): Promise<void> {
  const alive = started.splice(0).filter((w) => isAlive(w.pid));
  for (const w of alive) {
    try {
      process.kill(-w.pid, 'SIGKILL');
    } catch {
      // Already gone between the check and the kill.
    }
  }
  await Promise.all(alive.map((w) => w.exited));
}
