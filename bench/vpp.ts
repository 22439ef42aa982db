/**
 * VPP driver costs on the real three-instance lab (test/vpp/lab.ts; needs CHAINPROBE_VPP, else skipped):
 *   - a counter snapshot of the three hops (show interface / errors / ipsec sa / nat44 sessions through
 *     vppctl in each namespace), against VPP's own stats-segment reader (`vpp_get_stats dump` of the same
 *     three instances) in the same run; target < 300 ms;
 *   - `discover` of the three hops (every show command, parsing, profile validation); target < 5 s.
 */

import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { loadProfile } from '../src/chain/profile.ts';
import { VppDriver } from '../src/drivers/vpp/driver.ts';
import { discoverLab, LAB_HOPS, labDown, VPP_PREFIX, vppAvailable, vppLabUp } from '../test/vpp/lab.ts';
import type { BenchFigure } from './figure.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export default async function vpp(): Promise<BenchFigure[]> {
  if (!vppAvailable()) {
    console.log('  skipped: CHAINPROBE_VPP does not name a VPP installation');
    return [];
  }
  const lab = await vppLabUp();
  try {
    const out = `/tmp/chainprobe-bench-vpp-${process.pid}.json`;
    const discoverMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await discoverLab(lab, out);
      discoverMs.push(performance.now() - t);
    }
    const driver = new VppDriver(loadProfile(out));
    const snapshotMs: number[] = [];
    const statsMs: number[] = [];
    for (let i = 0; i < 10; i++) {
      let t = performance.now();
      await driver.counters();
      snapshotMs.push(performance.now() - t);
      t = performance.now();
      for (const n of Object.values(LAB_HOPS))
        await execa('ip', [
          'netns',
          'exec',
          `vp-${n}`,
          join(VPP_PREFIX, 'bin', 'vpp_get_stats'),
          'socket-name',
          `/run/chainprobe-vpplab/${n}/stats.sock`,
          'dump',
          '/err/',
          '/if/',
        ]);
      statsMs.push(performance.now() - t);
    }
    return [
      {
        group: 'vpp',
        name: 'counter snapshot, three VPP hops (CLI through netns)',
        unit: 'ms',
        value: median(snapshotMs),
        peer: { name: 'vpp_get_stats dump /err/ /if/ of the same three', value: median(statsMs) },
        ratio: median(snapshotMs) / median(statsMs),
        target: '< 300 ms',
        pass: median(snapshotMs) < 300,
        notes: 'ratio is time: lower is better',
      },
      {
        group: 'vpp',
        name: 'discover, three VPP hops (CLI, end to end)',
        unit: 'ms',
        value: median(discoverMs),
        target: '< 5000 ms',
        pass: median(discoverMs) < 5000,
      },
    ];
  } finally {
    await labDown();
  }
}
