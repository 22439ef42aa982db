/**
 * Minimum-delay method: packets captured in both directions between a point P (reference clock) and a
 * point Q (host clock, offset θ). Measured delays are d→ = true→ + θ and d← = true← − θ, and true delays
 * are never negative, so θ ∈ [−min d←, min d→]. The midpoint assumes the fastest packets were as fast
 * both ways; the half-width is the honest bound, and shrinks to the path's minimum one-way delay.
 */
import { ChainprobeError } from '../errors.ts';
import type { ClockOffset } from './offset.ts';

export function offsetFromMinimumDelays(
  forwardNs: readonly number[],
  reverseNs: readonly number[],
): ClockOffset {
  if (forwardNs.length === 0 || reverseNs.length === 0)
    throw new ChainprobeError(
      'E_CONFIG',
      `the minimum-delay method needs packets both ways (got ${forwardNs.length} forward, ${reverseNs.length} reverse)`,
      true,
    );
  const f = Math.min(...forwardNs);
  const r = Math.min(...reverseNs);
  return {
    offsetNs: (f - r) / 2,
    uncertaintyNs: Math.max(0, (f + r) / 2),
    method: `minimum one-way delay (${forwardNs.length} + ${reverseNs.length} packets)`,
    atNs: 0,
  };
}
