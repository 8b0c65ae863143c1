import '@ebbtide/core';
import { asyncScheduler } from 'rxjs';
import { MemoryLogger } from '@ebbtide/core';
import { describeSchedulerAdapter } from '@ebbtide/core/testing';
import { EmbeddedSchedulerAdapter } from '../src/EmbeddedSchedulerAdapter.js';
import { DEFAULT_EMBEDDED_OPTIONS } from '../src/scheduler/EmbeddedSchedulerOptions.js';
import { killWorkers, spawnWorker } from './helpers/workers.js';

// Real worker processes (`ebbtide-worker`) connect to the embedded scheduler under test.
describeSchedulerAdapter('EmbeddedSchedulerAdapter', () => ({
  create: () => new EmbeddedSchedulerAdapter({ ...DEFAULT_EMBEDDED_OPTIONS, heartbeatInterval: 0.1 }, new MemoryLogger(), asyncScheduler),
  connectWorker: async (adapter, name) => {
    const w = await spawnWorker(adapter.address!, name);
    return async () => {
      try {
        process.kill(-w.pid, 'SIGKILL');
      } catch {
        // Gone already (retired workers exit by themselves).
      }
      await w.exited;
    };
  },
  cleanup: killWorkers,
  waitMs: 20_000,
}));
