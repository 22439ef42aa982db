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
import { parseShowNat44Sessions } from '../../src/drivers/vpp/parse/nat44.ts';
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

describe('flow export recorded through real VPP (scenario flowExport: 10 NetFlow v9/IPFIX exporters)', () => {
  const dir = join(ROOT, 'flowExport/after');

  it("the destination's trace: every exporter's datagram followed by its own identity, none by a probe header", async () => {
    const r = await analyzeCaptures({
      profile: loadProfile('fixtures/vpp-lab.json'),
      captures: [{ name: 'wire', source: join(dir, 'dst/pcap-trace.pcap') }],
      identify: true,
    });
    expect(r.sent).toBe(200);
    expect(r.delivered).toBe(200);
    expect(r.checks.find((c) => c.name === 'ESP')?.status).toBe('pass');
    // the run that was recorded, as chainprobe judged it live
    const live = JSON.parse(readFileSync(join(ROOT, 'flowExport/run-results.json'), 'utf8'));
    expect(live.verdict).toBe('pass');
    expect(live.run.requested.traffic).toMatchObject({ mix: 'netflow-v9:1,ipfix:1', exporters: 5 });
  });

  it("VPP's NAT44 kept every exporter's source: one static session each, only the destination rewritten", () => {
    const s = parseShowNat44Sessions(readFileSync(join(dir, 'sec/nat44-sessions.txt'), 'utf8'));
    expect(s.sessions).toHaveLength(10);
    const exporters = s.sessions.map((x) => x.o2i.match.saddr).sort();
    expect(exporters).toEqual(Array.from({ length: 10 }, (_, i) => `10.10.10.${6 + i}`).sort());
    for (const x of s.sessions) {
      expect(x.o2i.rewrite.saddr).toBeUndefined(); // the source is not rewritten
      expect(x.o2i.rewrite.daddr).toBe('172.20.102.10');
      expect(x.totalPackets).toBe(20);
    }
  });
});
