/**
 * The results document of one run (`results.json`), versioned. Written by `run` and `analyze` in both
 * verdict cases; read by the HTML report, JUnit writer, trend tooling and the vitest matchers.
 * Times are integers in ns (JSON numbers; 2^53 ns ≈ 104 days, plenty for durations/latencies);
 * absolute timestamps are ISO strings. Secrets (SA keys, PSKs) never appear here.
 */
import type { CollectorReading } from '../collector/collector.ts';

export const RESULTS_SCHEMA_VERSION = 2;
/*
 * Schema history:
 *   1  first version.
 *   2  checks carry `status` ('pass' | 'fail' | 'not-evaluated'; `pass` is true only for 'pass') and, when
 *      a check is about one place, the `hop` and capture points it names; `findings` (observations that are
 *      not violations, e.g. IP ID reuse); `bySize` (delivery and latency per payload size);
 *      `latency.perHop[].hop` (the hop a capture-point pair measures); `run.requested.payloadBytes` is
 *      every size requested (was the first only); `run.commandLine`, `run.faults`, `run.identity`,
 *      `run.interrupted`; `tool.commit`; optional per-hop `counters`; `artifacts.captures` (what was kept).
 */

export interface LatencySummary {
  samples: number;
  /** null when there are too few samples for that percentile (see `note`). */
  p50Ns: number | null;
  p90Ns: number | null;
  p99Ns: number | null;
  p999Ns: number | null;
  minNs: number | null;
  maxNs: number | null;
  meanNs: number | null;
  /** log-spaced histogram buckets for charts: upper bound (ns) → count */
  histogram: { leNs: number; count: number }[];
  note?: string;
  /** set when the two points are on different clocks: values are rounded to it, smaller ones withheld */
  clockUncertaintyNs?: number;
}

export interface HopResult {
  /** capture point name, in chain order (e.g. ingress, decap, nat, wire, delivered) */
  name: string;
  hop: string;
  stage: string;
  /** unique probes seen at this capture point */
  seen: number;
  /** probes whose last sighting was the previous point: lost between previous point and this one */
  lostHere: number;
  packets: number;
  /** packets at this point that were not this run's probes (ignored) */
  foreign: number;
}

export interface ViolationExample {
  probe: { flowId: number; seq: number };
  capture: string;
  reason: string;
  /** one line per layer, tcpdump-like, decoded layer by layer (never key material) */
  layers: string[];
  timestampNs?: number;
}

export interface ViolationSummary {
  checked: number;
  violations: number;
  examples: ViolationExample[];
}

export interface CaptureDrop {
  capture: string;
  receivedByFilter: number | null;
  droppedByKernel: number | null;
  droppedByInterface: number | null;
  /** true when the capture dropped anything: its missing probes are NOT chain loss */
  flagged: boolean;
}

export type CheckStatus = 'pass' | 'fail' | 'not-evaluated';

export interface Check {
  name: string;
  /** 'not-evaluated': there was nothing to judge (detail says why); it neither passes nor fails the run */
  status: CheckStatus;
  /** status === 'pass' (kept for readers of schema 1) */
  pass: boolean;
  detail: string;
  /** the hop a failing check blames, when it is about one place */
  hop?: string;
  /** the capture points it is about, e.g. the pair a latency bound was exceeded between */
  between?: { from: string; to: string };
}

/** Something the analysis noticed that is neither a pass nor a violation, e.g. a sender reusing IP IDs. */
export interface Finding {
  kind: 'ip-id-reuse';
  capture: string;
  hop: string;
  /** how many times it happened */
  count: number;
  detail: string;
}

/** A fault active on the chain during the run (e.g. set by `chainprobe chain fault`). */
export interface ActiveFault {
  hop: string;
  kind: string;
  /** human-readable parameters, e.g. "drop 30 %" */
  detail: string;
}

/** One hop's counters read before and after the run (e.g. VPP error counters), by the chain's driver. */
export interface HopCounters {
  /** where they come from, e.g. "vppctl show errors" */
  source: string;
  counters: { name: string; before: number; after: number; delta: number }[];
}

/** The counters that account for the probes lost between two capture points. */
export interface LossExplanation {
  from: string;
  to: string;
  /** the hops whose counters were read for this segment */
  hops: string[];
  lost: number;
  /** one sentence: the best-matching counter, or "no counter explains …" */
  summary: string;
  /** every drop-like counter that moved, best first */
  counters: { hop: string; counter: string; delta: number; explains: 'all' | 'part'; text: string }[];
}

/** Delivery and latency of the probes of one payload size. */
export interface SizeResult {
  payloadBytes: number;
  sent: number;
  delivered: number;
  deliveryRatio: number;
  latency: LatencySummary;
}

export interface TimelineBucket {
  startNs: number;
  sent: number;
  delivered: number;
  /** end-to-end latency of the bucket's delivered datagrams (p50/p99 to the bin width given in `note`) */
  latency?: { samples: number; p50Ns: number | null; p99Ns: number | null; maxNs: number | null };
}

export interface RunResources {
  /** bytes every capture point wrote, in total */
  captureBytes: number;
  /** the most capture bytes on disk at one time */
  peakCaptureDiskBytes: number;
  /** captures cut into segments of this many seconds, each analysed and deleted during the run; null: whole files */
  segmentSeconds: number | null;
  /** segments analysed while the run was still going */
  segmentsAnalysedDuringRun?: number;
  /** packets a capture handed over after their segment was sealed (analysed with the next one) */
  latePackets?: number;
  /** analysis time after the captures stopped (ms) */
  analysisAfterRunMs: number;
  /** peak resident memory of the chainprobe process (bytes) */
  maxRssBytes: number;
}

/** The check a flow-export run's collectors are judged by (run/collector-check.ts; the report finds it by name). */
export const COLLECTOR_CHECK = 'collector agrees with delivery';

export interface CollectorResult {
  ran: boolean;
  /** why no collector view (ran: false) */
  note?: string;
  views: CollectorReading[];
  /** exporters sent that no collector reported (source rewritten or all lost) */
  exportersMissing: string[];
}

export interface RunResults {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  /** commit: the git commit chainprobe ran from, null when not known (e.g. an installed package) */
  tool: { name: 'chainprobe'; version: string; commit?: string | null };
  run: {
    id: number;
    startedAt: string;
    durationNs: number;
    profile: string;
    mode: 'live' | 'offline';
    injector?: string;
    /** payloadBytes: every size requested, in the order probes cycle through them */
    requested?: {
      count?: number;
      durationS?: number;
      pps?: number;
      payloadBytes?: number[];
      /** flow export instead of probes: the mix and exporters per kind, or the capture replayed */
      traffic?: { mix: string; exporters?: number; replay?: { file: string; payloads: number } };
    };
    achieved?: { pps: number | null; mbps: number | null; source: string };
    clock: string;
    /** the command that started the run (argv after the node binary), when run from the CLI */
    commandLine?: string[];
    /** faults active on the chain while it ran; [] = none known */
    faults?: ActiveFault[];
    /** what makes this run's packets its own: probe run/flow ids and the IPv4 ID range it used */
    identity?: { runId: number; flowId: number; ipIdBase: number };
    /** set when the run was stopped early (Ctrl-C): the results cover what was captured until then */
    interrupted?: { reason: string; sentBeforeStop: number };
  };
  sent: number;
  delivered: number;
  deliveryRatio: number;
  /** Wilson score interval for the delivery ratio */
  deliveryInterval: { confidence: number; low: number; high: number };
  minSampleRuleMet: boolean;
  hops: HopResult[];
  sourceIp: ViolationSummary;
  fragmentation: ViolationSummary & {
    maxFragmentBytes: number | null;
    mtuBytes: number | null;
    reassembled: number;
    /** datagrams whose fragments never all arrived: loss (counted in the funnel), not a violation */
    incomplete?: number;
  };
  esp: ViolationSummary & {
    spis: number[];
    undecryptable: number;
    sequenceRegressions: number;
    sequenceReorders?: number;
  };
  nat: ViolationSummary;
  reordered: number;
  duplicates: number;
  latency: {
    clock: string;
    e2e: LatencySummary;
    /** keyed "from→to" by capture point names, in chain order; `hop` is the hop that pair measures */
    perHop: { from: string; to: string; hop: string; latency: LatencySummary }[];
  };
  /** delivery and latency per payload size, in the order requested */
  bySize: SizeResult[];
  findings: Finding[];
  /** per hop name, counters the chain's driver read around the run (absent when it reads none) */
  counters?: Record<string, HopCounters>;
  /**
   * For each segment that lost probes: which of the hops' own counters account for them (e.g. VPP node
   * ip4-input, error "ip4 MTU exceeded and DF set" +100), or that none does. Absent without counters.
   */
  lossExplanations?: LossExplanation[];
  /**
   * With `--vpp-trace N`: per VPP hop, what its packet trace says happened to the traced packets — the
   * node that dropped them (and why) or rewrote them, with the path they took.
   */
  packetTraces?: {
    hop: string;
    traced: number;
    findings: { finding: string; packets: number; path: string }[];
  }[];
  /**
   * Delivery over time: one bucket per interval of the injection capture (by first sighting), with the
   * end-to-end latency of the bucket's delivered datagrams when it had any (soaks: one bucket per second).
   */
  timeline: TimelineBucket[];
  /** width of a timeline bucket (absent in results written before it was recorded) */
  timelineBucketNs?: number;
  /**
   * What the run cost this host: the captures' bytes (all of them, and the most on disk at once when the
   * captures were cut into segments analysed and deleted during the run), how long the analysis took after
   * the last packet, and the analysing process's peak memory. Absent in results of `analyze`.
   */
  resources?: RunResources;
  captureDrops: CaptureDrop[];
  checks: Check[];
  verdict: 'pass' | 'fail';
  /**
   * When the verdict fails with loss: the hop that most probes vanished in (the hop of the last capture
   * point they were seen at), and that segment between two capture points.
   */
  faultyHop: string | null;
  faultySegment: { from: string; to: string; lost: number } | null;
  /**
   * Flow-export runs: what the collectors at the destination made of the delivered datagrams, beside the
   * chain's own delivery count (absent for probe runs; `ran: false` when the chain has no collectors).
   */
  collector?: CollectorResult;
  artifacts?: {
    pcapng?: string;
    html?: string;
    junit?: string;
    /** the captures left on disk by `keepCaptures`, and their size */
    captures?: { policy: 'always' | 'on-failure' | 'never'; files: string[]; bytes: number };
  };
}
