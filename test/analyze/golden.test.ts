/**
 * Golden captures built by scapy alone (fixtures/vectors/make-vpp-captures.py): VXLAN, NAT, scapy's own
 * AES-GCM ESP and fragmentation, and the probe layout implemented independently in Python. chainprobe's
 * analyser must follow every probe through them — it did not make a single one of these packets.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import { analyzeCaptures } from '../../src/analyze/analyze.ts';
import { loadProfile } from '../../src/chain/profile.ts';
import '../../src/vitest/matchers.ts';

const POINTS = ['ingress', 'decap', 'wire', 'delivered'];
const profile = loadProfile('fixtures/vpp-testing.json');
const tmp = mkdtempSync(join(tmpdir(), 'cp-golden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const analyse = (dir: string) =>
  analyzeCaptures({ profile, captures: POINTS.map((name) => ({ name, source: join(dir, `${name}.pcap`) })) });

describe('scapy-built golden captures of the VPP chain', () => {
  test('the committed captures (pcaps/vpp-sample) pass: 100 probes through ESP and fragments', async () => {
    const r = await analyse('pcaps/vpp-sample');
    expect(r).toPassVerdict();
    expect(r.sent).toBe(100);
    expect(r.hops.map((h) => h.seen)).toEqual([100, 100, 100, 100]);
    expect(r).toPreserveSourceIp();
    expect(r).toFragmentWithin(1400);
    expect(r.fragmentation.reassembled).toBe(10); // the ten 8000-byte probes
    expect(r.esp.spis).toEqual([1000]);
    expect(r.checks.find((c) => c.name === 'payload intact')!.pass).toBe(true);
    // scapy stamped delivered 60 µs after ingress (its float timestamps are good to a few hundred ns)
    expect(Math.abs(r.latency.e2e.p50Ns! - 60_000)).toBeLessThan(500);
  });

  test('the generator reproduces the plain-text captures byte for byte, and its fresh output passes too', async () => {
    await execa('/usr/bin/python3', ['fixtures/vectors/make-vpp-captures.py', tmp]);
    for (const name of ['ingress', 'decap', 'delivered']) {
      expect(
        readFileSync(join(tmp, `${name}.pcap`)).equals(
          readFileSync(join('pcaps/vpp-sample', `${name}.pcap`)),
        ),
        name,
      ).toBe(true);
    }
    const r = await analyse(tmp);
    expect(r.verdict).toBe('pass');
  });
});
