import { EbbtideError, type HistoryEntry, type Kernel, decisionRule, formatDuration } from '@ebbtide/core';
import { type ClusterStatus, ControlClient, dashboardOptions, dashboardUrl, formatBytes, headline } from '@ebbtide/dashboard';
import type { CliIo } from '../io.js';

/** Decisions `ebbtide status` lists. */
const LAST_DECISIONS = 5;

/**
 * A client of the running ebbtide named by `--url`, else by the config's `dashboard.host` and
 * `dashboard.port` (and its `dashboard.token`).
 *
 * @throws EbbtideError `USAGE` when the config's port is 0 (any free port) and no `--url` is given.
 */
export function controlClient(kernel: Kernel, url: string | undefined): ControlClient {
  const dash = dashboardOptions(kernel.config);
  if (url === undefined) {
    if (dash.port === 0) {
      throw new EbbtideError('USAGE', 'dashboard.port is 0 (any free port), so the URL is not known here', { hint: 'pass --url with the URL `ebbtide up` printed (`dashboard at http://…`)' });
    }
    url = dashboardUrl(dash.host, dash.port);
  }
  return new ControlClient(url, dash.token);
}

const clock = (t: number | undefined) => (t === undefined ? '?' : new Date(t * 1000).toISOString().slice(11, 19));
const bound = (v: number | string) => (v === Infinity || v === 'inf' ? 'inf' : String(v));

/** One line per history entry: tick, time, what was decided, why. */
export function decisionLine(e: HistoryEntry): string {
  const r = e.decision;
  const rule = decisionRule(r);
  const failed = r.outcome?.status === 'failed' ? ` FAILED: ${r.outcome.error?.message ?? ''}` : '';
  const fold = e.count > 1 ? ` (×${e.count}, since tick ${e.id})` : '';
  return `#${e.tick} ${clock(r.time)}${r.mode === 'manual' ? ' [manual]' : ''} ${headline(r)}${rule ? ` — ${rule}` : ''}${failed}${fold}`;
}

/** The status as text: the repr, then one line per aspect, then the last decisions. */
export function formatStatusReport(s: ClusterStatus, decisions: HistoryEntry[]): string {
  const a = s.adaptive;
  const lines = [
    s.repr,
    `  mode        ${s.mode === 'manual' ? `manual: holding ${s.manual!.n} worker(s) (adaptive bounds kept: [${a.minimum}, ${bound(a.maximum)}])` : `adaptive within [${a.minimum}, ${bound(a.maximum)}]`}, waitCount ${a.waitCount}, every ${formatDuration(a.interval)}`,
    `  scheduler   ${s.scheduler.type}${s.scheduler.address ? ` at ${s.scheduler.address}` : ''}, ${s.scheduler.connected ? 'connected' : `BLIND since ${clock(s.blind?.since)} (${Math.round(s.blind?.seconds ?? 0)}s): nothing is scaled until it is back`}`,
    `  backend     ${s.backends.map((b) => `${b.type} (pool ${b.pool})`).join(', ')}${s.capacityLimited ? `, capacity-limited until ${clock(s.capacityLimited.until)}: ${s.capacityLimited.reason}` : ''}`,
    `  workers     ${s.workers} connected, ${s.requested.length} requested, ${s.plan.length} planned; ${s.threads} threads`,
    `  tasks       ${s.tasks.queued} queued, ${s.tasks.processing} processing, ${s.tasks.unrunnable} unrunnable`,
    `  memory      ${formatBytes(s.memory.used)} used of ${s.memory.limit ? formatBytes(s.memory.limit) : 'no limit'}`,
    `  uptime      ${formatDuration(Math.round(s.uptime))}, tick ${s.lastTick}, ebbtide ${s.version}`,
    decisions.length ? 'last decisions:' : 'no decision yet',
    ...decisions.map((e) => `  ${decisionLine(e)}`),
  ];
  return lines.join('\n') + '\n';
}

/**
 * `ebbtide status [--url URL] [--json]`: the running cluster's repr —
 * `EbbtideCluster(name, scheduler, workers=N, threads=T, memory=M)` — its scaling mode, and
 * the last decisions, read through the control API.
 */
export async function statusCommand(kernel: Kernel, io: CliIo, opts: { url?: string; json: boolean }): Promise<number> {
  const client = controlClient(kernel, opts.url);
  const status = await client.get<ClusterStatus>('/api/status');
  const history = await client.get<{ decisions: HistoryEntry[] }>('/api/decisions');
  const last = history.decisions.slice(-LAST_DECISIONS);
  if (opts.json) io.stdout(JSON.stringify({ status, decisions: last }, null, 2) + '\n');
  else io.stdout(formatStatusReport(status, last));
  return 0;
}
