/**
 * The results document of one run (`results.json`), versioned. Written by `run` and `analyze` in both
 * verdict cases; read by the HTML report, JUnit writer, trend tooling and the vitest matchers.
 * Times are integers in ns (JSON numbers; 2^53 ns ≈ 104 days, plenty for durations/latencies);
 * absolute timestamps are ISO strings. Secrets (SA keys, PSKs) never appear here.
 */
export const RESULTS_SCHEMA_VERSION = 1;

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

export interface RunResults {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  tool: { name: 'chainprobe'; version: string };
  run: {
    id: number;
    startedAt: string;
    durationNs: number;
    profile: string;
    mode: 'live' | 'offline';
    injector?: string;
    requested?: { count?: number; durationS?: number; pps?: number; payloadBytes?: number };
    achieved?: { pps: number | null; mbps: number | null; source: string };
    clock: string;
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
  esp: ViolationSummary & { spis: number[]; undecryptable: number; sequenceRegressions: number };
  nat: ViolationSummary;
  reordered: number;
  duplicates: number;
  latency: {
    clock: string;
    e2e: LatencySummary;
    /** keyed "from→to" by capture point names, in chain order */
    perHop: { from: string; to: string; latency: LatencySummary }[];
  };
  /** delivery over time: one bucket per interval of the injection capture */
  timeline: { startNs: number; sent: number; delivered: number }[];
  captureDrops: CaptureDrop[];
  checks: { name: string; pass: boolean; detail: string }[];
  verdict: 'pass' | 'fail';
  /**
   * When the verdict fails with loss: the hop that most probes vanished in (the hop of the last capture
   * point they were seen at), and that segment between two capture points.
   */
  faultyHop: string | null;
  faultySegment: { from: string; to: string; lost: number } | null;
  artifacts?: { pcapng?: string; html?: string; junit?: string };
}
