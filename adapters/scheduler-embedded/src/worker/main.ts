/**
 * `ebbtide-worker`: one worker process of the embedded scheduler. Prints one ready line on stdout
 * once registered (`READY_LINE_PREFIX name=... pid=...`) and exits by itself when the scheduler
 * connection is gone, when the scheduler closes it, or on SIGTERM/SIGINT.
 */
// The worker side (here, the protocol, the runtime) imports `@ebbtide/core/sdk`, never the package
// root: the root loads the kernel, convict and tsyringe, three quarters of a worker's start-up CPU,
// and workers often start many at once (test/workerImports.test.ts keeps it so).
import { describeError, exitCodeFor, isEbbtideError } from '@ebbtide/core/sdk';
import { READY_LINE_PREFIX } from './readyLine.js';
import { WORKER_USAGE, parseWorkerArgs } from './parseWorkerArgs.js';
import { WorkerRuntime } from './WorkerRuntime.js';

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${WORKER_USAGE}\n`);
    return 0;
  }
  const options = parseWorkerArgs(process.argv.slice(2));
  const runtime = new WorkerRuntime(options);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void runtime.stop(0, `received ${signal}`));
  }
  await runtime.start();
  process.stdout.write(`${READY_LINE_PREFIX} name=${options.name} nthreads=${options.nthreads} scheduler=${options.scheduler} pid=${process.pid}\n`);
  const stop = await runtime.stopped;
  process.stderr.write(`ebbtide-worker ${options.name}: stopping (${stop.reason})\n`);
  return stop.code;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    const code = isEbbtideError(e) ? `[${e.code}]` : '';
    process.stderr.write(`error${code}: ${describeError(e)}\n`);
    if (isEbbtideError(e) && e.hint && e.code === 'USAGE') process.stderr.write(`${e.hint}\n`);
    process.exit(exitCodeFor(e));
  },
);
