import { EbbtideError } from '../errors.js';
import type { OwnedSchema } from './loadConfig.js';
import { type ConfigSchemaSection, isConfigLeaf } from './schema.js';

function flatten(values: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(values)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v) && !k.includes('.')) out.push(...flatten(v as Record<string, unknown>, path));
    else out.push([path, v]);
  }
  return out;
}

/**
 * The schema sections with some defaults replaced: the composition root's choices (which
 * implementation fills each role, and the like). Keys may be nested objects or dotted paths.
 * A default for an undeclared key is a programming error of the caller.
 */
export function withDefaults(sections: OwnedSchema[], defaults: Record<string, unknown>): OwnedSchema[] {
  const wanted = new Map(flatten(defaults));
  if (wanted.size === 0) return sections;
  const out = sections.map(({ owner, schema }) => ({ owner, schema: override(schema, '', wanted) }));
  if (wanted.size) throw new EbbtideError('PLUGIN_INVALID', `defaults given for keys no schema declares: ${[...wanted.keys()].join(', ')}`);
  return out;
}

function override(section: ConfigSchemaSection, prefix: string, wanted: Map<string, unknown>): ConfigSchemaSection {
  const copy: ConfigSchemaSection = {};
  for (const [k, node] of Object.entries(section)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (isConfigLeaf(node)) {
      if (wanted.has(path)) {
        copy[k] = { ...node, default: wanted.get(path) };
        wanted.delete(path);
      } else copy[k] = node;
    } else {
      copy[k] = override(node as ConfigSchemaSection, path, wanted);
    }
  }
  return copy;
}
