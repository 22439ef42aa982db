/**
 * A host's clock offset against the analysing host, with an honest bound.
 *
 * `offsetNs` = host clock − reference clock (ns): subtract it from a timestamp taken on the host to put
 * it on the reference clock. `uncertaintyNs` bounds the error: the true offset lies in
 * [offsetNs − uncertaintyNs, offsetNs + uncertaintyNs].
 */
export interface ClockOffset {
  offsetNs: number;
  uncertaintyNs: number;
  /** how it was obtained: "exchange over ssh root@h:22 (python3)", "minimum one-way delay (40 + 40 probes)" */
  method: string;
  /** reference-clock time (ns since epoch) the estimate holds at */
  atNs: number;
  /** present when tracked over time: host clock rate error in parts per million */
  driftPpm?: number;
}

/** The identity: the reference host itself, or a point on the same kernel clock (namespaces). */
export const SAME_CLOCK: ClockOffset = { offsetNs: 0, uncertaintyNs: 0, method: 'same clock', atNs: 0 };

/** Both bounds hold, so the true offset lies in their intersection (the tighter estimate). */
export function intersectOffsets(a: ClockOffset, b: ClockOffset): ClockOffset {
  const lo = Math.max(a.offsetNs - a.uncertaintyNs, b.offsetNs - b.uncertaintyNs);
  const hi = Math.min(a.offsetNs + a.uncertaintyNs, b.offsetNs + b.uncertaintyNs);
  if (lo > hi) {
    // Disjoint: one bound was wrong (asymmetric paths, a clock step). Keep the union, never a false precision.
    const ulo = Math.min(a.offsetNs - a.uncertaintyNs, b.offsetNs - b.uncertaintyNs);
    const uhi = Math.max(a.offsetNs + a.uncertaintyNs, b.offsetNs + b.uncertaintyNs);
    return {
      offsetNs: (ulo + uhi) / 2,
      uncertaintyNs: (uhi - ulo) / 2,
      method: `${a.method} ∪ ${b.method} (disagree)`,
      atNs: Math.max(a.atNs, b.atNs),
    };
  }
  return {
    offsetNs: (lo + hi) / 2,
    uncertaintyNs: (hi - lo) / 2,
    method: `${a.method} ∩ ${b.method}`,
    atNs: Math.max(a.atNs, b.atNs),
  };
}

/** "+2.500 000 s ± 0.4 ms" */
export function formatOffset(o: ClockOffset): string {
  const sign = o.offsetNs < 0 ? '−' : '+';
  return `${sign}${formatDuration(Math.abs(o.offsetNs))} ± ${formatDuration(o.uncertaintyNs)}`;
}

export function formatDuration(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(6)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${Math.round(ns)} ns`;
}
