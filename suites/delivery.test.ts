/**
 * Delivery: the operators' first bar — at least 90 % of probes cross the whole chain, and where any are
 * lost, the funnel says between which capture points.
 */
import { describe } from 'vitest';
import { expect, chainTest as test } from '../src/vitest/index.ts';

describe('delivery through VXLAN → NAT → ESP → fragmentation', () => {
  test('≥ 90 % of 1 000 NetFlow-sized probes at 1 000 pps are delivered', async ({ probe }) => {
    const run = await probe({ count: 1000, pps: 1000, sizes: [100] });
    expect(run).toDeliverAtLeast(0.9);
    expect(run.minSampleRuleMet).toBe(true);
    expect(run.captureDrops.every((d) => !d.flagged)).toBe(true);
  });

  test('every capture point sees the probes in chain order, with no loss on the kernel stages', async ({
    probe,
  }) => {
    const run = await probe({ count: 500, pps: 1000, sizes: [100, 1200] });
    expect(run.hops.map((h) => h.name)).toEqual(['ingress', 'decap', 'nat', 'wire', 'delivered']);
    expect(run).toLoseNothingBetween('ingress', 'nat');
    expect(run.duplicates).toBe(0);
  });
});
