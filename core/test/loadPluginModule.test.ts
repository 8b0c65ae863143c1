import { expect } from 'chai';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { asPlugin, loadPluginModule } from '../src/plugins/loadPluginModule.js';
import { fixturePath } from './support/fixtures.js';
import { rejectedBy, thrownBy } from './support/errors.js';
import { type TempDir, makeTempDir } from './support/tempDir.js';

const PLUGINS_DIR = fixturePath('plugins');

describe('loadPluginModule', () => {
  describe('by path (relative to the base dir)', () => {
    it('loads a default-exported plugin', async () => {
      const plugin = await loadPluginModule('./my-heuristic.js', fixturePath('heuristic-from-config'));
      expect(plugin.name).to.equal('my-heuristic');
      expect(plugin.configSchema).to.have.property('myHeuristic');
    });

    it('accepts a named `plugin` export', async () => {
      expect((await loadPluginModule('./named-export-plugin.js', PLUGINS_DIR)).name).to.equal('named-export');
    });

    it('accepts an absolute path', async () => {
      expect((await loadPluginModule(join(PLUGINS_DIR, 'named-export-plugin.js'), '/')).name).to.equal('named-export');
    });

    it('resolves against the base dir, not the working directory', async () => {
      // The file exists under fixtures/plugins, but the base dir is its parent.
      const e = await rejectedBy(loadPluginModule('./named-export-plugin.js', fixturePath()), 'PLUGIN_NOT_FOUND');
      expect(e.message).to.contain(join(fixturePath(), 'named-export-plugin.js'));
    });

    it('a missing file is PLUGIN_NOT_FOUND naming the module and where it looked', async () => {
      const e = await rejectedBy(loadPluginModule('./no-such-plugin.js', PLUGINS_DIR), 'PLUGIN_NOT_FOUND');
      expect(e.plugin).to.equal('./no-such-plugin.js');
      expect(e.key).to.equal('plugins');
      expect(e.message).to.equal(`plugin module ./no-such-plugin.js not found: no file at ${join(PLUGINS_DIR, 'no-such-plugin.js')}`);
      expect(e.hint).to.contain('relative to the config file');
    });

    it('a found module whose dependency is missing is PLUGIN_LOAD_FAILED (not NOT_FOUND), with the real error', async () => {
      const e = await rejectedBy(loadPluginModule('./missing-dep-plugin.js', PLUGINS_DIR), 'PLUGIN_LOAD_FAILED');
      expect(e.plugin).to.equal('./missing-dep-plugin.js');
      expect(e.message).to.contain('plugin module ./missing-dep-plugin.js was found but failed to load');
      expect(e.message).to.contain('ebbtide-fixture-dependency-that-is-not-installed');
      expect((e.cause as { code?: string }).code).to.equal('ERR_MODULE_NOT_FOUND');
    });

    it('a module without a plugin export is PLUGIN_INVALID naming the module', async () => {
      const e = await rejectedBy(loadPluginModule('./no-export-module.js', PLUGINS_DIR), 'PLUGIN_INVALID');
      expect(e.plugin).to.equal('./no-export-module.js');
      expect(e.message).to.contain('module ./no-export-module.js does not export a plugin');
      expect(e.message).to.contain('definePlugin');
    });
  });

  describe('by npm package name (from the base dir\'s node_modules)', () => {
    let home: TempDir;
    before(() => {
      // Fixture packages live in the source tree (node_modules is git-ignored); link them into a
      // temporary project the way `npm install` would.
      home = makeTempDir();
      mkdirSync(join(home.path, 'node_modules'));
      for (const pkg of ['ebbtide-plugin-fixed-size', 'ebbtide-plugin-missing-dep']) {
        symlinkSync(fixturePath('packages', pkg), join(home.path, 'node_modules', pkg), 'dir');
      }
    });
    after(() => {
      home.remove();
    });

    it('loads an installed plugin package', async () => {
      expect((await loadPluginModule('ebbtide-plugin-fixed-size', home.path)).name).to.equal('fixed-size');
    });

    it('a package that is not installed is PLUGIN_NOT_FOUND whose hint is `npm install <name>`', async () => {
      const e = await rejectedBy(loadPluginModule('ebbtide-plugin-not-installed', home.path), 'PLUGIN_NOT_FOUND');
      expect(e.plugin).to.equal('ebbtide-plugin-not-installed');
      expect(e.key).to.equal('plugins');
      expect(e.message).to.equal('plugin package ebbtide-plugin-not-installed is not installed');
      expect(e.hint).to.equal('npm install ebbtide-plugin-not-installed');
    });

    it('a scoped package that is not installed: the hint names the scoped package', async () => {
      const e = await rejectedBy(loadPluginModule('@acme/ebbtide-plugin-x', home.path), 'PLUGIN_NOT_FOUND');
      expect(e.hint).to.equal('npm install @acme/ebbtide-plugin-x');
    });

    it('an installed package whose dependency is missing is PLUGIN_LOAD_FAILED, not "npm install" it', async () => {
      const e = await rejectedBy(loadPluginModule('ebbtide-plugin-missing-dep', home.path), 'PLUGIN_LOAD_FAILED');
      expect(e.plugin).to.equal('ebbtide-plugin-missing-dep');
      expect(e.message).to.contain('ebbtide-fixture-dependency-that-is-not-installed');
      expect(e.hint).to.equal(undefined);
    });
  });
});

describe('asPlugin', () => {
  const register = () => {};
  const invalid: Array<[string, unknown]> = [
    ['undefined', undefined],
    ['a function', register],
    ['an object without register', { name: 'x' }],
    ['an object without name', { register }],
    ['a register that is not a function', { name: 'x', register: 'yes' }],
  ];
  for (const [what, candidate] of invalid) {
    it(`${what} is PLUGIN_INVALID`, () => {
      const e = thrownBy(() => asPlugin(candidate, './thing.js'), 'PLUGIN_INVALID');
      expect(e.plugin).to.equal('./thing.js');
    });
  }

  it('a plugin name that is not kebab-case is PLUGIN_INVALID quoting the name', () => {
    const e = thrownBy(() => asPlugin({ name: 'My Plugin', register }, './thing.js'), 'PLUGIN_INVALID');
    expect(e.message).to.contain('"My Plugin"');
    expect(e.message).to.contain('kebab-case');
  });

  it('a configSchema that is not an object is PLUGIN_INVALID naming the plugin', () => {
    const e = thrownBy(() => asPlugin({ name: 'schemaless', register, configSchema: 'nope' }, './thing.js'), 'PLUGIN_INVALID');
    expect(e.plugin).to.equal('schemaless');
  });

  it('returns a well-formed plugin unchanged', () => {
    const plugin = { name: 'fine', register };
    expect(asPlugin(plugin, './fine.js')).to.equal(plugin);
  });
});
