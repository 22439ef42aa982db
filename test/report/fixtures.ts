/** Sample results documents for the report tests (hand-made, shaped like src/analyze/verdict.ts output). */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseIpv4 } from '../../src/codec/address.ts';
import type { CollectorReading } from '../../src/collector/collector.ts';
import type { RunResults } from '../../src/report/results.ts';
import { collectorSection } from '../../src/run/collector-check.ts';

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

/** The collectors a flow-export run's destination reads back: nfcapd for NetFlow v9 + IPFIX, sfcapd for sFlow. */
export function collectorReadings(): CollectorReading[] {
  return [
    {
      collector: 'nfcapd',
      listen: '172.20.102.11:2055',
      flows: 1_442_118,
      packets: 2_398_410,
      bytes: 1_870_759_800,
      sequenceFailures: 3,
      badPackets: 0,
      socketDrops: 0,
      exporters: EXPORTERS.slice(0, 4).map((ip, i) => ({ ip, id: i + 1 })),
    },
    {
      collector: 'sfcapd',
      listen: '172.20.102.11:6343',
      flows: 599_650,
      packets: 599_650,
      bytes: 467_727_000,
      sequenceFailures: null,
      badPackets: 0,
      socketDrops: null,
      exporters: EXPORTERS.slice(4).map((ip, i) => ({ ip, id: i + 1 })),
    },
  ];
}

/** 2 exporters per kind × netflow-v9, ipfix, sflow. */
const EXPORTERS = ['10.10.10.6', '10.10.10.7', '10.10.10.8', '10.10.10.9', '10.10.10.10', '10.10.10.11'];

/**
 * A 300 s flow-export soak (10 kpps, 1 s buckets with end-to-end latency; second 150 delivered nothing),
 * its collector section and check made by the run's own collectorSection (null readings: no collector).
 */
export function flowExportRun(readings: CollectorReading[] | null): RunResults {
  const r = loadFixture('run-pass');
  r.run.requested = {
    durationS: 300,
    pps: 10_000,
    traffic: { mix: 'netflow-v9:50,ipfix:30,sflow:20', exporters: 2 },
  };
  r.timelineBucketNs = 1e9;
  r.timeline = Array.from({ length: 300 }, (_, i) => {
    const startNs = i * 1e9;
    if (i === 150) return { startNs, sent: 10_000, delivered: 0 };
    const delivered = 10_000 - (i % 7);
    return {
      startNs,
      sent: 10_000,
      delivered,
      latency: {
        samples: delivered,
        p50Ns: 412_000 + i * 100,
        p99Ns: 1_250_000 + i * 1000,
        maxNs: 3_100_000,
      },
    };
  });
  r.sent = r.timeline.reduce((s, b) => s + b.sent, 0);
  r.delivered = r.timeline.reduce((s, b) => s + b.delivered, 0);
  r.deliveryRatio = r.delivered / r.sent;
  r.resources = {
    captureBytes: 9_663_676_416,
    peakCaptureDiskBytes: 402_653_184,
    segmentSeconds: 10,
    segmentsAnalysedDuringRun: 29,
    analysisAfterRunMs: 4_210,
    maxRssBytes: 734_003_200,
  };
  collectorSection(
    r,
    readings,
    EXPORTERS.map((ip) => ({ srcIp: parseIpv4(ip) })),
  );
  return r;
}

/**
 * HTML parse errors from libxml2's HTML parser (xmllint --html): mismatched or stray tags, broken
 * attributes. It predates HTML5, so "Tag main invalid" (main, nav, section, canvas, …) is not an error.
 */
export function htmlErrors(htmlText: string): string[] {
  const lint = spawnSync('xmllint', ['--html', '--noout', '-'], { input: htmlText, encoding: 'utf8' });
  if (lint.error) throw new Error('xmllint not found: apt-get install libxml2-utils');
  return [...lint.stderr.matchAll(/parser error : (.*)/g)]
    .map((m) => m[1].trim())
    .filter((e) => !/^Tag \w+ invalid$/.test(e));
}
