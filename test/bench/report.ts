/** One benchmark figure: printed as text, or as one JSON object per line with `--json`. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  note?: string;
}

export function figure(name: string, value: number, unit: string, baseline?: { value: number; note?: string }, note?: string): Figure {
  const f: Figure = { name, value: round(value), unit };
  if (baseline) {
    f.baseline = round(baseline.value);
    if (baseline.value > 0) f.ratio = round(value / baseline.value);
  }
  if (note ?? baseline?.note) f.note = (note ?? baseline?.note)!;
  return f;
}

function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  const digits = Math.abs(x) >= 100 ? 1 : Math.abs(x) >= 1 ? 3 : 6;
  return Number(x.toFixed(digits));
}

export function printFigure(f: Figure, json: boolean): void {
  if (json) {
    // The machine format is exactly { name, value, unit, baseline?, ratio? }; notes are for people.
    const { note: _note, ...figureOnly } = f;
    process.stdout.write(JSON.stringify(figureOnly) + '\n');
    return;
  }
  const base = f.baseline !== undefined ? `  (baseline ${f.baseline} ${f.unit}${f.ratio !== undefined ? `, ratio ${f.ratio}` : ''})` : '';
  process.stdout.write(`${f.name.padEnd(58)} ${String(f.value).padStart(12)} ${f.unit}${base}${f.note ? `  — ${f.note}` : ''}\n`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
