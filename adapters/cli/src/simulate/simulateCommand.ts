import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { EbbtideError, type EbbtidePlugin } from '@ebbtide/core';
import {
  type SimulationMetrics,
  type SimulationResult,
  TRACE_PROFILES,
  type Trace,
  type TraceProfile,
  generateTrace,
  readTrace,
  simulate,
  smallestStaticWithin,
} from '@ebbtide/simulator';
import type { CliIo } from '../io.js';
import { plotSvg } from './plotSvg.js';

export interface SimulateArgs {
  trace?: string;
  profile?: string;
  configs: string[];
  flags: Record<string, string>;
  plot?: string;
  json: boolean;
  seed?: number;
  duration?: number;
  plugins: EbbtidePlugin[];
  /** The roles' defaults (the command's built-in choices). */
  defaults?: Record<string, unknown>;
}

interface Row {
  name: string;
  kind: 'adaptive' | 'static-max' | 'static-smallest';
  size?: number;
  metrics: SimulationMetrics;
  endedBy: string;
  /** With pools: the pools' costs together (`cost` × worker-hours each). */
  cost?: number;
  /** With pools: each pool's worker-seconds, peak, cost, starts and guard activity. */
  pools?: SimulationResult['pools'];
  /** Ticks each of the cluster's own guard rails changed (absent when none did). */
  guards?: Record<string, number>;
}

/** A row for one run: the result's figures, and its pools, cost and guard activity when it has them. */
function rowOf(name: string, kind: Row['kind'], result: SimulationResult, size?: number): Row {
  return {
    name,
    kind,
    ...(size !== undefined ? { size } : {}),
    metrics: result.metrics,
    endedBy: result.endedBy,
    ...(result.cost !== undefined ? { cost: result.cost } : {}),
    ...(result.pools ? { pools: result.pools } : {}),
    ...(result.guards ? { guards: result.guards } : {}),
  };
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
/** `, cost 12.345` for a run with pools; nothing without. */
const costNote = (r: SimulationResult) => (r.cost !== undefined ? `, cost ${r3(r.cost).toFixed(3)}` : '');

function loadTrace(a: SimulateArgs): Trace {
  if (a.trace && a.profile) throw new EbbtideError('USAGE', 'simulate takes --trace FILE or --profile NAME, not both');
  if (a.trace) return readTrace(a.trace);
  const profile = a.profile ?? '';
  if (!(TRACE_PROFILES as readonly string[]).includes(profile)) {
    throw new EbbtideError('USAGE', `simulate needs --trace FILE or --profile NAME (${TRACE_PROFILES.join(', ')})${profile ? `, got --profile ${profile}` : ''}`);
  }
  return generateTrace(profile as TraceProfile, { seed: a.seed ?? 1, ...(a.duration ? { duration: a.duration } : {}) });
}

/**
 * The table: one line per run; with pools, a `cost` column (a config without pools is one pool
 * of cost 1) and, under a run with pools, one line per pool (its worker-seconds, peak, starts
 * and cost). Without pools it is exactly the table of before pools.
 */
function table(rows: Row[]): string {
  const pooled = rows.some((r) => r.pools);
  const head = ['config', 'worker-s', 'peak', 'mean wait', 'p95 wait', 'max wait', 'makespan', 'ups', 'downs', 'started', 'MB moved', 'lost', ...(pooled ? ['cost'] : [])];
  const body: string[][] = [];
  for (const r of rows) {
    body.push(runCells(r, pooled));
    for (const [pool, m] of Object.entries(r.pools ?? {})) {
      const cells = head.map(() => '');
      cells[0] = `  pool ${pool}`;
      cells[1] = r1(m.workerSeconds).toFixed(1);
      cells[2] = String(m.peak);
      cells[9] = m.refused ? `${m.started} (${m.refused} refused)` : String(m.started);
      cells[12] = r3(m.cost).toFixed(3);
      body.push(cells);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}

/** One run's cells; with `pooled`, its cost last (worker-hours at cost 1 for a run without pools). */
function runCells(r: Row, pooled: boolean): string[] {
  return [
    r.name,
    r1(r.metrics.workerSeconds).toFixed(1),
    String(r.metrics.peakWorkers),
    `${r3(r.metrics.meanWait).toFixed(3)}s`,
    `${r3(r.metrics.p95Wait).toFixed(3)}s`,
    `${r3(r.metrics.maxWait).toFixed(3)}s`,
    `${r1(r.metrics.makespan).toFixed(1)}s`,
    String(r.metrics.scaleUps),
    String(r.metrics.scaleDowns),
    String(r.metrics.workersStarted),
    (r.metrics.bytesMoved / 1e6).toFixed(1),
    String(r.metrics.resultsLost),
    ...(pooled ? [r3(r.cost ?? r.metrics.workerSeconds / 3600).toFixed(3)] : []),
  ];
}

/**
 * Guard-rail activity, one line per run where a rule changed any decision: how many ticks each
 * rule changed, the cluster's own first, then each pool's. Empty when no rule ever acted.
 */
function guardLines(rows: Row[]): string {
  const out: string[] = [];
  for (const r of rows) {
    const parts = Object.entries(r.guards ?? {}).map(([g, n]) => `${g} ${n}`);
    for (const [pool, m] of Object.entries(r.pools ?? {})) for (const [g, n] of Object.entries(m.guards ?? {})) parts.push(`pool ${pool} ${g} ${n}`);
    if (parts.length) out.push(`  ${r.name}: ${parts.join(', ')}`);
  }
  return out.length ? `\nguard rails (ticks each rule changed):\n${out.join('\n')}\n` : '';
}

/**
 * `ebbtide simulate`: replays one trace through each config (the real core, plugins and loop on a
 * virtual clock) and against two static clusters: one of the maximum size, and the smallest
 * whose p95 wait stays within 1.2x of it. Prints a table, or JSON with `--json`; `--plot`
 * draws demand, target and workers per config. A config with pools adds its cost and one line
 * per pool (JSON: `cost`, `pools`), and each run's guard-rail activity is listed under the table.
 */
export async function simulateCommand(io: CliIo, a: SimulateArgs): Promise<number> {
  const trace = loadTrace(a);
  const configs = a.configs.length ? a.configs : [undefined];
  const rows: Row[] = [];
  const panels: Array<{ title: string; series: SimulationResult['series'] }> = [];
  const progress = (msg: string) => {
    if (!a.json) io.stderr(`${msg}\n`);
  };
  progress(`trace ${trace.name}: ${trace.tasks.length} tasks over ${r1(trace.tasks.at(-1)?.t ?? 0)}s`);
  let first: { options: Parameters<typeof simulate>[0]; result: SimulationResult } | undefined;
  for (const file of configs) {
    const name = file ? basename(file) : 'default';
    const options = { trace, plugins: a.plugins, ...(a.defaults ? { defaults: a.defaults } : {}), sources: { ...(file ? { file } : {}), flags: a.flags, env: {} } };
    progress(`simulating ${name} ...`);
    const result = await simulate(options);
    first ??= { options, result };
    rows.push(rowOf(name, 'adaptive', result));
    panels.push({ title: `${name} — ${r1(result.metrics.workerSeconds)} worker-s${costNote(result)}, p95 wait ${r3(result.metrics.p95Wait)}s`, series: result.series });
  }
  if (first) {
    progress('simulating static clusters (maximum, then the smallest within 1.2x its p95 wait) ...');
    const maximum = first.result.settings.maximum === 'inf' ? Math.max(1, first.result.metrics.peakWorkers) : first.result.settings.maximum;
    const s = await smallestStaticWithin(first.options, { maximum, factor: 1.2 });
    rows.push(rowOf(`static ${s.reference.size} (maximum)`, 'static-max', s.reference.result, s.reference.size));
    rows.push(rowOf(`static ${s.size} (p95 within 1.2x)`, 'static-smallest', s.result, s.size));
    panels.push({ title: `static ${s.size} (smallest with p95 wait within 1.2x of static ${s.reference.size})${costNote(s.result)}`, series: s.result.series });
  }
  if (a.plot) {
    writeFileSync(a.plot, plotSvg(panels));
    progress(`plot written to ${a.plot}`);
  }
  if (a.json) {
    io.stdout(JSON.stringify({ trace: { name: trace.name, tasks: trace.tasks.length }, runs: rows }) + '\n');
  } else {
    io.stdout(table(rows) + guardLines(rows));
  }
  return rows.some((r) => r.metrics.resultsLost > 0) ? 1 : 0;
}
