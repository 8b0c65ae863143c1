import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The repository root (tests run from test/dist/...). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const EBBTIDE_BIN = join(ROOT, 'adapters', 'cli', 'bin', 'ebbtide.js');
