/**
 * Latency samples (ns) go into an HdrHistogram (3 significant digits, up to 60 s), so a 10-million-probe
 * run costs a fixed few hundred KiB, not one number per probe. Percentiles that the sample count cannot
 * support (p99.9 with 50 samples) are reported as null with a note — never invented.
 */
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from '../report/results.ts';

const HIGHEST_NS = 60e9;
const PER_DECADE = 4;
const BUCKETS = Math.ceil(Math.log10(HIGHEST_NS) * PER_DECADE) + 1;

/** Samples needed before a percentile is reported: at least 1/(1-p) samples, i.e. one beyond it. */
function samplesFor(percentile: number): number {
  // 1e-9 absorbs float error: 100 / (100 - 99.9) is 1000.0000000000009, and 1000 samples must suffice.
  return Math.ceil(100 / (100 - percentile) - 1e-9);
}

export class LatencyRecorder {
  private readonly h: hdr.Histogram;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;
  private negative = 0;
  /** Chart buckets kept beside the histogram: 4 per decade, bucket i holds values in (10^(i/4-1/4), 10^(i/4)]. */
  private readonly logBuckets = new Float64Array(BUCKETS);

  /**
   * `significantDigits` 3 (default, 0.1 %: run totals, ~220 KiB) or 2 (1 %, ~16 KiB: one per timeline bucket,
   * so a 300 s soak's per-second latency costs a few MiB).
   */
  constructor(readonly significantDigits: 2 | 3 = 3) {
    this.h = hdr.build({
      bitBucketSize: significantDigits === 3 ? 64 : 32,
      lowestDiscernibleValue: 1,
      highestTrackableValue: HIGHEST_NS,
      numberOfSignificantValueDigits: significantDigits,
    });
  }

  /** Adds another recorder's samples (timeline buckets merged into wider ones). */
  merge(other: LatencyRecorder): void {
    this.h.add(other.h);
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.negative += other.negative;
    for (let i = 0; i < BUCKETS; i++) this.logBuckets[i] += other.logBuckets[i];
  }

  record(latencyNs: number): void {
    // Capture timestamps on one host share one clock; a negative delta means clock trouble, counted apart.
    if (latencyNs < 0) {
      this.negative++;
      return;
    }
    const v = Math.min(Math.max(1, Math.round(latencyNs)), HIGHEST_NS);
    this.h.recordValue(v);
    this.logBuckets[Math.ceil(Math.log10(v) * PER_DECADE - 1e-9)]++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  get count(): number {
    return this.h.totalCount;
  }

  summary(): LatencySummary {
    const n = this.h.totalCount;
    // HDR reports a bucket's upper edge: clamp into the exact observed range.
    const pct = (p: number) =>
      n >= samplesFor(p) ? Math.min(this.max, Math.max(this.min, this.h.getValueAtPercentile(p))) : null;
    const notes: string[] = [];
    if (n === 0) notes.push('no samples');
    else if (n < samplesFor(99.9))
      notes.push(`${n} samples: too few for ${n < samplesFor(99) ? 'p99 and p99.9' : 'p99.9'}`);
    if (this.negative) notes.push(`${this.negative} negative deltas ignored (clock)`);
    return {
      samples: n,
      p50Ns: pct(50),
      p90Ns: pct(90),
      p99Ns: pct(99),
      p999Ns: pct(99.9),
      minNs: n ? this.min : null,
      maxNs: n ? this.max : null,
      meanNs: n ? Math.round(this.h.mean) : null,
      histogram: n ? this.buckets() : [],
      ...(notes.length ? { note: notes.join('; ') } : {}),
    };
  }

  /** Log-spaced buckets (4 per decade) from the smallest to the largest sample, for charts. */
  private buckets(): { leNs: number; count: number }[] {
    const first = Math.ceil(Math.log10(this.min) * PER_DECADE - 1e-9);
    const last = Math.ceil(Math.log10(this.max) * PER_DECADE - 1e-9);
    const out: { leNs: number; count: number }[] = [];
    for (let i = first; i <= last; i++)
      out.push({ leNs: Math.round(10 ** (i / PER_DECADE)), count: this.logBuckets[i] });
    return out;
  }
}
