import { expect } from 'chai';
import { MemoryLogger, type SchedulerSnapshot } from '@ebbtide/core';
import { asyncScheduler } from 'rxjs';
import { DaskSchedulerAdapter } from '../src/index.js';
import { adapterOptions } from './helpers/adapterOptions.js';
import { daskLike, send } from './helpers/scriptedPeer.js';
import { until } from './helpers/waitFor.js';

/**
 * A scheduler that refuses `get_cluster_state` (a handler removed or raising) still gives
 * everything else: polls go on, restrictions are not asked for again on that connection and
 * the work counts as plain, with one warning saying so.
 */
describe('DaskSchedulerAdapter when the scheduler refuses the restriction dump', function () {
  this.timeout(20_000);

  it('polls on without restrictions, asks once per connection and warns once', async () => {
    const address = 'tcp://10.0.0.1:1';
    const p = await daskLike((s, m) => {
      switch (m['op']) {
        case 'identity':
          send(s, { workers: { [address]: { name: 'g1', host: '10.0.0.1', nthreads: 1, memory_limit: 0, status: 'running', resources: { GPU: 1 }, metrics: {} } } });
          return;
        case 'processing':
          send(s, { [address]: ['train-1'] });
          return;
        case 'ncores_running':
          send(s, { [address]: 1 });
          return;
        case 'who_has':
          send(s, { 'train-1': [] });
          return;
        case 'get_task_prefix_states':
          send(s, { train: { processing: 1 } });
          return;
        case 'get_task_stream':
          send(s, []);
          return;
        case 'get_cluster_state':
          send(s, { status: 'uncaught-error', exception: { __Pickled__: 1 }, exception_text: "KeyError('get_cluster_state')", traceback_text: '' });
          return;
        default:
          send(s, null);
      }
    });
    const log = new MemoryLogger('debug');
    const adapter = new DaskSchedulerAdapter(adapterOptions(p.address, { pollIntervalMs: 20, maxPollIntervalMs: 20 }), log, asyncScheduler);
    let latest: SchedulerSnapshot | undefined;
    adapter.events$.subscribe((e) => {
      if (e.type === 'snapshot') latest = e.snapshot;
    });
    try {
      await adapter.start();
      const polls = () => log.records.filter((r) => r.fields['event'] === 'scheduler.poll').length;
      await until(() => (polls() >= 4 ? true : undefined), 'four polls');
      expect(latest!.workers[0]!.resources).to.deep.equal({ GPU: 1 });
      expect(latest!.workers[0]!.processing).to.deep.equal({ train: 1 });
      expect(latest!.resources).to.equal(undefined);
      expect(p.received.filter((m) => (m as { op?: string }).op === 'get_cluster_state')).to.have.length(1);
      const warnings = log.records.filter((r) => r.fields['event'] === 'scheduler.restrictions-unavailable');
      expect(warnings.map((r) => [r.level, r.fields['reason']])).to.deep.equal([
        ['warn', `Dask scheduler at ${p.address} raised an error in op "get_cluster_state": KeyError('get_cluster_state')`],
      ]);
    } finally {
      await adapter.close();
      await p.close();
    }
  });
});
