import 'reflect-metadata';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EBBTIDE_BIN, ROOT } from '../support/paths.js';
import { runCli } from '../support/runCli.js';
import { alive, killAll, pidsMatching, until } from '../support/processes.js';
import { EbbtideProcess } from '../support/upProcess.js';

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ebbtide-cfg-'));
  const path = join(dir, 'ebbtide.yaml');
  writeFileSync(path, text);
  return path;
}

/** Each case is a problem found by using ebbtide as a hostile user would (issue 8). */
describe('command line under bad input and rough handling', function () {
  this.timeout(60_000);

  describe('config --check fails for every value that would fail at run time', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['an empty worker command', 'backend:\n  local:\n    command: []\n', /backend\.local\.command: expected a non-empty argument array.*got \[\]/],
      ['a worker command given as one string', 'backend:\n  local:\n    command: "python3 -m distributed.cli.dask_worker {scheduler}"\n', /backend\.local\.command: expected a non-empty argument array/],
      ['a whole command line in the first element', 'backend:\n  local:\n    command: ["python3 -m distributed.cli.dask_worker", "{scheduler}"]\n', /backend\.local\.command: .*not one command line/],
      ['a misspelt placeholder', 'backend:\n  local:\n    command: [python3, "{schedular}"]\n', /backend\.local\.command: unknown placeholder \{schedular\}/],
      ['a scheduler address that is not one', 'scheduler:\n  type: dask\n  address: "not a url"\n', /scheduler\.address: expected a host name or IP address/],
      ['an interval beyond what a timer can wait (over 24 days)', 'adaptive:\n  interval: 3000000\n', /adaptive\.interval: .*from 0 to 24d, got 3000000/],
      ['a count beyond what a count can mean', 'adaptive:\n  maximum: 1e300\n', /adaptive\.maximum: expected a whole number >= 0 or "inf"/],
      ['keep with the embedded scheduler, whose state dies with ebbtide', 'shutdown:\n  workers: keep\n', /shutdown\.workers: keep needs a scheduler that outlives ebbtide/],
      ['a cluster name that cannot prefix pod names', 'cluster:\n  name: "My Cluster"\n', /cluster\.name: expected lowercase letters/],
      ['a dashboard reachable from other machines without a token', 'dashboard:\n  host: 0.0.0.0\n', /dashboard\.host: "0\.0\.0\.0" is reachable from other machines/],
    ];
    for (const [what, yaml, message] of cases) {
      it(what, async () => {
        const r = await runCli(['config', '--check', '-c', configFile(yaml)]);
        expect(r.code, r.stdout).to.equal(2);
        expect(r.stderr).to.match(message);
        expect(r.stderr).to.not.match(/\n\s+at /);
      });
    }

    it('passes a good config, constructing every selected plugin', async () => {
      const r = await runCli(['config', '--check', '-c', configFile('scheduler:\n  type: dask\n  address: tcp://127.0.0.1:8786\n')]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/^config OK/);
    });
  });

  it('a duration is one format everywhere: flags, command options, config listings and the reference', async () => {
    const list = await runCli(['config', '--adaptive.interval', '250ms']);
    expect(list.stdout).to.match(/adaptive\.interval\s+"250ms"\s+\(flag/);
    expect(list.stdout).to.match(/adaptive\.targetDuration\s+"5s"\s+\(default/);
    const json = JSON.parse((await runCli(['config', '--json'])).stdout) as Record<string, { value: unknown }>;
    expect(json['adaptive.interval']!.value).to.equal('1s');
    expect(json['adaptive.maximum']!.value).to.equal('inf');
    const docs = await runCli(['config', '--docs']);
    expect(docs.stdout).to.contain('| `adaptive.interval` | `"1s"` |');
    const sim = await runCli(['simulate', '--profile', 'batch', '--duration', '20m', '--json']);
    expect(sim.code, sim.stderr).to.equal(0);
    const bad = await runCli(['demo', '--duration', '5s']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('--duration: expected a duration of at least 10s').and.contain('got "5s"');
  });

  it('ebbtide config | head -1 ends quietly with exit 0 (EPIPE)', async () => {
    // The reader is gone before ebbtide writes a byte: every write meets EPIPE, as after head -1.
    const writer = spawn(process.execPath, [EBBTIDE_BIN, 'config'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    writer.stdout.destroy();
    let stderr = '';
    writer.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => writer.on('exit', (c) => resolve(c)));
    expect(stderr).to.equal('');
    expect(code).to.equal(0);
  });

  it('up --record to a folder that does not exist fails at once, before connecting, without a stack trace', async () => {
    const r = await runCli(['up', '--record', '/no/such/dir/x.jsonl']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal('error[USAGE]: --record /no/such/dir/x.jsonl: cannot write the recording there: its folder does not exist\n  hint: give a file path in an existing, writable folder\n');
    expect(r.stdout).to.equal('');
  });

  it('JSON logs carry an ISO time and write maximum inf as "inf"', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-state-'));
    const up = EbbtideProcess.start(['up', '--backend.local.stateDir', stateDir, '--adaptive.interval', '200ms']);
    try {
      const start = await up.waitForEvent('adaptive.start');
      expect(start.time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Math.abs(Date.parse(start.time!) - Date.now())).to.be.below(60_000);
      expect(start.maximum).to.equal('inf');
      up.kill('SIGTERM');
      expect((await up.exited).code).to.equal(0);
    } finally {
      up.kill('SIGKILL');
    }
  });

  it('npx ebbtide up stops when its npm wrapper is terminated (npm does not forward SIGTERM)', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-state-'));
    const marker = `npxwrap${process.pid}`;
    const npx = spawn('npx', ['--no', 'ebbtide', 'up', '--cluster.name', marker, '--backend.local.stateDir', stateDir, '--adaptive.minimum', '1', '--adaptive.interval', '200ms'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npx.stdout.on('data', (d) => (out += d));
    const workers = new Set<number>();
    let inner: number[] = [];
    try {
      await until(() => out.includes('ebbtide up: cluster'), 30_000, 'ebbtide up to start under npx');
      inner = pidsMatching('ebbtide', 'up', '--cluster.name', marker).filter((p) => p !== npx.pid);
      expect(inner, 'the ebbtide process npx started').to.have.length.at.least(1);
      const address = /scheduler at (tcp:\/\/\S+)/.exec(out)![1]!;
      await until(() => {
        for (const p of pidsMatching('ebbtide-worker', address)) workers.add(p);
        return workers.size >= 1;
      }, 30_000, 'its worker');
      npx.kill('SIGTERM');
      await until(() => inner.every((p) => !alive(p)), 20_000, 'ebbtide up to stop after its wrapper went');
      // It shut down properly (npm kills the shell between them; ebbtide sees its launcher go).
      expect(out).to.match(/received (SIGTERM|its launcher \(pid \d+\) exited): shutting down/);
      expect(out).to.match(/\nstopped\n/);
      await until(() => [...workers].every((p) => !alive(p)), 20_000, 'its worker to stop');
    } finally {
      killAll([...inner, ...workers, npx.pid!].filter(alive));
    }
  });
});
