import { spawn, spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import type { DaskVersion } from './dask.js';
import { ROOT } from './paths.js';

/** The Python package (`ebbtide`, EbbtideCluster) and its pytest suite. */
export const PYTHON_PACKAGE = join(ROOT, 'adapters', 'python');

export interface PytestRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr, interleaved as they came. */
  output: string;
  seconds: number;
}

/** Fails (for a `before` hook) with what to install unless `dask`'s Python can import pytest. */
export function requirePytest(dask: DaskVersion): void {
  if (spawnSync(dask.python, ['-c', 'import pytest'], { stdio: 'ignore' }).status === 0) return;
  const how = dask.label === '2022.12' ? 'apt-get install python3-pytest (.ci/run does)' : 'bash test/servers/dask/build-venv.sh (it adds pytest to the venv)';
  throw new Error(`pytest is not installed for ${dask.python} (Dask ${dask.label}): ${how}`);
}

/**
 * `python -m pytest adapters/python/tests` with `dask`'s Python: the package from its source
 * folder, this checkout's `ebbtide` first on PATH, no bytecode or cache files left in the tree.
 * Killed (its whole process group) after `timeoutMs`.
 */
export function runPytest(dask: DaskVersion, args: string[] = [], timeoutMs = 15 * 60_000): Promise<PytestRun> {
  const started = Date.now();
  const env = {
    ...process.env,
    PATH: [join(ROOT, 'node_modules', '.bin'), process.env['PATH'] ?? ''].join(delimiter),
    PYTHONPATH: [join(PYTHON_PACKAGE, 'src'), process.env['PYTHONPATH'] ?? ''].filter(Boolean).join(delimiter),
    PYTHONDONTWRITEBYTECODE: '1',
  };
  const child = spawn(dask.python, ['-m', 'pytest', 'tests', '-q', '-p', 'no:cacheprovider', ...args], {
    cwd: PYTHON_PACKAGE,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      /* gone */
    }
  };
  const timer = setTimeout(() => {
    output += `\n[killed after ${timeoutMs / 1000}s]\n`;
    kill('SIGTERM');
    setTimeout(() => kill('SIGKILL'), 10_000).unref();
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** pytest's closing line (`19 passed in 45.71s`, `1 failed, 18 passed in …`). */
export function pytestSummary(output: string): string | undefined {
  return output
    .split('\n')
    .map((l) => l.replace(/=/g, '').trim())
    .filter((l) => /^\d+ (passed|failed|error)/.test(l) || /\b\d+ (passed|failed)\b.* in [\d.]+s/.test(l))
    .at(-1);
}
