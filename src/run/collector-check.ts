/**
 * A flow-export run's collector section and its check: the collectors at the destination must have taken
 * every datagram the chain delivered to them (no socket overflow), decoded it (no bad packets), and seen
 * every exporter under its own source address. Without collectors the check says "not evaluated".
 * A replayed capture (`userPayloads`) is judged on socket overflow only: whether its payloads decode (and
 * so whether a collector lists their exporter) is the user's capture's doing, reported not judged.
 */

import { ipv4ToString } from '../codec/address.ts';
import type { CollectorReading } from '../collector/collector.ts';
import { COLLECTOR_CHECK, type RunResults } from '../report/results.ts';

export function collectorSection(
  results: RunResults,
  readings: CollectorReading[] | null,
  exporters: readonly { srcIp: number }[],
  opts: { userPayloads?: boolean } = {},
): void {
  const name = COLLECTOR_CHECK;
  if (!readings || readings.length === 0) {
    const note = readings ? 'the chain ran no flow collector' : "the chain's driver has no flow collectors";
    results.collector = { ran: false, note, views: [], exportersMissing: [] };
    results.checks.push({ name, status: 'not-evaluated', pass: false, detail: `not evaluated: ${note}` });
    return;
  }
  const seen = new Set(readings.flatMap((r) => r.exporters.map((e) => e.ip)));
  const exportersMissing = opts.userPayloads
    ? []
    : [...new Set(exporters.map((e) => ipv4ToString(e.srcIp)))].filter((ip) => !seen.has(ip));
  results.collector = { ran: true, views: readings, exportersMissing };
  const problems: string[] = [];
  for (const r of readings) {
    if (r.socketDrops)
      problems.push(
        `collector socket overflow: ${r.collector} (${r.listen}) lost ${r.socketDrops} datagrams the chain delivered`,
      );
    if (r.badPackets && !opts.userPayloads)
      problems.push(`${r.collector} could not decode ${r.badPackets} datagrams`);
  }
  // every exporter that reached the destination must show under its own address
  if (results.delivered > 0 && exportersMissing.length)
    problems.push(`exporters not seen by any collector: ${exportersMissing.join(', ')}`);
  const decoded = readings.reduce((s, r) => s + r.flows, 0);
  if (results.delivered > 0 && decoded === 0 && !opts.userPayloads)
    problems.push(`the chain delivered ${results.delivered} datagrams and the collectors decoded no flow`);
  const summary = readings
    .map(
      (r) =>
        `${r.collector}: ${r.flows} flows, ${r.exporters.length} exporters, sequence failures ${r.sequenceFailures ?? 'not checked'}, socket drops ${r.socketDrops ?? 'unknown'}${r.badPackets ? `, undecodable ${r.badPackets}` : ''}`,
    )
    .join('; ');
  const pass = problems.length === 0;
  results.checks.push({
    name,
    status: pass ? 'pass' : 'fail',
    pass,
    detail: pass ? summary : `${problems.join('; ')} (${summary})`,
    ...(pass ? {} : { hop: 'destination' }),
  });
  if (!pass) results.verdict = 'fail';
}
