import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { EBBTIDE_BIN, ROOT } from './paths.js';
import { until } from './processes.js';

/** One JSON log line of an `ebbtide` run with `--log.format json`. */
export type LogLine = Record<string, unknown> & { time?: string; level?: string; msg?: string; event?: string };

/**
 * A running `ebbtide` command (a real process), with its output kept so a test can wait for a
 * line or a log event — never for a length of time.
 */
export class EbbtideProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    // EBBTIDE_TEST_TRACE=DIR keeps each run's output in DIR/ebbtide-PID.{out,err}, to debug a test.
    const trace = process.env.EBBTIDE_TEST_TRACE;
    child.stdout!.on('data', (d) => {
      this.stdout += d;
      if (trace) appendFileSync(join(trace, `ebbtide-${child.pid}.out`), d);
    });
    child.stderr!.on('data', (d) => {
      this.stderr += d;
      if (trace) appendFileSync(join(trace, `ebbtide-${child.pid}.err`), d);
    });
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  }

  /** `ebbtide ARGS` in the repository root; JSON logs so events can be read back. */
  static start(args: string[], env: Record<string, string> = {}): EbbtideProcess {
    return new EbbtideProcess(
      spawn(process.execPath, [EBBTIDE_BIN, ...args, '--log.format', 'json'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The JSON log lines on stderr so far (other lines skipped). */
  logs(): LogLine[] {
    const out: LogLine[] = [];
    for (const line of this.stderr.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as LogLine);
      } catch {
        /* a line cut in the middle of a write */
      }
    }
    return out;
  }

  events(event: string): LogLine[] {
    return this.logs().filter((l) => l.event === event);
  }

  async waitForStdout(re: RegExp, ms = 60_000, what = String(re)): Promise<RegExpExecArray> {
    await until(() => re.test(this.stdout) || !this.running, ms, what);
    const m = re.exec(this.stdout);
    if (!m) throw new Error(`ebbtide exited before ${what}:\n${this.stdout.slice(-2000)}\n${this.stderr.slice(-3000)}`);
    return m;
  }

  async waitForEvent(event: string, ms = 60_000, where: (l: LogLine) => boolean = () => true): Promise<LogLine> {
    await until(() => this.events(event).some(where) || !this.running, ms, `log event ${event}`);
    const hit = this.events(event).find(where);
    if (!hit) throw new Error(`ebbtide exited before logging ${event}:\n${this.stderr.slice(-3000)}`);
    return hit;
  }

  /** The last status line printed (`HH:MM:SS status workers=…`), if any. */
  lastStatus(): string | undefined {
    return this.stdout
      .split('\n')
      .filter((l) => / status workers=/.test(l))
      .at(-1);
  }

  /** Waits until the latest status line matches. */
  async waitForStatus(re: RegExp, ms = 60_000): Promise<string> {
    await until(() => re.test(this.lastStatus() ?? '') || !this.running, ms, `a status line matching ${re}`);
    if (!re.test(this.lastStatus() ?? '')) throw new Error(`ebbtide exited before a status line matching ${re}:\n${this.stderr.slice(-3000)}`);
    return this.lastStatus()!;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }
}
