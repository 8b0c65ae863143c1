import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SPECIFIER = /(?:^|[\s;])(?:import|export)\s(?:[^'"]*?\sfrom\s)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module a compiled file reaches by its static imports: our files by path, third-party packages by name. */
function reach(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('node:')) continue;
      if (spec.startsWith('.')) todo.push(resolve(dirname(file), spec));
      else if (spec.startsWith('@ebbtide/')) todo.push(fileURLToPath(import.meta.resolve(spec, pathToFileURL(file).href)));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return { files, packages };
}

describe('ebbtide-worker start-up', () => {
  // Workers are often started many at once on few cores: what each loads is most of the wait
  // for them to connect. The core's package root (kernel, config loader, DI) is not needed.
  for (const entry of ['main.js', 'taskThread.js']) {
    it(`${entry} loads no part of the host: not @ebbtide/core's root, convict, tsyringe or yaml`, () => {
      const { files, packages } = reach(fileURLToPath(new URL(`../src/worker/${entry}`, import.meta.url)));
      const coreRoot = fileURLToPath(import.meta.resolve('@ebbtide/core'));
      expect(files.size).to.be.at.least(3);
      expect([...files].filter((f) => f === coreRoot)).to.deep.equal([]);
      expect([...packages].filter((p) => ['convict', 'tsyringe', 'yaml', 'reflect-metadata'].includes(p))).to.deep.equal([]);
    });
  }
});
