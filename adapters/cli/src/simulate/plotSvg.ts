/** One point of a series to plot (the simulator's `SeriesPoint`). */
export interface PlotPoint {
  t: number;
  demand: number;
  target: number;
  safeTarget: number;
  workers: number;
  /** With pools: connected workers per pool (they add up to `workers`). */
  pools?: Readonly<Record<string, number>>;
}

export interface PlotPanel {
  title: string;
  series: readonly PlotPoint[];
}

const W = 960;
const PANEL_H = 240;
const M = { left: 56, right: 64, top: 30, bottom: 34 };
const COLORS = { demand: '#c7ccd4', target: '#e07b00', workers: '#1f5fbf' };
/** One fill per pool, in config order (cheap first in the examples): none is the workers' blue or the target's orange. */
const POOL_COLORS = ['#4caf7a', '#d0473f', '#8e63c7', '#2aa7b8', '#a87842', '#d470a8'];

/** The pools a series names, in the order they first appear. */
function poolNames(series: readonly PlotPoint[]): string[] {
  const names: string[] = [];
  for (const p of series) for (const n of Object.keys(p.pools ?? {})) if (!names.includes(n)) names.push(n);
  return names;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** "Nice" tick step for a range (1, 2 or 5 x a power of ten). */
function niceStep(span: number, ticks: number): number {
  if (!(span > 0)) return 1;
  const raw = span / ticks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

function formatTime(t: number, span: number): string {
  if (span >= 3 * 3600) return `${(t / 3600).toFixed(t % 3600 === 0 ? 0 : 1)}h`;
  if (span >= 180) return `${(t / 60).toFixed(t % 60 === 0 ? 0 : 1)}m`;
  return `${Math.round(t)}s`;
}

function fmt(x: number): string {
  return Number(x.toFixed(1)).toString();
}

/**
 * An SVG of one panel per simulated config: tasks waiting + running (grey area, right axis),
 * the heuristic's clamped target (orange step line) and connected workers (blue step line),
 * both on the left axis, against virtual time. With pools, the connected workers are stacked
 * per pool under the blue line, one colour each (first pool at the bottom), so spill-over to a
 * second pool shows as its colour rising above the first's. Deterministic: same input, same bytes.
 */
export function plotSvg(panels: readonly PlotPanel[]): string {
  const height = panels.length * PANEL_H + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${height}" fill="#fff"/>`,
  ];
  const tMax = Math.max(1, ...panels.flatMap((p) => p.series.map((s) => s.t)));
  panels.forEach((panel, i) => {
    const y0 = i * PANEL_H;
    const plotW = W - M.left - M.right;
    const plotH = PANEL_H - M.top - M.bottom;
    const workersMax = Math.max(1, ...panel.series.map((s) => Math.max(s.workers, s.safeTarget)));
    const demandMax = Math.max(1, ...panel.series.map((s) => s.demand));
    const x = (t: number) => M.left + (t / tMax) * plotW;
    const yW = (v: number) => y0 + M.top + plotH - (v / workersMax) * plotH;
    const yD = (v: number) => y0 + M.top + plotH - (v / demandMax) * plotH;
    parts.push(`<text x="${M.left}" y="${y0 + 18}" font-size="13" font-weight="bold">${esc(panel.title)}</text>`);
    parts.push(`<rect x="${M.left}" y="${y0 + M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
    // Grid and axes.
    const wStep = niceStep(workersMax, 4);
    for (let v = 0; v <= workersMax + 1e-9; v += wStep) {
      parts.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${fmt(yW(v))}" y2="${fmt(yW(v))}" stroke="#eee"/>`);
      parts.push(`<text x="${M.left - 6}" y="${fmt(yW(v) + 4)}" text-anchor="end">${fmt(v)}</text>`);
    }
    const dStep = niceStep(demandMax, 4);
    for (let v = 0; v <= demandMax + 1e-9; v += dStep) {
      parts.push(`<text x="${M.left + plotW + 6}" y="${fmt(yD(v) + 4)}" fill="#777">${fmt(v)}</text>`);
    }
    const unit = tMax >= 3 * 3600 ? 3600 : tMax >= 180 ? 60 : 1;
    const tStep = niceStep(tMax / unit, 8) * unit;
    for (let t = 0; t <= tMax + 1e-9; t += tStep) {
      parts.push(`<text x="${fmt(x(t))}" y="${y0 + M.top + plotH + 14}" text-anchor="middle">${formatTime(t, tMax)}</text>`);
    }
    parts.push(`<text x="14" y="${y0 + M.top + plotH / 2}" transform="rotate(-90 14 ${y0 + M.top + plotH / 2})" text-anchor="middle">workers</text>`);
    parts.push(`<text x="${W - 10}" y="${y0 + M.top + plotH / 2}" transform="rotate(90 ${W - 10} ${y0 + M.top + plotH / 2})" text-anchor="middle" fill="#777">tasks</text>`);
    const s = panel.series;
    if (s.length) {
      const base = fmt(yD(0));
      const area = [`M${fmt(x(s[0]!.t))},${base}`, ...s.map((p) => `L${fmt(x(p.t))},${fmt(yD(p.demand))}`), `L${fmt(x(s.at(-1)!.t))},${base}`, 'Z'].join(' ');
      parts.push(`<path d="${area}" fill="${COLORS.demand}" stroke="none"/>`);
      // Stacked per pool: the area up to the sum of pools 0..k, drawn from the top of the stack
      // down, so each pool's band is its own colour.
      const names = poolNames(s);
      for (let k = names.length - 1; k >= 0; k--) {
        const upTo = (p: PlotPoint) => names.slice(0, k + 1).reduce((n, name) => n + (p.pools?.[name] ?? 0), 0);
        const top = s.map((p, j) => (j === 0 ? `M${fmt(x(p.t))},${fmt(yW(0))} V${fmt(yW(upTo(p)))}` : `H${fmt(x(p.t))} V${fmt(yW(upTo(p)))}`)).join(' ');
        parts.push(`<path d="${top} H${fmt(x(s.at(-1)!.t))} V${fmt(yW(0))} Z" fill="${POOL_COLORS[k % POOL_COLORS.length]}" fill-opacity="0.55" stroke="none"/>`);
      }
      const step = (key: 'safeTarget' | 'workers') =>
        s.map((p, j) => (j === 0 ? `M${fmt(x(p.t))},${fmt(yW(p[key]))}` : `H${fmt(x(p.t))} V${fmt(yW(p[key]))}`)).join(' ');
      parts.push(`<path d="${step('safeTarget')}" fill="none" stroke="${COLORS.target}" stroke-width="1.2" stroke-dasharray="4 2"/>`);
      parts.push(`<path d="${step('workers')}" fill="none" stroke="${COLORS.workers}" stroke-width="1.6"/>`);
    }
    const lx = M.left + plotW - 300;
    const ly = y0 + 18;
    parts.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="10" fill="${COLORS.demand}"/><text x="${lx + 16}" y="${ly}">tasks waiting + running</text>`);
    parts.push(`<line x1="${lx + 150}" x2="${lx + 166}" y1="${ly - 4}" y2="${ly - 4}" stroke="${COLORS.target}" stroke-dasharray="4 2" stroke-width="1.5"/><text x="${lx + 170}" y="${ly}">target</text>`);
    parts.push(`<line x1="${lx + 214}" x2="${lx + 230}" y1="${ly - 4}" y2="${ly - 4}" stroke="${COLORS.workers}" stroke-width="2"/><text x="${lx + 234}" y="${ly}">workers</text>`);
    // The pools' legend, inside the plot's top-left corner.
    poolNames(panel.series).forEach((name, k) => {
      const px = M.left + 8 + k * 110;
      const py = y0 + M.top + 14;
      parts.push(`<rect x="${px}" y="${py - 9}" width="12" height="10" fill="${POOL_COLORS[k % POOL_COLORS.length]}" fill-opacity="0.55"/><text x="${px + 16}" y="${py}">pool ${esc(name)}</text>`);
    });
  });
  parts.push(`<text x="${W / 2}" y="${height - 8}" text-anchor="middle" fill="#555">virtual time</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
