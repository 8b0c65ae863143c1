import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { EBBTIDE_BIN, ROOT } from '../support/paths.js';
import { type Figure, figure, median } from './report.js';

/** Runs of the command; the figure is their median (the machine's cores are shared). */
const RUNS = 3;

/** Wall seconds of one `ebbtide simulate --profile interactive` (the README's example), as a user runs it. */
function simulateOnce(): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [EBBTIDE_BIN, 'simulate', '--profile', 'interactive', '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`ebbtide simulate --profile interactive exited ${r.status}: ${r.stderr}`);
  return wall;
}

/** `ebbtide simulate --profile interactive`: a day of the interactive trace, adaptive and its static baselines. */
export async function simulateBenches(log: (f: Figure) => void): Promise<void> {
  const walls: number[] = [];
  for (let i = 0; i < RUNS; i++) walls.push(simulateOnce());
  const load = loadavg()[0]!.toFixed(2);
  log(figure('simulate: --profile interactive wall', median(walls), 's', undefined, `median of ${RUNS} runs of the whole command (adaptive run, then ~12 static-cluster runs); load average ${load} at the end`));
}
