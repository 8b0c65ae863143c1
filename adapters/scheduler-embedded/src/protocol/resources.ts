/**
 * Resource quantities (`{ GPU: 1, MEM: 2e9 }`): what a worker offers, and what one run of a task
 * needs (Dask's worker resources and resource restrictions). A worker runs a task only while the
 * task's quantities are free on it; a run holds them until it ends.
 */
export type Resources = Record<string, number>;

/** A resource name: letters, digits, `_`, `.` and `-`, starting with a letter or `_`. */
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Why `value` is not a resource map, or undefined if it is one (names as above, quantities finite and > 0). */
export function resourcesProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected an object of resource name -> quantity';
  for (const [name, q] of Object.entries(value)) {
    if (!NAME.test(name)) return `resource name "${name}" must start with a letter or _ and hold only letters, digits, _, . and -`;
    if (typeof q !== 'number' || !Number.isFinite(q) || q <= 0) return `resource "${name}": expected a quantity > 0, got ${JSON.stringify(q)}`;
  }
  return undefined;
}

/**
 * `GPU=1,MEM=2e9` or `GPU=1 MEM=2e9` (the syntax of `dask worker --resources` and of
 * `EBBTIDE_WORKER_RESOURCES`) as a map; a string with only blanks is `{}`.
 *
 * @returns the map, or the reason it is malformed
 */
export function parseResources(text: string): Resources | string {
  const out: Resources = {};
  for (const pair of text.split(/[\s,]+/).filter((p) => p.length > 0)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return `expected NAME=QUANTITY, got "${pair}"`;
    const name = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    const q = raw.trim() === '' ? NaN : Number(raw);
    out[name] = q;
    const problem = resourcesProblem({ [name]: q });
    if (problem) return problem.replace(`got ${JSON.stringify(q)}`, `got "${raw}"`);
  }
  return out;
}
