/**
 * Journeys: where each probe was seen, in chain order, and what that says about the chain.
 *
 * Input is a time-ordered stream of probe sightings (one per probe per capture point, produced by the
 * peeler after VXLAN decap, ESP decrypt and reassembly) plus per-packet violations. Memory is bounded:
 * a probe's state is kept only while it can still be seen (a window after its first sighting), then it
 * is folded into counters, histograms and the timeline. A 10-million-probe run therefore costs the
 * probes in flight, not the run.
 *
 * "lostHere" follows the operators' question — at which hop did it vanish? A probe last seen at point L
 * (and never after) is lost at point L+1. A probe missing at a point but seen further down the chain
 * was not lost there: that capture missed it ("capture gap"), which is never chain loss.
 */
import type { Dissection } from '../codec/stack.ts';
import type { TimelineBucket } from '../report/results.ts';
import {
  type DatagramKey,
  type Identifier,
  identifiers,
  identifyDatagram,
  StreamTable,
} from './identify/identify.ts';
import { LatencyRecorder } from './latency.ts';

/** A timeline bucket while the run is analysed: its end-to-end latencies in a 1 % recorder. */
interface TimelineCounts {
  sent: number;
  delivered: number;
  latency: LatencyRecorder | null;
}

export type ViolationKind = 'sourceIp' | 'nat' | 'fragmentation' | 'esp' | 'payload';
export const VIOLATION_KINDS: readonly ViolationKind[] = [
  'sourceIp',
  'nat',
  'fragmentation',
  'esp',
  'payload',
];

/**
 * The key of one datagram: for probes (flow id, probe seq); for anything else the (stream, seq) an
 * identifier gives (analyze/identify: flow-export identity, payload fingerprint). Streams of other
 * identifiers are ≥ 2^32, so they never collide with probe flow ids.
 */
export interface ProbeKey {
  flowId: number;
  seq: number;
}

export interface Sighting extends ProbeKey {
  point: number;
  timestampNs: bigint;
  /** the probe's UDP payload size (from its header), for delivery and latency per size */
  payloadBytes?: number;
}

export interface Violation {
  kind: ViolationKind;
  point: number;
  /** absent for packet-level problems that cannot be tied to a probe (e.g. an undecryptable ESP packet) */
  probe?: ProbeKey;
  reason: string;
  /** decoded layer by layer, produced lazily: only the first examples are ever rendered */
  layers: () => string[];
  timestampNs?: bigint;
}

/** How long after its first sighting a probe may still turn up anywhere (a journey's window). */
export const JOURNEY_WINDOW_NS = 5_000_000_000n;

export interface JourneyOptions {
  points: string[];
  /** how long after its first sighting a probe may still turn up anywhere (default 5 s) */
  windowNs?: bigint;
  /** timeline bucket width (default 100 ms); merged to ≤ `maxTimelineBuckets` buckets at the end */
  timelineBucketNs?: bigint;
  /** default 120 (a chart's worth); a soak keeps one bucket per second */
  maxTimelineBuckets?: number;
  examplesPerKind?: number;
  /** identifiers `seeDatagram` tries, in order (default: every registered one) */
  identifiers?: readonly string[];
  /**
   * probes first seen after this capture time are not followed (an interrupted run: the captures stopped
   * with them in flight, so where they went is unknown, not lost)
   */
  followUntilNs?: bigint;
}

interface ProbeState {
  flowId: number;
  seq: number;
  /** ns since the run's first sighting, per point; NaN = not seen */
  seenAt: Float64Array;
  firstNs: bigint;
  violations: number; // bitmask over VIOLATION_KINDS
  payloadBytes: number;
}

/** Probes of one payload size: how many were followed, delivered, and their end-to-end latency. */
export interface SizeTotals {
  sent: number;
  delivered: number;
  e2e: LatencyRecorder;
}

export interface PointTotals {
  seen: number;
  lostHere: number;
  captureGaps: number;
  duplicates: number;
  reordered: number;
}

export interface JourneySummary {
  points: string[];
  sent: number;
  delivered: number;
  perPoint: PointTotals[];
  /** probes with at least one sighting at a point (per kind: how many probes carried a violation) */
  probesChecked: number;
  violationsByKind: Record<ViolationKind, { probes: number; packets: number; examples: Violation[] }>;
  e2e: LatencyRecorder;
  perHop: { from: string; to: string; latency: LatencyRecorder }[];
  /** by payload size (0 when sightings carried none) */
  bySize: Map<number, SizeTotals>;
  timeline: TimelineBucket[];
  /** width of the timeline's buckets after merging */
  timelineBucketNs: number;
  firstNs: bigint | null;
  lastNs: bigint | null;
}

export class JourneyTracker {
  private readonly n: number;
  /** probes in flight: flow → seq → state (small-integer keys keep the maps fast) */
  private readonly live = new Map<number, Map<number, ProbeState>>();
  private liveCount = 0;
  private readonly windowNs: bigint;
  private readonly bucketNs: bigint;
  private readonly examplesPerKind: number;
  private readonly perPoint: PointTotals[];
  private readonly maxSeq: Map<number, number>[]; // per point: flow → highest seq seen
  private readonly violations: JourneySummary['violationsByKind'];
  private readonly e2e = new LatencyRecorder();
  private readonly perHop: LatencyRecorder[];
  private readonly bySize = new Map<number, SizeTotals>();
  private readonly timeline = new Map<number, TimelineCounts>();
  private baseNs: bigint | null = null;
  private lastNs: bigint | null = null;
  private sent = 0;
  private delivered = 0;
  private checked = 0;
  /** sightings of probes not followed (see JourneyOptions.followUntilNs) */
  unfollowed = 0;
  /** FIFO of probes in first-sighting order, for window eviction without scanning the maps */
  private readonly order: ProbeState[] = [];
  private orderHead = 0;
  private readonly identifierChain: readonly Identifier[];
  /** interned streams (exporters, fingerprints) and their names */
  readonly streams = new StreamTable();
  /** sightings per identifier (probe, flow-export, fingerprint) */
  readonly identified = new Map<string, number>();
  private readonly key: DatagramKey = { stream: 0, seq: 0, identifier: '' };
  /** streams whose seq is a hash, not a sequence number: no reordering to count */
  private readonly unordered = new Set<number>();

  constructor(private readonly opts: JourneyOptions) {
    this.n = opts.points.length;
    this.followUntilNs = opts.followUntilNs;
    if (this.n < 1) throw new RangeError('a journey needs at least one capture point');
    this.windowNs = opts.windowNs ?? JOURNEY_WINDOW_NS;
    this.bucketNs = opts.timelineBucketNs ?? 100_000_000n;
    this.examplesPerKind = opts.examplesPerKind ?? 5;
    this.identifierChain = identifiers(opts.identifiers);
    this.perPoint = opts.points.map(() => ({
      seen: 0,
      lostHere: 0,
      captureGaps: 0,
      duplicates: 0,
      reordered: 0,
    }));
    this.maxSeq = opts.points.map(() => new Map());
    this.perHop = opts.points.slice(1).map(() => new LatencyRecorder());
    this.violations = Object.fromEntries(
      VIOLATION_KINDS.map((k) => [k, { probes: 0, packets: 0, examples: [] }]),
    ) as never;
  }

  private followUntilNs: bigint | undefined;

  /** Stop following probes first seen after `ns` (a run interrupted while it was being analysed). */
  followUntil(ns: bigint): void {
    this.followUntilNs = ns;
  }

  /** Journeys folded so far (their window closed) and how many of them were delivered. */
  progress(): { sent: number; delivered: number } {
    return { sent: this.sent, delivered: this.delivered };
  }

  /** Probes whose window is still open (bounded by rate × window, not by run length). */
  get inFlight(): number {
    return this.liveCount;
  }

  /** Sightings must arrive in (roughly) timestamp order across points; the window absorbs small skews. */
  see(s: Sighting): void {
    if (s.point < 0 || s.point >= this.n) throw new RangeError(`capture point index ${s.point} out of range`);
    if (this.baseNs === null) this.baseNs = s.timestampNs;
    this.advance(s.timestampNs);
    let flow = this.live.get(s.flowId);
    if (!flow) {
      flow = new Map();
      this.live.set(s.flowId, flow);
    }
    let st = flow.get(s.seq);
    if (!st && this.followUntilNs !== undefined && s.timestampNs > this.followUntilNs) {
      this.unfollowed++;
      return;
    }
    if (!st) {
      st = {
        flowId: s.flowId,
        seq: s.seq,
        seenAt: new Float64Array(this.n).fill(Number.NaN),
        firstNs: s.timestampNs,
        violations: 0,
        payloadBytes: s.payloadBytes ?? 0,
      };
      flow.set(s.seq, st);
      this.liveCount++;
      this.order.push(st);
    }
    const pt = this.perPoint[s.point];
    if (!Number.isNaN(st.seenAt[s.point])) {
      pt.duplicates++;
      return;
    }
    st.seenAt[s.point] = Number(s.timestampNs - this.baseNs);
    if (this.unordered.has(s.flowId)) return; // fingerprints have no order
    const highest = this.maxSeq[s.point].get(s.flowId);
    if (highest !== undefined && s.seq < highest) pt.reordered++;
    else this.maxSeq[s.point].set(s.flowId, s.seq);
  }

  /**
   * Identifies a dissected datagram (after reassembly) with the identifier registry and records the
   * sighting. False when no identifier claims it (not UDP, not ours to follow).
   */
  seeDatagram(d: Dissection, point: number, timestampNs: bigint): DatagramKey | null {
    if (!identifyDatagram(d, this.identifierChain, this.streams, this.key)) return null;
    this.identified.set(this.key.identifier, (this.identified.get(this.key.identifier) ?? 0) + 1);
    if (this.key.identifier === 'fingerprint') this.unordered.add(this.key.stream);
    this.see({ point, flowId: this.key.stream, seq: this.key.seq, timestampNs });
    return this.key;
  }

  violation(v: Violation): void {
    const bucket = this.violations[v.kind];
    bucket.packets++;
    if (bucket.examples.length < this.examplesPerKind) bucket.examples.push(v);
    if (!v.probe) {
      bucket.probes++; // not attributable to a probe: counts as one occurrence
      return;
    }
    const st = this.live.get(v.probe.flowId)?.get(v.probe.seq);
    const bit = 1 << VIOLATION_KINDS.indexOf(v.kind);
    if (st) {
      if (!(st.violations & bit)) {
        st.violations |= bit;
        bucket.probes++;
      }
    } else bucket.probes++;
  }

  /** Fold every probe whose window has closed at time `nowNs`. */
  private advance(nowNs: bigint): void {
    if (this.lastNs === null || nowNs > this.lastNs) this.lastNs = nowNs;
    while (this.orderHead < this.order.length) {
      const st = this.order[this.orderHead];
      if (nowNs - st.firstNs < this.windowNs) break;
      this.orderHead++;
      this.fold(st);
    }
    if (this.orderHead > 65_536 && this.orderHead * 2 > this.order.length) {
      this.order.splice(0, this.orderHead);
      this.orderHead = 0;
    }
  }

  private fold(st: ProbeState): void {
    this.live.get(st.flowId)?.delete(st.seq);
    this.liveCount--;
    this.sent++;
    this.checked++;
    const at = st.seenAt;
    let last = -1;
    for (let i = 0; i < this.n; i++) if (!Number.isNaN(at[i])) last = i;
    for (let i = 0; i < this.n; i++) {
      if (!Number.isNaN(at[i])) this.perPoint[i].seen++;
      else if (i < last) this.perPoint[i].captureGaps++;
    }
    let size = this.bySize.get(st.payloadBytes);
    if (!size) {
      size = { sent: 0, delivered: 0, e2e: new LatencyRecorder() };
      this.bySize.set(st.payloadBytes, size);
    }
    size.sent++;
    if (last < this.n - 1) this.perPoint[last + 1].lostHere++;
    else {
      this.delivered++;
      size.delivered++;
    }
    // Latency: first point it was seen at → delivered, and between consecutive points both seen.
    let first = 0;
    while (first < this.n && Number.isNaN(at[first])) first++;
    if (last === this.n - 1 && first < last) {
      this.e2e.record(at[last] - at[first]);
      size.e2e.record(at[last] - at[first]);
    }
    for (let i = 0; i + 1 < this.n; i++) {
      if (!Number.isNaN(at[i]) && !Number.isNaN(at[i + 1])) this.perHop[i].record(at[i + 1] - at[i]);
    }
    const bucket = Number((st.firstNs - this.baseNs!) / this.bucketNs);
    let t = this.timeline.get(bucket);
    if (!t) {
      t = { sent: 0, delivered: 0, latency: null };
      this.timeline.set(bucket, t);
    }
    t.sent++;
    if (last === this.n - 1) {
      t.delivered++;
      if (first < last) {
        t.latency ??= new LatencyRecorder(2);
        t.latency.record(at[last] - at[first]);
      }
    }
  }

  /** Close every window and return the totals. The tracker must not be used afterwards. */
  finish(): JourneySummary {
    for (let i = this.orderHead; i < this.order.length; i++) this.fold(this.order[i]);
    this.order.length = 0;
    this.orderHead = 0;
    return {
      points: this.opts.points,
      sent: this.sent,
      delivered: this.delivered,
      perPoint: this.perPoint,
      probesChecked: this.checked,
      violationsByKind: this.violations,
      e2e: this.e2e,
      perHop: this.perHop.map((latency, i) => ({
        from: this.opts.points[i],
        to: this.opts.points[i + 1],
        latency,
      })),
      bySize: this.bySize,
      ...this.mergedTimeline(),
      firstNs: this.baseNs,
      lastNs: this.lastNs,
    };
  }

  private mergedTimeline(): { timeline: TimelineBucket[]; timelineBucketNs: number } {
    if (this.timeline.size === 0) return { timeline: [], timelineBucketNs: Number(this.bucketNs) };
    const maxBucket = Math.max(...this.timeline.keys());
    const factor = Math.max(1, Math.ceil((maxBucket + 1) / (this.opts.maxTimelineBuckets ?? 120)));
    const merged = new Map<number, TimelineCounts>();
    // the first bucket of each group is taken over and the others added in (the tracker is done with them)
    for (const [b, v] of this.timeline) {
      const m = Math.floor(b / factor);
      const into = merged.get(m);
      if (!into) {
        merged.set(m, v);
        continue;
      }
      into.sent += v.sent;
      into.delivered += v.delivered;
      if (v.latency && into.latency) into.latency.merge(v.latency);
      else into.latency ??= v.latency;
    }
    const timeline = [...merged.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([m, v]) => {
        const bucket: TimelineBucket = {
          startNs: m * factor * Number(this.bucketNs),
          sent: v.sent,
          delivered: v.delivered,
        };
        if (v.latency) {
          const l = v.latency.summary();
          bucket.latency = { samples: l.samples, p50Ns: l.p50Ns, p99Ns: l.p99Ns, maxNs: l.maxNs };
        }
        return bucket;
      });
    return { timeline, timelineBucketNs: factor * Number(this.bucketNs) };
  }
}
