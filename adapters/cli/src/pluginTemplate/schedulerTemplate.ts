import { type TemplateFile, type TemplateNames, readme } from './common.js';

/**
 * A scheduler adapter over a JSON file that lists the connected workers and the queued tasks
 * (`{ "workers": [{ "name", "nthreads" }], "queued": { "prefix": n } }`): it polls the file on
 * the injected RxJS scheduler and emits snapshots; retirement removes workers from the file.
 * Replace the file with your scheduler's API.
 */
export function schedulerFiles(n: TemplateNames): TemplateFile[] {
  const C = n.className;
  return [
    {
      path: `src/${C}.ts`,
      text: `import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { BehaviorSubject, Observable, type SchedulerLike, type Subscription, interval } from 'rxjs';
import type { RetireResult, SchedulerAdapter, SchedulerEvent, SchedulerSnapshot } from '@ebbtide/core/sdk';

export interface ${C}Options {
  /** The JSON file the scheduler's state is read from. */
  path: string;
  /** Seconds between reads. */
  pollInterval: number;
}

interface FileState {
  workers: Array<{ name: string; nthreads?: number }>;
  queued?: Record<string, number>;
}

/**
 * \`scheduler.type: ${n.plugin}\` — reads a scheduler's state from a JSON file. A scheduler adapter
 * must: emit a hot \`events$\` that never errors (a new subscriber first gets the current state),
 * resolve \`start\` once the first state is known, answer \`retire\` with one outcome per name, and
 * complete \`events$\` on \`close\` — the contract suite in the tests checks each.
 */
export class ${C} implements SchedulerAdapter {
  private readonly latest = new BehaviorSubject<SchedulerEvent | undefined>(undefined);
  readonly events$ = new Observable<SchedulerEvent>((sub) =>
    this.latest.subscribe({ next: (e) => e && sub.next(e), complete: () => sub.complete() }),
  );
  private poll?: Subscription;

  constructor(
    private readonly options: ${C}Options,
    private readonly rx: SchedulerLike,
  ) {}

  private read(): FileState {
    return existsSync(this.options.path) ? (JSON.parse(readFileSync(this.options.path, 'utf8')) as FileState) : { workers: [] };
  }

  private snapshot(state: FileState): SchedulerSnapshot {
    return {
      time: this.rx.now() / 1000,
      workers: state.workers.map((w) => ({
        name: w.name,
        address: \`file://\${w.name}\`,
        host: 'localhost',
        nthreads: w.nthreads ?? 1,
        memoryLimit: 0,
        nbytes: 0,
        processing: {},
        longRunning: 0,
        status: 'running' as const,
        labels: {},
      })),
      prefixes: Object.fromEntries(Object.entries(state.queued ?? {}).map(([p, q]) => [p, { durationAverage: -1, maxExecTime: -1, queued: q, unrunnable: 0 }])),
    };
  }

  private emit(): void {
    this.latest.next({ type: 'snapshot', snapshot: this.snapshot(this.read()) });
  }

  async start(): Promise<void> {
    this.emit();
    this.poll = interval(this.options.pollInterval * 1000, this.rx).subscribe(() => this.emit());
  }

  async retire(names: string[]): Promise<RetireResult> {
    const state = this.read();
    const known = new Set(state.workers.map((w) => w.name));
    const next = { ...state, workers: state.workers.filter((w) => !names.includes(w.name)) };
    writeFileSync(\`\${this.options.path}.tmp\`, JSON.stringify(next));
    renameSync(\`\${this.options.path}.tmp\`, this.options.path);
    this.emit();
    return { outcomes: [...new Set(names)].map((name) => (known.has(name) ? { name, status: 'retired' as const } : { name, status: 'unknown' as const })) };
  }

  async close(): Promise<void> {
    this.poll?.unsubscribe();
    this.latest.complete();
  }
}
`,
    },
    {
      path: 'src/index.ts',
      text: `import { type ConfigOf, type ConfigSchemaSection, definePlugin } from '@ebbtide/core/sdk';
import { ${C}, type ${C}Options } from './${C}.js';

export { ${C}, type ${C}Options } from './${C}.js';

export const schema = {
  scheduler: {
    ${n.section}: {
      path: { doc: 'The JSON file the scheduler state is read from.', format: 'string', default: 'scheduler.json' },
      pollInterval: { doc: 'Time between reads of the file.', format: 'positive-duration', default: '1s' },
    },
  },
} as const satisfies ConfigSchemaSection;

/** \`scheduler.type: ${n.plugin}\`. */
export default definePlugin<${C}Options>({
  name: '${n.plugin}',
  description: 'a scheduler state read from a JSON file',
  configSchema: schema,
  options: (config) => {
    const s = (config as unknown as ConfigOf<typeof schema>).scheduler.${n.section};
    return { path: s.path, pollInterval: s.pollInterval };
  },
  register(r) {
    r.scheduler('${n.plugin}', (ctx) => new ${C}(ctx.options as ${C}Options, ctx.rxScheduler));
  },
});
`,
    },
    {
      path: `test/${n.plugin}.test.ts`,
      text: `import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { describeSchedulerAdapter } from '@ebbtide/core/testing';
import { ${C} } from '../src/index.js';

describeSchedulerAdapter('${n.plugin}', () => {
  const path = join(mkdtempSync(join(tmpdir(), '${n.plugin}-')), 'scheduler.json');
  writeFileSync(path, JSON.stringify({ workers: [] }));
  const edit = (f: (workers: Array<{ name: string }>) => Array<{ name: string }>) =>
    writeFileSync(path, JSON.stringify({ workers: f((JSON.parse(readFileSync(path, 'utf8')) as { workers: Array<{ name: string }> }).workers) }));
  return {
    create: () => new ${C}({ path, pollInterval: 0.05 }, asyncScheduler),
    // A worker "connects" by appearing in the file.
    connectWorker: async (_adapter, name) => {
      edit((ws) => [...ws, { name }]);
      return async () => edit((ws) => ws.filter((w) => w.name !== name));
    },
    waitMs: 5000,
  };
});
`,
    },
    { path: 'README.md', text: readme(n, 'scheduler', 'a scheduler state read from a JSON file (a starting point for a real scheduler API).', `scheduler:\n  type: ${n.plugin}\n  ${n.section}:\n    path: scheduler.json\n`) },
  ];
}
