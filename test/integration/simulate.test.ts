import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/runCli.js';

describe('ebbtide simulate', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'ebbtide-sim-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives byte-identical --json output for the same trace and config', async () => {
    const args = ['simulate', '--profile', 'batch', '--duration', '1800', '--json'];
    const a = await runCli(args);
    const b = await runCli(args);
    expect(a.code, a.stderr).to.equal(0);
    expect(a.stdout).to.equal(b.stdout);
    const out = JSON.parse(a.stdout) as { runs: Array<{ kind: string; metrics: Record<string, number> }> };
    expect(out.runs.map((r) => r.kind)).to.deep.equal(['adaptive', 'static-max', 'static-smallest']);
    for (const r of out.runs) expect(r.metrics.resultsLost).to.equal(0);
    const [adaptive, staticMax] = out.runs;
    expect(adaptive!.metrics.workerSeconds).to.be.below(staticMax!.metrics.workerSeconds!);
  });

  it('compares several configs on one trace, prints a table and draws one panel per config', async () => {
    const quick = join(dir, 'quick.yaml');
    const patient = join(dir, 'patient.yaml');
    writeFileSync(quick, 'adaptive:\n  waitCount: 1\n  maximum: 20\n');
    writeFileSync(patient, 'adaptive:\n  waitCount: 30\n  maximum: 20\n');
    const plot = join(dir, 'plot.svg');
    const r = await runCli(['simulate', '--profile', 'interactive', '--duration', '43200', '-c', quick, '-c', patient, '--plot', plot]);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).to.match(/^config\s+worker-s\s+peak\s+mean wait\s+p95 wait\s+max wait\s+makespan\s+ups\s+downs\s+started\s+MB moved\s+lost$/);
    const names = lines.slice(2).map((l) => l.split(/\s{2,}/)[0]!);
    expect(names.slice(0, 3)).to.deep.equal(['quick.yaml', 'patient.yaml', 'static 20 (maximum)']);
    // The smallest static cluster found by the search: a size from 1 to the maximum, and the
    // search's own answer, whose p95 wait is within 1.2x the maximum's.
    expect(names).to.have.length(4);
    const smallest = /^static (\d+) \(p95 within 1\.2x\)$/.exec(names[3]!);
    expect(smallest, names[3]).to.not.equal(null);
    const size = Number(smallest![1]);
    expect(size).to.be.within(1, 20);
    const p95 = (line: string) => parseFloat(line.split(/\s{2,}/)[4]!);
    expect(p95(lines[5]!)).to.be.at.most(p95(lines[4]!) * 1.2 + 1e-9);
    const svg = readFileSync(plot, 'utf8');
    expect(svg.startsWith('<svg')).to.equal(true);
    expect(svg).to.contain('quick.yaml').and.contain('patient.yaml').and.contain('static ');
    // A longer wait count churns less: fewer scale-downs.
    const downs = (name: string) => Number(lines.find((l) => l.startsWith(name))!.split(/\s+/)[8]);
    expect(downs('patient.yaml')).to.be.below(downs('quick.yaml'));
    expect(r.stderr).to.contain('simulating quick.yaml');
  });

  it('replays a recording written by `ebbtide up --record`', async () => {
    const rec = join(dir, 'rec.jsonl');
    const lines = [{ type: 'header', format: 'ebbtide-recording', version: 1, startedAt: '2026-01-01T00:00:00Z', config: {} }];
    const events: object[] = [];
    for (let i = 0; i < 30; i++) {
      const key = `nap-${i}`;
      events.push({ t: 1, event: { type: 'task.transition', key, prefix: 'nap', to: 'queued' } });
      events.push({ t: 2 + i * 0.1, event: { type: 'task.transition', key, to: 'processing', worker: 'w-0' } });
      events.push({ t: 4 + i * 0.1, event: { type: 'task.transition', key, to: 'memory', duration: 2 } });
      events.push({ t: 5 + i * 0.1, event: { type: 'task.transition', key, to: 'released' } });
    }
    events.sort((a, b) => (a as { t: number }).t - (b as { t: number }).t);
    writeFileSync(rec, [...lines, ...events].map((l) => JSON.stringify(l)).join('\n') + '\n');
    const r = await runCli(['simulate', '--trace', rec, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as { trace: { tasks: number }; runs: Array<{ metrics: { tasks: number; peakWorkers: number } }> };
    expect(out.trace.tasks).to.equal(30);
    expect(out.runs[0]!.metrics.tasks).to.equal(30);
    expect(out.runs[0]!.metrics.peakWorkers).to.be.at.least(1);
  });

  it('rejects --trace with --profile, and an unknown profile', async () => {
    const both = await runCli(['simulate', '--trace', 'x.jsonl', '--profile', 'batch']);
    expect(both.code).to.equal(2);
    expect(both.stderr).to.contain('not both');
    const unknown = await runCli(['simulate', '--profile', 'weekly']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain('interactive, batch');
  });
});
