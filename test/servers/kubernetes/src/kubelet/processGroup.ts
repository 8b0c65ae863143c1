import { readFileSync, readdirSync } from 'node:fs';

/** Sends `signal` to a whole process group; a group already gone is fine. */
export function killGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (!pgid) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: gone already.
  }
}

const PAGE = 4096;

/**
 * Resident memory of every process in group `pgid`, in bytes, read from /proc (fields 5 =
 * pgrp and 24 = rss pages of /proc/PID/stat, after the parenthesised command name).
 */
export function groupRss(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): pgrp is field 5, rss field 24.
    if (Number(fields[2]) === pgid) total += Number(fields[21]) * PAGE;
  }
  return total;
}
