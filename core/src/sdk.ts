/**
 * `@ebbtide/core/sdk`: what a plugin author needs, and nothing of the host.
 *
 * The contracts a plugin implements, `definePlugin` and the types of a plugin's context, the
 * well-known tokens, errors, and the value parsers of the config formats. It loads no DI
 * container, no config loader and no kernel — importing it pulls in no convict, tsyringe or
 * yaml — so a plugin that npm installed with its own copy of `@ebbtide/core` carries little,
 * and everything it hands the host is recognised by value: tokens are `Symbol.for` keys, errors
 * are classified by `name` and `code`, the plugin API version is checked at load.
 *
 * The host's internals (kernel, loop, cluster, state store, config loading) stay in
 * `@ebbtide/core`, which re-exports all of this too; `@ebbtide/core/testing` is the test kit.
 */
export * from './contracts/index.js';
export {
  type Constructor,
  type EbbtidePlugin,
  type Factory,
  type Implementation,
  type KindContracts,
  PLUGIN_API_VERSION,
  PLUGIN_KINDS,
  type PluginContext,
  type PluginKind,
  type PluginRegistrar,
  type RegisterOptions,
  SELECTING_KEY,
  definePlugin,
  isFactory,
} from './plugins/EbbtidePlugin.js';
export { CONFIG, LOGGER, NAME_ARGUMENT, PLUGIN_OPTIONS, RX_SCHEDULER } from './tokens.js';
export { EbbtideError, ERROR_CODES, type ErrorCode, type EbbtideErrorDetails, describeError, exitCodeFor, isEbbtideError } from './errors.js';
export type { LogFields, LogLevel, Logger } from './logging/Logger.js';
export type { EbbtideConfig } from './config/EbbtideConfig.js';
export type { ConfigOf, FormatTypes } from './config/ConfigOf.js';
export type { ConfigLeaf, ConfigSchemaSection } from './config/schema.js';
export { MAX_DURATION_SECONDS, formatDuration, parseBytes, parseCountOrInf, parseDuration, parseWholeNumber } from './config/parse.js';
export { keySplit } from './state/keySplit.js';
export { backoffMs } from './util/backoff.js';
export { RecentCache } from './util/RecentCache.js';
export { SAMPLE_WORKER_SPEC, expandWorkerCommand } from './util/expandWorkerCommand.js';
export { LockFile, type LockFileOptions, type LockHolder, isSameProcessAlive, processStartTime } from './util/LockFile.js';
