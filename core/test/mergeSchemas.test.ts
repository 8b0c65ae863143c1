import { expect } from 'chai';
import { coreSchema } from '../src/config/coreSchema.js';
import { mergeSchemas, suggestKey } from '../src/config/loadConfig.js';
import { type ConfigLeaf, type ConfigSchemaSection, envNameFor, schemaLeaves } from '../src/config/schema.js';
import { thrownBy } from './support/errors.js';

const leaf = (format: string, def: unknown, extra: Partial<ConfigLeaf> = {}): ConfigLeaf => ({ doc: 'test key', format, default: def, ...extra });

describe('envNameFor', () => {
  const cases: Array<[string, string]> = [
    ['adaptive.waitCount', 'EBBTIDE_ADAPTIVE_WAIT_COUNT'],
    ['adaptive.targetDuration', 'EBBTIDE_ADAPTIVE_TARGET_DURATION'],
    ['adaptive.maximum', 'EBBTIDE_ADAPTIVE_MAXIMUM'],
    ['heuristic', 'EBBTIDE_HEURISTIC'],
    ['scheduler.defaultTaskDurations', 'EBBTIDE_SCHEDULER_DEFAULT_TASK_DURATIONS'],
    ['backend.kubernetes.apiServer', 'EBBTIDE_BACKEND_KUBERNETES_API_SERVER'],
    ['log.level', 'EBBTIDE_LOG_LEVEL'],
  ];
  for (const [path, env] of cases) {
    it(`${path} -> ${env}`, () => {
      expect(envNameFor(path)).to.equal(env);
    });
  }
});

describe('mergeSchemas', () => {
  it('fills in the env name of every leaf that has none', () => {
    const merged = mergeSchemas([{ owner: 'core', schema: coreSchema }]);
    for (const [path, l] of schemaLeaves(merged)) expect(l.env, path).to.equal(envNameFor(path));
  });

  it('keeps an env name a plugin chose (e.g. a well-known variable)', () => {
    const merged = mergeSchemas([{ owner: 'k8s', schema: { backend: { kubernetes: { token: leaf('string', '', { env: 'KUBE_TOKEN', sensitive: true }) } } } }]);
    const token = (merged.backend as ConfigSchemaSection).kubernetes as ConfigSchemaSection;
    expect(token.token).to.include({ env: 'KUBE_TOKEN', sensitive: true });
  });

  it("puts a plugin's section next to the core's, under a shared parent", () => {
    const merged = mergeSchemas([
      { owner: 'core', schema: coreSchema },
      { owner: 'k8s', schema: { backend: { kubernetes: { namespace: leaf('name', 'default') } } } },
    ]);
    expect(schemaLeaves(merged).map(([p]) => p)).to.include.members(['backend.type', 'backend.kubernetes.namespace']);
  });

  it('a key declared twice is PLUGIN_INVALID naming the key and both owners', () => {
    const e = thrownBy(
      () =>
        mergeSchemas([
          { owner: 'core', schema: coreSchema },
          { owner: 'greedy', schema: { adaptive: { maximum: leaf('string', '') } } },
        ]),
      'PLUGIN_INVALID',
    );
    expect(e.plugin).to.equal('greedy');
    expect(e.key).to.equal('adaptive.maximum');
    expect(e.message).to.equal('plugin "greedy" declares config key adaptive.maximum, which "core" already declares');
  });

  it('a key nested under another owner\'s value key is PLUGIN_INVALID', () => {
    const e = thrownBy(
      () =>
        mergeSchemas([
          { owner: 'core', schema: coreSchema },
          { owner: 'nester', schema: { log: { level: { colour: leaf('boolean', false) } } } },
        ]),
      'PLUGIN_INVALID',
    );
    expect(e.plugin).to.equal('nester');
    expect(e.key).to.equal('log.level.colour');
  });
});

describe('suggestKey', () => {
  const known = ['adaptive.maximum', 'adaptive.minimum', 'adaptive.waitCount', 'heuristic'];

  it('suggests the closest key for a typo', () => {
    expect(suggestKey('adaptive.maximun', known)).to.equal('adaptive.maximum');
    expect(suggestKey('adaptive.wait_count', known)).to.equal('adaptive.waitCount');
  });

  it('suggests nothing when no key is close', () => {
    expect(suggestKey('backend.kubernetes.namespace', known)).to.equal(undefined);
  });
});
