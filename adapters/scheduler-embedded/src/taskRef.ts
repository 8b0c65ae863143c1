import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A task function reference split into its module and export name. */
export interface TaskRef {
  /** Absolute path, `file:` URL or package name, as written. */
  module: string;
  exportName: string;
  /** What `import()` is given: a `file:` URL for paths, the package name otherwise. */
  specifier: string;
}

const EXPORT_NAME = /^[A-Za-z_$][\w$]*$/;

/**
 * Splits `module#export`. The module is an absolute path, a `file:` URL or a package name
 * (relative paths are refused: the worker's working directory is not the caller's). The export
 * name is the part after the last `#`, so paths may contain `#`.
 *
 * Returns a reason string instead of throwing, so worker threads need no error classes.
 */
export function parseTaskRef(ref: string): TaskRef | string {
  const hash = ref.lastIndexOf('#');
  if (hash <= 0) return `task function "${ref}" is not of the form module#export`;
  const module = ref.slice(0, hash);
  const exportName = ref.slice(hash + 1);
  if (!EXPORT_NAME.test(exportName)) return `task function "${ref}": "${exportName}" is not an export name`;
  if (module.startsWith('file:')) return { module, exportName, specifier: module };
  if (isAbsolute(module)) return { module, exportName, specifier: pathToFileURL(module).href };
  if (module.startsWith('.')) {
    return `task function "${ref}": module "${module}" is relative; use an absolute path, a file: URL or a package name`;
  }
  return { module, exportName, specifier: module };
}

/** The `module#export` string for a module URL or path and an export name. */
export function taskRef(module: string | URL, exportName: string): string {
  return `${module instanceof URL ? module.href : module}#${exportName}`;
}
