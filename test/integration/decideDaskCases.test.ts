import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../support/paths.js';
import { runCli } from '../support/runCli.js';

interface Case {
  id: number;
  config: Record<string, unknown>;
  snapshot: Record<string, unknown>;
  expected: {
    target: number;
    safeTarget: number;
    workersToClose: string[];
    recommendation: { status: string; n?: number; workers?: string[] };
    closeCounts: Record<string, number>;
  };
}

const cases: Case[] = readFileSync(join(FIXTURES, 'dask-cases.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Case);

const asSet = (xs: string[] | undefined) => [...(xs ?? [])].sort();

describe('ebbtide decide on the 100 states decided by the real Dask code (spec/dask-cases.jsonl)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'ebbtide-cases-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // One process per distinct config, all its snapshots in one .jsonl.
  const groups = new Map<string, Case[]>();
  for (const c of cases) {
    const k = JSON.stringify(c.config);
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  const results = new Map<number, Record<string, unknown>>();

  before(async () => {
    let i = 0;
    for (const [config, group] of groups) {
      const cfg = join(dir, `config-${i}.json`);
      const snaps = join(dir, `snapshots-${i}.jsonl`);
      writeFileSync(cfg, config);
      writeFileSync(snaps, group.map((c) => JSON.stringify(c.snapshot)).join('\n') + '\n');
      const r = await runCli(['decide', '--snapshot', snaps, '-c', cfg]);
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).to.have.length(group.length);
      group.forEach((c, j) => results.set(c.id, JSON.parse(lines[j]!) as Record<string, unknown>));
      i++;
    }
  });

  it('has 100 cases in the fixture', () => expect(cases).to.have.length(100));

  for (const c of cases) {
    it(`case ${c.id}: ${c.expected.recommendation.status} (target ${c.expected.target}, safe ${c.expected.safeTarget})`, () => {
      const got = results.get(c.id) as Case['expected'] & { explanation: unknown };
      expect(Object.keys(got).sort()).to.deep.equal(['closeCounts', 'explanation', 'recommendation', 'safeTarget', 'target', 'workersToClose']);
      expect(got.target, 'target').to.equal(c.expected.target);
      expect(got.safeTarget, 'safeTarget').to.equal(c.expected.safeTarget);
      expect(asSet(got.workersToClose), 'workersToClose').to.deep.equal(asSet(c.expected.workersToClose));
      expect(got.recommendation.status, 'recommendation.status').to.equal(c.expected.recommendation.status);
      expect(got.recommendation.n, 'recommendation.n').to.equal(c.expected.recommendation.n);
      expect(asSet(got.recommendation.workers), 'recommendation.workers').to.deep.equal(asSet(c.expected.recommendation.workers));
      expect(got.closeCounts, 'closeCounts').to.deep.equal(c.expected.closeCounts);
    });
  }
});
