import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeResourceBackend } from '@ebbtide/core/testing';
import type { MesosBackend } from '@ebbtide/backend-mesos';
import { type TestMaster, deadPid, failingSpec, makeMesosBackend, mesosTestOptions, sleeperSpec, startTestMaster, taskAlive } from '../support/mesos.js';

describe('Mesos backend against the test master', function () {
  let tm: TestMaster;
  before(async () => {
    tm = await startTestMaster();
  });
  after(async () => {
    await tm?.stop();
  });

  describeResourceBackend('MesosBackend', () => {
    const cluster = `mc${process.pid}`;
    const stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-mesos-state-'));
    return {
      cluster,
      create: () => makeMesosBackend(mesosTestOptions(tm.master.url(), stateDir, { cluster })),
      spec: sleeperSpec,
      failingSpec,
      crash: async (b) => (b as MesosBackend).crashForTests(deadPid()),
      isAlive: async (name) => taskAlive(tm.master, name),
      waitMs: 30_000,
    };
  });
});
