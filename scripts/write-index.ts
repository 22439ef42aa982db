/**
 * Writes reports/index.html: the headline run first, then every suite run (listed by the vitest fixtures
 * in reports/suites/runs.json). Used by scripts/main.sh.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type IndexEntry, writeIndex } from '../src/report/index-page.ts';
import type { RunResults } from '../src/report/results.ts';

const root = process.argv[2] ?? 'reports';
const entries: IndexEntry[] = [];
const headline = join(root, 'run', 'results.json');
if (existsSync(headline)) {
  const r = JSON.parse(readFileSync(headline, 'utf8')) as RunResults;
  entries.push({
    title: `reference chain: ${r.sent} probes at ${r.run.requested?.pps ?? '?'} pps (${r.run.injector})`,
    href: 'run/index.html',
    verdict: r.verdict,
    deliveryRatio: r.deliveryRatio,
  });
}
const suites = join(root, 'suites', 'runs.json');
if (existsSync(suites)) entries.push(...(JSON.parse(readFileSync(suites, 'utf8')) as IndexEntry[]));
console.log(
  `wrote ${writeIndex(root, entries, 'chainprobe — reference chain reports')} (${entries.length} runs)`,
);
