/**
 * Delivery ratios are reported with a Wilson score interval, so that "≥ 90 % delivered" over 20 probes is
 * not treated like the same figure over 20 000 (FEATURES §2.6). The minimum-sample rule says how many
 * probes a ratio needs before a verdict is allowed to rest on it.
 */

/** z for common two-sided confidence levels (no inverse-normal needed for the levels we offer). */
const Z: Record<string, number> = {
  '0.8': 1.2816,
  '0.9': 1.6449,
  '0.95': 1.96,
  '0.99': 2.5758,
  '0.999': 3.2905,
};

export function wilsonInterval(
  successes: number,
  trials: number,
  confidence = 0.95,
): { low: number; high: number } {
  if (trials <= 0) return { low: 0, high: 1 };
  const z = Z[String(confidence)];
  if (z === undefined)
    throw new RangeError(`confidence must be one of ${Object.keys(Z).join(', ')}; got ${confidence}`);
  const p = successes / trials;
  const z2 = z * z;
  const denom = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Smallest n for which a perfect run (n/n delivered) has a Wilson lower bound at or above `threshold`:
 * below it, even 100 % delivery cannot statistically show ≥ threshold. For 0.9 at 95 %: n = 35.
 */
export function minimumSamples(threshold: number, confidence = 0.95): number {
  for (let n = 1; n < 1_000_000; n++) if (wilsonInterval(n, n, confidence).low >= threshold) return n;
  return Number.POSITIVE_INFINITY;
}
