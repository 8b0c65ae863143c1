/**
 * A convict schema section: nested objects whose leaves have `doc`, `format`, `default` and
 * optionally `env`, `sensitive`. The kernel fills in `env` (EBBTIDE_ + upper snake path) and
 * `arg` (the dotted path, as `--adaptive.minimum 2`) for leaves that omit them.
 */
export interface ConfigLeaf {
  doc: string;
  format: string | readonly unknown[];
  default: unknown;
  env?: string;
  arg?: string;
  sensitive?: boolean;
  nullable?: boolean;
}

export interface ConfigSchemaSection {
  [key: string]: ConfigLeaf | ConfigSchemaSection;
}

export function isConfigLeaf(v: unknown): v is ConfigLeaf {
  return typeof v === 'object' && v !== null && 'format' in v && 'default' in v;
}

/** `EBBTIDE_` + the path in upper snake case: `adaptive.waitCount` -> `EBBTIDE_ADAPTIVE_WAIT_COUNT`. */
export function envNameFor(path: string): string {
  return (
    'EBBTIDE_' +
    path
      .split('.')
      .map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase())
      .join('_')
  );
}

/** Every leaf of a schema with its dotted path, in declaration order. */
export function schemaLeaves(schema: ConfigSchemaSection, prefix = ''): Array<[string, ConfigLeaf]> {
  const out: Array<[string, ConfigLeaf]> = [];
  for (const [k, v] of Object.entries(schema)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (isConfigLeaf(v)) out.push([path, v]);
    else out.push(...schemaLeaves(v, path));
  }
  return out;
}
