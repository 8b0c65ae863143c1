import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '@ebbtide/core';
import { ROOT } from '../support/paths.js';

describe('docs', () => {
  it('every error code has an entry in docs/errors.md', () => {
    const text = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
    for (const code of ERROR_CODES) expect(text, code).to.contain(`| \`${code}\` |`);
  });
});

describe('docs/configuration.md', () => {
  it('is the output of `ebbtide config --docs` (regenerate with: npx ebbtide config --docs > docs/configuration.md)', async () => {
    const { runCli } = await import('../support/runCli.js');
    const r = await runCli(['config', '--docs']);
    expect(r.code, r.stderr).to.equal(0);
    expect(readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8')).to.equal(r.stdout);
  });
});

describe('docs/plugins', () => {
  it('every built-in registered name has a row in its kind page', async () => {
    const { builtinPlugins } = await import('@ebbtide/cli');
    const { PluginRegistry } = await import('@ebbtide/core');
    const registry = new PluginRegistry();
    for (const p of builtinPlugins()) registry.add(p);
    const pages: Record<string, string> = {
      heuristic: 'heuristic.md',
      workersToClose: 'workers-to-close.md',
      workerKey: 'worker-key.md',
      scheduler: 'scheduler.md',
      backend: 'backend.md',
      allocation: 'allocation.md',
    };
    for (const [kind, page] of Object.entries(pages)) {
      const text = readFileSync(join(ROOT, 'docs', 'plugins', page), 'utf8');
      for (const name of registry.names(kind as 'heuristic')) expect(text, `${kind} ${name} in docs/plugins/${page}`).to.contain(`| \`${name}\` |`);
    }
  });
});
