import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DecisionRecord } from '@ebbtide/core';
import { ROOT } from '../support/paths.js';
import { alive, killAll, pidsMatching, until } from '../support/processes.js';
import { EbbtideProcess } from '../support/upProcess.js';

const EXAMPLE = join(ROOT, 'docs', 'examples', 'two-pools.yaml');

/** The pools' maximums and costs, read from the example itself. */
function poolsOfExample(): Record<string, { maximum: number; cost: number }> {
  const text = readFileSync(EXAMPLE, 'utf8');
  const out: Record<string, { maximum: number; cost: number }> = {};
  for (const m of text.matchAll(/- name: (\w+)\n\s+maximum: (\d+)\n\s+cost: (\d+)/g)) out[m[1]!] = { maximum: Number(m[2]), cost: Number(m[3]) };
  return out;
}

/**
 * `ebbtide demo -c docs/examples/two-pools.yaml`: two pools of real local worker processes.
 * Read back from the demo's own recording (its decision records) and its summary: the cheap
 * pool is filled first, the expensive pool only gets a share while the cheap one is at its
 * maximum, workers carry their pool's name, and both pools end at zero.
 */
describe('ebbtide demo with two pools of local workers (docs/examples/two-pools.yaml)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'ebbtide-two-pools-'));
  let demo: EbbtideProcess | undefined;
  let address: string | undefined;
  after(() => {
    if (demo?.running) demo.child.kill('SIGKILL');
    if (address) killAll(pidsMatching('ebbtide-worker', address));
    rmSync(dir, { recursive: true, force: true });
  });

  it('scales both pools, cheap first, and back to zero', async () => {
    const pools = poolsOfExample();
    expect(Object.keys(pools)).to.deep.equal(['cheap', 'burst']);
    expect(pools.cheap!.cost).to.be.below(pools.burst!.cost);
    const recording = join(dir, 'demo.jsonl');
    demo = EbbtideProcess.start(['demo', '-c', EXAMPLE, '--duration', '12s', '--json', '--record', recording, '--dashboard.port', '0']);
    await until(() => /embedded scheduler at (tcp:\/\/\S+),/.test(demo!.stderr) || !demo!.running, 30_000, 'the scheduler address');
    address = /embedded scheduler at (tcp:\/\/\S+),/.exec(demo.stderr)?.[1];
    expect(demo.stderr).to.contain('pools cheap (local, cost 1, maximum 2), burst (local, cost 3, maximum 4)');
    const { code } = await demo.exited;
    expect(code, demo.stderr.slice(-3000)).to.equal(0);

    const summary = JSON.parse(demo.stdout.trim().split('\n').at(-1)!) as {
      resultsLost: number;
      finalWorkers: number;
      pools: Record<string, { workerSeconds: number; peak: number; cost: number }>;
      cost: number;
    };
    expect(summary.resultsLost).to.equal(0);
    expect(summary.finalWorkers).to.equal(0);
    expect(summary.pools.cheap!.peak).to.equal(pools.cheap!.maximum);
    expect(summary.pools.burst!.peak).to.be.greaterThan(0);
    expect(summary.cost).to.be.closeTo(summary.pools.cheap!.cost + summary.pools.burst!.cost, 0.002);

    const records = readFileSync(recording, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { decision?: DecisionRecord })
      .filter((l) => l.decision && l.decision.outcome?.status !== 'shutdown')
      .map((l) => l.decision!);
    const share = (r: DecisionRecord, pool: string) => r.allocation!.find((a) => a.pool === pool)!;
    // The burst pool gets a share only while the cheap pool's is at its maximum: it is filled
    // first, and is the last to give workers back.
    let burstUsed = false;
    for (const r of records) {
      if (share(r, 'burst').allowed === 0) continue;
      burstUsed = true;
      expect(share(r, 'cheap').allowed, `tick ${r.tick}: ${JSON.stringify(r.allocation)}`).to.equal(pools.cheap!.maximum);
      expect(share(r, 'burst').reason, `tick ${r.tick}`).to.match(/spilled over \(cheap is full\)/);
    }
    expect(burstUsed, 'a tick gave the burst pool workers').to.equal(true);
    // Workers carry their pool's name; in the tick that first grows the burst pool, the cheap
    // pool's workers are asked for first.
    const started = records.flatMap((r) => r.outcome?.started ?? []);
    for (const n of started) expect(n).to.match(/^ebbtide-(cheap|burst)-\d+$/);
    const firstBurst = started.findIndex((n) => n.startsWith('ebbtide-burst-'));
    expect(firstBurst).to.be.greaterThan(-1);
    expect(started.slice(0, firstBurst).filter((n) => n.startsWith('ebbtide-cheap-'))).to.have.length(pools.cheap!.maximum);
    // Back to zero: the last tick wants no worker in either pool (it may be the one that stopped
    // the last), the summary counts none alive, and no worker process is left.
    const last = records.at(-1)!;
    expect(last.allocation!.map((a) => [a.pool, a.target])).to.deep.equal([
      ['cheap', 0],
      ['burst', 0],
    ]);
    await until(() => pidsMatching('ebbtide-worker', address!).every((p) => !alive(p)), 10_000, 'the worker processes to be gone');
  });
});
