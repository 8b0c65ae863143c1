import { fileURLToPath } from 'node:url';

/**
 * Absolute path of a file under `core/test/fixtures/`. Fixtures are plain JS and are not
 * compiled, so compiled tests (in `core/dist/test/`) reach back to the source tree.
 */
export function fixturePath(...parts: string[]): string {
  return fileURLToPath(new URL(['../../../test/fixtures', ...parts].join('/'), import.meta.url));
}
