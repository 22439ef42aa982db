/**
 * Faults: the harness must be able to fail. Real impairments in the reference chain's data plane
 * (nftables drops, a tbf rate limit, an SNAT) must make the verdict fail and name the hop.
 */
import { describe } from 'vitest';
import { expect, chainTest as test } from '../src/vitest/index.ts';

describe('faults are noticed and localised', () => {
  // Each fault lasts for its test only: the probe fixture clears faults when a test ends.
  test('30 % drop in the security hop fails delivery and blames "security"', async ({ chain, probe }) => {
    await chain.fault('security', { kind: 'drop', percent: 30 });
    const run = await probe({ count: 500, pps: 1000, sizes: [100] });
    expect(() => expect(run).toDeliverAtLeast(0.9)).toThrowError(/between decap and nat \(hop "security"\)/);
    expect(run).toBlameHop('security');
    expect(run).toLoseNothingBetween('ingress', 'decap');
  });

  test('a drop in the vxlan hop is put between ingress and decap', async ({ chain, probe }) => {
    await chain.fault('vxlan', { kind: 'drop', percent: 50 });
    const run = await probe({ count: 300, pps: 1000, sizes: [100] });
    expect(run).toBlameHop('vxlan');
    expect(run.faultySegment).toMatchObject({ from: 'ingress', to: 'decap' });
  });

  test('a source rewrite (SNAT) in the security hop breaks source preservation', async ({ chain, probe }) => {
    await chain.fault('security', { kind: 'rewrite-source', ip: '10.10.10.99' });
    const run = await probe({ count: 200, pps: 1000, sizes: [100] });
    expect(() => expect(run).toPreserveSourceIp()).toThrowError(/10\.10\.10\.99/);
    expect(run.verdict).toBe('fail');
  });

  test('a rate limit on the security hop starves jumbo traffic and fails delivery', async ({
    chain,
    probe,
  }) => {
    await chain.fault('security', { kind: 'rate', rate: '2mbit' });
    const run = await probe({ count: 300, pps: 500, sizes: [8000] });
    expect(run.deliveryRatio).toBeLessThan(0.9);
    expect(run).toBlameHop('security');
  });
});
