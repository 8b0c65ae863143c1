export { run, USAGE } from './run.js';
export { parseArgs, type ParsedArgs, type OptionSpec } from './args.js';
export { type CliIo, processIo } from './io.js';
export { builtinDefaults, builtinPlugins } from './builtins.js';
export { readSnapshots, decideCommand } from './commands/decide.js';
