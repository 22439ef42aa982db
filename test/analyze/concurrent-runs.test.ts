/**
 * Two runs on one chain at the same time. Each run's identity (run id → flow id and a block of IPv4 IDs,
 * src/inject/plan.ts runIdentity) must keep a stranger's packets foreign: counted, never matched or
 * reassembled with ours. Two synthetic reference-chain runs (the profile's own oracle, one shared SA as on
 * the real chain, the runs' probes alternating) are written apart and merged by mergecap (Wireshark's, an
 * independent tool); each analyses clean when given its run id. The control — both runs with the same flow
 * and IP IDs, as before run identities — shows the collision: the other run's fragments take our datagrams'
 * keys (where a lost fragment would glue a stranger's piece to ours); it is reported as IP ID reuse.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { analyzeCaptures } from '../../src/analyze/analyze.ts';
import { ChainOracle, type RuntimeSaKey } from '../../src/chain/oracle.ts';
import { loadProfile } from '../../src/chain/profile.ts';
import { createVxlanTemplate } from '../../src/codec/template.ts';
import { type RunIdentity, runIdentity } from '../../src/inject/plan.ts';
import { PcapWriter } from '../../src/pcap/pcap-writer.ts';
import type { EspSa } from '../../src/transform/esp-sa.ts';
import '../../src/vitest/matchers.ts';

const profile = loadProfile('fixtures/reference.json');
const POINTS = profile.captures.map((c) => c.name);
const KEYS: RuntimeSaKey[] = [
  { spi: 1000, key: Uint8Array.from({ length: 16 }, (_, i) => i * 17), salt: Uint8Array.of(1, 2, 3, 4) },
];
const PROBES = 60;
const T0 = 1_750_000_000_000_000_000n;
const SPACING = 100_000n; // ns between a run's probes
const STAGE_DELAY = 20_000n; // ns from one capture point to the next
const FRAGMENT_SPACING = 1000n; // ns between the fragments of one packet
const size = (seq: number) => (seq % 2 ? 8000 : 100);

const tmp = mkdtempSync(join(tmpdir(), 'cp-concurrent-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Writes `dir/<run>/<point>.pcap` for each run, probes alternating in time (run r's probe k `r`×15 µs
 * after run 0's, past the ≤ 11 fragments of one packet, as one hop emits a packet's fragments back to
 * back) through one SA state, so ESP sequence numbers rise on the wire as one chain would number them.
 */
async function writeRuns(dir: string, runs: RunIdentity[]): Promise<void> {
  const oracle = new ChainOracle(profile, KEYS);
  const sas = new Map<string, EspSa>();
  const writers = runs.map((run) => {
    mkdirSync(join(dir, String(run.runId)), { recursive: true });
    return new Map<string, PcapWriter>();
  });
  const templates = runs.map((run) => {
    const bySize = new Map<number, ReturnType<typeof createVxlanTemplate>>();
    return (payloadBytes: number) => {
      let t = bySize.get(payloadBytes);
      if (!t) {
        const spec = oracle.templateSpec({ payloadBytes, runId: run.runId, flowId: run.flowId });
        t = createVxlanTemplate({ ...spec, ipIdBase: run.ipIdBase });
        bySize.set(payloadBytes, t);
      }
      return t;
    };
  });
  for (let seq = 0; seq < PROBES; seq++) {
    for (const [r, run] of runs.entries()) {
      const sentNs = T0 + BigInt(seq) * SPACING + BigInt(r) * 15_000n;
      const frame = templates[r](size(seq)).patch(seq, sentNs).slice();
      const stages = oracle.predict(frame, sas);
      for (const [i, c] of profile.captures.entries()) {
        const s = stages.find((x) => x.stage === c.stage)!;
        let w = writers[r].get(c.name);
        if (!w) {
          w = PcapWriter.toFile(join(dir, String(run.runId), `${c.name}.pcap`), {
            linktype: s.linktype,
            precision: 'ns',
          });
          writers[r].set(c.name, w);
        }
        for (const [k, pkt] of s.packets.entries())
          w.write(pkt, sentNs + BigInt(i) * STAGE_DELAY + BigInt(k) * FRAGMENT_SPACING);
      }
    }
  }
  for (const ws of writers) for (const w of ws.values()) await w.close();
  // one capture per point holding both runs, merged by time by Wireshark's mergecap
  for (const p of POINTS)
    await execa('mergecap', [
      '-w',
      join(dir, `${p}.pcap`),
      ...runs.map((r) => join(dir, String(r.runId), `${p}.pcap`)),
    ]);
}

const analyse = (dir: string, runId: number) =>
  analyzeCaptures({
    profile,
    runId,
    runtimeKeys: KEYS,
    injected: PROBES,
    captures: POINTS.map((name) => ({ name, source: join(tmp, dir, `${name}.pcap`) })),
  });

const A = runIdentity(0x5eed0001);
const B = runIdentity(0x5eed0002);

beforeAll(async () => {
  await writeRuns(join(tmp, 'own'), [A, B]);
  // the control: both runs with the same flow and IP IDs, as every run had before identities
  await writeRuns(join(tmp, 'shared'), [
    { ...A, flowId: 1, ipIdBase: 0 },
    { ...B, flowId: 1, ipIdBase: 0 },
  ]);
});

describe('two runs at the same time on one chain', () => {
  test('identities differ in flow id and IPv4 ID block, and follow from the run id', () => {
    expect(A.flowId).not.toBe(B.flowId);
    expect(Math.abs(A.ipIdBase - B.ipIdBase)).toBeGreaterThan(PROBES);
    expect(runIdentity(0x5eed0001)).toEqual(A);
  });

  test.each([
    ['A', A],
    ['B', B],
  ])('merged captures, run %s: every probe of its own followed, the other run foreign', async (_, own) => {
    const r = await analyse('own', own.runId);
    expect(r).toPassVerdict();
    expect(r.run.id).toBe(own.runId);
    expect(r.sent).toBe(PROBES);
    expect(r.hops.map((h) => h.seen)).toEqual(POINTS.map(() => PROBES));
    expect(r.fragmentation.violations).toBe(0);
    expect(r.findings).toEqual([]); // no IP ID was reused: the blocks do not meet
    // the stranger's packets are counted at every point, never as ours
    for (const h of r.hops) expect(h.foreign).toBeGreaterThanOrEqual(PROBES);
    expect(r.bySize.map((s) => [s.payloadBytes, s.sent, s.delivered])).toEqual([
      [100, PROBES / 2, PROBES / 2],
      [8000, PROBES / 2, PROBES / 2],
    ]);
  });

  test('control: with the same IP IDs the runs share reassembly keys: reported as ID reuse', async () => {
    const r = await analyse('shared', A.runId);
    // libipsec fragments the inner packet before ESP: at the wire, once decrypted, the inner fragments
    // carry our IDs; each jumbo of run B took the key of run A's jumbo 15 µs before it
    expect(r.findings.map((f) => [f.kind, f.capture, f.count])).toEqual([
      ['ip-id-reuse', 'wire', PROBES / 2],
    ]);
    expect(r.findings[0].detail).toMatch(/after a datagram with that key completed/);
  });
});
