import { stopSharedDask } from './sharedDask.js';

/** Mocha root hooks (loaded with `require` in .mocharc.json): kill the shared Dask cluster once all files ran. */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopSharedDask();
  },
};
