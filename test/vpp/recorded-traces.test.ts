/**
 * VPP's own pcap traces, recorded from the real v24.10 lab (test/fixtures/vpp, test/vpp/record-fixtures.ts):
 * they open in tshark (an independent reader) with as many packets as VPP said it wrote, and chainprobe's
 * analysis follows every probe through them — including VPP's ESP wire order, which is not its sequence
 * order (small packets of a vector leave before the fragments of a large one encrypted earlier).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { analyzeCaptures } from '../../src/analyze/analyze.ts';
import { loadProfile } from '../../src/chain/profile.ts';
import { parsePcapTraceOff } from '../../src/drivers/vpp/parse/trace.ts';

const ROOT = 'test/fixtures/vpp/v24.10';
const traces = readdirSync(ROOT).flatMap((scenario) =>
  ['vx', 'sec', 'dst'].map((i) => ({ scenario, instance: i, dir: join(ROOT, scenario, 'after', i) })),
);

describe('recorded VPP pcap traces', () => {
  it.each(traces)('$scenario/$instance opens in tshark with the packets VPP wrote', async ({ dir }) => {
    const off = parsePcapTraceOff(readFileSync(join(dir, 'pcap-trace-off.txt'), 'utf8'));
    if (off.packets === 0) return; // VPP wrote no file (nothing crossed this instance)
    const r = await execa('tshark', [
      '-r',
      join(dir, 'pcap-trace.pcap'),
      '-T',
      'fields',
      '-e',
      'frame.number',
    ]);
    expect(r.stdout.trim().split('\n')).toHaveLength(off.packets);
  });

  it('follows every probe through the destination hop’s trace and accepts VPP’s ESP reordering', async () => {
    const r = await analyzeCaptures({
      profile: loadProfile('fixtures/vpp-lab.json'),
      captures: [{ name: 'wire', source: join(ROOT, 'healthy/after/dst/pcap-trace.pcap') }],
    });
    expect(r.delivered).toBe(200);
    const esp = r.checks.find((c) => c.name === 'ESP');
    expect(esp?.status).toBe('pass');
    expect(r.esp.sequenceRegressions).toBe(0);
    // seen in the trace itself: SPI 1000 sequence numbers arrive out of order, inside the 64-packet window
    expect(r.esp.sequenceReorders).toBeGreaterThan(0);
  });
});
