import { describeError, isEbbtideError } from '@ebbtide/core';
import type { CliIo } from './io.js';

/** `error[CODE]: message` and the hint; the stack and causes only with `--verbose`. */
export function printError(io: CliIo, e: unknown, verbose: boolean): void {
  if (isEbbtideError(e)) {
    io.stderr(`error[${e.code}]: ${e.message}\n`);
    if (e.hint) io.stderr(`  hint: ${e.hint}\n`);
  } else {
    io.stderr(`error: ${describeError(e)}\n`);
    if (!verbose) io.stderr('  (an internal error: run with --verbose for the stack trace, and please report it)\n');
  }
  if (verbose) {
    let cur: unknown = e;
    while (cur) {
      if (cur instanceof Error && cur.stack) io.stderr(`${cur.stack}\n`);
      cur = cur instanceof Error ? cur.cause : undefined;
      if (cur) io.stderr('caused by:\n');
    }
  }
}
