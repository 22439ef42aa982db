/**
 * From journeys to the results document and its verdict: the operators' acceptance sentence
 * ("≥ 90 % delivered, source IP preserved, jumbo fragmented and reassembled, latency bounded, and if
 * not, which hop") as a list of named checks.
 */
import type { CaptureDrop, HopResult, RunResults, ViolationExample } from '../report/results.ts';
import { RESULTS_SCHEMA_VERSION } from '../report/results.ts';
import type { JourneySummary, Violation, ViolationKind } from './journey.ts';
import { minimumSamples, wilsonInterval } from './stats.ts';

export interface CapturePointInfo {
  name: string;
  hop: string;
  stage: string;
  packets: number;
  foreign: number;
}

export interface CaptureCounters {
  capture: string;
  receivedByFilter: number | null;
  droppedByKernel: number | null;
  droppedByInterface: number | null;
}

export interface VerdictInput {
  journey: JourneySummary;
  points: CapturePointInfo[];
  /** probes the injector sent, when known (live runs); offline, the probes seen anywhere */
  injected?: number;
  captureCounters: CaptureCounters[];
  acceptance: { minDeliveryRatio: number; maxLatencyP99Ms?: number; confidence?: number };
  fragmentation: {
    mtuBytes: number | null;
    maxFragmentBytes: number | null;
    reassembled: number;
    incomplete?: number;
    expectFragments: boolean;
  };
  esp: { spis: number[]; undecryptable: number; sequenceRegressions: number };
  run: RunResults['run'];
  version: string;
}

const MS = 1_000_000;

function examples(vs: Violation[], points: string[]): ViolationExample[] {
  return vs.map((v) => ({
    probe: v.probe ?? { flowId: -1, seq: -1 },
    capture: points[v.point] ?? String(v.point),
    reason: v.reason,
    layers: v.layers(),
    ...(v.timestampNs !== undefined ? { timestampNs: Number(v.timestampNs) } : {}),
  }));
}

export function buildResults(input: VerdictInput): RunResults {
  const { journey: j, points } = input;
  const names = j.points;
  const perPoint = j.perPoint.map((p) => ({ ...p }));
  // Probes the injector sent that no capture point ever saw vanished before the first point.
  const neverSeen = Math.max(0, (input.injected ?? j.sent) - j.sent);
  if (perPoint.length) perPoint[0].lostHere += neverSeen;
  const sent = j.sent + neverSeen;
  const delivered = j.delivered;
  const ratio = sent ? delivered / sent : 0;
  const confidence = input.acceptance.confidence ?? 0.95;
  const interval = wilsonInterval(delivered, sent, confidence);
  const minN = minimumSamples(input.acceptance.minDeliveryRatio, confidence);

  const drops: CaptureDrop[] = points.map((p) => {
    const c = input.captureCounters.find((x) => x.capture === p.name);
    const dropped = (c?.droppedByKernel ?? 0) + (c?.droppedByInterface ?? 0);
    return {
      capture: p.name,
      receivedByFilter: c?.receivedByFilter ?? null,
      droppedByKernel: c?.droppedByKernel ?? null,
      droppedByInterface: c?.droppedByInterface ?? null,
      flagged: dropped > 0,
    };
  });

  const hops: HopResult[] = points.map((p, i) => ({
    name: p.name,
    hop: p.hop,
    stage: p.stage,
    seen: perPoint[i].seen,
    lostHere: perPoint[i].lostHere,
    packets: p.packets,
    foreign: p.foreign,
  }));

  const v = (k: ViolationKind) => j.violationsByKind[k];
  const summary = (k: ViolationKind) => ({
    checked: j.probesChecked,
    violations: v(k).probes,
    examples: examples(v(k).examples, names),
  });

  const e2e = j.e2e.summary();
  const checks: RunResults['checks'] = [];
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  const lostAt = hops.reduce(
    (best, h) => (h.lostHere > (best?.lostHere ?? 0) ? h : best),
    null as HopResult | null,
  );
  const firstLoss = hops.find((h) => h.lostHere > 0) ?? null;
  const lossNote = firstLoss
    ? hops
        .filter((h) => h.lostHere > 0)
        .map((h) => {
          const i = hops.indexOf(h);
          const flagged = drops[i]?.flagged
            ? ' (this capture dropped packets in the kernel: may be capture loss)'
            : '';
          return `${h.lostHere} lost between ${i > 0 ? hops[i - 1].name : 'the injector'} and ${h.name}${flagged}`;
        })
        .join('; ')
    : 'nothing lost';

  checks.push({
    name: 'delivery',
    pass: sent > 0 && ratio >= input.acceptance.minDeliveryRatio,
    detail: `${delivered}/${sent} delivered (${pct(ratio)}, ${confidence * 100} % Wilson interval ${pct(interval.low)}–${pct(interval.high)}); required ≥ ${pct(input.acceptance.minDeliveryRatio)}; ${lossNote}`,
  });
  checks.push({
    name: 'sample size',
    pass: sent >= minN,
    detail: `${sent} probes; at least ${minN} are needed to show ≥ ${pct(input.acceptance.minDeliveryRatio)} at ${confidence * 100} % confidence`,
  });
  checks.push({
    name: 'source IP preserved',
    pass: v('sourceIp').probes === 0,
    detail: `${v('sourceIp').probes} of ${j.probesChecked} probes seen with a rewritten source${v('sourceIp').examples[0] ? ` (first at ${names[v('sourceIp').examples[0].point]}: ${v('sourceIp').examples[0].reason})` : ''}`,
  });
  checks.push({
    name: 'NAT rewrite',
    pass: v('nat').probes === 0,
    detail: `${v('nat').probes} probes with a destination other than the profile's NAT predicts`,
  });
  const fragDetail = input.fragmentation.expectFragments
    ? `${input.fragmentation.reassembled} datagrams reassembled; largest fragment ${input.fragmentation.maxFragmentBytes ?? '-'} B (MTU ${input.fragmentation.mtuBytes ?? '-'}); ${v('fragmentation').probes} violations; ${input.fragmentation.incomplete ?? 0} datagrams incomplete (lost fragments, counted as loss)`
    : `${v('fragmentation').probes} violations`;
  checks.push({ name: 'fragmentation', pass: v('fragmentation').probes === 0, detail: fragDetail });
  checks.push({
    name: 'ESP',
    pass: v('esp').probes === 0,
    detail: `SPIs seen ${input.esp.spis.map((s) => `0x${s.toString(16)}`).join(', ') || 'none'}; ${input.esp.undecryptable} undecryptable; ${input.esp.sequenceRegressions} sequence regressions`,
  });
  checks.push({
    name: 'payload intact',
    pass: v('payload').probes === 0,
    detail: `${v('payload').probes} probes with a mangled probe header or padding`,
  });
  if (input.acceptance.maxLatencyP99Ms !== undefined) {
    const p99 = e2e.p99Ns;
    checks.push({
      name: 'latency p99',
      pass: p99 !== null && p99 <= input.acceptance.maxLatencyP99Ms * MS,
      detail:
        p99 === null
          ? `no p99: ${e2e.note ?? 'too few samples'}`
          : `e2e p99 ${(p99 / 1000).toFixed(1)} µs (bound ${input.acceptance.maxLatencyP99Ms} ms)`,
    });
  }
  const flagged = drops.filter((d) => d.flagged);
  checks.push({
    name: 'captures complete',
    pass: flagged.length === 0,
    detail: flagged.length
      ? `kernel dropped packets at ${flagged.map((d) => `${d.capture} (${d.droppedByKernel ?? 0})`).join(', ')}: their missing probes are capture loss, not chain loss`
      : 'no capture dropped packets',
  });

  const verdict = checks.every((c) => c.pass) ? 'pass' : 'fail';
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'chainprobe', version: input.version },
    run: input.run,
    sent,
    delivered,
    deliveryRatio: ratio,
    deliveryInterval: { confidence, ...interval },
    minSampleRuleMet: sent >= minN,
    hops,
    sourceIp: summary('sourceIp'),
    fragmentation: {
      ...summary('fragmentation'),
      mtuBytes: input.fragmentation.mtuBytes,
      maxFragmentBytes: input.fragmentation.maxFragmentBytes,
      reassembled: input.fragmentation.reassembled,
      incomplete: input.fragmentation.incomplete ?? 0,
    },
    esp: { ...summary('esp'), ...input.esp },
    nat: summary('nat'),
    reordered: perPoint[perPoint.length - 1]?.reordered ?? 0,
    duplicates: perPoint[perPoint.length - 1]?.duplicates ?? 0,
    latency: {
      clock: input.run.clock,
      e2e,
      perHop: j.perHop.map((h) => ({ from: h.from, to: h.to, latency: h.latency.summary() })),
    },
    timeline: j.timeline,
    captureDrops: drops,
    checks,
    verdict,
    ...faulty(verdict, hops, lostAt),
  };
}

/**
 * Capture points sit where packets enter a hop (or leave its TUN), so probes lost between points A and B
 * were lost inside A's hop or on the link after it: that hop is named. Loss before the first point is
 * the injector's side.
 */
function faulty(
  verdict: string,
  hops: HopResult[],
  worst: HopResult | null,
): Pick<RunResults, 'faultyHop' | 'faultySegment'> {
  if (verdict !== 'fail' || !worst || worst.lostHere === 0) return { faultyHop: null, faultySegment: null };
  const i = hops.indexOf(worst);
  const from = i > 0 ? hops[i - 1] : null;
  return {
    faultyHop: from ? from.hop : 'injector',
    faultySegment: { from: from?.name ?? 'injector', to: worst.name, lost: worst.lostHere },
  };
}
