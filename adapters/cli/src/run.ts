import { EbbtideError, Kernel, type KernelOptions, createStderrLogger, exitCodeFor, formatDuration, parseDuration } from '@ebbtide/core';
import { RecentLog, withRecentLog } from '@ebbtide/dashboard';
import { type OptionSpec, parseArgs } from './args.js';
import { builtinDefaults, builtinPlugins } from './builtins.js';
import { configCommand } from './commands/config.js';
import { decideCommand } from './commands/decide.js';
import { demoCommand, demoPreset } from './commands/demo.js';
import { upCommand } from './commands/up.js';
import { statusCommand } from './commands/status.js';
import { explainCommand } from './commands/explain.js';
import { logsCommand } from './commands/logs.js';
import { simulateCommand } from './simulate/simulateCommand.js';
import { pluginsCommand } from './commands/plugins.js';
import { pluginNewCommand } from './commands/pluginNew.js';
import { TEMPLATE_KINDS } from './pluginTemplate/index.js';
import type { CliIo } from './io.js';
import { printError } from './printError.js';

export const USAGE = `ebbtide — size a cluster to its work, live

Usage:
  ebbtide demo [-c FILE] [--duration D] [--json] [--record FILE]
                                             the embedded scheduler, workers from the config's backend (local by
                                             default) and a bursty workload; D like 60s, 2m
  ebbtide up [-c FILE] [--record FILE]       run the autoscaler until SIGINT/SIGTERM (optionally recording it);
                                             exit 3 if a shutdown had to drop results (shutdown.workers: stop)
  ebbtide simulate (--trace FILE | --profile interactive|batch) [-c FILE ...] [--plot OUT.svg] [--json] [--seed N] [--duration D]
                                             replay load through each config on a virtual clock and compare
  ebbtide decide --snapshot FILE [-c FILE]   one decision per snapshot (.json or .jsonl) as JSON lines
  ebbtide config [--check] [--json] [-c FILE] the effective configuration and where each value came from
  ebbtide plugins [--json] [-c FILE]          loaded plugins and what they register
  ebbtide status [--url URL] [--json]        a running ebbtide's cluster: its repr, scaling mode, last decisions
  ebbtide explain [N] [--url URL] [--json]   the last decision (or tick N's) in words: why this target, these workers
  ebbtide logs [--worker NAME] [--lines N] [--url URL]
                                             ebbtide's own recent log, or a worker's output tail
  ebbtide plugin new NAME --kind K            a ready plugin package (K: heuristic, workers-to-close, worker-key,
                                             allocation, backend, scheduler) with the contract suite as its test

Options:
  -c, --config FILE     config file (JSON or YAML)
  --<key> VALUE         override any config key, e.g. --adaptive.minimum 2 (see \`ebbtide config\`)
  --verbose             stack traces on errors
  -h, --help            this text
  --version             the version

up and demo serve a dashboard (live page, control API, /metrics) at http://127.0.0.1:8790 (dashboard.*);
status, explain and logs talk to it (--url, else dashboard.host and dashboard.port; dashboard.token is sent).

Environment: EBBTIDE_<KEY> overrides the file, e.g. EBBTIDE_ADAPTIVE_MAXIMUM=10.
`;

const SPECS: Record<string, OptionSpec> = {
  config: { value: true, alias: 'c', multiple: true },
  snapshot: { value: true },
  check: { value: false },
  json: { value: false },
  verbose: { value: false },
  help: { value: false, alias: 'h' },
  version: { value: false },
  duration: { value: true },
  docs: { value: false },
  record: { value: true },
  trace: { value: true },
  profile: { value: true },
  plot: { value: true },
  seed: { value: true },
  kind: { value: true },
  url: { value: true },
  worker: { value: true },
  lines: { value: true },
};

/**
 * A duration-valued command-line option, read like every duration key of the config: `45s`,
 * `250ms`, `2h`, or a number of seconds.
 */
function durationOption(name: string, value: string | boolean, atLeast: number): number {
  const seconds = parseDuration(value);
  if (seconds === undefined || seconds < atLeast) {
    throw new EbbtideError('USAGE', `--${name}: expected a duration of at least ${formatDuration(atLeast)} such as "45s", "2m", "2h" or a number of seconds, got ${JSON.stringify(value)}`);
  }
  return seconds;
}

/** Runs one `ebbtide` invocation; returns the exit code. Never throws for user mistakes. */
export async function run(argv: readonly string[], io: CliIo, extra: Partial<KernelOptions> = {}): Promise<number> {
  let verbose = argv.includes('--verbose');
  try {
    const args = parseArgs(argv, SPECS);
    verbose = Boolean(args.options.verbose);
    if (args.options.version) {
      io.stdout('0.1.0\n');
      return 0;
    }
    if (args.options.help || !args.command) {
      io.stdout(USAGE);
      return args.command || args.options.help ? 0 : 2;
    }
    // What ebbtide logs (at info at least) is also kept in memory for the dashboard's /api/logs.
    const recentLog = new RecentLog();
    const kernelFor = (preset?: Record<string, unknown>) =>
      Kernel.create({
        builtins: builtinPlugins(),
        defaults: builtinDefaults(),
        sources: {
          ...(typeof args.options.config === 'string' ? { file: args.options.config } : {}),
          env: io.env,
          flags: args.flags,
          cwd: io.cwd,
          ...(preset ? { preset } : {}),
        },
        logger: (config) => {
          const level = verbose ? 'debug' : config.log.level;
          const clock = () => new Date().toISOString();
          return withRecentLog(createStderrLogger(level, config.log.format, clock), recentLog, level === 'debug' ? 'debug' : 'info', clock);
        },
        ...extra,
      });
    switch (args.command) {
      case 'decide': {
        if (typeof args.options.snapshot !== 'string') throw new EbbtideError('USAGE', 'decide needs --snapshot FILE (.json or .jsonl)');
        const kernel = await kernelFor();
        return decideCommand(kernel, args.options.snapshot, io);
      }
      case 'up': {
        const kernel = await kernelFor();
        return await upCommand(kernel, io, { ...(typeof args.options.record === 'string' ? { record: args.options.record } : {}), recentLog });
      }
      case 'demo': {
        const duration = args.options.duration === undefined ? 60 : durationOption('duration', args.options.duration, 10);
        const kernel = await kernelFor(demoPreset());
        if (kernel.config.scheduler.type !== 'embedded') {
          throw new EbbtideError(
            'USAGE',
            `demo runs its workload on the embedded scheduler, but the config selects scheduler.type ${kernel.config.scheduler.type} (from ${kernel.loaded.sources['scheduler.type']})`,
            { hint: 'drop scheduler.type from the demo config; its backend (backend.type) is used as given' },
          );
        }
        return await demoCommand(kernel, io, { duration, json: Boolean(args.options.json), recentLog, ...(typeof args.options.record === 'string' ? { record: args.options.record } : {}) });
      }
      case 'simulate': {
        const num = (name: string) => {
          const v = args.options[name];
          if (v === undefined) return undefined;
          const n = Number(v);
          if (!Number.isFinite(n) || n <= 0) throw new EbbtideError('USAGE', `--${name}: expected a number > 0, got ${JSON.stringify(v)}`);
          return n;
        };
        const str = (name: string) => (typeof args.options[name] === 'string' ? (args.options[name] as string) : undefined);
        const seed = num('seed');
        const duration = args.options.duration === undefined ? undefined : durationOption('duration', args.options.duration, 1);
        const trace = str('trace');
        const profile = str('profile');
        const plot = str('plot');
        return await simulateCommand(io, {
          configs: args.lists.config ?? [],
          flags: args.flags,
          json: Boolean(args.options.json),
          plugins: builtinPlugins(),
          defaults: builtinDefaults(),
          ...(trace ? { trace } : {}),
          ...(profile ? { profile } : {}),
          ...(plot ? { plot } : {}),
          ...(seed !== undefined ? { seed } : {}),
          ...(duration !== undefined ? { duration } : {}),
        });
      }
      case 'config': {
        const kernel = await kernelFor();
        return configCommand(kernel, io, { check: Boolean(args.options.check), json: Boolean(args.options.json), docs: Boolean(args.options.docs) });
      }
      case 'plugin': {
        if (args.positionals[0] !== 'new' || !args.positionals[1]) {
          throw new EbbtideError('USAGE', `usage: ebbtide plugin new NAME --kind ${TEMPLATE_KINDS.join('|')}`);
        }
        if (typeof args.options.kind !== 'string') throw new EbbtideError('USAGE', `plugin new: --kind is required (${TEMPLATE_KINDS.slice(0, -1).join(', ')} or ${TEMPLATE_KINDS.at(-1)})`);
        return pluginNewCommand(io, args.positionals[1], args.options.kind);
      }
      case 'status':
      case 'explain':
      case 'logs': {
        const url = typeof args.options.url === 'string' ? args.options.url : undefined;
        const kernel = await kernelFor();
        if (args.command === 'status') return await statusCommand(kernel, io, { ...(url ? { url } : {}), json: Boolean(args.options.json) });
        if (args.command === 'explain') {
          if (args.positionals.length > 1) throw new EbbtideError('USAGE', `explain takes one tick number, got ${args.positionals.join(' ')}`);
          return await explainCommand(kernel, io, { ...(args.positionals[0] ? { tick: args.positionals[0] } : {}), ...(url ? { url } : {}), json: Boolean(args.options.json) });
        }
        const worker = typeof args.options.worker === 'string' ? args.options.worker : undefined;
        const lines = typeof args.options.lines === 'string' ? args.options.lines : undefined;
        return await logsCommand(kernel, io, { ...(worker ? { worker } : {}), ...(lines ? { lines } : {}), ...(url ? { url } : {}) });
      }
      case 'plugins': {
        const kernel = await kernelFor();
        return pluginsCommand(kernel, io, { json: Boolean(args.options.json) });
      }
      default:
        throw new EbbtideError('USAGE', `unknown command "${args.command}"; commands: demo, up, simulate, decide, config, plugins, plugin, status, explain, logs`, { hint: 'run `ebbtide --help`' });
    }
  } catch (e) {
    printError(io, e, verbose);
    return exitCodeFor(e);
  }
}

