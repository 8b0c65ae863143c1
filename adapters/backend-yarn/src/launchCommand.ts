import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { EbbtideError } from '@ebbtide/core';

const PLACEHOLDER = /\{(\w+)\}/g;
const KNOWN = new Set(['name', 'scheduler', 'nthreads', 'memoryLimit']);

/** YARN replaces this in a launch command with each instance's own name (`{component}-{i}`). */
export const INSTANCE_NAME_TOKEN = '${COMPONENT_INSTANCE_NAME}';

export interface LaunchValues {
  scheduler: string;
  nthreads: number;
  memoryLimit: number;
}

/**
 * Quotes one piece of an argument for YARN's launch script, where the command ends up as
 * `exec /bin/bash -c "<command>"`: single quotes for the inner bash, then `\`, `$`, `"` and
 * backticks escaped for the outer double quotes.
 */
function quotePiece(s: string): string {
  const inner = `'${s.replace(/'/g, `'\\''`)}'`;
  return inner.replace(/[\\$"`]/g, '\\$&');
}

/**
 * The `launch_command` of the worker component: the command template with `{scheduler}`,
 * `{nthreads}` and `{memoryLimit}` filled in and `{name}` turned into YARN's instance-name token,
 * every argument quoted. An unknown placeholder is a configuration error.
 */
export function buildLaunchCommand(template: readonly string[], values: LaunchValues, resolvedFirst?: string): string {
  if (template.length === 0) {
    throw new EbbtideError('CONFIG_INVALID', 'backend.yarn.command: expected a non-empty argument array, got []', { key: 'backend.yarn.command' });
  }
  const fixed: Record<string, string> = {
    scheduler: values.scheduler,
    nthreads: String(values.nthreads),
    memoryLimit: String(values.memoryLimit),
  };
  return template
    .map((arg, i) => {
      const source = i === 0 && resolvedFirst ? resolvedFirst : arg;
      let out = '';
      let last = 0;
      for (const m of source.matchAll(PLACEHOLDER)) {
        const key = m[1]!;
        if (!KNOWN.has(key)) {
          throw new EbbtideError(
            'CONFIG_INVALID',
            `backend.yarn.command: unknown placeholder ${m[0]} in "${arg}"; expected {name}, {scheduler}, {nthreads} or {memoryLimit}`,
            { key: 'backend.yarn.command' },
          );
        }
        out += quotePiece(source.slice(last, m.index));
        out += key === 'name' ? INSTANCE_NAME_TOKEN : quotePiece(fixed[key]!);
        last = m.index! + m[0].length;
      }
      out += quotePiece(source.slice(last));
      return out;
    })
    .join(' ');
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where a bare command (no slash) is installed here: `node_modules/.bin` in `from` or a parent,
 * then PATH. On a cluster whose NodeManagers are other machines the path must exist there too;
 * when nothing is found the bare name is left for the NodeManager's PATH.
 */
export function resolveCommand(command: string, from: readonly string[], path = process.env.PATH ?? ''): string {
  if (command.includes('/')) return command;
  for (const start of from) {
    for (let dir = start; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', '.bin', command);
      if (executable(candidate)) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, command);
    if (executable(candidate)) return candidate;
  }
  return command;
}
