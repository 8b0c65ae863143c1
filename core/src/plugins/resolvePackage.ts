import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

type Exports = string | null | { [condition: string]: Exports };

function pickEntry(exp: Exports): string | undefined {
  if (typeof exp === 'string') return exp;
  if (!exp || typeof exp !== 'object') return undefined;
  // Subpath map: take ".".
  if (Object.keys(exp).some((k) => k.startsWith('.'))) return exp['.'] === undefined ? undefined : pickEntry(exp['.']);
  for (const cond of ['import', 'node', 'default']) {
    if (exp[cond] !== undefined) {
      const r = pickEntry(exp[cond]);
      if (r) return r;
    }
  }
  return undefined;
}

/**
 * The entry file of package `name` as an ESM `import` would load it, found in `node_modules` of
 * `from` or any parent (so a plugin installed next to the config file is found even when
 * ebbtide is installed elsewhere). Honours `exports` with the `import`, `node` and `default`
 * conditions, then `main`, then `index.js`. `undefined` when no such package is installed.
 */
export function resolvePackageEntry(name: string, from: string, parents = true): string | undefined {
  let dir = from;
  for (;;) {
    const pkgDir = join(dir, 'node_modules', ...name.split('/'));
    const manifest = join(pkgDir, 'package.json');
    if (existsSync(manifest)) {
      let pkg: { exports?: Exports; main?: string };
      try {
        pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Exports; main?: string };
      } catch {
        return undefined;
      }
      const entry = (pkg.exports !== undefined ? pickEntry(pkg.exports) : undefined) ?? pkg.main ?? 'index.js';
      return join(pkgDir, entry);
    }
    const parent = dirname(dir);
    if (parent === dir || !parents) return undefined;
    dir = parent;
  }
}
