/** The terminal summary of a run: verdict, funnel, failing checks, where the artifacts are. */

import { checkMark, formatBytes, formatUs, unitOf } from '../report/format.ts';
import { funnel } from '../report/funnel.ts';
import type { RunResults } from '../report/results.ts';
import type { ArtifactPaths } from '../report/write.ts';

export function printSummary(r: RunResults, paths: ArtifactPaths): void {
  const units = unitOf(r).many;
  const lines = [
    '',
    `verdict: ${r.verdict.toUpperCase()}${r.faultyHop ? ` — ${units} lost mostly between ${r.faultySegment?.from} and ${r.faultySegment?.to} (hop "${r.faultyHop}")` : ''}`,
    funnel(r),
    ...r.checks.map((c) => `  ${checkMark(c)} ${c.name}: ${c.detail}`),
  ];
  const e = r.latency.e2e;
  if (e.samples)
    lines.push(
      `  latency e2e: p50 ${us(e.p50Ns)}, p99 ${us(e.p99Ns)}, max ${us(e.maxNs)} (${e.samples} samples)`,
    );
  const res = r.resources;
  if (res?.segmentSeconds)
    lines.push(
      `  captures: ${formatBytes(res.captureBytes)} written, at most ${formatBytes(res.peakCaptureDiskBytes)} on disk (${res.segmentSeconds} s segments, ${res.segmentsAnalysedDuringRun ?? 0} analysed during the run); analysis after the run ${(res.analysisAfterRunMs / 1000).toFixed(1)} s; peak memory ${formatBytes(res.maxRssBytes)}`,
    );
  for (const [k, v] of Object.entries(paths)) if (v) lines.push(`  ${k}: ${v}`);
  console.log(lines.join('\n'));
}

const us = (ns: number | null) => formatUs(ns) ?? 'n/a';
