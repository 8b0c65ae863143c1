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
