import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { asyncScheduler } from 'rxjs';
import { MemoryLogger } from '@ebbtide/core';
import { describeResourceBackend } from '@ebbtide/core/testing';
import { LocalBackend } from '../src/LocalBackend.js';
import { FIXTURE, options } from './helpers.js';

/** An independent look at the machine: is a fixture process with this name argument alive? */
function fixtureAlive(name: string): boolean {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!argv.includes(FIXTURE) || !argv.includes(name)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return true;
    } catch {
      // The process ended while we looked.
    }
  }
  return false;
}

/** A pid no process has: one that just exited (and was reaped). */
function deadPid(): number {
  return Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }));
}

describeResourceBackend('LocalBackend', () => {
  // One state folder for the whole suite: backends made by create() must share the cluster's state.
  const shared = options('run');
  return {
    cluster: `contract${process.pid}`,
    // The worker's mode comes from its spec's scheduler field: `run` lives, `crash` exits 3.
    create: () => new LocalBackend({ ...shared, command: [process.execPath, FIXTURE, '{scheduler}', '{name}'] }, new MemoryLogger(), asyncScheduler),
    spec: (name) => ({ name, scheduler: 'run', nthreads: 1, memoryLimit: 0 }),
    failingSpec: (name) => ({ name, scheduler: 'crash', nthreads: 1, memoryLimit: 0 }),
    crash: async (backend) => (backend as LocalBackend).simulateCrash(deadPid()),
    isAlive: async (name) => fixtureAlive(name),
    waitMs: 10_000,
  };
});
