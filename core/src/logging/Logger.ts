/** Log levels, most verbose first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

/**
 * Structured logger: fields first, then a short fixed message.
 * `log.info({ event: 'scale.up', from: 3, to: 5 }, 'up')`.
 */
export interface Logger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
  child(fields: LogFields): Logger;
}

export interface LogRecord {
  level: Exclude<LogLevel, 'silent'>;
  message: string;
  fields: LogFields;
  /** ISO 8601 time the record was made, when the sink's owner gave the logger a clock. */
  time?: string;
}

/** Writes records at or above `level` through `sink`, stamped by `clock` when one is given. */
export class SinkLogger implements Logger {
  constructor(
    private readonly sink: (r: LogRecord) => void,
    private readonly level: LogLevel = 'info',
    private readonly bound: LogFields = {},
    private readonly clock?: () => string,
  ) {}

  private emit(level: LogRecord['level'], fields: LogFields, message: string): void {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(this.level)) return;
    this.sink({ level, message, fields: { ...this.bound, ...fields }, ...(this.clock ? { time: this.clock() } : {}) });
  }
  debug(fields: LogFields, message: string): void { this.emit('debug', fields, message); }
  info(fields: LogFields, message: string): void { this.emit('info', fields, message); }
  warn(fields: LogFields, message: string): void { this.emit('warn', fields, message); }
  error(fields: LogFields, message: string): void { this.emit('error', fields, message); }
  child(fields: LogFields): Logger {
    return new SinkLogger(this.sink, this.level, { ...this.bound, ...fields }, this.clock);
  }
}

/** A logger that drops everything. */
export const silentLogger: Logger = new SinkLogger(() => undefined, 'silent');

/** A logger that keeps records in memory (tests, `ebbtide decide`). */
export class MemoryLogger extends SinkLogger {
  readonly records: LogRecord[];
  constructor(level: LogLevel = 'debug') {
    const records: LogRecord[] = [];
    super((r) => records.push(r), level);
    this.records = records;
  }
}

/** JSON has no infinity: `maximum: inf` is logged as the config writes it, `"inf"`, not `null`. */
function jsonValue(_key: string, v: unknown): unknown {
  if (v instanceof Error) return v.message;
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  return v;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v, jsonValue);
}

/** One human-readable line: `LEVEL [plugin] message key=value ...`. */
export function formatPretty(r: LogRecord): string {
  const { plugin, ...rest } = r.fields;
  const head = `${r.level.toUpperCase().padEnd(5)} ${plugin ? `[${String(plugin)}] ` : ''}${r.message}`;
  const tail = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
  return tail ? `${head} ${tail}` : head;
}

/** One JSON object per line: `time` (ISO 8601, when stamped), `level`, `msg`, then the fields. */
export function formatJson(r: LogRecord): string {
  return JSON.stringify({ ...(r.time ? { time: r.time } : {}), level: r.level, msg: r.message, ...r.fields }, jsonValue);
}

/**
 * A logger writing to stderr in `pretty` or `json` format. `clock` stamps each record (the
 * command line passes the wall clock; the core itself reads no clock).
 */
export function createStderrLogger(level: LogLevel, format: 'pretty' | 'json', clock?: () => string): Logger {
  const fmt = format === 'json' ? formatJson : formatPretty;
  return new SinkLogger((r) => process.stderr.write(fmt(r) + '\n'), level, {}, clock);
}
