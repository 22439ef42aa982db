/**
 * reports/index.html: when several runs or suites write reports into one directory, one page that
 * links them with their verdicts and dates, failures first (then newest first) so the page answers
 * "what broke" at a glance. `collectRunEntries` finds every run under a directory (CLI runs, suite runs,
 * the headline run) by its results.json.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { safeHref } from './escape.ts';
import { formatPercent } from './format.ts';
import { html } from './markup.ts';
import type { RunResults } from './results.ts';
import { staticPage, writePage } from './static-page.ts';

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
  /** when the run started (ISO); rows with dates are listed newest first within their group */
  startedAt?: string;
}

const unexpected = (e: IndexEntry) => e.verdict !== (e.expectedVerdict ?? 'pass');

export function renderIndex(entries: IndexEntry[], title = 'chainprobe reports'): string {
  const failed = entries.filter(unexpected).length;
  const expectedFails = entries.filter((e) => e.verdict === 'fail' && e.expectedVerdict === 'fail').length;
  const badge = (v: string) => (v === 'pass' ? 'pass' : v === 'fail' ? 'fail' : 'unknown');
  // Failures first; then newest first where both have dates; otherwise the order the caller gave.
  const ordered = entries
    .map((e, i) => ({ e, i }))
    .sort(
      (a, b) =>
        Number(unexpected(b.e)) - Number(unexpected(a.e)) ||
        (a.e.startedAt && b.e.startedAt ? b.e.startedAt.localeCompare(a.e.startedAt) : 0) ||
        a.i - b.i,
    );
  return staticPage({
    title,
    body: html`<h1>${title}</h1>
<p data-testid="index-summary">${entries.length} report${entries.length === 1 ? '' : 's'}: ${
      failed
        ? html`<span class="bad">${failed} not as expected</span>`
        : html`<span class="ok">all as expected</span>`
    }${failed && failed < entries.length ? `, ${entries.length - failed} as expected` : ''}${
      expectedFails
        ? ` (${expectedFails} fault-injection run${expectedFails === 1 ? '' : 's'} failed, as they must)`
        : ''
    }.</p>
<table id="index-table"><thead><tr><th>verdict</th><th>report</th><th class="num">delivered</th><th>started</th></tr></thead>
<tbody>${ordered.map(
      ({ e }) =>
        html`<tr data-testid="index-row" data-verdict="${e.verdict}" data-unexpected="${String(unexpected(e))}"><td><span class="badge ${badge(e.verdict)}">${e.verdict.toUpperCase()}</span></td><td><a href="${safeHref(e.href)}">${e.title}</a>${e.expectedVerdict === 'fail' && e.verdict === 'fail' ? html` <small>(fault injected: expected to fail)</small>` : ''}</td><td class="num">${formatPercent(e.deliveryRatio)}</td><td class="nowrap" data-col="started">${e.startedAt ? e.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—'}</td></tr>`,
    )}</tbody></table>`,
  });
}

/** Writes `dir/index.html` linking the given reports; returns the path. */
export function writeIndex(dir: string, entries: IndexEntry[], title?: string): string {
  return writePage(dir, renderIndex(entries, title));
}

/**
 * Every run under `root`: each directory holding a results.json (pcaps/ skipped), linked to its
 * index.html when it has one. Titles say what was run (profile, probes, rate, and the command line
 * when the CLI recorded one); `expected` supplies expected verdicts by href (e.g. fault suites).
 */
export function collectRunEntries(root: string, expected: IndexEntry[] = []): IndexEntry[] {
  const entries: IndexEntry[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    if (names.includes('results.json')) {
      const entry = entryFor(root, dir, expected);
      if (entry) entries.push(entry);
    }
    if (depth >= 6) return;
    for (const n of names.sort()) {
      if (n === 'pcaps' || n === 'node_modules' || n.startsWith('.')) continue;
      const sub = join(dir, n);
      if (!n.includes('.') || existsSync(join(sub, 'results.json'))) walk(sub, depth + 1);
    }
  };
  walk(root, 0);
  return entries;
}

function entryFor(root: string, dir: string, expected: IndexEntry[]): IndexEntry | null {
  let r: RunResults;
  try {
    r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as RunResults;
  } catch {
    return null; // half-written or not ours: not a run to list
  }
  if (!r || typeof r !== 'object' || !r.run || !r.verdict) return null;
  const rel = relative(root, dir).split(sep).join('/');
  const href = existsSync(join(dir, 'index.html')) ? `${rel}/index.html` : `${rel}/results.json`;
  const known = expected.find((e) => e.href === href);
  const req = r.run.requested;
  const what = [
    r.run.profile,
    `${r.sent} probes`,
    req?.pps ? `${req.pps} pps` : null,
    req?.payloadBytes?.length ? `${req.payloadBytes.join('/')} B` : null,
    r.run.mode === 'offline' ? 'offline analysis' : (r.run.injector ?? null),
    r.run.interrupted ? 'interrupted' : null,
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    title: `${known?.title ?? (rel || '.')}: ${what}${r.run.commandLine ? ` — ${r.run.commandLine.join(' ')}` : ''}`,
    href,
    verdict: r.verdict,
    deliveryRatio: typeof r.deliveryRatio === 'number' ? r.deliveryRatio : null,
    startedAt: r.run.startedAt,
    ...(known?.expectedVerdict ? { expectedVerdict: known.expectedVerdict } : {}),
  };
}
