import { expect } from 'chai';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../support/paths.js';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from\s+'([^']+)'|import\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

const packages = [
  'core',
  ...readdirSync(join(ROOT, 'plugins')).map((p) => `plugins/${p}`),
  ...readdirSync(join(ROOT, 'adapters')).map((p) => `adapters/${p}`),
];

describe('package boundaries', () => {
  it('core imports no other ebbtide package', () => {
    for (const f of sources(join(ROOT, 'core', 'src'))) {
      const bad = imports(f).filter((i) => i.startsWith('@ebbtide/'));
      expect(bad, relative(ROOT, f)).to.deep.equal([]);
    }
  });

  it('plugins and adapters import only @ebbtide/core (the CLI, the composition root, imports them all)', () => {
    for (const pkg of packages.filter((p) => p !== 'core' && p !== 'adapters/cli')) {
      for (const f of sources(join(ROOT, pkg, 'src'))) {
        // `@ebbtide/core/sdk` is the same package's light entry (the worker side of the embedded scheduler uses it).
        const bad = imports(f).filter((i) => i.startsWith('@ebbtide/') && i !== '@ebbtide/core' && i !== '@ebbtide/core/sdk');
        expect(bad, relative(ROOT, f)).to.deep.equal([]);
      }
    }
  });

  it('core and plugins read time only through the injected RxJS scheduler', () => {
    for (const dir of ['core/src', ...packages.filter((p) => p.startsWith('plugins/')).map((p) => `${p}/src`)]) {
      for (const f of sources(join(ROOT, dir))) {
        const code = readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
        expect(code, relative(ROOT, f)).not.to.match(/\bDate\.now\(|\bsetTimeout\(|\bsetInterval\(/);
      }
    }
  });
});

describe('the plugin author surface (@ebbtide/core/sdk)', () => {
  /** Every module the compiled entry loads at run time (type-only imports are erased by tsc). */
  function runtimeGraph(entry: string): Set<string> {
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm)) {
        const spec = m[1] ?? m[2]!;
        if (spec.startsWith('.')) visit(join(file, '..', spec));
        else bare.add(spec);
      }
    };
    visit(entry);
    return bare;
  }

  it('loads no DI container, config loader or YAML parser: only node built-ins', () => {
    const deps = [...runtimeGraph(join(ROOT, 'core', 'dist', 'src', 'sdk.js'))].filter((d) => !d.startsWith('node:'));
    expect(deps).to.deep.equal([]);
  });

  it('the full core does load them (the check can fail)', () => {
    const deps = runtimeGraph(join(ROOT, 'core', 'dist', 'src', 'index.js'));
    expect([...deps]).to.include.members(['convict', 'tsyringe', 'reflect-metadata']);
  });
});
