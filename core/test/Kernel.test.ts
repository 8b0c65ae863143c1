import 'reflect-metadata';
import { expect } from 'chai';
import { inject, injectable } from 'tsyringe';
import type { HeuristicResult, ScalingHeuristic } from '../src/contracts/ScalingHeuristic.js';
import type { SchedulerSnapshot } from '../src/contracts/SchedulerSnapshot.js';
import { type Logger, MemoryLogger } from '../src/logging/Logger.js';
import { definePlugin } from '../src/plugins/EbbtidePlugin.js';
import { Kernel, type KernelOptions } from '../src/plugins/Kernel.js';
import { makeSnapshot, makeWorker } from '../src/testing/fakes.js';
import { noopPlugin } from '../src/testing/noopPlugin.js';
import { LOGGER, PLUGIN_OPTIONS } from '../src/tokens.js';
import { fixturePath } from './support/fixtures.js';
import { rejectedBy, thrownBy } from './support/errors.js';
import { type TempDir, makeTempDir } from './support/tempDir.js';
import { testKeysPlugin } from './support/testKeysPlugin.js';

const PLUGINS_DIR = fixturePath('plugins');
const FROM_CONFIG_DIR = fixturePath('heuristic-from-config');

/** Core has no real heuristics of its own: the built-ins here are the no-op ones and test keys. */
const BUILTINS = [noopPlugin, testKeysPlugin];

/** Selections that only use the built-ins above (the core defaults name Dask's, a plugin). */
const NOOP_SELECTIONS = { heuristic: 'noop', workersToClose: 'noop' };

/** What the composition root of these tests selects by default. */
const DEFAULTS = { workerKey: 'none' };

function create(options: KernelOptions = {}): Promise<Kernel> {
  return Kernel.create({ builtins: BUILTINS, defaults: DEFAULTS, ...options, sources: { env: {}, ...options.sources } });
}

/** A kernel whose `plugins` flag lists fixture modules from `fixtures/plugins`. */
function createWithPlugins(plugins: string[], flags: Record<string, string> = NOOP_SELECTIONS): Promise<Kernel> {
  return create({ sources: { cwd: PLUGINS_DIR, flags: { ...flags, plugins: JSON.stringify(plugins) } } });
}

const twoWorkers = (): SchedulerSnapshot => makeSnapshot([makeWorker('w-0'), makeWorker('w-1')]);

describe('Kernel', () => {
  describe('a heuristic plugin loaded from the config file', () => {
    it('loads ./my-heuristic.js relative to the config file and its heuristic replaces the built-in', async () => {
      const kernel = await create({ sources: { file: fixturePath('heuristic-from-config', 'ebbtide.yaml') } });
      expect(kernel.selected('heuristic')).to.equal('fixed');
      const result = kernel.resolve('heuristic').target(twoWorkers(), { minimum: 0, maximum: Infinity });
      expect(result.target).to.equal(4);
      expect(result.explanation).to.deep.equal({ rule: 'my-heuristic: fixed size' });
      const plugin = kernel.registry.plugins.find((p) => p.name === 'my-heuristic');
      expect(plugin && kernel.registry.source(plugin)).to.equal('./my-heuristic.js');
    });

    it('without the selection, the built-in heuristic still answers', async () => {
      const kernel = await create({ sources: { file: fixturePath('heuristic-from-config', 'ebbtide.yaml'), flags: { heuristic: 'noop' } } });
      expect(kernel.resolve('heuristic').target(twoWorkers(), { minimum: 0, maximum: Infinity }).target).to.equal(2);
      // Both stay registered; the config picks one.
      expect(kernel.registry.names('heuristic')).to.deep.equal(['noop', 'fixed']);
    });

    it("merges the plugin's config section and passes its options through PLUGIN_OPTIONS", async () => {
      const kernel = await create({ sources: { file: fixturePath('heuristic-from-config', 'ebbtide-plugin-options.json') } });
      expect((kernel.config.myHeuristic as { workers: number }).workers).to.equal(9);
      expect(kernel.loaded.sources['myHeuristic.workers']).to.equal('file');
      expect(kernel.resolve('heuristic').target(twoWorkers(), { minimum: 0, maximum: Infinity }).target).to.equal(9);
    });

    it('the plugin section follows the same precedence: its env variable beats the file, typed', async () => {
      const kernel = await create({
        sources: { file: fixturePath('heuristic-from-config', 'ebbtide-plugin-options.json'), env: { EBBTIDE_MY_HEURISTIC_WORKERS: '7' } },
      });
      expect(kernel.loaded.sources['myHeuristic.workers']).to.equal('env');
      // options() saw the typed number, not the env string.
      expect(kernel.resolve('heuristic').target(twoWorkers(), { minimum: 0, maximum: Infinity }).target).to.equal(7);
    });

    it("a bad value in the plugin's section is CONFIG_INVALID naming its key, the value and the file", async () => {
      const file = fixturePath('heuristic-from-config', 'ebbtide-bad-plugin-option.yaml');
      const e = await rejectedBy(create({ sources: { file } }), 'CONFIG_INVALID');
      expect(e.key).to.equal('myHeuristic.workers');
      expect(e.message).to.equal(`myHeuristic.workers: expected a whole number >= 0, got "many" (from ${file})`);
    });

    it("a typo in the plugin's section gets a did-you-mean from the plugin's keys", async () => {
      const e = await rejectedBy(
        create({ sources: { cwd: FROM_CONFIG_DIR, flags: { ...NOOP_SELECTIONS, plugins: './my-heuristic.js', 'myHeuristic.worker': '3' } } }),
        'CONFIG_INVALID',
      );
      expect(e.message).to.contain('did you mean --myHeuristic.workers?');
    });

    it("the plugin's keys are unknown when the plugin is not loaded", async () => {
      const e = await rejectedBy(create({ sources: { flags: { ...NOOP_SELECTIONS, 'myHeuristic.workers': '3' } } }), 'CONFIG_INVALID');
      expect(e.key).to.equal('myHeuristic.workers');
    });

    it('computes a plugin\'s options once and shares them between instances', async () => {
      let calls = 0;
      @injectable()
      class OptionsEcho implements ScalingHeuristic {
        constructor(@inject(PLUGIN_OPTIONS) private readonly options: { n: number }) {}
        target(): HeuristicResult {
          return { target: this.options.n, explanation: {} };
        }
      }
      const counting = definePlugin({
        name: 'counting',
        options: () => ({ n: ++calls }),
        register: (r) => r.heuristic('echo', OptionsEcho),
      });
      const kernel = await create({ builtins: [...BUILTINS, counting], sources: { flags: { ...NOOP_SELECTIONS, heuristic: 'echo' } } });
      const a = kernel.resolve('heuristic');
      const b = kernel.resolve('heuristic');
      expect(a).not.to.equal(b);
      expect(a.target(twoWorkers(), { minimum: 0, maximum: Infinity }).target).to.equal(1);
      expect(b.target(twoWorkers(), { minimum: 0, maximum: Infinity }).target).to.equal(1);
    });

    it('gives each implementation a logger bound to its plugin name', async () => {
      @injectable()
      class LoggingHeuristic implements ScalingHeuristic {
        constructor(@inject(LOGGER) private readonly log: Logger) {}
        target(snapshot: SchedulerSnapshot): HeuristicResult {
          this.log.info({ workers: snapshot.workers.length }, 'target');
          return { target: 0, explanation: {} };
        }
      }
      const logging = definePlugin({ name: 'logging', register: (r) => r.heuristic('logging', LoggingHeuristic) });
      const logger = new MemoryLogger();
      const kernel = await create({ builtins: [...BUILTINS, logging], logger, sources: { flags: { ...NOOP_SELECTIONS, heuristic: 'logging' } } });
      kernel.resolve('heuristic').target(twoWorkers(), { minimum: 0, maximum: Infinity });
      expect(logger.records).to.deep.equal([{ level: 'info', message: 'target', fields: { plugin: 'logging', workers: 2 } }]);
    });
  });

  describe('plugin loading failures', () => {
    let tmp: TempDir;
    beforeEach(() => {
      tmp = makeTempDir();
    });
    afterEach(() => {
      tmp.remove();
    });

    it('a missing path in the config file is PLUGIN_NOT_FOUND naming the module and the resolved path', async () => {
      const file = tmp.write('ebbtide.yaml', 'plugins:\n  - ./my-heuristic.js\n');
      const e = await rejectedBy(create({ sources: { file } }), 'PLUGIN_NOT_FOUND');
      expect(e.plugin).to.equal('./my-heuristic.js');
      expect(e.key).to.equal('plugins');
      expect(e.message).to.contain(`plugin module ./my-heuristic.js not found: no file at ${tmp.path}/my-heuristic.js`);
    });

    it('a package that is not installed is PLUGIN_NOT_FOUND with the hint `npm install <name>`', async () => {
      const file = tmp.write('ebbtide.json', JSON.stringify({ plugins: ['ebbtide-plugin-nowhere'] }));
      const e = await rejectedBy(create({ sources: { file } }), 'PLUGIN_NOT_FOUND');
      expect(e.plugin).to.equal('ebbtide-plugin-nowhere');
      expect(e.message).to.contain('ebbtide-plugin-nowhere');
      expect(e.hint).to.equal('npm install ebbtide-plugin-nowhere');
    });

    it('a module that imports a missing dependency is PLUGIN_LOAD_FAILED, not PLUGIN_NOT_FOUND', async () => {
      const e = await rejectedBy(createWithPlugins(['./missing-dep-plugin.js']), 'PLUGIN_LOAD_FAILED');
      expect(e.plugin).to.equal('./missing-dep-plugin.js');
      expect(e.message).to.contain("Cannot find package 'ebbtide-fixture-dependency-that-is-not-installed'");
    });

    it('a module without a plugin export is PLUGIN_INVALID', async () => {
      const e = await rejectedBy(createWithPlugins(['./no-export-module.js']), 'PLUGIN_INVALID');
      expect(e.plugin).to.equal('./no-export-module.js');
    });

    it('two plugins with the same name is PLUGIN_DUPLICATE_NAME naming both modules', async () => {
      const e = await rejectedBy(createWithPlugins(['./same-name-plugin-a.js', './same-name-plugin-b.js']), 'PLUGIN_DUPLICATE_NAME');
      expect(e.plugin).to.equal('twin');
      expect(e.message).to.contain('./same-name-plugin-a.js');
      expect(e.message).to.contain('./same-name-plugin-b.js');
    });

    it('two plugins registering the same heuristic name is PLUGIN_DUPLICATE_NAME naming both plugins', async () => {
      const e = await rejectedBy(createWithPlugins(['./clashing-heuristic-plugin.js']), 'PLUGIN_DUPLICATE_NAME');
      expect(e.plugin).to.equal('clashing-heuristic');
      expect(e.message).to.equal('plugin "clashing-heuristic" registers heuristic "noop", which plugin "noop" already registers');
    });

    it('a failing register is PLUGIN_ERROR naming the plugin', async () => {
      const e = await rejectedBy(createWithPlugins(['./broken-register-plugin.js']), 'PLUGIN_ERROR');
      expect(e.plugin).to.equal('broken-register');
      expect(e.message).to.equal('plugin "broken-register" failed in register: boom in register');
      expect(e.data).to.deep.equal({ method: 'register' });
    });

    it('`plugins` that is not a list is CONFIG_INVALID naming the key', async () => {
      const file = tmp.write('ebbtide.json', JSON.stringify({ plugins: 5 }));
      const e = await rejectedBy(create({ sources: { file } }), 'CONFIG_INVALID');
      expect(e.key).to.equal('plugins');
      expect(e.message).to.match(/^plugins: expected a list of module names or paths, got 5 \(from .*ebbtide\.json\)$/);
    });
  });

  describe('selected names', () => {
    it('an unknown heuristic is CONFIG_UNKNOWN_NAME listing the registered names', async () => {
      const e = await rejectedBy(
        create({ sources: { file: fixturePath('heuristic-from-config', 'ebbtide.yaml'), flags: { heuristic: 'nope' } } }),
        'CONFIG_UNKNOWN_NAME',
      );
      expect(e.key).to.equal('heuristic');
      expect(e.message).to.equal('heuristic: unknown heuristic "nope"; registered: noop, fixed');
    });

    it('the core names no implementation: without a selection or a default, the kernel says so and lists the choices', async () => {
      const e = await rejectedBy(Kernel.create({ builtins: BUILTINS, sources: { env: {} } }), 'CONFIG_INVALID');
      expect(e.message).to.equal('heuristic: no heuristic selected; registered: noop');
      expect(e.key).to.equal('heuristic');
    });

    it("the composition root's defaults select, below every source", async () => {
      const kernel = await Kernel.create({ builtins: BUILTINS, defaults: { heuristic: 'noop', workersToClose: 'noop', workerKey: 'none' }, sources: { env: {} } });
      expect(kernel.selected('heuristic')).to.equal('noop');
      expect(kernel.loaded.sources.heuristic).to.equal('default');
      const flagged = await Kernel.create({ builtins: BUILTINS, defaults: { heuristic: 'nope' }, sources: { env: {}, flags: { heuristic: 'noop', workersToClose: 'noop', workerKey: 'none' } } });
      expect(flagged.selected('heuristic')).to.equal('noop');
    });

    it('a default for a key nobody declares is refused', async () => {
      await rejectedBy(Kernel.create({ builtins: BUILTINS, defaults: { heuristc: 'noop' }, sources: { env: {} } }), 'PLUGIN_INVALID');
    });

    it('workerKey: label:app resolves with the argument', async () => {
      const kernel = await create({ sources: { flags: { ...NOOP_SELECTIONS, workerKey: 'label:app' } } });
      const key = kernel.resolve('workerKey');
      expect(key.key(makeWorker('w-0', { labels: { app: 'etl' } }))).to.equal('etl');
      expect(key.key(makeWorker('w-1', { labels: { team: 'x' } }))).to.equal('');
    });

    it('workerKey: label without an argument fails at create, naming workerKey', async () => {
      const e = await rejectedBy(create({ sources: { flags: { ...NOOP_SELECTIONS, workerKey: 'label' } } }), 'CONFIG_UNKNOWN_NAME');
      expect(e.key).to.equal('workerKey');
      expect(e.message).to.contain('label:<name>');
    });

    it('the selection can come from env like any key (EBBTIDE_WORKER_KEY)', async () => {
      const kernel = await create({ sources: { env: { EBBTIDE_WORKER_KEY: 'label:zone' }, flags: NOOP_SELECTIONS } });
      expect(kernel.resolve('workerKey').key(makeWorker('w-0', { labels: { zone: 'b' } }))).to.equal('b');
    });

    it('resolve() by an explicit name also checks the name', async () => {
      const kernel = await create({ sources: { flags: NOOP_SELECTIONS } });
      thrownBy(() => kernel.resolve('heuristic', 'nope'), 'CONFIG_UNKNOWN_NAME');
    });
  });

  describe('run-time failures become PLUGIN_ERROR', () => {
    it('a throw inside a plugin method names the plugin and the method, keeping the cause', async () => {
      const kernel = await createWithPlugins(['./throwing-method-plugin.js'], { ...NOOP_SELECTIONS, heuristic: 'throws' });
      const heuristic = kernel.resolve('heuristic');
      const e = thrownBy(() => heuristic.target(twoWorkers(), { minimum: 0, maximum: Infinity }), 'PLUGIN_ERROR');
      expect(e.plugin).to.equal('throwing-method');
      expect(e.data).to.include({ method: 'target' });
      expect(e.message).to.equal('plugin "throwing-method" failed in target: division by zero workers');
      expect((e.cause as { code?: string }).code).to.equal('E_FIXTURE');
    });

    it('a throwing options() is PLUGIN_ERROR with method "options"', async () => {
      const failing = definePlugin({
        name: 'bad-options',
        options: () => {
          throw new Error('cannot derive');
        },
        register: (r) => r.heuristic('bad-options', noopHeuristicClass()),
      });
      const kernel = await create({ builtins: [...BUILTINS, failing], sources: { flags: { ...NOOP_SELECTIONS, heuristic: 'bad-options' } } });
      const e = thrownBy(() => kernel.resolve('heuristic'), 'PLUGIN_ERROR');
      expect(e.plugin).to.equal('bad-options');
      expect(e.data).to.deep.equal({ method: 'options' });
    });

    it('a throwing constructor is PLUGIN_ERROR with method "constructor"', async () => {
      @injectable()
      class ExplodingHeuristic implements ScalingHeuristic {
        constructor() {
          throw new Error('no config for me');
        }
        target(): HeuristicResult {
          return { target: 0, explanation: {} };
        }
      }
      const exploding = definePlugin({ name: 'exploding', register: (r) => r.heuristic('exploding', ExplodingHeuristic) });
      const kernel = await create({ builtins: [...BUILTINS, exploding], sources: { flags: { ...NOOP_SELECTIONS, heuristic: 'exploding' } } });
      const e = thrownBy(() => kernel.resolve('heuristic'), 'PLUGIN_ERROR');
      expect(e.plugin).to.equal('exploding');
      expect(e.data).to.deep.equal({ method: 'constructor' });
      expect(e.message).to.contain('no config for me');
    });
  });
});

describe('Kernel: plugins installed anywhere', () => {
  const SELECT = { heuristic: 'probe', workersToClose: 'noop' };
  const probeSchema = { probe: { workers: { doc: 'Workers wanted', format: 'whole-number', default: 3 } } };
  const probeOptions = (c: Record<string, unknown>) => ({ workers: (c.probe as { workers: number }).workers });

  it('a factory gets its options, a logger bound to the plugin, the RxJS scheduler, the config and the name argument', async () => {
    const seen: Record<string, unknown> = {};
    const probe = definePlugin({
      name: 'probe',
      configSchema: probeSchema,
      options: probeOptions,
      register(r) {
        r.heuristic('probe', (ctx) => {
          Object.assign(seen, ctx);
          const { workers } = ctx.options as { workers: number };
          return { target: () => ({ target: workers, explanation: { rule: 'probe' } }) };
        });
        r.workerKey('tagged', (ctx) => ({ key: () => ctx.argument }), { parameter: 'tag' });
      },
    });
    const logger = new MemoryLogger();
    const kernel = await create({ builtins: [...BUILTINS, probe], logger, sources: { flags: { ...SELECT, 'probe.workers': '5', workerKey: 'tagged:blue' } } });
    expect(kernel.resolve('heuristic').target(twoWorkers(), { minimum: 0, maximum: Infinity }).target).to.equal(5);
    expect(seen.options).to.deep.equal({ workers: 5 });
    expect(seen.rxScheduler).to.equal(kernel.rxScheduler);
    expect(seen.config).to.equal(kernel.config);
    (seen.logger as Logger).info({ event: 'hello' }, 'hi');
    expect(logger.records.at(-1)!.fields).to.deep.include({ plugin: 'probe', event: 'hello' });
    expect(kernel.resolve('workerKey').key(makeWorker('w-0'))).to.equal('blue');
  });

  it('builds a class decorated by another copy of tsyringe from its inject metadata (no shared container)', async () => {
    // What a plugin's own tsyringe leaves on its class: metadata through the global Reflect,
    // but no entry in this tsyringe's registry.
    class Foreign {
      constructor(
        readonly options: { workers: number },
        readonly logger: Logger,
      ) {}
      target() {
        return { target: this.options.workers, explanation: {} };
      }
    }
    Reflect.defineMetadata('design:paramtypes', [Object, Object], Foreign);
    Reflect.defineMetadata('injectionTokens', { 0: Symbol.for('ebbtide.PluginOptions'), 1: Symbol.for('ebbtide.Logger') }, Foreign);
    const probe = definePlugin({ name: 'probe', configSchema: probeSchema, options: probeOptions, register: (r) => r.heuristic('probe', Foreign) });
    const kernel = await create({ builtins: [...BUILTINS, probe], sources: { flags: SELECT } });
    expect(kernel.resolve('heuristic').target(twoWorkers(), { minimum: 0, maximum: Infinity }).target).to.equal(3);
  });

  it('a class with a constructor argument no token explains what is missing', async () => {
    class Untyped {
      constructor(readonly x: unknown) {}
      target() {
        return { target: 0, explanation: {} };
      }
    }
    const probe = definePlugin({ name: 'probe', register: (r) => r.heuristic('probe', Untyped) });
    const kernel = await create({ builtins: [...BUILTINS, probe], sources: { flags: SELECT } });
    const e = thrownBy(() => kernel.resolve('heuristic'), 'PLUGIN_INVALID');
    expect(e.message).to.contain('cannot construct Untyped: constructor argument 1 has no injection token');
  });

  it('an EbbtideError from another copy of the core is classified by its code: CONFIG_INVALID stays CONFIG_INVALID', async () => {
    // Another copy's EbbtideError is not an instance of ours; only its name and code say what it is.
    const foreign = Object.assign(new Error('probe.workers: must be odd, got 4'), { name: 'EbbtideError', code: 'CONFIG_INVALID', key: 'probe.workers' });
    const probe = definePlugin({
      name: 'probe',
      configSchema: probeSchema,
      options: () => {
        throw foreign;
      },
      register: (r) => r.heuristic('probe', () => ({ target: () => ({ target: 0, explanation: {} }) })),
    });
    const kernel = await create({ builtins: [...BUILTINS, probe], sources: { flags: SELECT } });
    const e = thrownBy(() => kernel.resolve('heuristic'), 'CONFIG_INVALID');
    expect(e.message).to.equal('probe.workers: must be odd, got 4');
  });

  it('refuses a plugin built for another plugin API version, saying which side to upgrade', async () => {
    const future = { ...definePlugin({ name: 'future', register: () => undefined }), apiVersion: 2 };
    const e = await rejectedBy(create({ builtins: [...BUILTINS, future] }), 'PLUGIN_INVALID');
    expect(e.message).to.equal('plugin "future" from built-in was built for ebbtide plugin API 2; this ebbtide speaks plugin API 1');
    expect(e.hint).to.contain('upgrade ebbtide');
    expect(definePlugin({ name: 'now', register: () => undefined }).apiVersion).to.equal(1);
  });

  it('a factory returning nothing is PLUGIN_INVALID', async () => {
    const probe = definePlugin({ name: 'probe', register: (r) => r.heuristic('probe', (() => undefined) as never) });
    const kernel = await create({ builtins: [...BUILTINS, probe], sources: { flags: SELECT } });
    thrownBy(() => kernel.resolve('heuristic'), 'PLUGIN_INVALID');
  });

  it('instances handed to the kernel fill their roles without a selection', async () => {
    const fixed = { target: () => ({ target: 7, explanation: {} }) };
    const kernel = await Kernel.create({ builtins: BUILTINS, instances: { heuristic: fixed }, defaults: { workersToClose: 'noop', workerKey: 'none', heuristic: 'noop' }, sources: { env: {} } });
    expect(kernel.resolve('heuristic')).to.equal(fixed);
    expect(kernel.resolve('heuristic', 'noop')).to.not.equal(fixed);
  });
});

/** A fresh trivial heuristic class (a class per plugin keeps registrations independent). */
function noopHeuristicClass(): new () => ScalingHeuristic {
  @injectable()
  class Trivial implements ScalingHeuristic {
    target(): HeuristicResult {
      return { target: 0, explanation: {} };
    }
  }
  return Trivial;
}
