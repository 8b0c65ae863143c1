import 'reflect-metadata';
import { expect } from 'chai';
import { type EbbtidePlugin, definePlugin } from '../src/plugins/EbbtidePlugin.js';
import { PluginRegistry } from '../src/plugins/PluginRegistry.js';
import { NoopHeuristic, NoopWorkersToClose, noopPlugin } from '../src/testing/noopPlugin.js';
import { thrownBy } from './support/errors.js';
import { LabelValueWorkerKey, NameWorkerKey, testKeysPlugin } from './support/testKeysPlugin.js';

const heuristicPlugin = (name: string, heuristic: string): EbbtidePlugin =>
  definePlugin({ name, register: (r) => r.heuristic(heuristic, NoopHeuristic) });

describe('PluginRegistry', () => {
  let registry: PluginRegistry;
  beforeEach(() => {
    registry = new PluginRegistry();
  });

  it('records each plugin, where it came from, and what it registered', () => {
    registry.add(noopPlugin);
    registry.add(testKeysPlugin, './keys.js');
    expect(registry.plugins).to.deep.equal([noopPlugin, testKeysPlugin]);
    expect(registry.source(noopPlugin)).to.equal('built-in');
    expect(registry.source(testKeysPlugin)).to.equal('./keys.js');
    expect(registry.list('heuristic').map((r) => [r.name, r.plugin.name, r.impl])).to.deep.equal([['noop', 'noop', NoopHeuristic]]);
    expect(registry.list('workersToClose').map((r) => r.impl)).to.deep.equal([NoopWorkersToClose]);
    expect(registry.names('workerKey')).to.deep.equal(['none', 'label:<name>']);
  });

  describe('PLUGIN_DUPLICATE_NAME', () => {
    it('two plugins with the same name, naming where both came from', () => {
      registry.add(heuristicPlugin('twin', 'one'), './a.js');
      const e = thrownBy(() => registry.add(heuristicPlugin('twin', 'two'), './b.js'), 'PLUGIN_DUPLICATE_NAME');
      expect(e.plugin).to.equal('twin');
      expect(e.key).to.equal('plugins');
      expect(e.message).to.equal('plugin "twin" from ./b.js has the same name as the plugin from ./a.js');
    });

    it('a loaded plugin named like a built-in names the built-in', () => {
      registry.add(noopPlugin);
      const e = thrownBy(() => registry.add(heuristicPlugin('noop', 'other'), 'ebbtide-plugin-noop'), 'PLUGIN_DUPLICATE_NAME');
      expect(e.message).to.contain('from ebbtide-plugin-noop');
      expect(e.message).to.contain('from built-in');
    });

    it('two plugins registering the same heuristic name, naming both plugins', () => {
      registry.add(heuristicPlugin('first', 'fixed'));
      const e = thrownBy(() => registry.add(heuristicPlugin('second', 'fixed')), 'PLUGIN_DUPLICATE_NAME');
      expect(e.plugin).to.equal('second');
      expect(e.message).to.equal('plugin "second" registers heuristic "fixed", which plugin "first" already registers');
    });

    it('one plugin registering a name twice', () => {
      const twice = definePlugin({
        name: 'twice',
        register(r) {
          r.heuristic('same', NoopHeuristic);
          r.heuristic('same', NoopHeuristic);
        },
      });
      thrownBy(() => registry.add(twice), 'PLUGIN_DUPLICATE_NAME');
    });

    it('the same name in different kinds is fine', () => {
      registry.add(definePlugin({ name: 'both', register: (r) => r.heuristic('same', NoopHeuristic) }));
      registry.add(definePlugin({ name: 'other', register: (r) => r.workersToClose('same', NoopWorkersToClose) }));
      expect(registry.names('heuristic')).to.deep.equal(['same']);
      expect(registry.names('workersToClose')).to.deep.equal(['same']);
    });
  });

  describe('register failures', () => {
    it('a throwing register is PLUGIN_ERROR naming the plugin, with the cause and data.method', () => {
      const boom = new Error('boom in register');
      const broken = definePlugin({
        name: 'broken',
        register() {
          throw boom;
        },
      });
      const e = thrownBy(() => registry.add(broken), 'PLUGIN_ERROR');
      expect(e.plugin).to.equal('broken');
      expect(e.message).to.equal('plugin "broken" failed in register: boom in register');
      expect(e.cause).to.equal(boom);
      expect(e.data).to.deep.equal({ method: 'register' });
    });

    it('a register that fails half-way leaves nothing registered (not even the plugin name)', () => {
      const halfway = definePlugin({
        name: 'halfway',
        register(r) {
          r.heuristic('halfway', NoopHeuristic);
          throw new Error('second registration failed');
        },
      });
      thrownBy(() => registry.add(halfway), 'PLUGIN_ERROR');
      expect(registry.names('heuristic')).to.deep.equal([]);
      expect(registry.plugins).to.deep.equal([]);
      // The name is free again: a fixed version of the plugin can be added.
      registry.add(heuristicPlugin('halfway', 'halfway'));
      expect(registry.names('heuristic')).to.deep.equal(['halfway']);
    });

    it('a registered name that is not kebab-case is PLUGIN_INVALID naming the plugin', () => {
      const e = thrownBy(() => registry.add(heuristicPlugin('shouty', 'MyHeuristic')), 'PLUGIN_INVALID');
      expect(e.plugin).to.equal('shouty');
      expect(e.message).to.contain('"MyHeuristic"');
      expect(e.message).to.contain('kebab-case');
    });

    it('registering something that is not a class is PLUGIN_INVALID', () => {
      const notAClass = definePlugin({
        name: 'not-a-class',
        register(r) {
          r.heuristic('x', { target: () => ({ target: 1, explanation: {} }) } as unknown as typeof NoopHeuristic);
        },
      });
      const e = thrownBy(() => registry.add(notAClass), 'PLUGIN_INVALID');
      expect(e.message).to.contain('without a class');
    });
  });

  describe('lookup', () => {
    beforeEach(() => {
      registry.add(noopPlugin);
      registry.add(testKeysPlugin);
    });

    it('finds a registration by name', () => {
      const { registration, argument } = registry.lookup('heuristic', 'noop');
      expect(registration.impl).to.equal(NoopHeuristic);
      expect(argument).to.equal(undefined);
    });

    it('an unknown name is CONFIG_UNKNOWN_NAME naming the config key and listing the registered names', () => {
      const e = thrownBy(() => registry.lookup('workerKey', 'nope'), 'CONFIG_UNKNOWN_NAME');
      expect(e.key).to.equal('workerKey');
      expect(e.message).to.equal('workerKey: unknown workerKey "nope"; registered: none, label:<name>');
      expect(e.hint).to.contain('plugins');
    });

    it('names the nested selecting key for backends and says when nothing is registered', () => {
      const e = thrownBy(() => registry.lookup('backend', 'kubernetes'), 'CONFIG_UNKNOWN_NAME');
      expect(e.key).to.equal('backend.type');
      expect(e.message).to.equal('backend.type: unknown backend "kubernetes"; registered: (none)');
    });

    it('label:app gives the parameterised registration and its argument', () => {
      const { registration, argument } = registry.lookup('workerKey', 'label:app');
      expect(registration.impl).to.equal(LabelValueWorkerKey);
      expect(argument).to.equal('app');
    });

    for (const selected of ['label', 'label:']) {
      it(`"${selected}" (no argument) is CONFIG_UNKNOWN_NAME showing the expected form`, () => {
        const e = thrownBy(() => registry.lookup('workerKey', selected), 'CONFIG_UNKNOWN_NAME');
        expect(e.key).to.equal('workerKey');
        expect(e.message).to.contain('needs an argument: label:<name>');
      });
    }

    it('an argument to a name that takes none is CONFIG_UNKNOWN_NAME', () => {
      const e = thrownBy(() => registry.lookup('workerKey', 'none:x'), 'CONFIG_UNKNOWN_NAME');
      expect(e.message).to.equal('workerKey: workerKey "none" takes no argument, got "none:x"');
      expect(registry.lookup('workerKey', 'none').registration.impl).to.equal(NameWorkerKey);
    });
  });

});
