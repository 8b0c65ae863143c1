import type { EbbtidePlugin } from '@ebbtide/core';
import daskPlugin from '@ebbtide/plugin-dask';

/** Plugins the `ebbtide` command registers before any configured one. */
export function builtinPlugins(): EbbtidePlugin[] {
  return [daskPlugin as EbbtidePlugin];
}
