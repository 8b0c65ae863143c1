import {
  LOGGER,
  type Logger,
  PLUGIN_OPTIONS,
  RX_SCHEDULER,
  type RetireResult,
  type SchedulerAdapter,
  type SchedulerEvent,
  type SchedulerSnapshot,
} from '@ebbtide/core';
// After @ebbtide/core, which loads the reflect-metadata polyfill tsyringe needs.
import { inject, injectable } from 'tsyringe';
import type { Observable, SchedulerLike } from 'rxjs';
import { EmbeddedScheduler } from './scheduler/EmbeddedScheduler.js';
import type { EmbeddedSchedulerOptions } from './scheduler/EmbeddedSchedulerOptions.js';

/**
 * `scheduler.type: embedded` — hosts an `EmbeddedScheduler` in this process. `start()` listens;
 * workers are started with `ebbtide-worker --scheduler <address>`; `close()` closes every
 * connection and the workers exit by themselves.
 *
 * @example
 * ```ts
 * const adapter = new EmbeddedSchedulerAdapter({ ...DEFAULT_EMBEDDED_OPTIONS }, logger, asyncScheduler);
 * adapter.events$.subscribe((e) => store.apply(e));
 * await adapter.start();
 * console.log(adapter.address); // tcp://127.0.0.1:40123
 * ```
 */
@injectable()
export class EmbeddedSchedulerAdapter implements SchedulerAdapter {
  /** The scheduler itself, for in-process use (snapshots, debugging). */
  readonly scheduler: EmbeddedScheduler;
  /** `{ EBBTIDE_TOKEN }` when `scheduler.embedded.token` is set: every worker must present it. */
  readonly workerEnv?: Record<string, string>;

  constructor(
    @inject(PLUGIN_OPTIONS) options: Partial<EmbeddedSchedulerOptions>,
    @inject(LOGGER) logger: Logger,
    @inject(RX_SCHEDULER) rxScheduler: SchedulerLike,
  ) {
    this.scheduler = new EmbeddedScheduler(options, { logger, rxScheduler });
    if (options.token) this.workerEnv = { EBBTIDE_TOKEN: options.token };
  }

  /** See `EmbeddedScheduler.events$`: current state first, then live events. */
  get events$(): Observable<SchedulerEvent> {
    return this.scheduler.events$;
  }

  /** `tcp://127.0.0.1:PORT` once started. */
  get address(): string | undefined {
    return this.scheduler.address;
  }

  /**
   * Listens for workers and clients.
   *
   * @throws EbbtideError `SCHEDULER_UNREACHABLE` when the host/port cannot be bound.
   */
  async start(): Promise<void> {
    await this.scheduler.listen();
  }

  retire(names: string[]): Promise<RetireResult> {
    return this.scheduler.retire(names);
  }

  /** The state as the core sees it (for debugging). */
  snapshot(): SchedulerSnapshot {
    return this.scheduler.snapshot();
  }

  close(): Promise<void> {
    return this.scheduler.close();
  }
}
