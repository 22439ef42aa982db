/** Sample results documents for the report tests (hand-made, shaped like src/analyze/verdict.ts output). */
import { readFileSync } from 'node:fs';
import type { RunResults } from '../../src/report/results.ts';

export function loadFixture(name: 'run-pass' | 'run-fail'): RunResults {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as RunResults;
}

/** The cells of one funnel row, by data-col, from rendered HTML (regex: the markup is ours and regular). */
export function funnelRow(htmlText: string, point: string): Record<string, string> {
  const row = new RegExp(`<tr data-testid="funnel-row" data-point="${point}"[^>]*>([\\s\\S]*?)</tr>`).exec(
    htmlText,
  );
  if (!row) throw new Error(`no funnel row for ${point}`);
  const cells: Record<string, string> = {};
  for (const m of row[1].matchAll(/<td[^>]*data-col="([^"]+)"[^>]*>([^<]*)<\/td>/g)) cells[m[1]] = m[2];
  return cells;
}
