/**
 * Number and word formatting for people reading reports and terminals: µs for latencies, percentages that
 * never round a loss away, probes or datagrams.
 */

import type { Check, RunResults } from './results.ts';

/** What the run sent, in the report's words: probes, or the datagrams of a flow-export run. */
export interface Unit {
  one: string;
  many: string;
  Many: string;
}
const PROBES: Unit = { one: 'probe', many: 'probes', Many: 'Probes' };
const DATAGRAMS: Unit = { one: 'datagram', many: 'datagrams', Many: 'Datagrams' };
export const unitOf = (r: Pick<RunResults, 'run'>): Unit => (r.run.requested?.traffic ? DATAGRAMS : PROBES);

const CHECK_MARKS: Record<Check['status'], string> = { pass: '✔', fail: '✘', 'not-evaluated': '–' };

/** A check's mark for terminals and reports: a check with nothing to judge never gets a tick. */
export function checkMark(c: Pick<Check, 'status'>): string {
  return CHECK_MARKS[c.status];
}

/** "✔ pass", "✘ fail", "– not evaluated". */
export function checkResultText(c: Pick<Check, 'status'>): string {
  return `${checkMark(c)} ${c.status.replace('-', ' ')}`;
}

/** ns → "67.5 µs"; null → null so callers decide what "missing" looks like. */
export function formatUs(ns: number | null | undefined): string | null {
  if (ns === null || ns === undefined || !Number.isFinite(ns)) return null;
  const us = ns / 1000;
  return `${us.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} µs`;
}

/**
 * Ratio → "62.0 %". Adds decimals until a ratio below 1 no longer prints as 100 % (and above 0 not as
 * 0 %): 9 999 of 10 000 delivered must not read as "100.0 %".
 */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  const p = ratio * 100;
  for (let digits = 1; digits <= 6; digits++) {
    const s = p.toFixed(digits);
    const rounded = Number(s);
    if ((rounded === 100 && ratio < 1) || (rounded === 0 && ratio > 0)) continue;
    return `${s} %`;
  }
  return `${p.toPrecision(6)} %`;
}

export function formatInt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US');
}

/** ns duration → "1.002 s" / "117.238 ms". */
export function formatDuration(ns: number | null | undefined): string {
  if (ns === null || ns === undefined || !Number.isFinite(ns)) return '—';
  if (Math.abs(ns) >= 1e9) return `${(ns / 1e9).toFixed(3)} s`;
  if (Math.abs(ns) >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  return `${(ns / 1e3).toFixed(1)} µs`;
}

/** Bytes in binary units for reading: "812 B", "333.8 MiB", "1.5 GiB". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${formatInt(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
