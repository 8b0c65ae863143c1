import { type TemplateFile, type TemplateNames, readme } from './common.js';

/**
 * A backend: each worker a local process in its own process group, remembered in a state file
 * (pid per worker, and a lock naming the live ebbtide) so a restarted ebbtide adopts them.
 * Replace the process calls with your resource manager's API; the contract suite says what must
 * still hold.
 */
export function backendFiles(n: TemplateNames): TemplateFile[] {
  const C = n.className;
  return [
    {
      path: `src/${C}.ts`,
      text: `import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Observable, type SchedulerLike, Subject, type Subscription, interval } from 'rxjs';
import {
  type AdoptOptions,
  type BackendWorkerStatus,
  type CloseOptions,
  LockFile,
  type ResourceBackend,
  type WorkerSpec,
  isSameProcessAlive as alive,
} from '@ebbtide/core/sdk';

export interface ${C}Options {
  /** The worker command; {name} and {scheduler} are replaced. */
  command: string[];
  /** Where the cluster's state file and lock live. */
  stateDir: string;
  /** Seconds between looks at the worker processes. */
  pollInterval: number;
}

interface State {
  workers: Record<string, number>;
}

/**
 * \`backend.type: ${n.plugin}\` — workers as local processes. What a backend must guarantee (status$
 * replays the current view; start of a running name is a no-op; stop of an unknown name resolves;
 * adopt takes over what an earlier ebbtide left and refuses a second live one; close stops
 * everything, or with keep leaves it) is checked by the contract suite in the tests.
 */
export class ${C} implements ResourceBackend {
  private readonly workers = new Map<string, { pid: number; phase: BackendWorkerStatus['phase']; stopping: boolean }>();
  private readonly changes = new Subject<BackendWorkerStatus[]>();
  readonly status$ = new Observable<BackendWorkerStatus[]>((sub) => {
    sub.next([...this.workers].map(([name, w]) => ({ name, phase: w.phase })));
    return this.changes.subscribe(sub);
  });
  private dir?: string;
  private poll?: Subscription;
  /** One live ebbtide per cluster: pid and process start time of the holder; a dead one's is taken over. */
  private lock?: LockFile;
  private closed = false;

  constructor(
    private readonly options: ${C}Options,
    private readonly rx: SchedulerLike,
  ) {}

  private get statePath(): string {
    return join(this.dir!, 'state.json');
  }

  private save(): void {
    if (!this.dir) return;
    const state: State = { workers: Object.fromEntries([...this.workers].map(([name, w]) => [name, w.pid])) };
    writeFileSync(this.statePath, JSON.stringify(state));
  }

  async adopt({ cluster }: AdoptOptions): Promise<BackendWorkerStatus[]> {
    this.dir = join(this.options.stateDir, cluster);
    mkdirSync(this.dir, { recursive: true });
    this.lock = new LockFile(join(this.dir, 'lock'), { what: \`cluster "\${cluster}"\` });
    this.lock.acquire(Date.now()); // CLUSTER_LOCKED while another live ebbtide drives it
    const found: BackendWorkerStatus[] = [];
    if (existsSync(this.statePath)) {
      const state = JSON.parse(readFileSync(this.statePath, 'utf8')) as State;
      for (const [name, pid] of Object.entries(state.workers)) {
        if (!alive(pid)) continue;
        this.workers.set(name, { pid, phase: 'running', stopping: false });
        found.push({ name, phase: 'running' });
      }
    }
    this.save();
    this.watch();
    return found;
  }

  /** Processes give no exit event to a process that did not start them: look at their pids. */
  private watch(): void {
    this.poll ??= interval(this.options.pollInterval * 1000, this.rx).subscribe(() => {
      const gone: BackendWorkerStatus[] = [];
      for (const [name, w] of this.workers) {
        if (alive(w.pid)) continue;
        this.workers.delete(name);
        gone.push(w.stopping ? { name, phase: 'exited', failed: false } : { name, phase: 'exited', failed: true, reason: 'the worker process exited' });
      }
      if (gone.length) {
        this.save();
        this.changes.next(gone);
      }
    });
  }

  async start(specs: WorkerSpec[]): Promise<void> {
    const started: BackendWorkerStatus[] = [];
    for (const spec of specs) {
      if (this.workers.has(spec.name)) continue;
      const [cmd, ...args] = this.options.command.map((a) => a.replace('{name}', spec.name).replace('{scheduler}', spec.scheduler));
      const child = spawn(cmd!, args, { detached: true, stdio: 'ignore', env: { ...process.env, ...spec.env } });
      child.on('error', () => undefined);
      child.unref();
      this.workers.set(spec.name, { pid: child.pid ?? 0, phase: 'running', stopping: false });
      started.push({ name: spec.name, phase: 'running' });
    }
    this.save();
    this.watch();
    if (started.length) this.changes.next(started);
  }

  async stop(names: string[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const name of names) {
      const w = this.workers.get(name);
      if (!w) continue;
      w.stopping = true;
      try {
        process.kill(-w.pid, 'SIGTERM');
      } catch {
        // Gone already.
      }
      waits.push(
        new Promise<void>((resolve) => {
          const sub = this.changes.subscribe((list) => {
            if (list.some((s) => s.name === name && s.phase === 'exited')) {
              sub.unsubscribe();
              resolve();
            }
          });
        }),
      );
    }
    await Promise.all(waits);
  }

  /** For the contract suite: leave everything as a killed ebbtide would, its lock held by a dead pid. */
  simulateCrash(deadPid: number): void {
    this.poll?.unsubscribe();
    this.lock?.forgeDeadHolder(deadPid);
    this.dir = undefined;
    this.workers.clear();
  }

  async close(options: CloseOptions = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!options.keep) await this.stop([...this.workers.keys()]);
    this.workers.clear();
    this.poll?.unsubscribe();
    this.lock?.release();
    this.changes.complete();
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
  backend: {
    ${n.section}: {
      command: { doc: 'The worker command; {name} and {scheduler} are replaced.', format: 'command', default: ['ebbtide-worker', '--scheduler', '{scheduler}', '--name', '{name}'] },
      stateDir: { doc: 'Folder of the state files that let a restarted ebbtide adopt its workers.', format: 'string', default: '/tmp/${n.packageName}' },
      pollInterval: { doc: 'How often the worker processes are looked at.', format: 'positive-duration', default: '500ms' },
    },
  },
} as const satisfies ConfigSchemaSection;

/** \`backend.type: ${n.plugin}\`. */
export default definePlugin<${C}Options>({
  name: '${n.plugin}',
  description: 'workers as local processes',
  configSchema: schema,
  options: (config) => {
    const s = (config as unknown as ConfigOf<typeof schema>).backend.${n.section};
    return { command: [...s.command], stateDir: s.stateDir, pollInterval: s.pollInterval };
  },
  register(r) {
    r.backend('${n.plugin}', (ctx) => new ${C}(ctx.options as ${C}Options, ctx.rxScheduler));
  },
});
`,
    },
    {
      path: `test/${n.plugin}.test.ts`,
      text: `import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { describeResourceBackend } from '@ebbtide/core/testing';
import { ${C} } from '../src/index.js';

// A stand-in worker: runs until SIGTERM; its mode (the spec's scheduler field) "fail" exits 1 at once.
const WORKER = 'process.argv[1] === "fail" ? process.exit(1) : setInterval(() => {}, 1000); process.on("SIGTERM", () => process.exit(0));';

/** An independent look: is a stand-in worker process with this name alive? */
function workerAlive(name: string): boolean {
  for (const pid of readdirSync('/proc').filter((d) => /^\\d+$/.test(d))) {
    try {
      const argv = readFileSync(\`/proc/\${pid}/cmdline\`, 'utf8').split('\\0');
      if (argv.includes(WORKER) && argv.includes(name) && !readFileSync(\`/proc/\${pid}/stat\`, 'utf8').split(') ')[1]!.startsWith('Z')) return true;
    } catch {
      // Ended while we looked.
    }
  }
  return false;
}

describeResourceBackend('${n.plugin}', () => {
  const stateDir = mkdtempSync(join(tmpdir(), '${n.plugin}-'));
  return {
    cluster: \`t\${process.pid}\`,
    create: () => new ${C}({ command: [process.execPath, '-e', WORKER, '{scheduler}', '{name}'], stateDir, pollInterval: 0.05 }, asyncScheduler),
    spec: (name) => ({ name, scheduler: 'run', nthreads: 1, memoryLimit: 0 }),
    failingSpec: (name) => ({ name, scheduler: 'fail', nthreads: 1, memoryLimit: 0 }),
    crash: async (b) => (b as ${C}).simulateCrash(Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }))),
    isAlive: async (name) => workerAlive(name),
    waitMs: 10_000,
  };
});
`,
    },
    { path: 'README.md', text: readme(n, 'backend', 'workers as local processes, adopted after a restart.', `backend:\n  type: ${n.plugin}\n  ${n.section}:\n    command: [ebbtide-worker, --scheduler, "{scheduler}", --name, "{name}"]\n`) },
  ];
}
