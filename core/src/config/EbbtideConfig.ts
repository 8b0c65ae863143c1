import type { LogLevel } from '../logging/Logger.js';

/** The validated configuration with typed values: durations in seconds, `"inf"` as `Infinity`. */
export interface EbbtideConfig {
  adaptive: {
    interval: number;
    minimum: number;
    maximum: number;
    waitCount: number;
    targetDuration: number;
  };
  heuristic: string;
  workersToClose: string;
  workerKey: string;
  scheduler: {
    type: string;
    address: string;
    unknownTaskDuration: number;
    defaultTaskDurations: Record<string, number>;
    [section: string]: unknown;
  };
  backend: { type: string; [section: string]: unknown };
  cluster: {
    name: string;
    workerStartTimeout: number;
    lostWorkerTimeout: number;
    nthreads: number;
    memoryLimit: number;
  };
  shutdown: { workers: 'stop' | 'keep'; timeout: number };
  plugins: string[];
  log: { level: LogLevel; format: 'pretty' | 'json' };
  /** Sections contributed by plugins. */
  [section: string]: unknown;
}
