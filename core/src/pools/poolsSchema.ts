import type { ConfigSchemaSection } from '../config/schema.js';

/**
 * The configuration keys of worker pools and guard rails (docs/pools.md, docs/guard-rails.md):
 * `pools`, `allocation` and the cluster's own rails under `adaptive.*`. Core keys, kept apart
 * from `coreSchema` so the core's own schema (and every test of it) reads as it did before pools;
 * the kernel merges both. Every default is a no-op: a config without these keys scales as Dask.
 */
export const poolsSchema = {
  adaptive: {
    scaleUp: {
      stabilizationWindow: {
        doc: 'Guard rail (docs/guard-rails.md): a scale-up of the cluster goes no higher than the lowest target of this last while (Kubernetes HPA stabilizationWindowSeconds). 0 = none.',
        format: 'duration',
        default: 0,
      },
      policies: {
        doc: 'Guard rail: how fast the cluster may grow, as [{ type: workers|percent, value, period }] (HPA scaling policies). Empty = no limit.',
        format: 'scaling-policies',
        default: [],
      },
      selectPolicy: {
        doc: 'With several scaleUp policies: max (the one allowing the most change), min (the least) or disabled (never scale up).',
        format: 'select-policy',
        default: 'max',
      },
      cooldown: {
        doc: 'Guard rail: no scale-up of the cluster for this long after its last change. 0 = none.',
        format: 'duration',
        default: 0,
      },
    },
    scaleDown: {
      stabilizationWindow: {
        doc: 'Guard rail: a scale-down of the cluster goes no lower than the highest target of this last while (HPA stabilizationWindowSeconds; the HPA defaults to 300s, ebbtide to 0: Dask\'s waitCount is the hysteresis). 0 = none.',
        format: 'duration',
        default: 0,
      },
      policies: {
        doc: 'Guard rail: how fast the cluster may shrink, as [{ type: workers|percent, value, period }] (HPA scaling policies). Empty = no limit.',
        format: 'scaling-policies',
        default: [],
      },
      selectPolicy: {
        doc: 'With several scaleDown policies: max (the one allowing the most change), min (the least) or disabled (never scale down).',
        format: 'select-policy',
        default: 'max',
      },
      cooldown: {
        doc: 'Guard rail: no scale-down of the cluster for this long after its last change. 0 = none.',
        format: 'duration',
        default: 0,
      },
    },
    blind: {
      policy: {
        doc: 'While the scheduler cannot be read: hold (change nothing) or scale-to (grow to adaptive.blind.workers; a cluster it cannot see is never shrunk) — KEDA\'s fallback. Pools without their own blind rule follow this one.',
        format: 'blind-policy',
        default: 'hold',
      },
      workers: {
        doc: 'With adaptive.blind.policy scale-to: the workers to have while blind.',
        format: 'whole-number',
        default: 0,
      },
      after: {
        doc: 'With scale-to: how long the scheduler must be unreadable before it applies.',
        format: 'duration',
        default: 0,
      },
    },
    schedule: {
      doc: 'Guard rail: cron windows that raise the cluster\'s minimum or lower its maximum, as [{ cron: "0 9 * * 1-5", duration: 8h, minimum: 4, maximum?, timezone: Europe/Berlin }] (KEDA\'s cron scaler; the time zone defaults to UTC).',
      format: 'schedule',
      default: [],
    },
  },
  allocation: {
    doc: 'Registered allocation that spreads the cluster\'s target over its pools (with pools only): cheapest-first, or a plugin\'s.',
    format: 'selection',
    default: '',
  },
  pools: {
    doc: 'Worker pools (docs/pools.md): [{ name, backend: { type, <type>: {...} }, minimum, maximum, cost, resources, labels, priority, nthreads, memoryLimit, scaleUp, scaleDown, blind, schedule }]. Their workers are named {cluster}-{pool}-{i}. Empty: backend with adaptive.minimum/maximum forms one pool, default, named {cluster}-{i}.',
    format: 'pools',
    default: [],
  },
} as const satisfies ConfigSchemaSection;
