import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, ROOT } from '../support/paths.js';
import { runCli } from '../support/runCli.js';

const snapshots = readFileSync(join(FIXTURES, 'dask-cases.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { snapshot: Record<string, unknown> }).snapshot);

describe('ebbtide decide (command line)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'ebbtide-decide-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('decides 300 snapshots of a .jsonl in one process, one JSON line each', async () => {
    const file = join(dir, 'many.jsonl');
    const lines = [...snapshots, ...snapshots, ...snapshots].map((s) => JSON.stringify(s));
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await runCli(['decide', '--snapshot', file]);
    expect(r.code, r.stderr).to.equal(0);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { target: number });
    expect(out).to.have.length(300);
    // Same snapshot, same config: same decision each time round.
    expect(out.slice(0, 100)).to.deep.equal(out.slice(100, 200));
  });

  it('decides a single .json snapshot (the README example)', async () => {
    const r = await runCli(['decide', '--snapshot', join(ROOT, 'docs', 'examples', 'snapshot.json')]);
    expect(r.code, r.stderr).to.equal(0);
    const d = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(d).to.have.keys('target', 'safeTarget', 'workersToClose', 'recommendation', 'closeCounts', 'explanation');
  });

  it('reports malformed JSON with the line number and exits non-zero', async () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, [JSON.stringify(snapshots[0]), JSON.stringify(snapshots[1]), '{"time": 0, "workers": [', JSON.stringify(snapshots[2])].join('\n'));
    const r = await runCli(['decide', '--snapshot', file]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^error\[INPUT_INVALID\]: .*bad\.jsonl:3: invalid JSON/);
    expect(r.stderr).not.to.match(/\n\s+at /);
    expect(r.stdout).to.equal('');
  });

  it('reports a snapshot missing a field with the line number and the field', async () => {
    const file = join(dir, 'missing.jsonl');
    const broken = JSON.parse(JSON.stringify(snapshots[1])) as { workers: Array<Record<string, unknown>> };
    delete broken.workers[1]!.nthreads;
    writeFileSync(file, [JSON.stringify(snapshots[0]), JSON.stringify(broken)].join('\n') + '\n');
    const r = await runCli(['decide', '--snapshot', file]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('missing.jsonl:2: workers[1].nthreads: missing');
  });

  it('reports a field of the wrong type', async () => {
    const file = join(dir, 'type.json');
    writeFileSync(file, JSON.stringify({ ...snapshots[0], prefixes: { x: { durationAverage: 'slow', maxExecTime: -1, queued: 0, unrunnable: 0 } } }));
    const r = await runCli(['decide', '--snapshot', file]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('prefixes.x.durationAverage: expected a number, got "slow"');
  });

  it('a missing snapshot file is a clear error', async () => {
    const r = await runCli(['decide', '--snapshot', join(dir, 'nope.json')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('no such file');
  });

  it('a bad config value exits 2 with one message naming the key, the value and what is allowed', async () => {
    const r = await runCli(['decide', '--snapshot', join(ROOT, 'docs', 'examples', 'snapshot.json')], { env: { EBBTIDE_ADAPTIVE_MAXIMUM: '-1' } });
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal(
      'error[CONFIG_INVALID]: adaptive.maximum: expected a whole number >= 0 or "inf", got "-1" (from env EBBTIDE_ADAPTIVE_MAXIMUM)\n' +
        '  hint: run `ebbtide config` to list every key with its allowed values\n',
    );
  });

  it('minimum > maximum is a configuration error', async () => {
    const r = await runCli(['config', '--check', '--adaptive.minimum', '5', '--adaptive.maximum', '3']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('adaptive.minimum: expected a whole number <= adaptive.maximum (3), got 5');
  });

  it('flags override env, env overrides the file', async () => {
    const cfg = join(dir, 'c.yaml');
    writeFileSync(cfg, 'adaptive:\n  minimum: 1\n  waitCount: 4\n  maximum: 9\n');
    const r = await runCli(['config', '--json', '-c', cfg, '--adaptive.maximum', '7'], { env: { EBBTIDE_ADAPTIVE_WAIT_COUNT: '6', EBBTIDE_ADAPTIVE_MAXIMUM: '8' } });
    expect(r.code, r.stderr).to.equal(0);
    const c = JSON.parse(r.stdout) as Record<string, { value: unknown; source: string }>;
    expect(c['adaptive.minimum']).to.include({ value: 1, source: 'file' });
    expect(c['adaptive.waitCount']).to.include({ value: 6, source: 'env' });
    expect(c['adaptive.maximum']).to.include({ value: 7, source: 'flag' });
    expect(c['adaptive.interval']).to.include({ value: '1s', source: 'default' });
  });

  it('an unknown option or command is a usage error (exit 2)', async () => {
    expect((await runCli(['frobnicate'])).code).to.equal(2);
    const r = await runCli(['decide', '--snapshot', 'x.json', '--adaptive.minimm', '1']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('did you mean --adaptive.minimum?');
  });

  it('lists plugins and what they register', async () => {
    const r = await runCli(['plugins', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const p = JSON.parse(r.stdout) as { plugins: Array<{ name: string; registers: Record<string, string[]> }>; selected: Record<string, string> };
    const dask = p.plugins.find((x) => x.name === 'dask')!;
    expect(dask.registers).to.deep.include({ heuristic: ['dask'], workersToClose: ['dask'], workerKey: ['none', 'host', 'label:<name>'] });
    expect(p.selected).to.include({ heuristic: 'dask', workersToClose: 'dask', workerKey: 'none' });
  });
});

describe('npx ebbtide from the repository root', function () {
  this.timeout(60_000);
  it('runs the linked bin', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('npx', ['--no-install', 'ebbtide', '--version'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.match(/^\d+\.\d+\.\d+$/);
  });
});
