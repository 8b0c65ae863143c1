import { expect } from 'chai';
import { coreSchema } from '../src/config/coreSchema.js';
import { type ConfigSources, type OwnedSchema, loadConfig } from '../src/config/loadConfig.js';
import { thrownBy } from './support/errors.js';
import { type TempDir, makeTempDir } from './support/tempDir.js';

const CORE: OwnedSchema[] = [{ owner: 'core', schema: coreSchema }];

/** Loads the core config from the given sources with an empty environment unless one is given. */
function load(sources: ConfigSources = {}) {
  return loadConfig(CORE, { env: {}, ...sources });
}

describe('loadConfig', () => {
  let tmp: TempDir;
  beforeEach(() => {
    tmp = makeTempDir();
  });
  afterEach(() => {
    tmp.remove();
  });

  describe('defaults', () => {
    it("gives Dask's adaptive defaults, typed (seconds, Infinity)", () => {
      const { config, sources } = load();
      expect(config.adaptive).to.deep.equal({ interval: 1, minimum: 0, maximum: Infinity, waitCount: 3, targetDuration: 5, earlyTick: 0, historyLength: 1000 });
      expect(config.scheduler.unknownTaskDuration).to.equal(0.5);
      expect(config.scheduler.defaultTaskDurations).to.deep.equal({});
      // The core names no implementation: the composition root chooses (the CLI: dask, dask, none).
      expect(config.heuristic).to.equal('');
      expect(config.workersToClose).to.equal('');
      expect(config.workerKey).to.equal('');
      expect(config.plugins).to.deep.equal([]);
      expect(config.log).to.deep.equal({ level: 'info', format: 'pretty' });
      expect(Object.values(sources)).to.satisfy((vs: string[]) => vs.every((v) => v === 'default'));
    });
  });

  describe('bad values: CONFIG_INVALID naming the key, the value and what is allowed', () => {
    const cases: Array<{ key: string; value: string; got: string; allowed: string }> = [
      { key: 'adaptive.maximum', value: '-1', got: '"-1"', allowed: 'expected a whole number >= 0 or "inf"' },
      { key: 'adaptive.maximum', value: '2.5', got: '"2.5"', allowed: 'expected a whole number >= 0 or "inf"' },
      { key: 'adaptive.maximum', value: 'lots', got: '"lots"', allowed: 'expected a whole number >= 0 or "inf"' },
      { key: 'adaptive.minimum', value: '-1', got: '-1', allowed: 'expected a whole number >= 0' },
      { key: 'adaptive.interval', value: 'fast', got: '"fast"', allowed: 'expected a duration such as "500ms"' },
      { key: 'adaptive.targetDuration', value: '0', got: '0', allowed: 'expected a duration > 0' },
      { key: 'adaptive.waitCount', value: 'x', got: '"x"', allowed: 'expected a whole number >= 0' },
      { key: 'log.level', value: 'loud', got: '"loud"', allowed: 'expected one of debug, info, warn, error, silent' },
    ];
    for (const { key, value, got, allowed } of cases) {
      it(`--${key} ${value}`, () => {
        const e = thrownBy(() => load({ flags: { [key]: value } }), 'CONFIG_INVALID');
        expect(e.key).to.equal(key);
        expect(e.message).to.contain(`${key}: ${allowed}`);
        expect(e.message).to.contain(`got ${got}`);
        expect(e.message).to.contain(`(from flag --${key})`);
      });
    }

    it('names the file a bad value came from, with the value as written (adaptive.maximum: -1)', () => {
      const file = tmp.write('ebbtide.json', JSON.stringify({ adaptive: { maximum: -1 } }));
      const e = thrownBy(() => load({ file }), 'CONFIG_INVALID');
      expect(e.key).to.equal('adaptive.maximum');
      expect(e.message).to.equal(`adaptive.maximum: expected a whole number >= 0 or "inf", got -1 (from ${file})`);
    });

    it('names the env variable a bad value came from (EBBTIDE_ADAPTIVE_WAIT_COUNT=x)', () => {
      const e = thrownBy(() => load({ env: { EBBTIDE_ADAPTIVE_WAIT_COUNT: 'x' } }), 'CONFIG_INVALID');
      expect(e.key).to.equal('adaptive.waitCount');
      expect(e.message).to.contain('adaptive.waitCount: expected a whole number >= 0, got "x" (from env EBBTIDE_ADAPTIVE_WAIT_COUNT)');
    });

    it('reports every bad value at once, one line each, keyed by the first', () => {
      const file = tmp.write('ebbtide.yaml', 'adaptive:\n  maximum: lots\n  waitCount: x\nlog:\n  level: loud\n');
      const e = thrownBy(() => load({ file }), 'CONFIG_INVALID');
      expect(e.key).to.equal('adaptive.maximum');
      const lines = e.message.split('\n');
      expect(lines).to.have.length(3);
      expect(lines[0]).to.match(/^adaptive\.maximum: .*got "lots"/);
      expect(lines[1]).to.match(/^adaptive\.waitCount: .*got "x"/);
      expect(lines[2]).to.match(/^log\.level: .*got "loud"/);
    });

    it('points to `ebbtide config` in the hint', () => {
      const e = thrownBy(() => load({ flags: { 'log.level': 'loud' } }), 'CONFIG_INVALID');
      expect(e.hint).to.contain('ebbtide config');
    });
  });

  describe('unknown keys and flags', () => {
    it('an unknown key in the file is CONFIG_INVALID with a did-you-mean and the file', () => {
      const file = tmp.write('ebbtide.yaml', 'adaptive:\n  maximun: 3\n');
      const e = thrownBy(() => load({ file }), 'CONFIG_INVALID');
      expect(e.key).to.equal('adaptive.maximun');
      expect(e.message).to.contain('adaptive.maximun: unknown key');
      expect(e.message).to.contain('did you mean adaptive.maximum?');
      expect(e.message).to.contain(`(in ${file})`);
    });

    it('suggests the camelCase key for a lower-cased one (adaptive.waitcount)', () => {
      const file = tmp.write('ebbtide.yaml', 'adaptive:\n  waitcount: 3\n');
      const e = thrownBy(() => load({ file }), 'CONFIG_INVALID');
      expect(e.message).to.contain('did you mean adaptive.waitCount?');
    });

    it('an unknown top-level key gets a suggestion too (heuristc)', () => {
      const file = tmp.write('ebbtide.json', JSON.stringify({ heuristc: 'dask' }));
      const e = thrownBy(() => load({ file }), 'CONFIG_INVALID');
      expect(e.key).to.equal('heuristc');
      expect(e.message).to.contain('did you mean heuristic?');
    });

    it('an unknown key far from every known key gets no guess', () => {
      const file = tmp.write('ebbtide.json', JSON.stringify({ completelyUnrelatedSetting: 1 }));
      const e = thrownBy(() => load({ file }), 'CONFIG_INVALID');
      expect(e.message).to.contain('completelyUnrelatedSetting: unknown key');
      expect(e.message).not.to.contain('did you mean');
    });

    it('an unknown flag is CONFIG_INVALID naming the flag, with a did-you-mean', () => {
      const e = thrownBy(() => load({ flags: { 'adaptive.maximun': '3' } }), 'CONFIG_INVALID');
      expect(e.key).to.equal('adaptive.maximun');
      expect(e.message).to.equal('unknown flag --adaptive.maximun: no such config key; did you mean --adaptive.maximum?');
    });

    it('a flag naming a section rather than a key is unknown too', () => {
      const e = thrownBy(() => load({ flags: { adaptive: '3' } }), 'CONFIG_INVALID');
      expect(e.message).to.contain('unknown flag --adaptive');
    });
  });

  describe('adaptive.minimum > adaptive.maximum', () => {
    it('is CONFIG_INVALID naming adaptive.minimum, both values and where minimum came from', () => {
      const e = thrownBy(() => load({ flags: { 'adaptive.minimum': '5', 'adaptive.maximum': '3' } }), 'CONFIG_INVALID');
      expect(e.key).to.equal('adaptive.minimum');
      expect(e.message).to.equal('adaptive.minimum: expected a whole number <= adaptive.maximum (3), got 5 (from flag --adaptive.minimum)');
    });

    it('is checked across sources (minimum from the file, maximum from env)', () => {
      const file = tmp.write('ebbtide.json', JSON.stringify({ adaptive: { minimum: 4 } }));
      const e = thrownBy(() => load({ file, env: { EBBTIDE_ADAPTIVE_MAXIMUM: '2' } }), 'CONFIG_INVALID');
      expect(e.key).to.equal('adaptive.minimum');
      expect(e.message).to.contain(`got 4 (from ${file})`);
    });

    it('minimum == maximum is fine', () => {
      expect(load({ flags: { 'adaptive.minimum': '3', 'adaptive.maximum': '3' } }).config.adaptive).to.include({ minimum: 3, maximum: 3 });
    });
  });

  describe('durations (typed config holds seconds)', () => {
    const cases: Array<[string, number]> = [
      ['500ms', 0.5],
      ['2s', 2],
      ['2m', 120],
      ['1.5m', 90],
      ['2', 2],
      ['0.25', 0.25],
    ];
    for (const [raw, seconds] of cases) {
      it(`adaptive.interval ${raw} -> ${seconds} s`, () => {
        expect(load({ flags: { 'adaptive.interval': raw } }).config.adaptive.interval).to.equal(seconds);
      });
    }

    it('a plain number in a file is seconds; a string with a unit is converted', () => {
      const file = tmp.write('ebbtide.json', JSON.stringify({ adaptive: { interval: 2, targetDuration: '500ms' }, scheduler: { unknownTaskDuration: '2m' } }));
      const { config } = load({ file });
      expect(config.adaptive.interval).to.equal(2);
      expect(config.adaptive.targetDuration).to.equal(0.5);
      expect(config.scheduler.unknownTaskDuration).to.equal(120);
    });

    it('adaptive.interval 0 is allowed (it disables the loop); targetDuration 0 is not', () => {
      expect(load({ flags: { 'adaptive.interval': '0' } }).config.adaptive.interval).to.equal(0);
      thrownBy(() => load({ flags: { 'adaptive.targetDuration': '0s' } }), 'CONFIG_INVALID');
    });

    it('a negative number of seconds is rejected', () => {
      const e = thrownBy(() => load({ flags: { 'adaptive.interval': '-1' } }), 'CONFIG_INVALID');
      expect(e.key).to.equal('adaptive.interval');
    });

    it('scheduler.defaultTaskDurations maps prefixes to seconds (JSON from env)', () => {
      const { config } = load({ env: { EBBTIDE_SCHEDULER_DEFAULT_TASK_DURATIONS: '{"load":"2s","inc":3,"sum":"250ms"}' } });
      expect(config.scheduler.defaultTaskDurations).to.deep.equal({ load: 2, inc: 3, sum: 0.25 });
    });

    it('a bad duration inside scheduler.defaultTaskDurations is CONFIG_INVALID naming the key', () => {
      const e = thrownBy(() => load({ env: { EBBTIDE_SCHEDULER_DEFAULT_TASK_DURATIONS: '{"load":"soon"}' } }), 'CONFIG_INVALID');
      expect(e.key).to.equal('scheduler.defaultTaskDurations');
      expect(e.message).to.contain('soon');
    });
  });

  describe('adaptive.maximum: an integer or "inf"', () => {
    it('"inf" (the default) is Infinity', () => {
      expect(load({ flags: { 'adaptive.maximum': 'inf' } }).config.adaptive.maximum).to.equal(Infinity);
    });

    it('an integer from a flag or env string becomes a number', () => {
      expect(load({ flags: { 'adaptive.maximum': '4' } }).config.adaptive.maximum).to.equal(4);
      expect(load({ env: { EBBTIDE_ADAPTIVE_MAXIMUM: '7' } }).config.adaptive.maximum).to.equal(7);
    });

    it('an integer or "inf" in YAML', () => {
      expect(load({ file: tmp.write('a.yaml', 'adaptive:\n  maximum: 12\n') }).config.adaptive.maximum).to.equal(12);
      expect(load({ file: tmp.write('b.yaml', 'adaptive:\n  maximum: inf\n') }).config.adaptive.maximum).to.equal(Infinity);
    });

    it('0 is a valid maximum (with minimum 0)', () => {
      expect(load({ flags: { 'adaptive.maximum': '0' } }).config.adaptive.maximum).to.equal(0);
    });
  });

  describe('sources, later wins: default < file < env < flag', () => {
    it('the file overrides defaults', () => {
      const file = tmp.write('ebbtide.json', JSON.stringify({ adaptive: { maximum: 7 } }));
      const { config, sources } = load({ file });
      expect(config.adaptive.maximum).to.equal(7);
      expect(sources['adaptive.maximum']).to.equal('file');
      expect(config.adaptive.minimum).to.equal(0);
      expect(sources['adaptive.minimum']).to.equal('default');
    });

    it('env overrides the file', () => {
      const file = tmp.write('ebbtide.json', JSON.stringify({ adaptive: { maximum: 7, minimum: 1 } }));
      const { config, sources } = load({ file, env: { EBBTIDE_ADAPTIVE_MAXIMUM: '9' } });
      expect(config.adaptive.maximum).to.equal(9);
      expect(sources['adaptive.maximum']).to.equal('env');
      expect(config.adaptive.minimum).to.equal(1);
      expect(sources['adaptive.minimum']).to.equal('file');
    });

    it('flags override env and the file', () => {
      const file = tmp.write('ebbtide.json', JSON.stringify({ adaptive: { maximum: 7 } }));
      const { config, sources } = load({ file, env: { EBBTIDE_ADAPTIVE_MAXIMUM: '9' }, flags: { 'adaptive.maximum': '11' } });
      expect(config.adaptive.maximum).to.equal(11);
      expect(sources['adaptive.maximum']).to.equal('flag');
    });

    it('the sources map reports default, file, env and flag per key in one load', () => {
      const file = tmp.write('ebbtide.yaml', 'adaptive:\n  minimum: 1\n  maximum: 8\n  interval: 2s\nlog:\n  level: debug\n');
      const { config, sources } = load({
        file,
        env: { EBBTIDE_ADAPTIVE_MAXIMUM: '9', EBBTIDE_ADAPTIVE_WAIT_COUNT: '5' },
        flags: { 'adaptive.interval': '3s' },
      });
      expect(config.adaptive).to.deep.equal({ minimum: 1, maximum: 9, interval: 3, waitCount: 5, targetDuration: 5, earlyTick: 0, historyLength: 1000 });
      expect(config.log.level).to.equal('debug');
      expect(sources).to.include({
        'adaptive.minimum': 'file',
        'adaptive.maximum': 'env',
        'adaptive.waitCount': 'env',
        'adaptive.interval': 'flag',
        'adaptive.targetDuration': 'default',
        'log.level': 'file',
        'log.format': 'default',
        heuristic: 'default',
      });
    });

    it('lists every key of the schema in the sources map', () => {
      const { sources } = load();
      expect(sources).to.have.all.keys(
        'adaptive.interval',
        'adaptive.minimum',
        'adaptive.maximum',
        'adaptive.waitCount',
        'adaptive.targetDuration',
        'adaptive.earlyTick',
        'adaptive.historyLength',
        'heuristic',
        'workersToClose',
        'workerKey',
        'scheduler.type',
        'scheduler.address',
        'scheduler.unknownTaskDuration',
        'scheduler.defaultTaskDurations',
        'backend.type',
        'cluster.name',
        'cluster.workerStartTimeout',
        'cluster.lostWorkerTimeout',
        'cluster.nthreads',
        'cluster.memoryLimit',
        'shutdown.workers',
        'shutdown.timeout',
        'plugins',
        'log.level',
        'log.format',
      );
    });
  });

  describe('environment names: EBBTIDE_ + upper snake path', () => {
    const cases: Array<[string, string, string, unknown]> = [
      ['EBBTIDE_ADAPTIVE_WAIT_COUNT', '4', 'waitCount', 4],
      ['EBBTIDE_ADAPTIVE_TARGET_DURATION', '2s', 'targetDuration', 2],
      ['EBBTIDE_ADAPTIVE_MINIMUM', '2', 'minimum', 2],
      ['EBBTIDE_ADAPTIVE_INTERVAL', '250ms', 'interval', 0.25],
    ];
    for (const [name, value, key, typed] of cases) {
      it(`${name}=${value} sets adaptive.${key}`, () => {
        const { config, sources } = load({ env: { [name]: value } });
        expect((config.adaptive as Record<string, unknown>)[key]).to.equal(typed);
        expect(sources[`adaptive.${key}`]).to.equal('env');
      });
    }

    it('EBBTIDE_ADAPTIVE_WAITCOUNT (no word split) is not the name of adaptive.waitCount', () => {
      const { config, sources } = load({ env: { EBBTIDE_ADAPTIVE_WAITCOUNT: '9' } });
      expect(config.adaptive.waitCount).to.equal(3);
      expect(sources['adaptive.waitCount']).to.equal('default');
    });

    it('EBBTIDE_PLUGINS takes a comma-separated list', () => {
      expect(load({ env: { EBBTIDE_PLUGINS: './a.js, ebbtide-plugin-b' } }).config.plugins).to.deep.equal(['./a.js', 'ebbtide-plugin-b']);
    });
  });

  describe('config files', () => {
    it('loads JSON', () => {
      const file = tmp.write('ebbtide.json', JSON.stringify({ adaptive: { maximum: 6, interval: '250ms' }, heuristic: 'noop' }));
      const { config } = load({ file });
      expect(config.adaptive.maximum).to.equal(6);
      expect(config.adaptive.interval).to.equal(0.25);
      expect(config.heuristic).to.equal('noop');
    });

    for (const ext of ['yaml', 'yml']) {
      it(`loads YAML (.${ext})`, () => {
        const file = tmp.write(`ebbtide.${ext}`, 'adaptive:\n  maximum: 6\n  interval: 2m\nlog:\n  level: debug\n');
        const { config } = load({ file });
        expect(config.adaptive.maximum).to.equal(6);
        expect(config.adaptive.interval).to.equal(120);
        expect(config.log.level).to.equal('debug');
      });
    }

    it('an empty YAML file means all defaults', () => {
      expect(load({ file: tmp.write('empty.yaml', '') }).config.adaptive.maximum).to.equal(Infinity);
    });

    it('the base dir for relative plugin paths is the config file\'s folder', () => {
      const file = tmp.write('ebbtide.json', '{}');
      expect(load({ file }).baseDir).to.equal(tmp.path);
    });

    it('without a file the base dir is `cwd`', () => {
      expect(load({ cwd: '/some/where' }).baseDir).to.equal('/some/where');
    });

    it('a missing file is CONFIG_FILE with the path', () => {
      const file = `${tmp.path}/missing.yaml`;
      const e = thrownBy(() => load({ file }), 'CONFIG_FILE');
      expect(e.message).to.equal(`cannot read config file ${file}: no such file`);
    });

    it('an unreadable file (a directory) is CONFIG_FILE with the path', () => {
      const e = thrownBy(() => load({ file: tmp.path }), 'CONFIG_FILE');
      expect(e.message).to.contain(`cannot read config file ${tmp.path}`);
      expect(e.cause).to.be.instanceOf(Error);
    });

    it('an unparsable JSON file is CONFIG_FILE with the path and the parser error', () => {
      const file = tmp.write('broken.json', '{ "adaptive": ');
      const e = thrownBy(() => load({ file }), 'CONFIG_FILE');
      expect(e.message).to.match(new RegExp(`^cannot parse config file ${escapeRe(file)}: .+`));
    });

    it('an unparsable YAML file is CONFIG_FILE with the path and the line', () => {
      const file = tmp.write('broken.yaml', 'adaptive:\n  maximum: [1, 2\n');
      const e = thrownBy(() => load({ file }), 'CONFIG_FILE');
      expect(e.message).to.contain(`cannot parse config file ${file}`);
      expect(e.message).to.match(/line \d+/);
    });
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
