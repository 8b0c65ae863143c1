import { expect } from 'chai';
import { DASK_VERSIONS, requireDask } from '../support/dask.js';
import { type PytestRun, pytestSummary, requirePytest, runPytest } from '../support/python.js';

/**
 * The Python package (adapters/python): its pytest suite — `with EbbtideCluster(config) as
 * cluster: cluster.adapt(minimum=0, maximum=4); client = Client(cluster)`, a burst scaling up
 * and back to 0, close() leaving no process, the HTML repr, get_logs, attaching by URL,
 * shutdown.workers, the asynchronous API — once per Dask release.
 */
describe('the Python EbbtideCluster (pytest adapters/python), once per Dask release', function () {
  this.timeout(16 * 60_000);
  // Both releases' suites run at once: each is mostly waiting on processes (about half its wall
  // time is CPU), and every test keys what it looks for by its own scheduler's address and state
  // folder, so they cannot see each other's workers.
  const runs = new Map<string, Promise<PytestRun>>();

  before(function () {
    for (const dask of DASK_VERSIONS) {
      requireDask(dask);
      requirePytest(dask);
    }
    for (const dask of DASK_VERSIONS) runs.set(dask.label, runPytest(dask));
  });

  after(async () => {
    await Promise.allSettled(runs.values());
  });

  for (const dask of DASK_VERSIONS) {
    it(`every pytest test passes against Dask ${dask.label}`, async () => {
      const run = await runs.get(dask.label)!;
      const summary = pytestSummary(run.output);
      if (run.code !== 0) {
        throw new Error(`pytest exited with ${run.code ?? run.signal} after ${run.seconds.toFixed(0)}s (${summary ?? 'no summary'}); its output ends with:\n${run.output.slice(-12_000)}`);
      }
      expect(summary, run.output.slice(-3000)).to.match(/^\d+ passed/);
      expect(summary).not.to.match(/failed|error/);
      console.log(`      pytest, Dask ${dask.label}: ${summary} (${run.seconds.toFixed(1)}s with start-up)`);
    });
  }
});
