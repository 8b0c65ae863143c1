import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { YarnBackendOptions } from '@ebbtide/backend-yarn';
import { ROOT } from './paths.js';

/** A running real YARN (test/servers/yarn): one RM with the Services API, one NodeManager. */
export interface YarnServer {
  /** The RM web address, `http://127.0.0.1:PORT`. */
  url: string;
  dir: string;
  /** Milliseconds from spawning start.mjs to its ready line. */
  startMs: number;
  proc: ChildProcess;
  /** SIGTERM, wait for the JVM and every container to be gone, remove the folder. */
  stop(): Promise<void>;
}

export const YARN_START = join(ROOT, 'test', 'servers', 'yarn', 'start.mjs');

let shared: Promise<YarnServer> | undefined;

/**
 * One YARN harness for every test file of a mocha run (each start costs tens of seconds and two
 * JVMs); files keep apart by cluster name. A root `after` hook stops it once every file has run.
 */
export function sharedYarn(): Promise<YarnServer> {
  shared ??= startYarn();
  return shared;
}

if (typeof globalThis.after === 'function') {
  after(async function () {
    this.timeout(120_000);
    if (!shared) return;
    const y = await shared.catch(() => undefined);
    shared = undefined;
    await y?.stop();
  });
}

/**
 * Starts the YARN harness and resolves on its `ready YARN_RM=` line. A cold first run builds it
 * with Maven (minutes); later runs start in seconds.
 */
export async function startYarn(args: string[] = [], timeoutMs = 900_000): Promise<YarnServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ebbtide-yarn-'));
  const t0 = Date.now();
  const proc = spawn(process.execPath, [YARN_START, '--dir', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`YARN harness not ready within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /ready YARN_RM=(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`YARN harness exited (${code}) before it was ready; stderr: ${stderr}`));
    });
  });
  const startMs = Date.now() - t0;
  return {
    url,
    dir,
    startMs,
    proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pids of processes whose environment has `key=value` (worker containers carry their name and the run's marker). */
export function pidsWithEnv(pairs: Record<string, string>): number[] {
  const want = Object.entries(pairs).map(([k, v]) => `${k}=${v}`);
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let env: string[];
    try {
      env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (want.every((w) => env.includes(w))) {
      // Zombies keep their environ until reaped: not alive.
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      } catch {
        continue;
      }
      out.push(Number(entry));
    }
  }
  return out;
}

/**
 * Live processes whose environment has `key=value`, each with its command line and the
 * `CONTAINER_ID` YARN put in its environment: a container runs a few processes (the launch
 * script's shells, then the worker), so duplicates are counted by container, not by process.
 */
export function processesWithEnv(pairs: Record<string, string>): Array<{ pid: number; container: string | undefined; cmd: string }> {
  const out: Array<{ pid: number; container: string | undefined; cmd: string }> = [];
  for (const pid of pidsWithEnv(pairs)) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid, container: env.find((e) => e.startsWith('CONTAINER_ID='))?.slice('CONTAINER_ID='.length), cmd });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** GET a path of the RM's own REST API (an independent look, not through the backend). */
export async function rmGet<T = unknown>(url: string, path: string, user = 'ebbtide'): Promise<{ status: number; body: T }> {
  const sep = path.includes('?') ? '&' : '?';
  const res = await fetch(`${url}${path}${sep}user.name=${encodeURIComponent(user)}`, { headers: { accept: 'application/json' } });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body: body as T };
}

export const TEST_YARN_USER = 'ebbtide';

/** A worker command for tests: sleeps until stopped; a spec whose scheduler is "fail" exits 3 after a second. */
export const SLEEPER = ['bash', '-c', 'if [ "$0" = fail ]; then sleep 1; exit 3; fi; exec sleep 3600', '{scheduler}'];

/** Backend options for tests against the harness: fast polling, 128 MiB sleeper containers. */
export function testYarnOptions(url: string | string[], stateDir: string, extra: Partial<YarnBackendOptions> = {}): YarnBackendOptions {
  return {
    resourceManagers: Array.isArray(url) ? url : [url],
    user: TEST_YARN_USER,
    queue: 'default',
    serviceName: '',
    command: SLEEPER,
    cpus: 1,
    memory: 128 * 1024 * 1024,
    lifetime: 0,
    env: {},
    pollInterval: 0.3,
    pendingTimeout: 120,
    relaunchGrace: 60,
    requestTimeout: 20,
    stateDir,
    ...extra,
  };
}
