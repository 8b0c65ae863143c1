import { dashboardBenches } from './dashboard.js';
import { daskPollBenches } from './daskPoll.js';
import { decisionBenches, storeBenches } from './decisions.js';
import { embeddedBenches } from './embedded.js';
import { kubernetesBenches } from './kubernetes.js';
import { policyBenches } from './policy.js';
import { type Figure, printFigure } from './report.js';
import { simulateBenches } from './simulate.js';

/**
 * `npm run bench [-- --json] [-- group ...]`: benchmarks, not tests. Each prints a figure and,
 * where there is one, a ratio against a baseline measured in the same run.
 */
const args = process.argv.slice(2);
const json = args.includes('--json');
const groups = args.filter((a) => !a.startsWith('--'));
const all: Record<string, (log: (f: Figure) => void) => Promise<void>> = {
  decisions: decisionBenches,
  dashboard: dashboardBenches,
  store: storeBenches,
  policy: policyBenches,
  embedded: embeddedBenches,
  kubernetes: kubernetesBenches,
  daskPoll: daskPollBenches,
  simulate: simulateBenches,
};
const log = (f: Figure) => printFigure(f, json);
if (!json) process.stdout.write(`ebbtide benchmarks on ${(await import('node:os')).availableParallelism()} cores, Node ${process.version}\n`);
for (const [name, run] of Object.entries(all)) {
  if (groups.length && !groups.includes(name)) continue;
  await run(log);
}
