/**
 * Writes reports/index.html: every run under reports/ (CLI runs, the headline run, suite runs), found by
 * its results.json, with dates, failures first. Suite runs get their expected verdict (fault suites are
 * meant to fail) from reports/suites/runs.json, written by the vitest fixtures. Used by scripts/main.sh.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectRunEntries, type IndexEntry, writeIndex } from '../src/report/index-page.ts';

const root = process.argv[2] ?? 'reports';
const suites = join(root, 'suites', 'runs.json');
const expected = existsSync(suites) ? (JSON.parse(readFileSync(suites, 'utf8')) as IndexEntry[]) : [];
const entries = collectRunEntries(root, expected);
console.log(`wrote ${writeIndex(root, entries, 'chainprobe — reports')} (${entries.length} runs)`);
