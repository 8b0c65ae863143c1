import { createRequire } from 'node:module';
import type { CliIo } from '../io.js';
import { writePluginTemplate } from '../pluginTemplate/index.js';

/** The version of `@ebbtide/core` this command runs with: the generated package's peer range. */
function coreVersion(): string {
  return (createRequire(import.meta.url)('@ebbtide/core/package.json') as { version: string }).version;
}

/** `ebbtide plugin new NAME --kind K`: writes a ready plugin package into ./NAME. */
export function pluginNewCommand(io: CliIo, name: string, kind: string): number {
  const { root, files } = writePluginTemplate(io.cwd, name, kind, coreVersion());
  io.stdout(`wrote ${files.length} files to ${root}:\n${files.map((f) => `  ${f}`).join('\n')}\n\nnext:\n  cd ${name}\n  npm install\n  npm test\n`);
  return 0;
}
