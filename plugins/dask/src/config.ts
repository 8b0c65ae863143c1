import type { ConfigOf, ConfigSchemaSection, EbbtideConfig } from '@ebbtide/core';

/** The `dask.*` config section. */
export const daskSchema = {
  dask: {
    memoryRatio: {
      doc: 'Also close workers while memory limit >= memoryRatio x stored bytes remains (Dask\'s workers_to_close memory_ratio, forwarded like Adaptive(**kwargs)); null = only the target decides.',
      format: 'positive-number-or-null',
      default: null,
      nullable: true,
    },
  },
} as const satisfies ConfigSchemaSection;

/**
 * What Dask's `adaptive_target` reads from its configuration: `distributed.adaptive.target-duration`,
 * `distributed.scheduler.unknown-task-duration` and `default-task-durations` — here the config keys
 * `adaptive.targetDuration`, `scheduler.unknownTaskDuration` and `scheduler.defaultTaskDurations`.
 */
export interface DaskHeuristicSettings {
  /** Seconds the queued and running work should take on the wanted cluster. */
  targetDuration: number;
  /** Seconds assumed for a task of a prefix with no learned duration. */
  unknownTaskDuration: number;
  /** Seconds per prefix used before a duration is learned. */
  defaultTaskDurations: Record<string, number>;
}

/** Dask's defaults: target-duration 5 s, unknown-task-duration 0.5 s, no per-prefix defaults. */
export const DASK_DEFAULT_SETTINGS: DaskHeuristicSettings = { targetDuration: 5, unknownTaskDuration: 0.5, defaultTaskDurations: {} };

export interface DaskOptions extends DaskHeuristicSettings {
  memoryRatio?: number;
}

export function daskOptions(config: EbbtideConfig): DaskOptions {
  const ratio = (config as unknown as ConfigOf<typeof daskSchema>).dask?.memoryRatio;
  return {
    targetDuration: config.adaptive.targetDuration,
    unknownTaskDuration: config.scheduler.unknownTaskDuration,
    defaultTaskDurations: { ...config.scheduler.defaultTaskDurations },
    ...(ratio === null || ratio === undefined ? {} : { memoryRatio: ratio }),
  };
}
