import 'reflect-metadata';
import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreSchema } from '../src/config/coreSchema.js';
import { loadConfig, readPluginList } from '../src/config/loadConfig.js';
import { loadPluginModule } from '../src/plugins/loadPluginModule.js';
import { PluginRegistry } from '../src/plugins/PluginRegistry.js';
import { EbbtideError, pluginError } from '../src/errors.js';
import { makeTempDir } from './support/tempDir.js';
import { thrownBy } from './support/errors.js';

describe('config and loader edge cases', () => {
  const tmp = makeTempDir();
  after(() => tmp.remove());

  it('loads an ESM-only plugin package (exports with only an import condition) installed next to the config', async () => {
    const pkg = join(tmp.path, 'node_modules', 'ebbtide-plugin-esm-only');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'ebbtide-plugin-esm-only', type: 'module', exports: { '.': { import: './index.js' } } }));
    writeFileSync(join(pkg, 'index.js'), "export default { name: 'esm-only', register() {} };\n");
    expect((await loadPluginModule('ebbtide-plugin-esm-only', tmp.path)).name).to.equal('esm-only');
  });

  it('`plugins` given as an object is an error, not silently ignored', () => {
    const file = tmp.write('obj.json', JSON.stringify({ plugins: { heuristic: './x.js' } }));
    const e = thrownBy(() => readPluginList({ file, env: {} }), 'CONFIG_INVALID');
    expect(e.message).to.match(/^plugins: expected a list of module names or paths, got \{"heuristic":"\.\/x\.js"\}/);
  });

  it('a scalar where a section belongs is one clear message', () => {
    const file = tmp.write('scalar.json', JSON.stringify({ adaptive: 5 }));
    const e = thrownBy(() => loadConfig([{ owner: 'core', schema: coreSchema }], { file, env: {} }), 'CONFIG_INVALID');
    expect(e.message).to.match(/^adaptive: expected a section of settings \(interval, minimum, maximum, waitCount, targetDuration, earlyTick, historyLength\), got 5 \(from /);
    expect(e.message).not.to.contain('\n');
  });

  it('an empty YAML section counts as empty', () => {
    const file = tmp.write('empty.yaml', 'adaptive:\nlog:\n  level: warn\n');
    const { config } = loadConfig([{ owner: 'core', schema: coreSchema }], { file, env: {} });
    expect(config.adaptive.waitCount).to.equal(3);
    expect(config.log.level).to.equal('warn');
  });

  it("a plugin's own EbbtideError thrown in register becomes PLUGIN_ERROR naming it", () => {
    const r = new PluginRegistry();
    const e = thrownBy(
      () =>
        r.add({
          name: 'picky',
          register() {
            throw new EbbtideError('INPUT_INVALID', 'bad');
          },
        }),
      'PLUGIN_ERROR',
    );
    expect(e.plugin).to.equal('picky');
  });

  it('pluginError keeps a plain error code as pluginCode', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(pluginError('k8s', 'start', cause).data).to.deep.equal({ method: 'start', pluginCode: 'ECONNREFUSED' });
  });
});
