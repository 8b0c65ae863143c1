import type { ConfigSchemaSection } from './schema.js';

/**
 * The core's configuration keys. Defaults of `adaptive.*` and `scheduler.unknownTaskDuration`
 * are Dask's (`distributed.adaptive.*`, `distributed.scheduler.unknown-task-duration`). The
 * selections (`heuristic`, `scheduler.type`, ...) have no default here: the core names no
 * implementation; the composition root (the `ebbtide` command) passes its defaults to the kernel.
 */
export const coreSchema = {
  adaptive: {
    interval: {
      doc: 'Time between two adaptive ticks (Dask: distributed.adaptive.interval). 0 disables the loop.',
      format: 'duration',
      default: '1s',
    },
    minimum: {
      doc: 'Fewest workers to keep, even with no work. Must not exceed adaptive.maximum.',
      format: 'whole-number',
      default: 0,
    },
    maximum: {
      doc: 'Most workers to run: a whole number or "inf".',
      format: 'count-or-inf',
      default: 'inf',
    },
    waitCount: {
      doc: 'Consecutive ticks a worker must be proposed for closing before it is retired (Dask: wait-count).',
      format: 'whole-number',
      default: 3,
    },
    targetDuration: {
      doc: 'How long the queued and running work should take on the wanted cluster (Dask: target-duration).',
      format: 'positive-duration',
      default: '5s',
    },
    earlyTick: {
      doc: 'Quicker reaction to a burst of work: when more tasks are queued, unrunnable or processing than the last tick saw, tick this long after the first of them instead of waiting for adaptive.interval, at most once per this duration. Such a tick only ever scales up: one that would not is dropped without a record, so adaptive.waitCount still counts interval ticks. Not used with pools or guard rails. 0 = off.',
      format: 'duration',
      default: '0s',
    },
    historyLength: {
      doc: 'Decisions kept in memory for the control API, the page and `ebbtide explain`; a run of ticks that changed nothing counts as one.',
      format: 'positive-integer',
      default: 1000,
    },
  },
  heuristic: {
    doc: 'Registered scaling heuristic that computes the target (see `ebbtide plugins`).',
    format: 'selection',
    default: '',
  },
  workersToClose: {
    doc: 'Registered strategy that picks which workers to retire.',
    format: 'selection',
    default: '',
  },
  workerKey: {
    doc: 'Worker grouping for retirement: none, host, or label:<name> (workers of a group close together).',
    format: 'selection',
    default: '',
  },
  scheduler: {
    type: {
      doc: 'Registered scheduler adapter: embedded, dask, or a plugin\'s.',
      format: 'selection',
      default: '',
    },
    address: {
      doc: 'Address of the scheduler to connect to (e.g. tcp://127.0.0.1:8786); empty for an embedded scheduler.',
      format: 'string',
      default: '',
    },
    unknownTaskDuration: {
      doc: 'Seconds assumed for a task whose prefix has no learned duration (Dask: unknown-task-duration).',
      format: 'positive-duration',
      default: '500ms',
    },
    defaultTaskDurations: {
      doc: 'Durations per task prefix used before one is learned (Dask: default-task-durations).',
      format: 'duration-map',
      default: {},
    },
  },
  backend: {
    type: {
      doc: 'Registered resource backend that starts and stops workers: local, kubernetes, yarn, mesos, or a plugin\'s.',
      format: 'selection',
      default: '',
    },
  },
  cluster: {
    name: {
      doc: 'The cluster\'s identity, which outlives any one ebbtide process: workers are named {name}-{counter}, and a restarted ebbtide adopts the workers of its cluster (from the backend and from the scheduler) before deciding anything. Two live ebbtides of one cluster on one scheduler or backend are refused (CLUSTER_LOCKED).',
      format: 'cluster-name',
      default: 'ebbtide',
    },
    workerStartTimeout: {
      doc: 'A requested worker that has not connected to the scheduler within this time is given up and stopped.',
      format: 'duration',
      default: '5m',
    },
    lostWorkerTimeout: {
      doc: 'A worker gone from the scheduler this long while still planned is stopped and relaunched by the next tick (Dask: lost-worker-timeout).',
      format: 'duration',
      default: '15s',
    },
    nthreads: {
      doc: 'Threads per worker the backend starts.',
      format: 'positive-integer',
      default: 1,
    },
    memoryLimit: {
      doc: 'Memory limit per worker the backend starts (bytes or "4GiB"). 0 = none, which also disables Dask\'s memory rule and keeps every idle worker while any result is stored (spec §3.7), so a real limit is the default.',
      format: 'bytes',
      default: '4GiB',
    },
  },
  shutdown: {
    workers: {
      doc: 'What a shutdown (SIGINT/SIGTERM) does with the workers: stop (retire each through the scheduler, then stop it) or keep (leave every worker running for the next ebbtide of this cluster to adopt, and exit at once). keep needs a scheduler that outlives ebbtide (not the embedded one).',
      format: 'shutdown-workers',
      default: 'stop',
    },
    timeout: {
      doc: 'With shutdown.workers: stop, how long to wait for results that cannot be moved off a worker to be released (or moved) before stopping it anyway; what is then lost is logged at WARN and makes the exit code 3.',
      format: 'duration',
      default: '30s',
    },
  },
  plugins: {
    doc: 'Extra plugin modules to load: npm package names or paths (relative to the config file).',
    format: 'string-list',
    default: [],
  },
  log: {
    level: {
      doc: 'Lowest level logged: debug, info, warn, error or silent.',
      format: 'log-level',
      default: 'info',
    },
    format: {
      doc: 'Log line format on stderr: pretty or json.',
      format: 'log-format',
      default: 'pretty',
    },
  },
} as const satisfies ConfigSchemaSection;
