import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeResourceBackend } from '@ebbtide/core/testing';
import type { MesosBackend } from '@ebbtide/backend-mesos';
import { deadPid, makeMesosBackend, mesosTestOptions } from '../support/mesos.js';

/**
 * Opt-in: the ResourceBackend contract against a real Mesos cluster. Runs only when
 * EBBTIDE_TEST_MESOS_URL names a master (e.g. http://mesos-master:5050), whose agents can run
 * /bin/sh and sleep; EBBTIDE_TEST_MESOS_ROLE (default "*") and EBBTIDE_TEST_MESOS_USER (default:
 * this user) pick the role and the user tasks run as. Every task it starts it kills, and the
 * framework is torn down after each case.
 *
 *   EBBTIDE_TEST_MESOS_URL=http://mesos-master:5050 npx mocha test/dist/e2e/mesosLive.test.js
 */
const url = process.env.EBBTIDE_TEST_MESOS_URL;
// Not registered at all without a cluster: there is nothing to run, and nothing to skip.
if (url) {
  // `$0` is the spec's scheduler field: "fail" exits 3 after a second, anything else sleeps.
  const command = ['/bin/sh', '-c', 'if [ "$0" = fail ]; then sleep 1; exit 3; fi; exec sleep 3600', '{scheduler}'];
  describeResourceBackend('MesosBackend (live cluster)', () => {
    const cluster = `ebbtide-live-${process.pid}`;
    const stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-mesos-live-'));
    const options = mesosTestOptions(url, stateDir, {
      cluster,
      command,
      cpus: 0.1,
      memoryMb: 32,
      role: process.env.EBBTIDE_TEST_MESOS_ROLE ?? '*',
      user: process.env.EBBTIDE_TEST_MESOS_USER ?? (process.env.USER || 'root'),
      pendingTimeout: 120,
    });
    return {
      cluster,
      create: () => makeMesosBackend(options),
      spec: (name) => ({ name, scheduler: 'sleep', nthreads: 1, memoryLimit: 0 }),
      failingSpec: (name) => ({ name, scheduler: 'fail', nthreads: 1, memoryLimit: 0 }),
      crash: async (b) => (b as MesosBackend).crashForTests(deadPid()),
      // The master's own view, not the backend's.
      isAlive: async (name) => {
        const r = await fetch(`${url.replace(/\/+$/, '')}/master/tasks?task_id=${encodeURIComponent(name)}&limit=100`);
        const tasks = ((await r.json()) as { tasks: Array<{ id: string; state: string }> }).tasks;
        return tasks.some((t) => t.id === name && ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE'].includes(t.state));
      },
      waitMs: 180_000,
    };
  });
}
