/** The terminal summary of a run: verdict, funnel, failing checks, where the artifacts are. */

import { checkMark } from '../report/format.ts';
import { funnel } from '../report/funnel.ts';
import type { RunResults } from '../report/results.ts';
import type { ArtifactPaths } from '../report/write.ts';

export function printSummary(r: RunResults, paths: ArtifactPaths): void {
  const lines = [
    '',
    `verdict: ${r.verdict.toUpperCase()}${r.faultyHop ? ` — probes lost mostly between ${r.faultySegment?.from} and ${r.faultySegment?.to} (hop "${r.faultyHop}")` : ''}`,
    funnel(r),
    ...r.checks.map((c) => `  ${checkMark(c)} ${c.name}: ${c.detail}`),
  ];
  const e = r.latency.e2e;
  if (e.samples)
    lines.push(
      `  latency e2e: p50 ${us(e.p50Ns)}, p99 ${us(e.p99Ns)}, max ${us(e.maxNs)} (${e.samples} samples)`,
    );
  for (const [k, v] of Object.entries(paths)) if (v) lines.push(`  ${k}: ${v}`);
  console.log(lines.join('\n'));
}

const us = (ns: number | null) => (ns === null ? 'n/a' : `${(ns / 1000).toFixed(1)} µs`);
