import type { ConfigSchemaSection, EbbtideConfig } from '@ebbtide/core';
import { parseDaskAddress } from './wire/parseDaskAddress.js';

/** The `scheduler.dask.*` config section. The address itself is core's `scheduler.address`. */
export const daskSchedulerSchema = {
  scheduler: {
    dask: {
      pollInterval: {
        doc: 'Time between two reads of the Dask scheduler state; 0 = adaptive.interval.',
        format: 'duration',
        default: 0,
      },
      maxPollInterval: {
        doc: 'Longest time between two reads while the Dask scheduler state stays unchanged: the wait doubles from pollInterval after each read that found nothing changed, and is back to pollInterval after one that did; 0 = 4 × pollInterval, equal to pollInterval = no back-off.',
        format: 'duration',
        default: 0,
      },
      timeout: {
        doc: 'Deadline to connect to the Dask scheduler and for each request to it.',
        format: 'positive-duration',
        default: '10s',
      },
      maxStartAttempts: {
        doc: 'Connection attempts at start before giving up (1 s doubling to 30 s between them); 0 = keep trying.',
        format: 'whole-number',
        default: 0,
      },
      claimTtl: {
        doc: 'How long the mark an ebbtide leaves on the scheduler (so a second ebbtide of the same cluster.name refuses to start) outlives its last renewal; renewed every third of it. A restart on the same host takes over at once when the old process is gone.',
        format: 'positive-duration',
        default: '30s',
      },
      retireTimeout: {
        doc: 'Deadline for retire_workers, which copies the unique results of the retiring workers first.',
        format: 'positive-duration',
        default: '5m',
      },
    },
  },
} satisfies ConfigSchemaSection;

/** Typed options of `DaskSchedulerAdapter`, injected as `PLUGIN_OPTIONS`. */
export interface DaskSchedulerOptions {
  /** Canonical `tcp://host:port` of the scheduler. */
  address: string;
  pollIntervalMs: number;
  /** The longest wait between two polls while nothing changes (back-off cap); at most pollIntervalMs = no back-off. */
  maxPollIntervalMs: number;
  /** Connect and per-request deadline. */
  timeoutMs: number;
  /** 0 = unlimited. */
  maxStartAttempts: number;
  retireTimeoutMs: number;
  /** How long the cluster mark outlives its last renewal. */
  claimTtlMs: number;
  /** Seconds per prefix before one is learned (core's `scheduler.defaultTaskDurations`). */
  defaultTaskDurations: Record<string, number>;
}

/** Default back-off cap, in poll intervals: a burst arriving on a quiet cluster is seen within this many. */
const BACKOFF_FACTOR = 4;

/** Polls at least this often when both intervals are 0 (the adaptive loop is off). */
const FALLBACK_POLL_SECONDS = 1;

/**
 * Derives the adapter options from the validated config.
 * @throws EbbtideError `CONFIG_INVALID` naming `scheduler.address` when it is empty or malformed.
 */
export function daskSchedulerOptions(config: EbbtideConfig): DaskSchedulerOptions {
  const section = (config.scheduler as { dask?: { pollInterval: number; maxPollInterval: number; timeout: number; maxStartAttempts: number; retireTimeout: number; claimTtl: number } }).dask;
  const { address } = parseDaskAddress(config.scheduler.address ?? '', 'scheduler.address');
  const poll = section?.pollInterval || config.adaptive.interval || FALLBACK_POLL_SECONDS;
  return {
    address,
    pollIntervalMs: poll * 1000,
    maxPollIntervalMs: (section?.maxPollInterval || BACKOFF_FACTOR * poll) * 1000,
    timeoutMs: (section?.timeout ?? 10) * 1000,
    maxStartAttempts: section?.maxStartAttempts ?? 0,
    retireTimeoutMs: (section?.retireTimeout ?? 300) * 1000,
    claimTtlMs: (section?.claimTtl ?? 30) * 1000,
    defaultTaskDurations: { ...(config.scheduler.defaultTaskDurations ?? {}) },
  };
}
