import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DecisionRecord } from '@ebbtide/core';
import { builtinDefaults, builtinPlugins } from '@ebbtide/cli';
import { type Trace, simulate } from '@ebbtide/simulator';
import { ROOT } from '../support/paths.js';
import { runCli } from '../support/runCli.js';

/**
 * `ebbtide simulate` over worker pools (docs/pools.md): docs/examples/spill-over.yaml — a cheap
 * pool behind a simulated quota and an expensive burst pool — on a short trace that needs more
 * workers than the quota holds. Everything asserted is read from the run's own output (JSON,
 * table, SVG, decision records), never copied from an earlier run.
 */

const EXAMPLE = join(ROOT, 'docs', 'examples', 'spill-over.yaml');

/** Two bursts that each need far more than the cheap pool's 20 workers, an idle gap between. */
function twoBursts(): Trace {
  const tasks = [];
  for (const [at, n] of [
    [1, 300],
    [400, 200],
  ] as const) {
    for (let i = 0; i < n; i++) tasks.push({ t: at, key: `crunch-${at}-${i}`, prefix: 'crunch', duration: 8, nbytes: 0, holdFor: 0 });
  }
  return { version: 1, name: 'two-bursts', tasks };
}

interface PoolFigures {
  workerSeconds: number;
  peak: number;
  cost: number;
  started: number;
  refused: number;
  guards?: Record<string, number>;
}
interface Run {
  name: string;
  kind: string;
  metrics: Record<string, number>;
  cost?: number;
  pools?: Record<string, PoolFigures>;
}

/** The cheap pool's simulated quota, read from the example itself. */
function cheapCapacity(): number {
  const m = /cheap:\s*\n\s*capacity:\s*(\d+)/.exec(readFileSync(EXAMPLE, 'utf8'));
  expect(m, 'simulator.pools.cheap.capacity in the example').to.not.equal(null);
  return Number(m![1]);
}

describe('ebbtide simulate with pools', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'ebbtide-simpools-'));
  const traceFile = join(dir, 'two-bursts.json');
  writeFileSync(traceFile, JSON.stringify(twoBursts()));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports each pool and the total cost; the burst pool takes what the cheap pool cannot hold', async () => {
    const r = await runCli(['simulate', '--trace', traceFile, '-c', EXAMPLE, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as { runs: Run[] };
    const capacity = cheapCapacity();
    const costs = { cheap: 1, burst: 4 };
    for (const run of out.runs) {
      expect(run.pools, run.name).to.have.keys('cheap', 'burst');
      const pools = run.pools!;
      // cost = Σ cost × worker-hours, and the pools' worker-seconds are the run's.
      const sum = Object.entries(pools).reduce((n, [name, p]) => n + (costs[name as keyof typeof costs] * p.workerSeconds) / 3600, 0);
      expect(run.cost, run.name).to.be.closeTo(sum, 0.002);
      for (const [name, p] of Object.entries(pools)) expect(p.cost, `${run.name} ${name}`).to.be.closeTo((costs[name as keyof typeof costs] * p.workerSeconds) / 3600, 0.001);
      expect(pools.cheap!.workerSeconds + pools.burst!.workerSeconds, run.name).to.be.closeTo(run.metrics.workerSeconds!, 0.002);
      expect(pools.cheap!.peak, run.name).to.be.at.most(capacity);
      expect(run.metrics.resultsLost).to.equal(0);
    }
    // The adaptive run: the cheap pool filled to its quota, was refused beyond it (capacity-limited),
    // and the demand spilled over to the burst pool.
    const adaptive = out.runs[0]!;
    expect(adaptive.kind).to.equal('adaptive');
    const { cheap, burst } = adaptive.pools!;
    expect(cheap!.peak).to.equal(capacity);
    expect(cheap!.refused).to.be.greaterThan(0);
    expect(cheap!.guards?.capacity, 'ticks the capacity hold changed').to.be.greaterThan(0);
    expect(burst!.workerSeconds).to.be.greaterThan(0);
    expect(burst!.peak).to.be.greaterThan(0);
  });

  it('shows the pools in the table and one colour per pool in the plot', async () => {
    const plot = join(dir, 'pools.svg');
    const r = await runCli(['simulate', '--trace', traceFile, '-c', EXAMPLE, '--plot', plot]);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).to.match(/^config\s+worker-s\s+peak\s+mean wait\s+p95 wait\s+max wait\s+makespan\s+ups\s+downs\s+started\s+MB moved\s+lost\s+cost$/);
    const row = lines.findIndex((l) => l.startsWith('spill-over.yaml'));
    expect(row, r.stdout).to.be.greaterThan(1);
    expect(lines[row + 1]).to.match(/^ {2}pool cheap\s/);
    expect(lines[row + 2]).to.match(/^ {2}pool burst\s/);
    // The burst pool's worker-seconds are not zero: the spill-over is in the table.
    expect(parseFloat(lines[row + 2]!.trim().split(/\s+/)[2]!)).to.be.greaterThan(0);
    expect(r.stdout).to.match(/guard rails \(ticks each rule changed\):\n {2}spill-over\.yaml: .*pool cheap capacity \d+/);
    const svg = readFileSync(plot, 'utf8');
    expect(svg).to.contain('>pool cheap<').and.contain('>pool burst<');
    const fills = [...svg.matchAll(/<path d="[^"]*" fill="(#[0-9a-f]{6})" fill-opacity/g)].map((m) => m[1]);
    // One stacked band per pool in each panel (the example's run and the static cluster's).
    expect(new Set(fills).size).to.equal(2);
  });

  it('grows the burst pool only while the cheap pool is at its quota or held as capacity-limited', async () => {
    const records: DecisionRecord[] = [];
    const capacity = cheapCapacity();
    const result = await simulate({ trace: twoBursts(), plugins: builtinPlugins(), defaults: builtinDefaults(), sources: { file: EXAMPLE, env: {} }, onDecision: (r) => records.push(r) });
    let spilled = 0;
    for (const r of records) {
      const cheap = r.allocation!.find((a) => a.pool === 'cheap')!;
      const burst = r.allocation!.find((a) => a.pool === 'burst')!;
      if (burst.allowed === 0) continue;
      spilled++;
      const full = cheap.allowed >= capacity;
      const held = (r.guards ?? []).some((g) => g.pool === 'cheap' && g.guard === 'capacity');
      expect(full || held, `tick ${r.tick}: burst ${burst.allowed} while cheap ${cheap.allowed} (${cheap.reason})`).to.equal(true);
      expect(burst.reason, `tick ${r.tick}`).to.match(/spilled over/);
    }
    expect(spilled).to.be.greaterThan(0);
    // Scale-down empties the expensive pool first: in the gap between the bursts there is a tick
    // with cheap workers and none of the burst pool's; the run ends with both pools at 0.
    expect(result.series.some((p) => (p.pools?.burst ?? 0) > 0)).to.equal(true);
    const plan = (r: DecisionRecord, pool: string) => r.allocation!.find((a) => a.pool === pool)!.plan!;
    const firstBurst = records.findIndex((r) => plan(r, 'burst') > 0);
    const gap = records.slice(firstBurst).filter((r) => r.time! < 400);
    expect(gap.some((r) => plan(r, 'cheap') > 0 && plan(r, 'burst') === 0), 'a tick of the lull with cheap workers only').to.equal(true);
    // ...and never the other way round: the burst pool never keeps workers the cheap pool gave up.
    expect(records.some((r) => plan(r, 'burst') > 0 && plan(r, 'cheap') === 0)).to.equal(false);
    expect(result.endedBy).to.equal('drained');
    expect(records.at(-1)!.allocation!.map((a) => a.target)).to.deep.equal([0, 0]);
  });

  it('keeps a config without pools as it was: no pools, no cost', async () => {
    const r = await runCli(['simulate', '--trace', traceFile, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as { runs: Array<Record<string, unknown>> };
    for (const run of out.runs) expect(Object.keys(run)).to.have.members(run.kind === 'adaptive' ? ['name', 'kind', 'metrics', 'endedBy'] : ['name', 'kind', 'size', 'metrics', 'endedBy']);
  });

  it('`ebbtide config --check` passes on the pool examples', async () => {
    for (const example of ['two-pools.yaml', 'spill-over.yaml']) {
      const r = await runCli(['config', '--check', '-c', join(ROOT, 'docs', 'examples', example)]);
      expect(r.code, `${example}: ${r.stderr}`).to.equal(0);
      expect(r.stdout).to.match(/^config OK/);
    }
  });

  it('names a simulator.pools entry that is no pool', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'pools:\n  - name: cheap\nsimulator:\n  pools:\n    cheep:\n      capacity: 2\n');
    const r = await runCli(['simulate', '--trace', traceFile, '-c', bad]);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.contain('simulator.pools.cheep: no pool "cheep"').and.contain('cheap');
    expect(r.stderr).to.not.contain('    at ');
  });
});
