/**
 * reports/index.html: when several runs or suites write reports into one directory, one page that
 * links them with their verdicts, failures first so the page answers "what broke" at a glance.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { safeHref } from './escape.ts';
import { formatPercent } from './format.ts';
import { REPORT_CSS } from './html-style.ts';
import { html, raw } from './markup.ts';

export interface IndexEntry {
  title: string;
  /** relative link to the run's report, e.g. "reference-4711/index.html" */
  href: string;
  verdict: 'pass' | 'fail' | string;
  deliveryRatio: number | null;
  /**
   * The verdict the run was meant to have (default 'pass'). Fault-injection suites expect 'fail': such a
   * run is shown as failing *as expected*, and only runs that differ from their expectation count as failed.
   */
  expectedVerdict?: 'pass' | 'fail';
}

const unexpected = (e: IndexEntry) => e.verdict !== (e.expectedVerdict ?? 'pass');

export function renderIndex(entries: IndexEntry[], title = 'chainprobe reports'): string {
  const failed = entries.filter(unexpected).length;
  const expectedFails = entries.filter((e) => e.verdict === 'fail' && e.expectedVerdict === 'fail').length;
  const badge = (v: string) => (v === 'pass' ? 'pass' : v === 'fail' ? 'fail' : 'unknown');
  // Stable sort: failures first, otherwise the order the caller gave (usually run order).
  const ordered = entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => Number(unexpected(b.e)) - Number(unexpected(a.e)) || a.i - b.i);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${title}</title>
<style>${raw(REPORT_CSS)}</style>
</head>
<body><main>
<h1>${title}</h1>
<p data-testid="index-summary">${entries.length} report${entries.length === 1 ? '' : 's'}: ${
    failed
      ? html`<span class="bad">${failed} not as expected</span>`
      : html`<span class="ok">all as expected</span>`
  }${failed && failed < entries.length ? `, ${entries.length - failed} as expected` : ''}${
    expectedFails
      ? ` (${expectedFails} fault-injection run${expectedFails === 1 ? '' : 's'} failed, as they must)`
      : ''
  }.</p>
<table id="index-table"><thead><tr><th>verdict</th><th>report</th><th class="num">delivered</th></tr></thead>
<tbody>${ordered.map(
    ({ e }) =>
      html`<tr data-testid="index-row" data-verdict="${e.verdict}" data-unexpected="${String(unexpected(e))}"><td><span class="badge ${badge(e.verdict)}">${e.verdict.toUpperCase()}</span></td><td><a href="${safeHref(e.href)}">${e.title}</a>${e.expectedVerdict === 'fail' && e.verdict === 'fail' ? html` <small>(fault injected: expected to fail)</small>` : ''}</td><td class="num">${formatPercent(e.deliveryRatio)}</td></tr>`,
  )}</tbody></table>
</main></body></html>
`.html;
}

/** Writes `dir/index.html` linking the given reports; returns the path. */
export function writeIndex(dir: string, entries: IndexEntry[], title?: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'index.html');
  writeFileSync(path, renderIndex(entries, title));
  return path;
}
