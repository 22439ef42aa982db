/**
 * The terminal summary speaks the report's units: the capture and memory figures it prints are the ones the
 * HTML report shows for the same results (binary units), and latency reads as in the report.
 */
import { describe, expect, it, vi } from 'vitest';
import { printSummary } from '../../src/cli/summary.ts';
import { collectorReadings, flowExportRun } from '../report/fixtures.ts';

function summaryOf(r: ReturnType<typeof flowExportRun>): string {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    printSummary(r, { html: 'reports/x/index.html' });
    return log.mock.calls.map((c) => c.join(' ')).join('\n');
  } finally {
    log.mockRestore();
  }
}

describe('printSummary', () => {
  it('capture bytes, peak on disk and peak memory in the same binary units as the HTML report', () => {
    const text = summaryOf(flowExportRun(collectorReadings()));
    expect(text).toMatch(
      /captures: 9\.0 GiB written, at most 384\.0 MiB on disk \(10 s segments, 29 analysed during the run\); analysis after the run 4\.2 s; peak memory 700\.0 MiB/,
    );
    expect(text).toContain('html: reports/x/index.html');
  });

  it('a flow-export run lost datagrams, a probe run probes (the words of the report)', () => {
    const r = flowExportRun(collectorReadings());
    r.verdict = 'fail';
    r.faultyHop = 'security';
    r.faultySegment = { from: 'sec-in', to: 'dst', lost: 3 } as typeof r.faultySegment;
    expect(summaryOf(r)).toMatch(
      /verdict: FAIL — datagrams lost mostly between sec-in and dst \(hop "security"\)/,
    );
    r.run.requested = { ...r.run.requested, traffic: undefined };
    expect(summaryOf(r)).toMatch(/verdict: FAIL — probes lost mostly between sec-in and dst/);
  });
});
