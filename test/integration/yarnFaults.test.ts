import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { asyncScheduler, filter, firstValueFrom, scan, timeout } from 'rxjs';
import { type BackendWorkerStatus, MemoryLogger } from '@ebbtide/core';
import { YarnBackend } from '@ebbtide/backend-yarn';
import { type YarnServer, pidsWithEnv, processesWithEnv, rmGet, sharedYarn, testYarnOptions } from '../support/yarn.js';

const RUN = `r${process.pid}`;
const spec = (name: string) => ({ name, scheduler: 'tcp://127.0.0.1:1', nthreads: 1, memoryLimit: 0 });

/** Every status the backend emitted, in order, and the accumulated view. */
function record(b: YarnBackend) {
  const all: BackendWorkerStatus[] = [];
  b.status$.subscribe((l) => all.push(...l));
  const until = (what: string, ms: number, done: (v: Map<string, BackendWorkerStatus>) => boolean) =>
    firstValueFrom(
      b.status$.pipe(
        scan((v, l) => (l.forEach((s) => v.set(s.name, s)), v), new Map<string, BackendWorkerStatus>()),
        filter(done),
        timeout({ first: ms, with: () => { throw new Error(`timed out after ${ms} ms waiting for ${what}`); } }),
      ),
    );
  return { all, until };
}

/** A loopback port nothing listens on: a ResourceManager that is down. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Pid of the service AM JVM of `service` (a NodeManager container on this machine). */
function amPid(service: string): number | undefined {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (cmd.includes('org.apache.hadoop.yarn.service.ServiceMaster') && cmd.includes(service) && cmd[0]!.endsWith('java')) return Number(e);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

describe('YARN backend faults against a real YARN (test/servers/yarn)', function () {
  this.timeout(900_000);
  let yarn: YarnServer;
  let stateDir: string;
  const open: YarnBackend[] = [];
  before(async () => {
    yarn = await sharedYarn();
    stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-yarn-faults-'));
  });
  afterEach(async () => {
    for (const b of open.splice(0)) await b.close().catch(() => undefined);
  });
  after(async () => {
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });
  const make = (extra: Parameters<typeof testYarnOptions>[2] = {}, urls?: string[]) => {
    const logger = new MemoryLogger();
    const b = new YarnBackend(testYarnOptions(urls ?? yarn.url, stateDir, { env: { EBBTIDE_TEST_RUN: RUN }, ...extra }), logger, asyncScheduler);
    open.push(b);
    return { b, logger };
  };

  it('queue full: a worker that gets no container is given up at its pending deadline as capacity-limited, and removed from YARN', async () => {
    // The "small" queue holds 25% of the node (1 GiB): the AM (512 MiB) fits, a 1 GiB worker never does.
    const cluster = `q${process.pid % 100000}`;
    const { b } = make({ queue: 'small', memory: 1024 * 1024 * 1024, pendingTimeout: 8 });
    const rec = record(b);
    await b.adopt({ cluster });
    await b.start([spec(`${cluster}-0`)]);
    const view = await rec.until('the pending deadline', 120_000, (v) => v.get(`${cluster}-0`)?.phase === 'exited');
    const s = view.get(`${cluster}-0`)!;
    expect(s.failed).to.equal(true);
    expect(s.capacity).to.equal(true);
    expect(s.reason).to.match(/pending past its 8s deadline/);
    expect(s.reason).to.match(/queue small/);
    // Reported once, never running, and YARN no longer holds a request for it.
    expect(rec.all.filter((x) => x.name === `${cluster}-0` && x.phase === 'exited')).to.have.length(1);
    expect(rec.all.some((x) => x.phase === 'running')).to.equal(false);
    for (let i = 0; i < 100; i++) {
      const svc = await rmGet<{ components?: Array<{ number_of_containers: number }> }>(yarn.url, `/app/v1/services/ebbtide-${cluster}`);
      if (svc.status === 404 || svc.body.components?.[0]?.number_of_containers === 0) return;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect.fail('the given-up instance is still requested from YARN');
  });

  it('RM failover: with the first ResourceManager down, requests go to the next one', async () => {
    const cluster = `f${process.pid % 100000}`;
    const { b, logger } = make({}, [`http://127.0.0.1:${await deadPort()}`, yarn.url]);
    const rec = record(b);
    await b.adopt({ cluster });
    await b.start([spec(`${cluster}-0`)]);
    await rec.until('running via the second RM', 120_000, (v) => v.get(`${cluster}-0`)?.phase === 'running');
    expect(logger.records.some((r) => r.fields?.event === 'yarn.rm-failover')).to.equal(true);
    expect(pidsWithEnv({ EBBTIDE_TEST_RUN: RUN, EBBTIDE_WORKER_NAME: `${cluster}-0` })).to.not.deep.equal([]);
    const svc = await rmGet<{ components: Array<{ containers?: Array<{ component_instance_name: string }> }> }>(yarn.url, `/app/v1/services/ebbtide-${cluster}`);
    expect((svc.body.components[0]!.containers ?? []).map((c) => c.component_instance_name)).to.deep.equal([`${cluster}-0`]);
  });

  it('AM failure: YARN restarts the service AM, the workers keep running, none is reported gone or duplicated', async () => {
    const cluster = `a${process.pid % 100000}`;
    const names = [`${cluster}-0`, `${cluster}-1`];
    const { b } = make();
    const rec = record(b);
    await b.adopt({ cluster });
    await b.start(names.map(spec));
    await rec.until('two running', 120_000, (v) => names.every((n) => v.get(n)?.phase === 'running'));
    const before = names.map((n) => pidsWithEnv({ EBBTIDE_TEST_RUN: RUN, EBBTIDE_WORKER_NAME: n }));
    const pid = amPid(`ebbtide-${cluster}`);
    expect(pid, 'the service AM process').to.be.a('number');
    process.kill(pid!, 'SIGKILL');
    // The RM starts a second attempt; wait for it to run and the AM to answer again.
    for (let i = 0; ; i++) {
      const svc = await rmGet<{ id?: string; state?: string; components?: Array<{ containers?: unknown[] }> }>(yarn.url, `/app/v1/services/ebbtide-${cluster}`);
      const attempts = svc.body.id ? await rmGet<{ appAttempts?: { appAttempt?: unknown[] | unknown } }>(yarn.url, `/ws/v1/cluster/apps/${svc.body.id}/appattempts`) : undefined;
      const n = attempts?.body.appAttempts?.appAttempt;
      const count = Array.isArray(n) ? n.length : n ? 1 : 0;
      if (count >= 2 && svc.status === 200 && (svc.body.components?.[0]?.containers?.length ?? 0) === 2) break;
      if (i > 300) expect.fail('the service AM did not come back');
      await new Promise((r) => setTimeout(r, 500));
    }
    // A few more polls of the backend after the AM is back.
    await new Promise((r) => setTimeout(r, 3000));
    expect(rec.all.some((s) => s.phase === 'exited'), JSON.stringify(rec.all.filter((s) => s.phase === 'exited'))).to.equal(false);
    const after = names.map((n) => pidsWithEnv({ EBBTIDE_TEST_RUN: RUN, EBBTIDE_WORKER_NAME: n }));
    expect(after, 'the same worker processes, one per name').to.deep.equal(before);
  });

  it('memory-killed: a worker over its container memory is reported failed once, YARN relaunches it, a start takes it back without a duplicate', async () => {
    const cluster = `m${process.pid % 100000}`;
    const name = `${cluster}-0`;
    // 128 MiB containers. The first run grows to ~300 MiB of resident memory (the NodeManager's
    // monitor kills it); the relaunched one finds the marker and stays small.
    const marker = join(stateDir, `${cluster}.first-run`);
    const hog = ['bash', '-c', `if [ -e ${marker} ]; then exec sleep 3600; fi; touch ${marker}; exec python3 -c "import time; b = bytearray(300 * 1024 * 1024); time.sleep(3600)"`];
    const { b } = make({ command: hog, memory: 128 * 1024 * 1024 });
    const rec = record(b);
    await b.adopt({ cluster });
    await b.start([spec(name)]);
    const view = await rec.until('the memory kill', 180_000, (v) => v.get(name)?.phase === 'exited');
    const killed = view.get(name)!;
    expect(killed.failed).to.equal(true);
    expect(killed.exitCode, killed.reason).to.equal(-104);
    expect(killed.reason).to.match(/container container_\S+ killed for exceeding its physical memory limit \(exit status -104 KILLED_EXCEEDED_PMEM\)/);
    // The NodeManager's own diagnostics.
    expect(killed.reason).to.match(/beyond the 'PHYSICAL' memory limit/);
    expect(killed.reason).to.match(/relaunches it under the same name/);
    expect(rec.all.filter((s) => s.name === name && s.phase === 'exited')).to.have.length(1);
    // The core asks for the name again after its backoff: the relaunched instance is taken back.
    await b.start([spec(name)]);
    await rec.until('the relaunched instance running', 180_000, (v) => v.get(name)?.phase === 'running');
    const svc = await rmGet<{ components: Array<{ number_of_containers: number; containers?: Array<{ id: string; component_instance_name: string }> }> }>(yarn.url, `/app/v1/services/ebbtide-${cluster}`);
    expect(svc.body.components[0]!.number_of_containers, 'no second instance requested').to.equal(1);
    const containers = svc.body.components[0]!.containers ?? [];
    expect(containers.map((c) => c.component_instance_name)).to.deep.equal([name]);
    expect(containers[0]!.id, 'a new container').to.not.equal(/container_\S+/.exec(killed.reason ?? '')?.[0]);
    // READY comes with the container's launch, a moment before its script execs the worker:
    // wait for the worker's own process, then every live process of the name must belong to
    // that one container (none left of the killed one, no second one).
    let procs = processesWithEnv({ EBBTIDE_TEST_RUN: RUN, EBBTIDE_WORKER_NAME: name });
    for (let i = 0; !procs.some((p) => p.cmd === 'sleep 3600'); i++) {
      if (i > 300) expect.fail(`no worker process for ${name}: ${JSON.stringify(procs)}`);
      await new Promise((r) => setTimeout(r, 100));
      procs = processesWithEnv({ EBBTIDE_TEST_RUN: RUN, EBBTIDE_WORKER_NAME: name });
    }
    expect([...new Set(procs.map((p) => p.container))], JSON.stringify(procs)).to.deep.equal([containers[0]!.id]);
    expect(rec.all.filter((s) => s.name === name && s.phase === 'exited'), 'reported once').to.have.length(1);
  });
});
