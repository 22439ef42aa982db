/**
 * Small server-side SVG charts for the benchmark pages (NDR search, trends): drawn at render time, so the
 * pages need no script at all, print as they look and stay readable from a CI artifact offline.
 */
import { html, type Markup, raw } from './markup.ts';

export interface Point {
  x: number;
  y: number;
  /** CSS colour of the marker */
  color?: string;
  /** tooltip */
  title?: string;
  /** hollow marker (e.g. an invalid or ignored trial) */
  hollow?: boolean;
}

export interface Segment {
  x1: number;
  x2: number;
  y: number;
  color: string;
  dashed?: boolean;
  title?: string;
}

export interface ChartSpec {
  /** accessible name */
  label: string;
  xLabel: string;
  yLabel: string;
  points: Point[];
  /** a line through the points in order */
  connect?: boolean;
  /** horizontal segments (group averages, bounds) */
  segments?: Segment[];
  /** vertical markers at x (anomalies) */
  markers?: { x: number; color: string; title: string }[];
  /** tick labels on x, by x value */
  xTicks?: { x: number; label: string }[];
  width?: number;
  height?: number;
}

const PAD = { left: 64, right: 16, top: 12, bottom: 40 };

export function svgChart(c: ChartSpec): Markup {
  const W = c.width ?? 720;
  const H = c.height ?? 240;
  const ys = [...c.points.map((p) => p.y), ...(c.segments ?? []).map((s) => s.y)];
  const xs = [...c.points.map((p) => p.x), ...(c.segments ?? []).flatMap((s) => [s.x1, s.x2])];
  if (xs.length === 0) return html`<p class="muted">no data to chart</p>`;
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const yMax = Math.max(...ys) * 1.08 || 1;
  const yMin = Math.min(0, Math.min(...ys));
  const sx = (x: number) => PAD.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - ((y - yMin) / (yMax - yMin)) * (H - PAD.top - PAD.bottom);
  const f = (n: number) => n.toFixed(1);
  const yTicks = niceTicks(yMin, yMax, 5);
  const parts: string[] = [];
  for (const t of yTicks)
    parts.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${f(sy(t))}" y2="${f(sy(t))}" stroke="#d0d7de" stroke-width="0.5"/>` +
        `<text x="${PAD.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end" font-size="11">${esc(shortNumber(t))}</text>`,
    );
  for (const t of c.xTicks ?? [])
    parts.push(
      `<text x="${f(sx(t.x))}" y="${H - PAD.bottom + 14}" text-anchor="middle" font-size="10">${esc(t.label)}</text>`,
    );
  for (const m of c.markers ?? [])
    parts.push(
      `<line class="anomaly" x1="${f(sx(m.x))}" x2="${f(sx(m.x))}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="${esc(m.color)}" stroke-width="2" stroke-dasharray="4 3"><title>${esc(m.title)}</title></line>`,
    );
  for (const s of c.segments ?? [])
    parts.push(
      `<line class="segment" x1="${f(sx(s.x1))}" x2="${f(sx(s.x2))}" y1="${f(sy(s.y))}" y2="${f(sy(s.y))}" stroke="${esc(s.color)}" stroke-width="3"${s.dashed ? ' stroke-dasharray="6 4"' : ''}>${s.title ? `<title>${esc(s.title)}</title>` : ''}</line>`,
    );
  if (c.connect && c.points.length > 1)
    parts.push(
      `<polyline fill="none" stroke="#8c959f" stroke-width="1" points="${c.points.map((p) => `${f(sx(p.x))},${f(sy(p.y))}`).join(' ')}"/>`,
    );
  for (const p of c.points) {
    const color = esc(p.color ?? '#0969da');
    parts.push(
      `<circle class="point" cx="${f(sx(p.x))}" cy="${f(sy(p.y))}" r="4" fill="${p.hollow ? '#fff' : color}" stroke="${color}" stroke-width="1.5">${p.title ? `<title>${esc(p.title)}</title>` : ''}</circle>`,
    );
  }
  parts.push(
    `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#57606a"/>`,
    `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" stroke="#57606a"/>`,
    `<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 6}" text-anchor="middle" font-size="11" fill="#57606a">${esc(c.xLabel)}</text>`,
    `<text transform="translate(12 ${(PAD.top + H - PAD.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="11" fill="#57606a">${esc(c.yLabel)}</text>`,
  );
  return html`<svg class="svg-chart" role="img" aria-label="${c.label}" viewBox="0 0 ${W} ${H}" width="100%" style="max-width:${W}px">${raw(parts.join(''))}</svg>`;
}

function esc(s: string): string {
  return html`${s}`.html;
}

function niceTicks(lo: number, hi: number, n: number): number[] {
  const span = hi - lo || 1;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  return Number.isInteger(v) ? String(v) : v.toPrecision(3);
}
