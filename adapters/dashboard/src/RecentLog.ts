import { LOG_LEVELS, type LogFields, type LogLevel, type LogRecord, type Logger, formatPretty } from '@ebbtide/core';

/**
 * ebbtide's own recent log lines, kept in memory (a bounded ring) for `GET /api/logs` and
 * `ebbtide logs`.
 */
export class RecentLog {
  private readonly ring: LogRecord[] = [];

  constructor(readonly capacity = 1000) {}

  push(r: LogRecord): void {
    this.ring.push(r);
    if (this.ring.length > this.capacity) this.ring.shift();
  }

  /** The last `n` records (all kept by default), oldest first. */
  records(n = this.capacity): LogRecord[] {
    return this.ring.slice(-Math.max(0, n));
  }

  /** The last `n` records as the pretty log writes them, each led by its time when stamped. */
  lines(n = this.capacity): string[] {
    return this.records(n).map((r) => (r.time ? `${r.time} ${formatPretty(r)}` : formatPretty(r)));
  }
}

const rank = (l: LogLevel) => LOG_LEVELS.indexOf(l);

/** Forwards every call to `inner` and keeps records at or above `level` in `recent`. */
class TeeLogger implements Logger {
  constructor(
    private readonly inner: Logger,
    private readonly recent: RecentLog,
    private readonly level: LogLevel,
    private readonly clock: (() => string) | undefined,
    private readonly bound: LogFields,
  ) {}

  private keep(level: LogRecord['level'], fields: LogFields, message: string): void {
    if (rank(level) < rank(this.level)) return;
    this.recent.push({ level, message, fields: { ...this.bound, ...fields }, ...(this.clock ? { time: this.clock() } : {}) });
  }
  debug(fields: LogFields, message: string): void {
    this.inner.debug(fields, message);
    this.keep('debug', fields, message);
  }
  info(fields: LogFields, message: string): void {
    this.inner.info(fields, message);
    this.keep('info', fields, message);
  }
  warn(fields: LogFields, message: string): void {
    this.inner.warn(fields, message);
    this.keep('warn', fields, message);
  }
  error(fields: LogFields, message: string): void {
    this.inner.error(fields, message);
    this.keep('error', fields, message);
  }
  child(fields: LogFields): Logger {
    return new TeeLogger(this.inner.child(fields), this.recent, this.level, this.clock, { ...this.bound, ...fields });
  }
}

/**
 * A logger that writes through `inner` and also keeps what is logged at `level` or above in
 * `recent` — at info at least, even when `inner` shows only warnings (`ebbtide demo`), so
 * `ebbtide logs` can tell what happened.
 *
 * @example
 * ```ts
 * const recent = new RecentLog();
 * const logger = withRecentLog(createStderrLogger('warn', 'pretty'), recent, 'info', () => new Date().toISOString());
 * ```
 */
export function withRecentLog(inner: Logger, recent: RecentLog, level: LogLevel = 'info', clock?: () => string): Logger {
  return new TeeLogger(inner, recent, level, clock, {});
}
