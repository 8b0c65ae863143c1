import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const here = (file: string) => fileURLToPath(new URL(`../../static/${file}`, import.meta.url));

/**
 * The page and its assets, read once: the page's own files from the package's `static/`
 * folder, and uPlot (the chart) from its npm package as shipped — nothing is built at run time.
 */
export function loadAssets(): { page: Asset; files: ReadonlyMap<string, Asset> } {
  const require = createRequire(import.meta.url);
  const uplotDir = fileURLToPath(new URL('.', `file://${require.resolve('uplot/package.json')}`));
  const asset = (path: string, type: string): Asset => {
    const body = readFileSync(path);
    return { body, type, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
  };
  const files = new Map<string, Asset>([
    ['app.js', asset(here('app.js'), 'text/javascript; charset=utf-8')],
    ['style.css', asset(here('style.css'), 'text/css; charset=utf-8')],
    ['uPlot.iife.min.js', asset(`${uplotDir}dist/uPlot.iife.min.js`, 'text/javascript; charset=utf-8')],
    ['uPlot.min.css', asset(`${uplotDir}dist/uPlot.min.css`, 'text/css; charset=utf-8')],
  ]);
  return { page: asset(here('index.html'), 'text/html; charset=utf-8'), files };
}
