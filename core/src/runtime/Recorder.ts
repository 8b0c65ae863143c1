import type { Subscription } from 'rxjs';
import type { DecisionRecord } from '../DecisionRecord.js';
import type { SchedulerEvent } from '../contracts/SchedulerEvent.js';
import { schemaLeaves } from '../config/schema.js';
import type { Autoscaler } from './Autoscaler.js';

/** Version of the recording format; bumped on any incompatible change. */
export const RECORDING_VERSION = 1;

export interface RecordingHeader {
  type: 'header';
  format: 'ebbtide-recording';
  version: typeof RECORDING_VERSION;
  /** Start on the autoscaler's clock (wall time in production), ISO 8601. */
  startedAt: string;
  /** The effective configuration, sensitive values replaced by "[sensitive]". */
  config: Record<string, unknown>;
}

/** One line after the header: `t` is seconds since the recording started. */
export type RecordingLine = { t: number; event: SchedulerEvent } | { t: number; decision: DecisionRecord };

function sanitizedConfig(auto: Autoscaler): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(auto.kernel.config, (_k, v) => (v === Infinity ? 'inf' : v))) as Record<string, unknown>;
  for (const [path, leaf] of schemaLeaves(auto.kernel.loaded.schema)) {
    if (!leaf.sensitive) continue;
    const parts = path.split('.');
    let node = copy;
    for (const p of parts.slice(0, -1)) node = (node[p] ?? {}) as Record<string, unknown>;
    if (parts.at(-1)! in node) node[parts.at(-1)!] = '[sensitive]';
  }
  return copy;
}

/**
 * Writes a recording of a running autoscaler: a header line, then every scheduler event and
 * every decision record as JSON lines with `t` on the autoscaler's clock. `ebbtide simulate
 * --trace` replays such a file. Returns the subscription; unsubscribe to stop recording.
 */
export function record(auto: Autoscaler, write: (line: string) => void): Subscription {
  const rx = auto.kernel.rxScheduler;
  const t0 = rx.now();
  const t = () => Math.round(rx.now() - t0) / 1000;
  const header: RecordingHeader = {
    type: 'header',
    format: 'ebbtide-recording',
    version: RECORDING_VERSION,
    startedAt: new Date(t0).toISOString(),
    config: sanitizedConfig(auto),
  };
  write(JSON.stringify(header));
  const sub = auto.scheduler.events$.subscribe((event) => write(JSON.stringify({ t: t(), event })));
  sub.add(auto.decisions$.subscribe((decision) => write(JSON.stringify({ t: t(), decision }, (_k, v) => (v === Infinity ? 'inf' : v)))));
  return sub;
}
