const HEX_OR_NUMBER = /^(?:[0-9a-f]{8,}|\d+)$/i;

/**
 * The task prefix of a key, as Dask's `key_split`: `"slowinc-ab12cd34ef56"` -> `"slowinc"`,
 * `"('x-1', 0)"` -> `"x"`, `"load-data-3"` -> `"load-data"`. Words are kept until one looks like a
 * hash or a number.
 */
export function keySplit(key: string): string {
  let k = key.trim();
  if (k.startsWith('(')) {
    const m = /^\(\s*['"]([^'"]*)['"]/.exec(k);
    if (m) k = m[1]!;
  }
  const words = k.split('-');
  const kept: string[] = [];
  for (const w of words) {
    if (kept.length > 0 && (HEX_OR_NUMBER.test(w) || w === '')) break;
    kept.push(w);
  }
  return kept.join('-') || key;
}
