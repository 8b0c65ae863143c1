import { type Kernel, PLUGIN_KINDS } from '@ebbtide/core';
import type { CliIo } from '../io.js';

/** `ebbtide plugins`: each loaded plugin, where it came from, what it registers and what is selected. */
export function pluginsCommand(kernel: Kernel, io: CliIo, opts: { json: boolean }): number {
  const plugins = kernel.registry.plugins.map((p) => ({
    name: p.name,
    source: kernel.registry.source(p),
    ...(p.version ? { version: p.version } : {}),
    ...(p.description ? { description: p.description } : {}),
    registers: Object.fromEntries(
      PLUGIN_KINDS.map((k) => [k, kernel.registry.list(k).filter((r) => r.plugin === p).map((r) => (r.parameter ? `${r.name}:<${r.parameter}>` : r.name))]).filter(
        ([, names]) => names.length > 0,
      ),
    ),
  }));
  const selected = Object.fromEntries(PLUGIN_KINDS.map((k) => [k, kernel.selected(k)]));
  if (opts.json) {
    io.stdout(JSON.stringify({ plugins, selected }, null, 2) + '\n');
    return 0;
  }
  for (const p of plugins) {
    io.stdout(`${p.name}  (${p.source})${p.description ? ` — ${p.description}` : ''}\n`);
    for (const [kind, names] of Object.entries(p.registers)) io.stdout(`  ${kind}: ${(names as string[]).join(', ')}\n`);
  }
  io.stdout('selected:\n');
  for (const [kind, name] of Object.entries(selected)) io.stdout(`  ${kind}: ${name}\n`);
  return 0;
}
