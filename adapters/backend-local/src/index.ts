import { definePlugin } from '@ebbtide/core';
import { LocalBackend } from './LocalBackend.js';
import { type LocalBackendOptions, localOptions, localSchema } from './config.js';

export { LocalBackend } from './LocalBackend.js';
export { expandCommand } from './expandCommand.js';
export { findExecutable } from './findExecutable.js';
export { type LocalBackendOptions, localOptions, localSchema } from './config.js';

/** `backend.type: local` — worker processes on this machine. */
const localBackendPlugin = definePlugin<LocalBackendOptions>({
  name: 'local',
  description: 'worker processes on this machine, one process group each',
  configSchema: localSchema,
  options: localOptions,
  register(r) {
    r.backend('local', LocalBackend);
  },
});

export default localBackendPlugin;
export { localBackendPlugin };
