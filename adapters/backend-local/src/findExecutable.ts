import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where a bare command name (no slash) lives: first `node_modules/.bin` in `from` and each
 * parent directory (so a workspace bin like `ebbtide-worker` is found without npx), then PATH.
 * Paths and names not found are returned unchanged, so spawn reports ENOENT for them.
 */
export function findExecutable(command: string, from: readonly string[], path = process.env.PATH ?? ''): string {
  if (command.includes('/')) return command;
  for (const start of from) {
    let dir = start;
    for (;;) {
      const candidate = join(dir, 'node_modules', '.bin', command);
      if (executable(candidate)) return candidate;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, command);
    if (executable(candidate)) return candidate;
  }
  return command;
}
