import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type DecisionRecord, EbbtideError } from '@ebbtide/core';
import { type SimulateOptions, simulate, staticCluster } from '../src/simulate.js';
import { generateTrace } from '../src/trace/generateTrace.js';
import { burst, dask, defaults, plugins, traceOf } from './helpers.js';

/** The acted-on decisions of a run, as `tick@time up n` / `tick@time down [workers] outcome`. */
async function actions(options: SimulateOptions): Promise<{ lines: string[]; records: DecisionRecord[] }> {
  const records: DecisionRecord[] = [];
  const result = await simulate({ ...options, onDecision: (r) => records.push(r) });
  expect(result.decisions).to.equal(records.length);
  const lines = records
    .filter((r) => r.recommendation.status !== 'same')
    .map((r) => {
      const rec = r.recommendation;
      return rec.status === 'up' ? `${r.tick}@${r.time} up ${rec.n}` : `${r.tick}@${r.time} down ${rec.status === 'down' ? rec.workers.join(',') : ''} ${r.outcome?.status}`;
    });
  return { lines, records };
}

const HOUR = 3600;

describe('simulate', () => {
  it('is deterministic: the same trace and config give the same metrics and series, byte for byte', async () => {
    const trace = generateTrace('interactive', { seed: 2, duration: HOUR, startTime: 10 * HOUR });
    const options: SimulateOptions = { trace, ...dask, sim: { startupDelay: 'uniform:2s:20s', seed: 9 }, sources: { flags: { 'cluster.memoryLimit': '2GB' } } };
    const a = await simulate(options);
    const b = await simulate(options);
    expect(b).to.deep.equal(a);
    expect(JSON.stringify(b)).to.equal(JSON.stringify(a));
    expect(a.metrics.tasks).to.equal(trace.tasks.length);
    expect(a.metrics.scaleUps).to.be.greaterThan(0);
    // Another seed draws other startup delays, so another run.
    const c = await simulate({ ...options, sim: { ...options.sim, seed: 10 } });
    expect(c.metrics.workerSeconds).not.to.equal(a.metrics.workerSeconds);
  });

  it("takes Dask's default decisions, tick by tick, on a hand-checked trace", async () => {
    // Dask defaults: interval 1 s, waitCount 3, targetDuration 5 s, unknown duration 0.5 s,
    // 1 thread per worker, no memory limit. Startup 1.25 s; no heartbeats (maxExecTime stays
    // unknown, so a prefix's duration is the unknown default until a task finishes).
    // 20 tasks "inc" of 3 s arrive at t=0.5 on an empty cluster.
    //  tick 1 (t=1): 20 queued x 0.5 s = 10 s of work -> ceil(10/5) = 2 workers -> up 2.
    //      ebbtide-0 and -1 connect at 2.25 and run inc-0, inc-1 until 5.25.
    //  ticks 2-5: 2 processing + 18 queued, all at 0.5 s = 10 s -> 2 -> same.
    //  t=5.25: inc-0/1 finish in 3 s -> duration average 3; inc-2/3 start (until 8.25).
    //  tick 6: 2 processing x 3 + 16 queued x 3 = 54 s -> ceil(10.8) = 11 -> up 11.
    //      ebbtide-2..10 connect at 7.25 and take inc-4..12 (until 10.25); 7 stay queued.
    //  ticks 7-10: 11 x 3 + 7 x 3 = 54 -> 11; then all 11 busy, so nothing is closable -> same.
    //  t=8.25: ebbtide-0/1 take inc-13/14 (until 11.25); t=10.25: ebbtide-2..6 take inc-15..19
    //      (until 13.25); ebbtide-7..10 go idle.
    //  tick 11: 7 processing x 3 = 21 s -> 5 < 11 workers: target = workers that cannot close =
    //      11 - 4 idle = 7; Dask proposes the idle ones, latest registered first: 10, 9, 8, 7 (1st time).
    //  tick 12: 5 processing -> 3 < 11: 6 idle closable -> target 5: proposes 10,9,8,7 (2nd), 1, 0 (1st).
    //  tick 13: still 5 processing: 10,9,8,7 proposed a 3rd time -> down [10,9,8,7]; 1,0 at 2.
    //  t=13.25: the last tasks finish; 7 idle workers.
    //  tick 14: no work -> target 0: proposes 6,5,4,3,2 (1st) and 1,0 (3rd) -> down [1,0].
    //  tick 15: 6..2 at 2nd proposal -> same. tick 16: 3rd -> down [6,5,4,3,2]. At minimum: done.
    const trace = traceOf(burst(20, 0.5, 'inc', { duration: 3 }));
    const { lines, records } = await actions({ trace, ...dask, sim: { startupDelay: '1.25s', heartbeatInterval: 0 } });
    expect(lines).to.deep.equal([
      '1@1 up 2',
      '6@6 up 11',
      '13@13 down ebbtide-10,ebbtide-9,ebbtide-8,ebbtide-7 scaled-down',
      '14@14 down ebbtide-1,ebbtide-0 scaled-down',
      '16@16 down ebbtide-6,ebbtide-5,ebbtide-4,ebbtide-3,ebbtide-2 scaled-down',
    ]);
    expect(records.map((r) => r.target)).to.deep.equal([2, 2, 2, 2, 2, 11, 11, 11, 11, 11, 7, 5, 5, 0, 0, 0]);
    expect(records[11]!.closeCounts).to.deep.equal({ 'ebbtide-10': 2, 'ebbtide-9': 2, 'ebbtide-8': 2, 'ebbtide-7': 2, 'ebbtide-1': 1, 'ebbtide-0': 1 });

    const result = await simulate({ trace, ...dask, sim: { startupDelay: '1.25s', heartbeatInterval: 0 } });
    // Worker-seconds: 0,1 from 1 to 14 (2 x 13); 7..10 from 6 to 13 (4 x 7); 2..6 from 6 to 16 (5 x 10).
    // Waits: 2 x 1.75, 2 x 4.75, 9 x 6.75, 2 x 7.75, 5 x 9.75 -> mean 6.9, p95 9.75.
    expect(result.metrics).to.deep.equal({
      workerSeconds: 104,
      peakWorkers: 11,
      meanWait: 6.9,
      p95Wait: 9.75,
      maxWait: 9.75,
      makespan: 12.75,
      scaleUps: 2,
      scaleDowns: 3,
      failedTicks: 0,
      workersStarted: 11,
      bytesMoved: 0,
      resultsLost: 0,
      tasks: 20,
    });
    expect(result.endedBy).to.equal('drained');
    expect(result.endTime).to.equal(16);
    // Connected workers as each tick saw them (before acting): 2 from 2.25, 11 from 7.25.
    expect(result.series.map((p) => p.workers)).to.deep.equal([0, 0, 2, 2, 2, 2, 2, 11, 11, 11, 11, 11, 11, 7, 5, 5]);
    expect(result.series[0]).to.deep.equal({ t: 1, demand: 20, target: 2, safeTarget: 2, workers: 0 });
  });

  it('keeps the holder of a result until the client releases it (no memory limit: Dask closes nothing while data is stored)', async () => {
    // load-0 (2 s) arrives at 0.5; tick 1 -> up 1; ebbtide-0 connects at 2.25, computes until 4.25,
    // and holds the result until 14.25. With no memory limit, Dask's workers_to_close (memory
    // mode) closes nothing while any bytes are stored: target stays 1 through tick 14.
    // Tick 15: nothing stored -> target 0 (1st proposal); 16 (2nd); 17 -> down.
    const trace = traceOf([{ t: 0.5, key: 'load-0', prefix: 'load', duration: 2, nbytes: 1e6, holdFor: 10 }]);
    const { lines, records } = await actions({ trace, ...dask, sim: { startupDelay: '1.25s', heartbeatInterval: 0 } });
    expect(lines).to.deep.equal(['1@1 up 1', '17@17 down ebbtide-0 scaled-down']);
    expect(records.slice(4, 14).every((r) => r.target === 1 && Object.keys(r.closeCounts).length === 0)).to.equal(true);
    expect(records[14]!.closeCounts).to.deep.equal({ 'ebbtide-0': 1 });
  });

  it('retires a worker by moving its results at the configured bandwidth', async () => {
    // Two 10 s tasks of 100 MB held 60 s; the prefix is known to take 10 s, so tick 1 asks for 2
    // workers (20 s of work -> 4, capped at 2 tasks). They connect at 2.25 and finish at 12.25.
    // Memory limit 1 GB each: Dask may close one worker while 1 GB >= 2 x 200 MB remains.
    // Ticks 13, 14, 15 propose ebbtide-1 (the later one) -> down at tick 15 (t=15): its 100 MB go
    // to ebbtide-0 at 10 MB/s = 10 s, so the retirement ends at t=25 and ticks 16-25 are skipped
    // (no overlapping ticks). The next tick, number 16, runs at t=26. Results are released at
    // 72.25; ticks 63-65 (t=73-75) propose and close ebbtide-0.
    const tasks = [0, 1].map((i) => ({ t: 0.5, key: `load-${i}`, prefix: 'load', duration: 10, nbytes: 100e6, holdFor: 60 }));
    const options: SimulateOptions = {
      trace: traceOf(tasks),
      ...dask,
      sources: { flags: { 'cluster.memoryLimit': '1GB', 'scheduler.defaultTaskDurations': '{"load": "10s"}' } },
      sim: { startupDelay: '1.25s', heartbeatInterval: 0, bandwidth: '10MB' },
    };
    const { lines, records } = await actions(options);
    expect(lines).to.deep.equal(['1@1 up 2', '15@15 down ebbtide-1 scaled-down', '65@75 down ebbtide-0 scaled-down']);
    expect(records.find((r) => r.tick === 16)!.time).to.equal(26);
    const result = await simulate(options);
    expect(result.metrics.bytesMoved).to.equal(100e6);
    // ebbtide-1: 1 -> 25 (stopped once retired); ebbtide-0: 1 -> 75.
    expect(result.metrics.workerSeconds).to.equal(24 + 74);
    expect(result.metrics.resultsLost).to.equal(0);
  });

  for (const profile of ['interactive', 'batch'] as const) {
    it(`loses no results with Dask's defaults on an hour of the ${profile} profile`, async () => {
      const trace = generateTrace(profile, { seed: 1, duration: HOUR, startTime: 9 * HOUR });
      const result = await simulate({ trace, ...dask, sim: { startupDelay: 'exp:10s', seed: 4 } });
      expect(result.endedBy).to.equal('drained');
      expect(result.metrics.resultsLost).to.equal(0);
      expect(result.metrics.tasks).to.equal(trace.tasks.length);
      expect(result.metrics.scaleUps).to.be.greaterThan(0);
      expect(result.metrics.scaleDowns).to.be.greaterThan(0);
      expect(result.metrics.failedTicks).to.equal(0);
      expect(result.series.length).to.be.at.most(2000);
      expect(result.series[result.series.length - 1]!.workers).to.be.at.most(result.metrics.peakWorkers);
    });
  }

  it('staticCluster(size): scales to the size on the first tick and never changes it', async () => {
    const trace = traceOf(burst(30, 0.5, 'inc', { duration: 2 }));
    const result = await staticCluster({ trace, ...dask, sim: { startupDelay: '1s' } }, 4);
    expect(result.settings).to.deep.include({ minimum: 4, maximum: 4 });
    expect(result.metrics).to.deep.include({ scaleUps: 1, scaleDowns: 0, peakWorkers: 4, workersStarted: 4 });
    // 4 workers connect at t=2 and run 30 tasks of 2 s in 8 waves: the last starts at 2 + 7 x 2 = 16.
    expect(result.metrics.maxWait).to.equal(15.5);
    expect(result.endedBy).to.equal('drained');
  });

  it('stops at the horizon', async () => {
    const trace = traceOf([...burst(5, 0.5, 'a', { duration: 100 }), ...burst(5, 500, 'b', {}, 5)]);
    const result = await simulate({ trace, ...dask, sim: { horizon: 60 } });
    expect(result.endedBy).to.equal('horizon');
    expect(result.endTime).to.equal(60);
    expect(result.decisions).to.equal(60);
  });

  it('stops once the work is done if the cluster does not shrink back to the minimum within settleTimeout', async () => {
    // waitCount 1000: a proposed worker is never closed. One 1 s task at 0.5; the worker connects
    // at 1 + 5 = 6, finishes at 7; 30 s later the run gives up waiting for the cluster to shrink.
    const trace = traceOf(burst(1, 0.5, 'a'));
    const result = await simulate({ trace, ...dask, sources: { flags: { 'adaptive.waitCount': '1000' } }, sim: { settleTimeout: 30 } });
    expect(result.endedBy).to.equal('settle-timeout');
    expect(result.endTime).to.equal(37);
    expect(result.metrics.workerSeconds).to.equal(36);
  });

  it('downsamples the series to seriesPoints, keeping peaks', async () => {
    const trace = traceOf(burst(20, 0.5, 'inc', { duration: 3 }));
    const full = await simulate({ trace, ...dask, sim: { startupDelay: '1.25s', heartbeatInterval: 0 } });
    const small = await simulate({ trace, ...dask, sim: { startupDelay: '1.25s', heartbeatInterval: 0, seriesPoints: 5 } });
    expect(small.series).to.have.length(4);
    expect(small.series.map((p) => p.t)).to.deep.equal([1, 5, 9, 13]);
    expect(Math.max(...small.series.map((p) => p.workers))).to.equal(Math.max(...full.series.map((p) => p.workers)));
    expect(small.series.map((p) => p.target)).to.deep.equal([2, 11, 11, 5]);
  });

  describe('configuration', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'ebbtide-sim-config-'));
    });
    after(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('reads simulator.* from a config file; sim overrides win', async () => {
      const file = join(dir, 'sim.yaml');
      writeFileSync(file, 'simulator:\n  startupDelay: uniform:1s:3s\n  bandwidth: 5MB\n  seed: 42\nadaptive:\n  waitCount: 2\n');
      const trace = traceOf(burst(3, 0.5, 'x'));
      const fromFile = await simulate({ trace, ...dask, sources: { file } });
      expect(fromFile.settings).to.deep.include({ startupDelay: 'uniform:1s:3s', bandwidth: 5e6, seed: 42, waitCount: 2 });
      const overridden = await simulate({ trace, ...dask, sources: { file }, sim: { startupDelay: 'exp:2s', bandwidth: 1e9, seed: 1 } });
      expect(overridden.settings).to.deep.include({ startupDelay: 'exp:2s', bandwidth: 1e9, seed: 1, waitCount: 2 });
    });

    it('rejects a bad simulator.startupDelay with the key, and a bad override', async () => {
      const trace = traceOf(burst(1, 0, 'x'));
      let err: unknown;
      try {
        await simulate({ trace, ...dask, sources: { flags: { 'simulator.startupDelay': 'soonish' } } });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(EbbtideError).with.property('code', 'CONFIG_INVALID');
      expect((err as EbbtideError).key).to.equal('simulator.startupDelay');
      err = undefined;
      try {
        await simulate({ trace, ...dask, sim: { bandwidth: 0 } });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(EbbtideError).with.property('message').that.matches(/sim\.bandwidth: expected bytes per second > 0/);
    });

    it('rejects an invalid trace before starting anything', async () => {
      const tasks = [...burst(1, 5, 'late'), ...burst(1, 1, 'early')];
      let err: unknown;
      try {
        await simulate({ trace: { version: 1, name: 'unsorted', tasks }, plugins });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(EbbtideError).with.property('code', 'INPUT_INVALID');
      expect((err as Error).message).to.match(/tasks\[1\]\.t: tasks must be sorted by t/);
    });
  });
});
