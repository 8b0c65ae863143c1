import { EbbtideError, type Kernel } from '@ebbtide/core';
import type { CliIo } from '../io.js';
import { controlClient } from './status.js';

/**
 * `ebbtide logs [--worker NAME] [--lines N] [--url URL]`: ebbtide's own recent log, or a
 * worker's output tail where the backend keeps one (the local backend does), through the
 * control API.
 */
export async function logsCommand(kernel: Kernel, io: CliIo, opts: { worker?: string; lines?: string; url?: string }): Promise<number> {
  const q = new URLSearchParams();
  if (opts.worker !== undefined) q.set('worker', opts.worker);
  if (opts.lines !== undefined) {
    if (!/^[1-9]\d*$/.test(opts.lines)) throw new EbbtideError('USAGE', `--lines: expected a whole number >= 1, got ${JSON.stringify(opts.lines)}`);
    q.set('lines', opts.lines);
  }
  const client = controlClient(kernel, opts.url);
  const r = await client.get<{ lines: string[] }>(`/api/logs${q.size ? `?${q}` : ''}`);
  if (r.lines.length) io.stdout(r.lines.join('\n') + '\n');
  return 0;
}
