/** Source IP: 10.10.10.5 survives decap, NAT (destination only), ESP and fragmentation — on every probe. */
import { describe } from 'vitest';
import { expect, chainTest as test } from '../src/vitest/index.ts';

describe('source IP preservation', () => {
  test('the source stays 10.10.10.5 at every capture point, and NAT rewrites only the destination', async ({
    probe,
  }) => {
    const run = await probe({ count: 500, pps: 1000, sizes: [100, 8000] });
    expect(run).toPreserveSourceIp();
    expect(run.sourceIp.checked).toBe(run.sent);
    expect(run.nat.violations).toBe(0);
    expect(run).toDeliverAtLeast(0.9);
  });
});
