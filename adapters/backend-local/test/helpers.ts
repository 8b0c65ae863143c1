import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncScheduler } from 'rxjs';
import { MemoryLogger } from '@ebbtide/core';
import { LocalBackend } from '../src/LocalBackend.js';
import type { LocalBackendOptions } from '../src/config.js';
import { isSameProcessAlive } from '../src/processInfo.js';

export const FIXTURE = fileURLToPath(new URL('../../test/fixtures/worker.mjs', import.meta.url));

/** Alive and not a zombie (an orphan's zombie lingers where nothing reaps it). */
export function alive(pid: number): boolean {
  return isSameProcessAlive(pid);
}

/** Polls a condition until it holds (each check is cheap; the wait ends on the condition, not a sleep). */
export async function until(cond: () => boolean, what = 'condition', ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function tempStateDir(): string {
  return mkdtempSync(join(tmpdir(), 'ebbtide-local-test-'));
}

export function options(mode: string, overrides: Partial<LocalBackendOptions> = {}): LocalBackendOptions {
  return {
    command: [process.execPath, FIXTURE, mode, '{name}', '{scheduler}', '{nthreads}', '{memoryLimit}'],
    gracePeriod: 0.3,
    env: {},
    cwd: '',
    stateDir: tempStateDir(),
    pollInterval: 0.05,
    ...overrides,
  };
}

export function make(mode: string, overrides: Partial<LocalBackendOptions> = {}) {
  const logger = new MemoryLogger();
  const backend = new LocalBackend(options(mode, overrides), logger, asyncScheduler);
  return { backend, logger };
}

/** What a worker wrote to its log file (stdout and stderr). */
export function logOf(backend: LocalBackend, name: string, dir?: string): string {
  const path = join(dir ?? backend.stateFile!.dir, `${name}.log`);
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
