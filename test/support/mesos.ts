import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { MemoryLogger, type WorkerSpec } from '@ebbtide/core';
import { MesosBackend, type MesosBackendOptions } from '@ebbtide/backend-mesos';
import { MesosMaster, type MesosMasterOptions, type SentEvent } from '../servers/mesos/index.js';
import { ROOT } from './paths.js';
import { alive } from './processes.js';

/**
 * A worker stand-in for Mesos tests, run by the test master as a real process: `node -e SCRIPT
 * {scheduler}`; with scheduler "fail" it exits with status 3 after 200 ms, otherwise it runs until
 * SIGTERM (and exits 0 on it).
 */
const SLEEPER = "const m=process.argv[1];if(m==='fail'){setTimeout(()=>process.exit(3),200)}else{process.on('SIGTERM',()=>process.exit(0));setInterval(()=>{},1e6)}";
export const SLEEPER_COMMAND = [process.execPath, '-e', SLEEPER, '{scheduler}'];

export function sleeperSpec(name: string): WorkerSpec {
  return { name, scheduler: 'sleep', nthreads: 1, memoryLimit: 256 * 2 ** 20 };
}

export function failingSpec(name: string): WorkerSpec {
  return { name, scheduler: 'fail', nthreads: 1, memoryLimit: 256 * 2 ** 20 };
}

export interface TestMaster {
  master: MesosMaster;
  dir: string;
  stop(): Promise<void>;
}

/** A started test master with fast cycles (heartbeat 1 s, offers every 100 ms, update re-sends after 1 s). */
export async function startTestMaster(options: Partial<MesosMasterOptions> = {}): Promise<TestMaster> {
  const dir = mkdtempSync(join(tmpdir(), 'ebbtide-mesos-'));
  const master = new MesosMaster({
    dir,
    agents: [{ cpus: 8, mem: 16384 }],
    heartbeatIntervalSeconds: 1,
    allocationIntervalMs: 100,
    updateRetryMs: 1000,
    defaultKillGraceMs: 2000,
    ...options,
  });
  await master.start();
  return {
    master,
    dir,
    async stop() {
      await master.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Backend options for tests: the sleeper command, a small kill grace and a per-test state folder. */
export function mesosTestOptions(master: string, stateDir: string, overrides: Partial<MesosBackendOptions> = {}): MesosBackendOptions {
  return {
    master,
    command: SLEEPER_COMMAND,
    env: {},
    cpus: 0.5,
    memoryMb: 256,
    role: '*',
    user: 'root',
    frameworkName: '',
    principal: '',
    secret: '',
    failoverTimeout: 3600,
    gracePeriod: 2,
    pendingTimeout: 60,
    stateDir,
    requestTimeout: 10,
    cluster: 'ebbtide',
    ...overrides,
  };
}

export function makeMesosBackend(options: MesosBackendOptions, logger = new MemoryLogger()): MesosBackend {
  return new MesosBackend(options, logger, asyncScheduler);
}

/** Whether a task of this name has a live process on the test master (the independent look). */
export function taskAlive(master: MesosMaster, name: string): boolean {
  return master.liveTasks().some((t) => t.id === name && t.proc?.pid !== undefined && alive(t.proc.pid));
}

/** Live task processes per task id (a duplicate would show as 2). */
export function liveTaskCounts(master: MesosMaster): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of master.liveTasks()) if (t.proc?.pid && alive(t.proc.pid)) m.set(t.id, (m.get(t.id) ?? 0) + 1);
  return m;
}

/** A pid that belonged to a process which has exited. */
export function deadPid(): number {
  return spawnSync('true').pid!;
}

/** Resolves at the first event the master sends that matches. */
export function nextSent(master: MesosMaster, match: (e: SentEvent) => boolean): Promise<SentEvent> {
  return new Promise((resolve) => {
    const on = (e: SentEvent) => {
      if (match(e)) {
        master.off('sent', on);
        resolve(e);
      }
    };
    master.on('sent', on);
  });
}

/** Builds (or reuses, cached) mesos-go's example-scheduler; returns its path. */
export function buildMesosGo(): string {
  const r = spawnSync('bash', [join(ROOT, 'test', 'servers', 'mesos', 'build-mesos-go.sh')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-mesos-go.sh failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim().split('\n').pop()!;
}
