/** `HH:MM:SS` (UTC) of clock seconds, for the decision record's words ("until 12:03:10"). */
export function formatClock(seconds: number): string {
  const d = new Date(Math.round(seconds * 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** Seconds in the shortest unit that reads well: `300s`, `90s`, `1.5h` only when whole. */
export function formatSeconds(s: number): string {
  return `${Number(s.toFixed(3))}s`;
}
