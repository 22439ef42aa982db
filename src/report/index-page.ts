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
}

export function renderIndex(entries: IndexEntry[], title = 'chainprobe reports'): string {
  const failed = entries.filter((e) => e.verdict === 'fail').length;
  const badge = (v: string) => (v === 'pass' ? 'pass' : v === 'fail' ? 'fail' : 'unknown');
  // Stable sort: failures first, otherwise the order the caller gave (usually run order).
  const ordered = entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => Number(b.e.verdict === 'fail') - Number(a.e.verdict === 'fail') || a.i - b.i);
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
    failed ? html`<span class="bad">${failed} failed</span>` : html`<span class="ok">all passed</span>`
  }${failed && failed < entries.length ? `, ${entries.length - failed} passed` : ''}.</p>
<table id="index-table"><thead><tr><th>verdict</th><th>report</th><th class="num">delivered</th></tr></thead>
<tbody>${ordered.map(
    ({ e }) =>
      html`<tr data-testid="index-row" data-verdict="${e.verdict}"><td><span class="badge ${badge(e.verdict)}">${e.verdict.toUpperCase()}</span></td><td><a href="${safeHref(e.href)}">${e.title}</a></td><td class="num">${formatPercent(e.deliveryRatio)}</td></tr>`,
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
