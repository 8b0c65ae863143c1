import { MemoryLogger, type SchedulerEvent, SchedulerStateStore } from '@ebbtide/core';
import { EmbeddedScheduler } from '../../src/scheduler/EmbeddedScheduler.js';
import type { EmbeddedSchedulerOptions } from '../../src/scheduler/EmbeddedSchedulerOptions.js';
import { Client } from '../../src/client/Client.js';

/** A listening scheduler, a core state store fed by its events, and a connected client. */
export interface Harness {
  scheduler: EmbeddedScheduler;
  address: string;
  store: SchedulerStateStore;
  events: SchedulerEvent[];
  logger: MemoryLogger;
  client: Client;
  close(): Promise<void>;
}

/** Starts a scheduler on 127.0.0.1, any free port, with a fast heartbeat. */
export async function startHarness(options: Partial<EmbeddedSchedulerOptions> = {}): Promise<Harness> {
  const logger = new MemoryLogger('debug');
  const scheduler = new EmbeddedScheduler({ heartbeatInterval: 0.1, ...options }, { logger });
  const store = new SchedulerStateStore();
  const events: SchedulerEvent[] = [];
  scheduler.events$.subscribe((e) => {
    events.push(e);
    store.apply(e);
  });
  const address = await scheduler.listen();
  const client = await Client.connect(address);
  return {
    scheduler,
    address,
    store,
    events,
    logger,
    client,
    async close() {
      await client.close().catch(() => undefined);
      await scheduler.close();
    },
  };
}
