import 'reflect-metadata';
import { processIo } from './io.js';
import { run } from './run.js';

// `ebbtide config | head -1`: the reader went away. Like `git log | head`, end quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

const code = await run(process.argv.slice(2), processIo());
process.exitCode = code;
