import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { EbbtideError } from '@ebbtide/core';
import { type Trace, validateTrace } from './Trace.js';
import { traceFromRecording } from './traceFromRecording.js';

/**
 * Reads a trace file: a `.jsonl` recording (converted with `traceFromRecording`) or a `.json`
 * trace (validated).
 *
 * @throws EbbtideError `INPUT_INVALID` for an unreadable file, another extension, or bad content.
 */
export function readTrace(path: string): Trace {
  const ext = extname(path).toLowerCase();
  if (ext !== '.json' && ext !== '.jsonl') {
    throw new EbbtideError('INPUT_INVALID', `${path}: unknown trace file extension "${ext}"; expected .jsonl (a recording) or .json (a trace)`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new EbbtideError('INPUT_INVALID', `cannot read trace file ${path}: ${code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (ext === '.jsonl') {
    try {
      return traceFromRecording(text, undefined);
    } catch (e) {
      if (e instanceof EbbtideError) throw new EbbtideError(e.code, `${path}: ${e.message}`, { ...(e.hint ? { hint: e.hint } : {}), cause: e });
      throw e;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new EbbtideError('INPUT_INVALID', `${path}: not JSON (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  const trace = validateTrace(value, path);
  return trace.name ? trace : { ...trace, name: basename(path, ext) };
}
