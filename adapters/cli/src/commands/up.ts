import { closeSync, createWriteStream, openSync, type WriteStream } from 'node:fs';
import { type Subscription, interval } from 'rxjs';
import { Autoscaler, type DecisionRecord, EbbtideError, type Kernel, describeError, record } from '@ebbtide/core';
import { DashboardServer, type RecentLog, dashboardOptions } from '@ebbtide/dashboard';
import type { CliIo } from '../io.js';
import { formatDecision, formatStatus, statusBody } from './formatDecision.js';

export interface UpOptions {
  /** Write a recording (JSON lines) of every scheduler event and decision to this file. */
  record?: string;
  /** Seconds between status lines when nothing changed (a heartbeat). */
  heartbeatEvery?: number;
  /** Resolves when the command should stop (a signal); defaults to SIGINT/SIGTERM. */
  stopSignal?: Promise<string>;
  /** ebbtide's own recent log lines, served by the dashboard's /api/logs. */
  recentLog?: RecentLog;
}

/**
 * Binds the dashboard (unless `dashboard.enabled` is false) before anything starts, so a bad
 * host or port fails at once; it answers 503 until `attach`.
 *
 * @throws EbbtideError `CONFIG_INVALID` for a non-loopback host without a token, or an address
 *   that cannot be bound.
 */
export async function listenDashboard(kernel: Kernel, recentLog?: RecentLog, onShutdown?: (reason: string) => void): Promise<DashboardServer | undefined> {
  const dash = dashboardOptions(kernel.config);
  if (!dash.enabled) return undefined;
  return DashboardServer.listen({
    host: dash.host,
    port: dash.port,
    token: dash.token,
    ...(recentLog ? { recentLog } : {}),
    ...(onShutdown ? { onShutdown } : {}),
    logger: kernel.logger.child({ component: 'dashboard' }),
  });
}

/** The line that says where the dashboard is (the token itself is never printed). */
export function dashboardLine(server: DashboardServer, kernel: Kernel): string {
  const token = dashboardOptions(kernel.config).token;
  return `dashboard at ${server.url}/${token ? ' (open it with ?access_token=<dashboard.token>)' : ''}${server.portTaken ? ` (port ${dashboardOptions(kernel.config).port} was taken)` : ''}`;
}

/** Exit code when a `stop` shutdown had to stop workers still holding results nothing else holds. */
export const EXIT_RESULTS_LOST = 3;

/** Resolves with the name of the first SIGINT/SIGTERM; a second one calls `onSecond`. */
export function onceSignalled(onSecond: () => void): Promise<string> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (sig: NodeJS.Signals) => {
      if (seen) {
        onSecond();
        return;
      }
      seen = true;
      resolve(sig);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

/**
 * Resolves when the process that launched us goes away, for launches through a wrapper that
 * does not forward signals: `npx ebbtide up` (npm's `exec`) exits on SIGTERM and leaves its
 * child running under init. Only watched when npm launched us; a plain `nohup ebbtide up &`
 * must survive its shell.
 */
function wrapperGone(io: CliIo, kernel: Kernel): { gone: Promise<string>; sub?: Subscription } {
  if (!io.env.npm_command && !io.env.npm_execpath) return { gone: new Promise(() => undefined) };
  const parent = process.ppid;
  let sub: Subscription | undefined;
  const gone = new Promise<string>((resolve) => {
    sub = interval(1000, kernel.rxScheduler).subscribe(() => {
      if (process.ppid !== parent) resolve(`its launcher (pid ${parent}) exited`);
    });
  });
  return { gone, ...(sub ? { sub } : {}) };
}

/** Opens the recording file before anything connects, so a bad path is a clear error at once. */
export function openRecording(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : describeError(e);
    throw new EbbtideError('USAGE', `--record ${path}: cannot write the recording there: ${why}`, { hint: 'give a file path in an existing, writable folder' });
  }
}

/**
 * `ebbtide up`: runs the configured scheduler adapter, backend and plugins until SIGINT/SIGTERM,
 * printing one line per non-same decision and a status line when something changed (and a
 * heartbeat at most every minute otherwise), then shuts down as `shutdown.workers` says.
 * Serves the dashboard (control API, metrics, the live page) meanwhile.
 * Exit code 0, or 3 when a `stop` shutdown lost results it could not move.
 */
export async function upCommand(kernel: Kernel, io: CliIo, options: UpOptions = {}): Promise<number> {
  const fd = options.record ? openRecording(options.record) : undefined;
  let server: DashboardServer | undefined;
  let auto: Autoscaler;
  // POST /api/shutdown: the same clean shutdown as SIGTERM (a client attached by URL cannot signal us).
  let requestShutdown!: (reason: string) => void;
  const shutdownRequested = new Promise<string>((resolve) => (requestShutdown = resolve));
  try {
    server = await listenDashboard(kernel, options.recentLog, requestShutdown);
    auto = await Autoscaler.start(kernel);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    await server?.close();
    throw e;
  }
  server?.attach(auto);
  let recording: { stream: WriteStream; sub: Subscription } | undefined;
  if (fd !== undefined) {
    const stream = createWriteStream('', { fd });
    recording = { stream, sub: record(auto, (line) => stream.write(line + '\n')) };
    io.stdout(`recording to ${options.record}\n`);
  }
  const config = kernel.config;
  const external = config.scheduler.type !== 'embedded';
  if (auto.scheduler.address) io.stdout(`scheduler at ${auto.scheduler.address}\n`);
  if (server) io.stdout(dashboardLine(server, kernel) + '\n');
  if (auto.adoption.adopted.length) io.stdout(`adopted ${auto.adoption.adopted.length} existing worker(s) of cluster ${config.cluster.name}: ${auto.adoption.adopted.join(', ')}\n`);
  io.stdout(
    `ebbtide up: cluster ${config.cluster.name}, scheduler ${config.scheduler.type}, backend ${config.backend.type}, minimum ${config.adaptive.minimum}, maximum ${config.adaptive.maximum === Infinity ? 'inf' : config.adaptive.maximum}, shutdown.workers ${config.shutdown.workers}; Ctrl-C to stop\n`,
  );
  const heartbeat = options.heartbeatEvery ?? 60;
  let lastBody = '';
  let lastStatus = -Infinity;
  auto.decisions$.subscribe((r: DecisionRecord) => {
    if (r.outcome?.status === 'shutdown') return;
    if (r.recommendation.status !== 'same' || r.outcome?.status === 'failed') io.stdout(formatDecision(r) + '\n');
    const body = statusBody(r);
    const t = r.time ?? 0;
    if (body !== lastBody || t - lastStatus >= heartbeat) {
      lastBody = body;
      lastStatus = t;
      io.stdout(formatStatus(r) + '\n');
    }
  });
  const launcher = wrapperGone(io, kernel);
  const signal = await Promise.race([
    options.stopSignal ??
      onceSignalled(() => {
        io.stderr('second signal: stopping workers now\n');
        void auto.backend.close().finally(() => process.exit(130));
      }),
    launcher.gone,
    shutdownRequested,
    auto.stoppedItself.then((reason) => ({ stoppedItself: reason })),
  ]);
  launcher.sub?.unsubscribe();
  if (typeof signal !== 'string') {
    // It stopped by itself (another ebbtide took the cluster): its workers are left alone.
    await auto.shutdown(signal.stoppedItself, { workers: 'keep' });
    if (recording) {
      recording.sub.unsubscribe();
      await new Promise<void>((r) => recording!.stream.end(r));
    }
    io.stderr(`error: ${signal.stoppedItself}; stopped without touching the workers\n`);
    return 1;
  }
  io.stdout(`received ${signal}: shutting down (shutdown.workers ${config.shutdown.workers})\n`);
  const summary = await auto.shutdown(signal.startsWith('SIG') ? `signal ${signal}` : signal, { retire: external });
  if (recording) {
    recording.sub.unsubscribe();
    await new Promise<void>((r) => recording!.stream.end(r));
  }
  await server?.close();
  if (summary.left.length) io.stdout(`left ${summary.left.length} worker(s) running for the next ebbtide: ${summary.left.join(', ')}\n`);
  const lostOn = summary.lost.workers ?? [];
  if (lostOn.length) {
    const n = summary.lost.exact !== false ? String(summary.lost.count) : summary.lost.count ? `at least ${summary.lost.count}` : 'an unknown number of';
    io.stderr(`results lost: ${n} on ${lostOn.join(', ')}${summary.lost.keys.length ? ` (${summary.lost.keys.join(', ')}${summary.lost.count > summary.lost.keys.length ? ', …' : ''})` : ''}\n`);
  }
  io.stdout('stopped\n');
  return lostOn.length ? EXIT_RESULTS_LOST : 0;
}
