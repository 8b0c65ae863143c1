import 'reflect-metadata';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, builtinTask } from '@ebbtide/scheduler-embedded';
import { alive, killAll, pidsMatching, until } from '../support/processes.js';
import { EbbtideProcess } from '../support/upProcess.js';
import { PeakSampler, chaosSeed, faultPlan, seeded } from '../support/chaos.js';

const MAXIMUM = 3;
/** The embedded scheduler lives in the ebbtide process: killing ebbtide is killing the scheduler. */
const FAULTS = ['kill-worker', 'kill-ebbtide', 'term-while-retiring'] as const;

/**
 * The chaos soak on the embedded default: bursts and idle gaps through `ebbtide up`'s embedded
 * scheduler and real `ebbtide-worker` processes, with a seeded fault per cycle. Results held in
 * a scheduler that survives come back right; never more than `maximum` worker processes exist at
 * any sampled moment (a stricter bound than connected workers); no duplicate-name registration;
 * no process left at the end.
 */
describe('chaos soak: embedded scheduler, local backend, seeded faults', function () {
  this.timeout(300_000);
  const seed = chaosSeed();
  const plan = faultPlan(FAULTS, 8, seed);
  const rnd = seeded(seed * 104729);
  const stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-chaos-embedded-'));
  const ups: EbbtideProcess[] = [];
  let up: EbbtideProcess;
  let address = '';
  let client: Client | undefined;
  const workerPids = new Set<number>();
  const track = () => {
    for (const pid of pidsMatching('ebbtide-worker', '--name', 'chaosemb-')) workerPids.add(pid);
  };

  after(async () => {
    await client?.close().catch(() => undefined);
    for (const u of ups) u.kill('SIGKILL');
    track();
    killAll([...workerPids].filter(alive));
    rmSync(stateDir, { recursive: true, force: true });
  });

  async function startUp(): Promise<void> {
    up = EbbtideProcess.start([
      'up',
      '--backend.local.stateDir',
      stateDir,
      '--adaptive.interval',
      '300ms',
      '--adaptive.maximum',
      String(MAXIMUM),
      '--adaptive.targetDuration',
      '1s',
      '--cluster.memoryLimit',
      '200MB',
      '--cluster.name',
      'chaosemb',
    ]);
    ups.push(up);
    address = (await up.waitForStdout(/scheduler at (tcp:\/\/\S+)/, 60_000, 'the embedded scheduler'))[1]!;
    await client?.close().catch(() => undefined);
    client = await Client.connect(address);
  }

  it(`holds the bounds and every result its scheduler kept through ${plan.length} faults (seed ${seed}: ${plan.join(', ')})`, async () => {
    const sampler = new PeakSampler(async () => pidsMatching('ebbtide-worker', '--name', 'chaosemb-').length);
    sampler.start();
    await startUp();
    const say = (t: string) => process.stdout.write(`      [chaos ${new Date().toISOString().slice(11, 19)}] ${t}\n`);
    let kept = 0;
    let keptBack = 0;
    let wentWithScheduler = 0;
    for (const [i, fault] of plan.entries()) {
      say(`cycle ${i}: burst, then ${fault}`);
      const c = client!;
      const naps = await Promise.all(Array.from({ length: 12 }, () => c.submit(builtinTask('sleep'), [400], { prefix: 'nap' })));
      const held = await Promise.all(Array.from({ length: 4 }, (_, j) => c.submit(builtinTask('inc'), [i * 100 + j])));
      if (fault === 'kill-worker') {
        await up.waitForStatus(/processing=[1-9]/, 60_000);
        track();
        const victims = pidsMatching('ebbtide-worker', '--name', 'chaosemb-');
        process.kill(victims[Math.floor(rnd() * victims.length)]!, 'SIGKILL');
      }
      await c.gather(naps);
      await c.release(naps);
      let survived = true;
      if (fault === 'kill-ebbtide') {
        up.kill('SIGKILL');
        await up.exited;
        survived = false;
        await startUp();
      } else if (fault === 'term-while-retiring') {
        const before = up.events('scale.down').length;
        await until(() => up.events('scale.down').length > before || !up.running, 60_000, 'a retirement to start');
        up.kill('SIGTERM');
        expect((await up.exited).code, up.stderr.slice(-2000)).to.equal(0);
        survived = false;
        await startUp();
      } else {
        // The idle gap: down to the one worker the held results need, moving them there first.
        await up.waitForStatus(/workers=1 plan=1 requested=1 queued=0 unrunnable=0 processing=0/, 120_000);
      }
      kept += held.length;
      if (survived) {
        expect(await c.gather(held), `cycle ${i} (${fault}): held results`).to.deep.equal(held.map((_, j) => i * 100 + j + 1));
        keptBack += held.length;
        await c.release(held);
      } else {
        wentWithScheduler += held.length;
      }
      track();
    }
    up.kill('SIGTERM');
    expect((await up.exited).code, up.stderr.slice(-2000)).to.equal(0);
    sampler.stop();
    track();
    await until(() => [...workerPids].every((p) => !alive(p)), 30_000, 'every worker process to be gone');
    const refused = ups.reduce((n, u) => n + u.events('worker.refused').length, 0);
    process.stdout.write(
      `      chaos report: ${JSON.stringify({ seed, plan, peakWorkerProcesses: sampler.peak, samples: sampler.samples, kept, keptBack, wentWithScheduler, refused, ebbtideRuns: ups.length })}\n`,
    );
    expect(sampler.samples).to.be.above(50);
    expect(sampler.peak, 'worker processes at the busiest sampled moment').to.be.at.most(MAXIMUM);
    expect(refused, 'duplicate-name registrations').to.equal(0);
    expect(keptBack + wentWithScheduler).to.equal(kept);
  });
});
