import { EbbtideError, type HistoryEntry, type Kernel } from '@ebbtide/core';
import type { CliIo } from '../io.js';
import { controlClient } from './status.js';

/**
 * `ebbtide explain [N] [--url URL] [--json]`: the last decision, or the one of tick N, in words —
 * why this target, why these workers, what was done — from the running ebbtide's history.
 */
export async function explainCommand(kernel: Kernel, io: CliIo, opts: { tick?: string; url?: string; json: boolean }): Promise<number> {
  const which = opts.tick ?? 'last';
  if (which !== 'last' && !/^\d+$/.test(which)) throw new EbbtideError('USAGE', `explain: expected a tick number (see \`ebbtide status\`), got ${JSON.stringify(which)}`);
  const client = controlClient(kernel, opts.url);
  const r = await client.get<{ entry: HistoryEntry; explanation: string[] }>(`/api/decisions/${which}`);
  if (opts.json) io.stdout(JSON.stringify(r, null, 2) + '\n');
  else io.stdout(r.explanation.join('\n') + '\n');
  return 0;
}
