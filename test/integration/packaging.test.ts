import 'reflect-metadata';
import { expect } from 'chai';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, ROOT } from '../support/paths.js';

/** The packages a user installs: every workspace that is not private. */
const PUBLIC_WORKSPACES = ['core', ...['plugins', 'adapters'].flatMap((folder) => readdirSync(join(ROOT, folder)).map((name) => `${folder}/${name}`))].filter((dir) => {
  const manifest = join(ROOT, dir, 'package.json');
  return existsSync(manifest) && !(JSON.parse(readFileSync(manifest, 'utf8')) as { private?: boolean }).private;
});

function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', ...env }, timeout: 600_000 });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): SpawnSyncReturns<string> {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r;
}

function pack(dir: string, into: string): string {
  const out = ok(sh('npm', ['pack', '--silent', '--pack-destination', into], dir), `npm pack ${dir}`).stdout.trim().split('\n').pop()!;
  return join(into, out);
}

function project(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
  return dir;
}

/**
 * A plugin works wherever npm installs it. Every public workspace and a sample plugin (the one
 * docs/writing-a-plugin.md shows under Options: a class with PLUGIN_OPTIONS injected) are packed
 * with `npm pack` and installed from the tarballs — as a user would — in three topologies, and
 * `ebbtide decide` and `ebbtide plugins` run through the plugin each time.
 */
describe('packaging: plugins installed anywhere (npm pack, three install topologies)', function () {
  this.timeout(900_000);
  const work = mkdtempSync(join(tmpdir(), 'ebbtide-pack-'));
  const tarballs = join(work, 'tarballs');
  let ebbtideTgz: string[] = [];
  let coreTgz = '';
  let pluginTgz = '';
  const host = join(work, 'host');
  const snapshot = join(work, 'snapshot.json');

  before(() => {
    mkdirSync(tarballs);
    ebbtideTgz = PUBLIC_WORKSPACES.map((w) => pack(join(ROOT, w), tarballs));
    coreTgz = ebbtideTgz.find((t) => /ebbtide-core-\d/.test(t))!;
    pluginTgz = pack(join(FIXTURES, 'plugin-packages', 'ebbtide-plugin-probe'), tarballs);
    // ebbtide installed on its own, in another folder than the user's config.
    ok(sh('npm', ['install', '--prefer-offline', '--no-package-lock', ...ebbtideTgz], project(host)), 'installing ebbtide from its tarballs');
    // 23 tasks waiting: the probe wants ceil(23 / perWorker) workers.
    writeFileSync(snapshot, JSON.stringify({ time: 0, workers: [], prefixes: { inc: { durationAverage: -1, maxExecTime: -1, queued: 23, unrunnable: 0 } } }));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const ebbtide = (args: string[], cwd: string, env: Record<string, string> = {}) => sh(join(host, 'node_modules', '.bin', 'ebbtide'), args, cwd, env);
  const config = (dir: string) => {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'ebbtide.yaml');
    writeFileSync(path, 'plugins: [ebbtide-plugin-probe]\nheuristic: probe\nperN:\n  perWorker: 5\n');
    return path;
  };

  function throughThePlugin(cfg: string, cwd: string, env: Record<string, string> = {}): void {
    const decided = ebbtide(['decide', '--snapshot', snapshot, '-c', cfg], cwd, env);
    expect(decided.status, decided.stderr).to.equal(0);
    const d = JSON.parse(decided.stdout) as { target: number; explanation: { rule: string; perWorker: number } };
    // The option reached the class through PLUGIN_OPTIONS: 23 tasks at 5 per worker.
    expect(d.target).to.equal(5);
    expect(d.explanation).to.deep.include({ rule: 'per-n', perWorker: 5 });
    const listed = ebbtide(['plugins', '--json', '-c', cfg], cwd, env);
    expect(listed.status, listed.stderr).to.equal(0);
    const probe = (JSON.parse(listed.stdout) as { plugins: Array<{ name: string; source: string; registers: Record<string, string[]> }> }).plugins.find((p) => p.name === 'probe');
    expect(probe, listed.stdout).to.deep.include({ source: 'ebbtide-plugin-probe', registers: { heuristic: ['probe'] } });
    // The plugin's own validation is a configuration error, not a plugin failure.
    const invalid = ebbtide(['decide', '--snapshot', snapshot, '-c', cfg, '--perN.perWorker', '5000'], cwd, env);
    expect(invalid.status).to.equal(2);
    expect(invalid.stderr).to.equal('error[CONFIG_INVALID]: perN.perWorker: at most 1000 tasks per worker, got 5000\n');
  }

  it('next to the config file, with its own copies of @ebbtide/core, tsyringe and rxjs', () => {
    const user = project(join(work, 'user'));
    ok(sh('npm', ['install', '--prefer-offline', '--no-package-lock', pluginTgz, coreTgz], user), 'installing the plugin next to the config');
    // Really separate copies: the plugin's core and tsyringe are not ebbtide's.
    const own = (pkg: string) => realpathSync(join(user, 'node_modules', pkg));
    const hosts = (pkg: string) => realpathSync(join(host, 'node_modules', pkg));
    for (const pkg of ['@ebbtide/core', 'tsyringe', 'rxjs']) expect(own(pkg)).to.not.equal(hosts(pkg));
    throughThePlugin(config(user), user);
  });

  it('in a global prefix (npm install -g), found through npm_config_prefix', () => {
    const prefix = join(work, 'global');
    ok(sh('npm', ['install', '-g', '--prefer-offline', '--prefix', prefix, pluginTgz, coreTgz], work), 'installing the plugin globally');
    expect(existsSync(join(prefix, 'lib', 'node_modules', 'ebbtide-plugin-probe', 'package.json'))).to.equal(true);
    const elsewhere = join(work, 'elsewhere');
    throughThePlugin(config(elsewhere), elsewhere, { npm_config_prefix: prefix });
  });

  it('in the same project as ebbtide', () => {
    ok(sh('npm', ['install', '--prefer-offline', '--no-package-lock', ...ebbtideTgz, pluginTgz], host), 'installing the plugin into ebbtide\'s project');
    throughThePlugin(config(host), host);
  });

  describe('ebbtide plugin new: every kind passes its own npm test', () => {
    for (const kind of ['heuristic', 'workers-to-close', 'worker-key', 'allocation', 'backend', 'scheduler']) {
      it(kind, () => {
        const dir = join(work, 'generated');
        mkdirSync(dir, { recursive: true });
        const name = `made-${kind}`;
        const made = ebbtide(['plugin', 'new', name, '--kind', kind], dir);
        expect(made.status, made.stderr).to.equal(0);
        const root = join(dir, name);
        const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { keywords: string[]; peerDependencies: Record<string, string> };
        expect(manifest.keywords).to.include('ebbtide-plugin');
        expect(manifest.peerDependencies).to.have.property('@ebbtide/core');
        // Until @ebbtide/core is on the registry, its development copy comes from the tarball.
        ok(sh('npm', ['pkg', 'set', `devDependencies.@ebbtide/core=file:${coreTgz}`], root), 'npm pkg set');
        ok(sh('npm', ['install', '--prefer-offline', '--no-package-lock'], root), `npm install in the generated ${kind}`);
        const test = sh('npm', ['test'], root);
        expect(test.status, `${test.stdout.slice(-3000)}\n${test.stderr.slice(-2000)}`).to.equal(0);
        expect(test.stdout).to.match(/\d+ passing/).and.not.match(/failing|pending/);
      });
    }
  });
});
