/**
 * From journeys to the results document and its verdict: the operators' acceptance sentence
 * ("≥ 90 % delivered, source IP preserved, jumbo fragmented and reassembled, latency bounded, and if
 * not, which hop") as a list of named checks.
 */
import type {
  CaptureDrop,
  Check,
  Finding,
  HopResult,
  LatencySummary,
  RunResults,
  SizeResult,
  ViolationExample,
} from '../report/results.ts';
import { RESULTS_SCHEMA_VERSION } from '../report/results.ts';
import type { JourneySummary, Violation, ViolationKind } from './journey.ts';
import type { IdReuseStats } from './peel.ts';
import { minimumSamples, wilsonInterval } from './stats.ts';

export interface CapturePointInfo {
  name: string;
  hop: string;
  stage: string;
  packets: number;
  foreign: number;
  /** IPv4 IDs the senders before this point reused (absent: none) */
  idReuse?: IdReuseStats;
  /** true when the packets here have passed a NAT stage (source/destination rewrite can be judged here) */
  afterNat?: boolean;
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
  esp: { spis: number[]; undecryptable: number; sequenceRegressions: number; sequenceReorders?: number };
  /** false when the profile has no ESP stage */
  expectEsp?: boolean;
  /** false when the profile has no NAT stage */
  expectNat?: boolean;
  /** what the run sent, in the checks' words: 'probes' (default) or 'datagrams' (flow export, replay) */
  noun?: 'probes' | 'datagrams';
  /** probes the injector sent per payload size, in the order requested (live runs) */
  injectedBySize?: { payloadBytes: number; sent: number }[];
  run: RunResults['run'];
  version: string;
  commit?: string | null;
}

/** A check's status from a boolean, or 'not-evaluated' with the reason when there was nothing to judge. */
function judged(name: string, pass: boolean, detail: string, extra: Partial<Check> = {}): Check {
  return { name, status: pass ? 'pass' : 'fail', pass, detail, ...extra };
}
function notEvaluated(name: string, reason: string): Check {
  return { name, status: 'not-evaluated', pass: false, detail: `not evaluated: ${reason}` };
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
  const units = input.noun ?? 'probes';
  const unit = units === 'probes' ? 'probe' : 'datagram';
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
  const checks: Check[] = [];
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
  /** the hop a problem first seen at capture point `name` happened in: the hop of the point before it */
  const hopBefore = (name: string) => {
    const i = names.indexOf(name);
    return i > 0 ? hops[i - 1].hop : 'injector';
  };

  const blame = faulty('fail', hops, lostAt);
  checks.push(
    sent === 0
      ? notEvaluated('delivery', `no ${unit} was sent or seen at any capture point`)
      : judged(
          'delivery',
          ratio >= input.acceptance.minDeliveryRatio,
          `${delivered}/${sent} delivered (${pct(ratio)}, ${confidence * 100} % Wilson interval ${pct(interval.low)}–${pct(interval.high)}); required ≥ ${pct(input.acceptance.minDeliveryRatio)}; ${lossNote}`,
          blame.faultySegment
            ? {
                hop: blame.faultyHop ?? undefined,
                between: { from: blame.faultySegment.from, to: blame.faultySegment.to },
              }
            : {},
        ),
  );
  checks.push(
    judged(
      'sample size',
      sent >= minN,
      `${sent} ${units}; at least ${minN} are needed to show ≥ ${pct(input.acceptance.minDeliveryRatio)} at ${confidence * 100} % confidence`,
    ),
  );

  // Source and destination can only be judged on probes that got past the NAT.
  const natPoints = points.filter((p) => p.afterNat);
  const seenAfterNat = Math.max(0, ...natPoints.map((p) => perPoint[names.indexOf(p.name)]?.seen ?? 0));
  const whyNotNat =
    input.expectNat === false
      ? 'the profile has no NAT stage'
      : natPoints.length === 0
        ? 'no capture point after the NAT'
        : `no ${unit} was seen after the NAT (at ${natPoints.map((p) => p.name).join(', ')})`;
  const src = v('sourceIp');
  const srcFirst = src.examples[0];
  checks.push(
    src.probes > 0
      ? judged(
          'source IP preserved',
          false,
          `${src.probes} of ${j.probesChecked} ${units} seen with a rewritten source (first at ${names[srcFirst.point]}: ${srcFirst.reason})`,
          { hop: hopBefore(names[srcFirst.point]) },
        )
      : seenAfterNat === 0 && input.expectNat !== false
        ? notEvaluated('source IP preserved', whyNotNat)
        : judged(
            'source IP preserved',
            true,
            `0 of ${j.probesChecked} ${units} seen with a rewritten source${natPoints.length ? ` (${seenAfterNat} seen after the NAT)` : ''}`,
          ),
  );
  const nat = v('nat');
  checks.push(
    nat.probes > 0
      ? judged(
          'NAT rewrite',
          false,
          `${nat.probes} ${units} with a destination other than the profile's NAT predicts (first at ${names[nat.examples[0].point]}: ${nat.examples[0].reason})`,
          { hop: hopBefore(names[nat.examples[0].point]) },
        )
      : seenAfterNat === 0
        ? notEvaluated('NAT rewrite', whyNotNat)
        : judged(
            'NAT rewrite',
            true,
            `0 of ${seenAfterNat} ${units} seen after the NAT with a destination other than the profile's NAT predicts`,
          ),
  );

  const frag = input.fragmentation;
  const fragViolations = v('fragmentation').probes;
  const fragDetail = frag.expectFragments
    ? `${frag.reassembled} datagrams reassembled; largest fragment ${frag.maxFragmentBytes ?? '-'} B (MTU ${frag.mtuBytes ?? '-'}); ${fragViolations} violations; ${frag.incomplete ?? 0} datagrams incomplete (lost fragments, counted as loss)`
    : `${fragViolations} violations`;
  checks.push(
    fragViolations === 0 && frag.reassembled === 0 && frag.maxFragmentBytes === null
      ? notEvaluated(
          'fragmentation',
          frag.expectFragments
            ? `no fragmented datagram was seen (no ${unit} larger than the MTU ${frag.mtuBytes ?? ''} got that far)`
            : 'the profile fragments nothing and no fragment was seen',
        )
      : judged('fragmentation', fragViolations === 0, fragDetail),
  );
  const espDetail = `SPIs seen ${input.esp.spis.map((s) => `0x${s.toString(16)}`).join(', ') || 'none'}; ${input.esp.undecryptable} undecryptable; ${input.esp.sequenceRegressions} replayed or behind the window; ${input.esp.sequenceReorders ?? 0} reordered within the anti-replay window (accepted)`;
  checks.push(
    v('esp').probes === 0 && input.esp.spis.length === 0
      ? notEvaluated(
          'ESP',
          input.expectEsp === false ? 'the profile has no ESP stage' : 'no ESP packet was seen',
        )
      : judged('ESP', v('esp').probes === 0, espDetail),
  );
  checks.push(
    j.probesChecked === 0 && v('payload').probes === 0
      ? notEvaluated('payload intact', `no ${unit} was seen at any capture point`)
      : judged(
          'payload intact',
          v('payload').probes === 0,
          units === 'probes'
            ? `${v('payload').probes} probes with a mangled probe header or padding`
            : `${v('payload').probes} datagrams with a mangled probe payload (flow-export datagrams are checked by their identity and by the collectors)`,
        ),
  );
  const perHop = j.perHop.map((h, i) => ({
    from: h.from,
    to: h.to,
    hop: points[i]?.hop ?? h.from,
    latency: h.latency.summary(),
  }));
  if (input.acceptance.maxLatencyP99Ms !== undefined)
    checks.push(latencyCheck(e2e, perHop, input.acceptance.maxLatencyP99Ms, delivered, unit));
  const flagged = drops.filter((d) => d.flagged);
  const counted = drops.filter((d) => d.receivedByFilter !== null || d.droppedByKernel !== null);
  checks.push(
    flagged.length
      ? judged(
          'captures complete',
          false,
          `kernel dropped packets at ${flagged.map((d) => `${d.capture} (${d.droppedByKernel ?? 0})`).join(', ')}: their missing ${units} are capture loss, not chain loss`,
        )
      : counted.length === 0
        ? notEvaluated(
            'captures complete',
            'no capture reported kernel drop counters (captures taken elsewhere)',
          )
        : judged(
            'captures complete',
            true,
            `no capture dropped packets (counters from ${counted.map((d) => d.capture).join(', ')})`,
          ),
  );

  const verdict = checks.some((c) => c.status === 'fail') ? 'fail' : 'pass';
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'chainprobe', version: input.version, commit: input.commit ?? null },
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
      perHop,
    },
    bySize: sizeResults(j, input.injectedBySize),
    findings: findingsOf(points),
    timeline: j.timeline,
    timelineBucketNs: j.timelineBucketNs,
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

/**
 * The p99 bound, end to end. Too few delivered probes for a p99 → not evaluated. Over the bound → the
 * capture-point pair (and the hop it measures) contributing the largest p99 is named, as loss names its hop.
 */
function latencyCheck(
  e2e: LatencySummary,
  perHop: { from: string; to: string; hop: string; latency: LatencySummary }[],
  boundMs: number,
  delivered: number,
  unit: string,
): Check {
  const name = 'latency p99';
  const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`;
  const p99 = e2e.p99Ns;
  if (p99 === null)
    return notEvaluated(
      name,
      delivered === 0
        ? `no ${unit} arrived at the last capture point`
        : `${e2e.samples} end-to-end samples are too few for a p99 (${e2e.note ?? 'need 100'})`,
    );
  if (p99 <= boundMs * MS) return judged(name, true, `e2e p99 ${us(p99)} (bound ${boundMs} ms)`);
  const worst = perHop.reduce<(typeof perHop)[number] | null>(
    (best, h) =>
      h.latency.p99Ns !== null && (best === null || h.latency.p99Ns > (best.latency.p99Ns ?? 0)) ? h : best,
    null,
  );
  const where = worst
    ? `; most of it between ${worst.from} and ${worst.to} (hop "${worst.hop}": p99 ${us(worst.latency.p99Ns!)})`
    : '';
  return judged(
    name,
    false,
    `e2e p99 ${us(p99)} exceeds the bound ${boundMs} ms${where}`,
    worst ? { hop: worst.hop, between: { from: worst.from, to: worst.to } } : {},
  );
}

/** Per payload size, in the order requested; probes the injector sent but no point saw count as lost. */
function sizeResults(
  j: JourneySummary,
  injected: { payloadBytes: number; sent: number }[] | undefined,
): SizeResult[] {
  const sizes = injected?.map((s) => s.payloadBytes) ?? [...j.bySize.keys()].sort((a, b) => a - b);
  for (const k of j.bySize.keys()) if (!sizes.includes(k)) sizes.push(k);
  return sizes.map((payloadBytes) => {
    const t = j.bySize.get(payloadBytes);
    const followed = t?.sent ?? 0;
    const sent = Math.max(followed, injected?.find((s) => s.payloadBytes === payloadBytes)?.sent ?? 0);
    const delivered = t?.delivered ?? 0;
    return {
      payloadBytes,
      sent,
      delivered,
      deliveryRatio: sent ? delivered / sent : 0,
      latency: t ? t.e2e.summary() : emptyLatency(),
    };
  });
}

function emptyLatency(): LatencySummary {
  return {
    samples: 0,
    p50Ns: null,
    p90Ns: null,
    p99Ns: null,
    p999Ns: null,
    minNs: null,
    maxNs: null,
    meanNs: null,
    histogram: [],
    note: 'no samples',
  };
}

const gapText = (ns: bigint) =>
  ns < 1_000_000n ? `${(Number(ns) / 1e3).toFixed(1)} µs` : `${(Number(ns) / 1e6).toFixed(3)} ms`;

/** IP ID reuse per capture point: what the senders before it did, reported apart from violations. */
function findingsOf(points: CapturePointInfo[]): Finding[] {
  return points.flatMap((p, i) => {
    const r = p.idReuse;
    if (!r || r.datagrams === 0) return [];
    const parts = [
      `${r.datagrams} fragmented datagrams reused an IPv4 ID within the reassembly window (RFC 6864 forbids it); shortest gap ${gapText(r.minGapNs ?? 0n)}`,
    ];
    if (r.inFlight)
      parts.push(
        `${r.inFlight} while a datagram with that key was in flight: ${r.unassembled} could not be reassembled, ${r.misassembled} mixed two datagrams (rejected by the ESP ICV or the probe checks)`,
      );
    if (r.example) parts.push(`first: ${r.example}`);
    // the IDs seen at a point were chosen by a sender before it: the hop of the previous point
    const hop = i > 0 ? points[i - 1].hop : 'injector';
    return [{ kind: 'ip-id-reuse', capture: p.name, hop, count: r.datagrams, detail: parts.join('; ') }];
  });
}
