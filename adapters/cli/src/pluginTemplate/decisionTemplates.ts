import { type TemplateFile, type TemplateNames, readme } from './common.js';

/** A heuristic: one worker per N tasks waiting or running, N from its config section. */
export function heuristicFiles(n: TemplateNames): TemplateFile[] {
  const C = n.className;
  return [
    {
      path: `src/${C}.ts`,
      text: `import type { HeuristicResult, ScalingHeuristic, SchedulerSnapshot } from '@ebbtide/core/sdk';

export interface ${C}Options {
  /** Tasks one worker should take. */
  tasksPerWorker: number;
}

/**
 * Wants one worker per \`tasksPerWorker\` tasks that are waiting (queued or unrunnable) or
 * running. Pure and synchronous, as every heuristic must be: it runs unchanged in
 * \`ebbtide decide\`, the live loop and the simulator.
 */
export class ${C} implements ScalingHeuristic {
  constructor(private readonly options: ${C}Options) {}

  target(snapshot: SchedulerSnapshot): HeuristicResult {
    let tasks = 0;
    for (const p of Object.values(snapshot.prefixes)) tasks += p.queued + p.unrunnable;
    for (const w of snapshot.workers) {
      tasks += w.longRunning;
      for (const count of Object.values(w.processing)) tasks += count;
    }
    const target = Math.ceil(tasks / this.options.tasksPerWorker);
    return { target, explanation: { rule: '${n.plugin}', tasks, tasksPerWorker: this.options.tasksPerWorker } };
  }
}
`,
    },
    {
      path: 'src/index.ts',
      text: `import { type ConfigOf, type ConfigSchemaSection, definePlugin } from '@ebbtide/core/sdk';
import { ${C}, type ${C}Options } from './${C}.js';

export { ${C}, type ${C}Options } from './${C}.js';

/** The config section this plugin owns: \`${n.section}.*\`. */
export const schema = {
  ${n.section}: {
    tasksPerWorker: { doc: 'Tasks one worker should take.', format: 'positive-integer', default: 10 },
  },
} as const satisfies ConfigSchemaSection;

/** \`heuristic: ${n.plugin}\`. A factory, so the plugin works wherever npm installs it. */
export default definePlugin<${C}Options>({
  name: '${n.plugin}',
  description: 'one worker per N waiting or running tasks',
  configSchema: schema,
  options: (config) => ({ tasksPerWorker: (config as unknown as ConfigOf<typeof schema>).${n.section}.tasksPerWorker }),
  register(r) {
    r.heuristic('${n.plugin}', (ctx) => new ${C}(ctx.options as ${C}Options));
  },
});
`,
    },
    {
      path: `test/${n.plugin}.test.ts`,
      text: `import assert from 'node:assert/strict';
import { createTestKernel, describeHeuristic, makePrefix, makeSnapshot, makeWorker } from '@ebbtide/core/testing';
import plugin, { ${C} } from '../src/index.js';

// ebbtide's contract for heuristics: whole-number targets, pure, synchronous, deterministic.
describeHeuristic('${n.plugin}', () => new ${C}({ tasksPerWorker: 10 }));

describe('${n.plugin} through ebbtide', () => {
  it('takes tasksPerWorker from its config section and wants one worker per N tasks', async () => {
    const kernel = await createTestKernel({ plugins: [plugin], config: { heuristic: '${n.plugin}', ${n.section}: { tasksPerWorker: 5 } } });
    const heuristic = kernel.resolve('heuristic');
    const snapshot = makeSnapshot([makeWorker('w-0', { processing: { inc: 3 } })], { inc: makePrefix({ queued: 9 }) });
    assert.equal(heuristic.target(snapshot, { minimum: 0, maximum: 10 }).target, 3);
  });
});
`,
    },
    { path: 'README.md', text: readme(n, 'heuristic', 'it wants one worker per N waiting or running tasks.', `heuristic: ${n.plugin}\n${n.section}:\n  tasksPerWorker: 10\n`) },
  ];
}

/** A workers-to-close strategy: only idle workers holding nothing, newest first, whole groups. */
export function workersToCloseFiles(n: TemplateNames): TemplateFile[] {
  const C = n.className;
  return [
    {
      path: `src/${C}.ts`,
      text: `import type { SchedulerSnapshot, WorkerInfo, WorkersToClose, WorkersToCloseQuery } from '@ebbtide/core/sdk';

/**
 * Proposes only idle workers that hold no results, the newest first, so a scale-down never
 * moves data; keeps at least \`target\` workers. Workers running a long-running task are never
 * candidates, and a group (the query's key) closes whole or not at all.
 */
export class ${C} implements WorkersToClose {
  select(snapshot: SchedulerSnapshot, query: WorkersToCloseQuery): string[] {
    const target = query.target ?? snapshot.workers.length;
    const groups = new Map<string, WorkerInfo[]>();
    for (const w of snapshot.workers) {
      if (w.longRunning > 0) continue;
      const k = query.key ? query.key.key(w) : w.name;
      groups.set(k, [...(groups.get(k) ?? []), w]);
    }
    const idle = (w: WorkerInfo) => w.nbytes === 0 && Object.values(w.processing).every((c) => c === 0);
    let remaining = snapshot.workers.length;
    const out: string[] = [];
    for (const group of [...groups.values()].reverse()) {
      if (!group.every(idle) || remaining - group.length < target) continue;
      out.push(...group.map((w) => w.name));
      remaining -= group.length;
    }
    return out;
  }
}
`,
    },
    {
      path: 'src/index.ts',
      text: `import { definePlugin } from '@ebbtide/core/sdk';
import { ${C} } from './${C}.js';

export { ${C} } from './${C}.js';

/** \`workersToClose: ${n.plugin}\`. */
export default definePlugin({
  name: '${n.plugin}',
  description: 'close only idle workers that hold no results, newest first',
  register(r) {
    r.workersToClose('${n.plugin}', () => new ${C}());
  },
});
`,
    },
    {
      path: `test/${n.plugin}.test.ts`,
      text: `import assert from 'node:assert/strict';
import { createTestKernel, describeWorkersToClose, makeSnapshot, makeWorker } from '@ebbtide/core/testing';
import plugin, { ${C} } from '../src/index.js';

// ebbtide's contract for workers-to-close strategies.
describeWorkersToClose('${n.plugin}', () => new ${C}());

describe('${n.plugin} through ebbtide', () => {
  it('closes idle empty workers newest first and keeps the ones holding data', async () => {
    const kernel = await createTestKernel({ plugins: [plugin], config: { workersToClose: '${n.plugin}' } });
    const snapshot = makeSnapshot([makeWorker('w-0'), makeWorker('w-1', { nbytes: 1000 }), makeWorker('w-2')]);
    assert.deepEqual(kernel.resolve('workersToClose').select(snapshot, { target: 0 }), ['w-2', 'w-0']);
  });
});
`,
    },
    { path: 'README.md', text: readme(n, 'workers-to-close', 'a scale-down closes only idle workers that hold no results, newest first.', `workersToClose: ${n.plugin}\n`) },
  ];
}

/** A worker key: groups workers by a label (default `rack`), falling back to the host. */
export function workerKeyFiles(n: TemplateNames): TemplateFile[] {
  const C = n.className;
  return [
    {
      path: `src/${C}.ts`,
      text: `import type { WorkerInfo, WorkerKey } from '@ebbtide/core/sdk';

/** Workers with the same value of a label (else the same host) close together. */
export class ${C} implements WorkerKey {
  constructor(private readonly label: string) {}

  key(w: WorkerInfo): string {
    return w.labels[this.label] ?? \`host:\${w.host}\`;
  }
}
`,
    },
    {
      path: 'src/index.ts',
      text: `import { type ConfigOf, type ConfigSchemaSection, definePlugin } from '@ebbtide/core/sdk';
import { ${C} } from './${C}.js';

export { ${C} } from './${C}.js';

export const schema = {
  ${n.section}: { label: { doc: 'The worker label whose value groups workers.', format: 'string', default: 'rack' } },
} as const satisfies ConfigSchemaSection;

/** \`workerKey: ${n.plugin}\`. */
export default definePlugin<{ label: string }>({
  name: '${n.plugin}',
  description: 'group workers by a label, else by host',
  configSchema: schema,
  options: (config) => ({ label: (config as unknown as ConfigOf<typeof schema>).${n.section}.label }),
  register(r) {
    r.workerKey('${n.plugin}', (ctx) => new ${C}((ctx.options as { label: string }).label));
  },
});
`,
    },
    {
      path: `test/${n.plugin}.test.ts`,
      text: `import assert from 'node:assert/strict';
import { createTestKernel, describeWorkerKey, makeWorker } from '@ebbtide/core/testing';
import plugin, { ${C} } from '../src/index.js';

// ebbtide's contract for worker keys.
describeWorkerKey('${n.plugin}', () => new ${C}('rack'));

describe('${n.plugin} through ebbtide', () => {
  it('groups by the configured label, else by host', async () => {
    const kernel = await createTestKernel({ plugins: [plugin], config: { workerKey: '${n.plugin}', ${n.section}: { label: 'zone' } } });
    const key = kernel.resolve('workerKey');
    assert.equal(key.key(makeWorker('w-0', { labels: { zone: 'a' } })), 'a');
    assert.equal(key.key(makeWorker('w-1', { host: '10.0.0.7' })), 'host:10.0.0.7');
  });
});
`,
    },
    { path: 'README.md', text: readme(n, 'worker-key', 'workers with the same label value (else the same host) are retired together.', `workerKey: ${n.plugin}\n${n.section}:\n  label: rack\n`) },
  ];
}
