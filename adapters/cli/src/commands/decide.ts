import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { EbbtideError, type Kernel, type SnapshotFile, decideTick, describeError, isEbbtideError, validateSnapshot } from '@ebbtide/core';
import type { CliIo } from '../io.js';

/** Reads one snapshot (`.json`) or many (`.jsonl`, one per line; blank lines skipped). */
export function readSnapshots(path: string): Array<{ line?: number; snapshot: SnapshotFile }> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new EbbtideError('INPUT_INVALID', `cannot read snapshot file ${path}: ${code === 'ENOENT' ? 'no such file' : describeError(e)}`);
  }
  const parse = (raw: string, where: string, line?: number) => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new EbbtideError('INPUT_INVALID', `${where}: invalid JSON: ${describeError(e)}`, { data: line ? { line } : {} });
    }
    try {
      return validateSnapshot(value);
    } catch (e) {
      if (isEbbtideError(e)) {
        throw new EbbtideError('INPUT_INVALID', `${where}: ${e.message}`, { data: { ...(line ? { line } : {}), ...e.data } });
      }
      throw e;
    }
  };
  if (extname(path).toLowerCase() === '.jsonl') {
    const out: Array<{ line: number; snapshot: SnapshotFile }> = [];
    text.split('\n').forEach((raw, i) => {
      if (raw.trim() === '') return;
      out.push({ line: i + 1, snapshot: parse(raw, `${path}:${i + 1}`, i + 1) });
    });
    return out;
  }
  return [{ snapshot: parse(text, path) }];
}

/**
 * `ebbtide decide --snapshot FILE`: one decision JSON per snapshot, with exactly the fields of
 * DESIGN §8 (target, safeTarget, workersToClose, recommendation, closeCounts, explanation).
 */
export function decideCommand(kernel: Kernel, snapshotPath: string, io: CliIo): number {
  const snapshots = readSnapshots(snapshotPath);
  const heuristic = kernel.resolve('heuristic');
  const strategy = kernel.resolve('workersToClose');
  const workerKey = kernel.resolve('workerKey');
  const { adaptive } = kernel.config;
  const lines: string[] = [];
  for (const { snapshot } of snapshots) {
    const { plan, requested, closeCounts, ...state } = snapshot;
    const r = decideTick({
      snapshot: state,
      heuristic,
      strategy,
      workerKey,
      minimum: adaptive.minimum,
      maximum: adaptive.maximum,
      waitCount: adaptive.waitCount,
      ...(plan ? { plan } : {}),
      ...(requested ? { requested } : {}),
      closeCounts: closeCounts ?? {},
    });
    const out = {
      target: r.target,
      safeTarget: r.safeTarget,
      workersToClose: r.workersToClose,
      recommendation: r.recommendation,
      closeCounts: r.closeCounts,
      explanation: r.explanation,
    };
    lines.push(JSON.stringify(out, (_k, v) => (v === Infinity ? 'inf' : v)));
  }
  io.stdout(lines.join('\n') + (lines.length ? '\n' : ''));
  return 0;
}
