import { createWriteStream, type WriteStream } from 'node:fs';
import type { Subscription } from 'rxjs';
import { Autoscaler, type DecisionRecord, type Kernel, record } from '@ebbtide/core';
import type { CliIo } from '../io.js';
import { formatDecision, formatStatus } from './formatDecision.js';

export interface UpOptions {
  /** Write a recording (JSON lines) of every scheduler event and decision to this file. */
  record?: string;
  /** Seconds between status lines. */
  statusEvery?: number;
  /** Resolves when the command should stop (a signal); defaults to SIGINT/SIGTERM. */
  stopSignal?: Promise<string>;
}

/** Resolves with the name of the first SIGINT/SIGTERM; a second one exits at once. */
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
 * `ebbtide up`: runs the configured scheduler adapter, backend and plugins until SIGINT/SIGTERM,
 * printing one line per non-same decision and a status line every few seconds, then shuts down
 * cleanly (loop stopped, workers retired or stopped).
 */
export async function upCommand(kernel: Kernel, io: CliIo, options: UpOptions = {}): Promise<number> {
  const auto = await Autoscaler.start(kernel);
  let recording: { stream: WriteStream; sub: Subscription } | undefined;
  if (options.record) {
    const stream = createWriteStream(options.record, { flags: 'w' });
    recording = { stream, sub: record(auto, (line) => stream.write(line + '\n')) };
    io.stdout(`recording to ${options.record}\n`);
  }
  const external = kernel.config.scheduler.type !== 'embedded';
  if (auto.scheduler.address) io.stdout(`scheduler at ${auto.scheduler.address}\n`);
  io.stdout(
    `ebbtide up: scheduler ${kernel.config.scheduler.type}, backend ${kernel.config.backend.type}, minimum ${kernel.config.adaptive.minimum}, maximum ${kernel.config.adaptive.maximum === Infinity ? 'inf' : kernel.config.adaptive.maximum}; Ctrl-C to stop\n`,
  );
  const every = options.statusEvery ?? 5;
  let lastStatus = -Infinity;
  auto.decisions$.subscribe((r: DecisionRecord) => {
    if (r.recommendation.status !== 'same' || r.outcome?.status === 'failed') io.stdout(formatDecision(r) + '\n');
    if ((r.time ?? 0) - lastStatus >= every) {
      lastStatus = r.time ?? 0;
      io.stdout(formatStatus(r) + '\n');
    }
  });
  const signal = await (options.stopSignal ??
    onceSignalled(() => {
      io.stderr('second signal: stopping workers now\n');
      void auto.backend.close().finally(() => process.exit(130));
    }));
  io.stdout(`received ${signal}: shutting down\n`);
  await auto.shutdown(`signal ${signal}`, { retire: external });
  if (recording) {
    recording.sub.unsubscribe();
    await new Promise<void>((r) => recording!.stream.end(r));
  }
  io.stdout('stopped\n');
  return 0;
}
