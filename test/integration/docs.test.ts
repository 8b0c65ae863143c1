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
