/**
 * Every error a user can cause or a plugin can raise. Codes are stable identifiers, grouped by
 * area and sorted; each has an entry in docs/errors.md.
 */
export const ERROR_CODES = [
  'BACKEND_API',
  'BACKEND_CAPACITY',
  'BACKEND_START_FAILED',
  'CLUSTER_LOCKED',
  'CONFIG_FILE',
  'CONFIG_INVALID',
  'CONFIG_UNKNOWN_NAME',
  'DASHBOARD_UNREACHABLE',
  'INPUT_INVALID',
  'PLUGIN_DUPLICATE_NAME',
  'PLUGIN_ERROR',
  'PLUGIN_INVALID',
  'PLUGIN_LOAD_FAILED',
  'PLUGIN_NOT_FOUND',
  'SCHEDULER_PROTOCOL',
  'SCHEDULER_UNREACHABLE',
  'USAGE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface EbbtideErrorDetails {
  hint?: string;
  plugin?: string;
  key?: string;
  cause?: unknown;
  /** Extra structured data (HTTP status, retryable flag, ...). */
  data?: Record<string, unknown>;
}

/**
 * The one error class of ebbtide. `message` is written for the user: what is wrong, where, what
 * was expected. The CLI prints `error[CODE]: message` and the hint, without a stack.
 */
export class EbbtideError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly plugin?: string;
  readonly key?: string;
  readonly data?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: EbbtideErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'EbbtideError';
    this.code = code;
    if (details.hint !== undefined) this.hint = details.hint;
    if (details.plugin !== undefined) this.plugin = details.plugin;
    if (details.key !== undefined) this.key = details.key;
    if (details.data !== undefined) this.data = details.data;
  }
}

export function isEbbtideError(e: unknown): e is EbbtideError {
  return e instanceof EbbtideError || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'EbbtideError');
}

/** Exit code for an error: 2 for configuration and usage mistakes, 1 otherwise. */
export function exitCodeFor(e: unknown): number {
  if (!isEbbtideError(e)) return 1;
  return e.code.startsWith('CONFIG_') || e.code === 'USAGE' || e.code.startsWith('PLUGIN_') ? 2 : 1;
}

/** Text of any thrown value, for messages. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** `PLUGIN_ERROR` for a throw inside a plugin's method at run time. */
export function pluginError(plugin: string, method: string, cause: unknown): EbbtideError {
  const raw = (cause as { code?: unknown } | undefined)?.code;
  const pluginCode = isEbbtideError(cause) ? cause.code : typeof raw === 'string' ? raw : undefined;
  return new EbbtideError('PLUGIN_ERROR', `plugin "${plugin}" failed in ${method}: ${describeError(cause)}`, {
    plugin,
    cause,
    data: { method, ...(pluginCode ? { pluginCode } : {}) },
  });
}
