/**
 * The demo's task functions, run by the workers as `<this module's URL>#<export>`. Each result is
 * a pure function of its arguments, so the demo can check every result it fetches.
 */

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** "Load" a partition: a few KB of rows. */
export async function load(i: number, ms: number): Promise<{ i: number; rows: number[] }> {
  await sleep(ms);
  return expectedLoad(i);
}

/** "Transform" a value. */
export async function transform(i: number, ms: number): Promise<number> {
  await sleep(ms);
  return expectedTransform(i);
}

/** "Summarise": a little CPU, then waiting. */
export async function summarize(i: number, ms: number): Promise<string> {
  const until = Date.now() + ms / 4;
  let x = 0;
  while (Date.now() < until) x += Math.sqrt(x + i);
  await sleep((3 * ms) / 4);
  return expectedSummarize(i);
}

export function expectedLoad(i: number): { i: number; rows: number[] } {
  return { i, rows: Array.from({ length: 256 }, (_, k) => i * 1000 + k) };
}
export function expectedTransform(i: number): number {
  return 3 * i + 1;
}
export function expectedSummarize(i: number): string {
  return `summary-${i}`;
}
