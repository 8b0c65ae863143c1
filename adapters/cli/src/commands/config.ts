import { type Kernel, PLUGIN_KINDS, schemaLeaves } from '@ebbtide/core';
import type { CliIo } from '../io.js';

function show(v: unknown): string {
  if (v === Infinity) return '"inf"';
  return JSON.stringify(v);
}

/**
 * `ebbtide config`: every key with its effective value and where it came from.
 * `--check`: validation only (the kernel already validated; this also checks that every selected
 * implementation is registered).
 */
export function configCommand(kernel: Kernel, io: CliIo, opts: { check: boolean; json: boolean }): number {
  if (opts.check) {
    const kinds = PLUGIN_KINDS.filter((k) => kernel.registry.list(k).length > 0);
    kernel.checkSelections(kinds);
    io.stdout(`config OK (${kernel.registry.plugins.length} plugins: ${kernel.registry.plugins.map((p) => p.name).join(', ')})\n`);
    return 0;
  }
  const leaves = schemaLeaves(kernel.loaded.schema);
  const get = (path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], kernel.config);
  if (opts.json) {
    const out: Record<string, unknown> = {};
    for (const [path, leaf] of leaves) {
      const value = get(path);
      out[path] = { value: leaf.sensitive ? '[sensitive]' : value === Infinity ? 'inf' : value, source: kernel.loaded.sources[path], env: leaf.env, doc: leaf.doc };
    }
    io.stdout(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  const width = Math.max(...leaves.map(([p]) => p.length));
  for (const [path, leaf] of leaves) {
    const value = leaf.sensitive ? '[sensitive]' : show(get(path));
    io.stdout(`${path.padEnd(width)}  ${value}  (${kernel.loaded.sources[path]}; env ${leaf.env})\n`);
  }
  return 0;
}
