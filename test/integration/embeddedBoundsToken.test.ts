import 'reflect-metadata';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Autoscaler, Kernel } from '@ebbtide/core';
import { builtinDefaults, builtinPlugins } from '@ebbtide/cli';
import { Client, builtinTask } from '@ebbtide/scheduler-embedded';
import { alive, killAll, pidsMatching, until } from '../support/processes.js';
import { runCli } from '../support/runCli.js';

/**
 * The embedded scheduler's token end to end (issue 8, item 3): refused at configuration time for
 * a non-loopback bind without one; with one, the workers the local backend starts get it through
 * the adapter's `workerEnv` and connect, and a client needs it.
 */
describe('scheduler.embedded.token', function () {
  this.timeout(60_000);
  const stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-token-'));
  let auto: Autoscaler | undefined;
  const pids = new Set<number>();

  after(async () => {
    await auto?.shutdown('test end');
    killAll([...pids].filter(alive));
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('config --check refuses a non-loopback host without a token (exit 2, CONFIG_INVALID naming the key) and the old maxFrameSize', async () => {
    const open = await runCli(['config', '--check', '--scheduler.embedded.host', '0.0.0.0']);
    expect(open.code).to.equal(2);
    expect(open.stderr).to.contain('error[CONFIG_INVALID]: scheduler.embedded.host: "0.0.0.0" is reachable from other machines, and scheduler.embedded.token is not set');
    const withToken = await runCli(['config', '--check', '--scheduler.embedded.host', '0.0.0.0'], { env: { EBBTIDE_SCHEDULER_EMBEDDED_TOKEN: 'a-long-secret' } });
    expect(withToken.code, withToken.stderr).to.equal(0);
    const renamed = await runCli(['config', '--check', '--scheduler.embedded.maxFrameSize', '1MiB']);
    expect(renamed.code).to.equal(2);
    expect(renamed.stderr).to.contain('scheduler.embedded.maxFrameSize was renamed to scheduler.embedded.maxFrameBytes');
  });

  it('workers started by the local backend carry the token and connect; a client without it is refused', async () => {
    const kernel = await Kernel.create({
      builtins: builtinPlugins(),
      defaults: builtinDefaults(),
      sources: {
        env: {},
        flags: { 'adaptive.interval': '200ms', 'adaptive.minimum': '1', 'adaptive.maximum': '1', 'scheduler.embedded.token': 'a-long-secret', 'backend.local.stateDir': stateDir },
      },
    });
    auto = await Autoscaler.start(kernel);
    const address = auto.scheduler.address!;
    await until(() => {
      for (const pid of pidsMatching('ebbtide-worker', address)) pids.add(pid);
      return auto!.store.counts().workers === 1;
    }, 30_000, 'the worker to connect with the token');
    const refused = await Client.connect(address).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(refused?.code).to.equal('CONFIG_INVALID');
    const client = await Client.connect(address, { token: 'a-long-secret' });
    try {
      expect(await client.gather([await client.submit(builtinTask('inc'), [41])])).to.deep.equal([42]);
    } finally {
      await client.close();
    }
  });
});
