import type { ConfigSchemaSection, EbbtideConfig } from '@ebbtide/core';

/** The `dask.*` config section. */
export const daskSchema = {
  dask: {
    memoryRatio: {
      doc: 'Also close workers while memory limit >= memoryRatio x stored bytes remains (Dask\'s workers_to_close memory_ratio, forwarded like Adaptive(**kwargs)); null = only the target decides.',
      format: 'positive-number-or-null',
      default: null,
      nullable: true,
    },
  },
} satisfies ConfigSchemaSection;

export interface DaskOptions {
  memoryRatio?: number;
}

export function daskOptions(config: EbbtideConfig): DaskOptions {
  const section = config.dask as { memoryRatio: number | null } | undefined;
  const ratio = section?.memoryRatio;
  return ratio === null || ratio === undefined ? {} : { memoryRatio: ratio };
}
