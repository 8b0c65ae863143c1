#!/usr/bin/env node
// Starts the Mesos test master (built by `npx tsc -b` into test/dist/servers/mesos).
import { main } from '../../dist/servers/mesos/start.js';

await main(process.argv.slice(2));
