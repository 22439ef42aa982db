/** Latency: bounded end to end and per hop pair, from kernel capture timestamps (one host clock). */
import { describe } from 'vitest';
import { expect, chainTest as test } from '../src/vitest/index.ts';

describe('latency', () => {
  test('end-to-end p99 stays under 50 ms and every hop pair is measured', async ({ probe }) => {
    const run = await probe({ count: 1000, pps: 1000, sizes: [100] });
    expect(run).toHaveLatency({ p50: '10ms', p99: '50ms' });
    expect(run.latency.perHop.map((h) => `${h.from}→${h.to}`)).toEqual([
      'ingress→decap',
      'decap→nat',
      'nat→wire',
      'wire→delivered',
    ]);
    for (const h of run.latency.perHop) expect(h.latency.samples).toBeGreaterThan(0.9 * run.sent);
    // the kernel stages (VXLAN, bridge, DNAT) are fast; the userspace ESP hop dominates
    expect(run).toHaveLatency({ p50: '5ms' }, { from: 'ingress', to: 'decap' });
  });
});
