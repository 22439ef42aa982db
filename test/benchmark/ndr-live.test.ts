/**
 * Proof against the live reference chain (run under the lab lock): the search recovers a capacity nobody
 * told it. A tbf rate limit R on the security hop's ESP wire (sec1) allows R / (bytes one probe puts on that
 * wire) probes per second; the oracle says how many bytes that is (ESP-in-UDP, libipsec's inner
 * fragmentation, the 1400-byte link's outer fragments, 14-byte Ethernet headers — what tbf counts). NDR
 * must land within ±10 % of it, PDR at or above NDR. 8000-byte payloads keep the limited rate (~140 pps) far
 * below what this shared machine's injector and chain manage unimpaired, so the limit is the bottleneck.
 * Short trials (0.5 s / 2 s) keep the whole file around a minute or two; the nightly job runs 10 s trials.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sessionMeasure } from '../../src/benchmark/measure.ts';
import type { NdrDocument } from '../../src/benchmark/ndr.ts';
import { ChainOracle } from '../../src/chain/oracle.ts';
import type { Profile } from '../../src/chain/profile.ts';
import { run as ndr } from '../../src/cli/commands/ndr.ts';
import { rateBytesPerSecond } from '../../src/drivers/fault.ts';
import {
  chainDown,
  chainUp,
  clearFaults,
  defaultProfile,
  setFault,
} from '../../src/drivers/refchain/index.ts';
import { resolveRuntimeKeys } from '../../src/run/runtime-keys.ts';
import { ChainSession } from '../../src/run/session.ts';
import type { EspSa } from '../../src/transform/esp-sa.ts';

const profile = defaultProfile();
const dir = mkdtempSync(join(tmpdir(), 'cp-ndr-live-'));
const ETHERNET_HEADER = 14;

/** Bytes one probe of `payloadBytes` puts on the link after `stage` (Ethernet headers included). */
async function wireBytesPerProbe(p: Profile, stage: string, payloadBytes: number): Promise<number> {
  const oracle = new ChainOracle(p, await resolveRuntimeKeys(p, []));
  const frame = oracle.template({ payloadBytes, runId: 1, flowId: 1 }).patch(0, 0n);
  const at = oracle.predict(frame, new Map<string, EspSa>()).find((s) => s.stage === stage);
  if (!at) throw new Error(`no stage ${stage}`);
  const l2 = at.linktype === 1 ? 0 : ETHERNET_HEADER;
  return at.packets.reduce((sum, pkt) => sum + pkt.length + l2, 0);
}

beforeAll(async () => {
  await chainUp({ profile });
}, 60_000);
afterAll(async () => {
  await clearFaults().catch(() => {});
  await chainDown({ profile });
  rmSync(dir, { recursive: true, force: true });
});

describe('chainprobe ndr against the reference chain', () => {
  test('with a 10mbit limit on the ESP wire, NDR lands within ±10 % of what the limit allows; PDR ≥ NDR', async () => {
    const rate = '10mbit';
    await setFault('security', { kind: 'rate', rate });
    const perProbe = await wireBytesPerProbe(profile, 'wire', 8000);
    expect(perProbe).toBeGreaterThan(8000); // 11 frames of ESP fragments for one 8000-byte datagram
    const expectedPps = rateBytesPerSecond(rate) / perProbe;
    const json = join(dir, 'limited.json');
    const t0 = Date.now();
    const code = await ndr([
      '--profile',
      'fixtures/reference.json',
      '--size',
      '8000',
      '--final-trial',
      '2s',
      '--initial-trial',
      '0.5s',
      '--latency-trial',
      '1s',
      '--max-rate',
      '2000',
      '--min-rate',
      '10',
      '--json',
      json,
      '--report',
      join(dir, 'report'),
    ]);
    const tookS = (Date.now() - t0) / 1000;
    expect(code).toBe(0);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as NdrDocument;
    const [size] = doc.sizes;
    console.log(
      `rate ${rate} on the ESP wire: ${perProbe} B per probe → ${expectedPps.toFixed(1)} pps expected; NDR ${size.ndr.pps} [${size.ndr.lowerPps}, ${size.ndr.upperPps}], PDR ${size.pdr.pps} [${size.pdr.lowerPps}, ${size.pdr.upperPps}]; ${size.trials.length} trials (${size.trials.filter((t) => !t.valid).length} invalid), ${tookS.toFixed(0)} s`,
    );
    expect(size.ndr.pps).not.toBeNull();
    expect(size.ndr.pps!).toBeGreaterThanOrEqual(0.9 * expectedPps);
    expect(size.ndr.pps!).toBeLessThanOrEqual(1.1 * expectedPps);
    expect(size.pdr.pps!).toBeGreaterThanOrEqual(size.ndr.pps!);
    // every trial carries its bounds and its figures; invalid ones say why
    for (const t of size.trials) {
      expect(t.bounds.ndr).toBeDefined();
      if (!t.valid) expect(t.invalidReason).toBeTruthy();
    }
    // latency under load at 10/50/90 % of PDR, end to end and per hop pair
    expect(Object.keys(size.latency).sort()).toEqual(['10', '50', '90']);
    expect(size.latency['50'].perHop.length).toBe(profile.captures.length - 1);
    expect(size.latency['50'].e2e.samples).toBeGreaterThan(0);
  }, 300_000);

  test('a rate the injector cannot offer is an invalid trial, cut short, never chain loss', async () => {
    await clearFaults();
    const session = await ChainSession.open({
      profile,
      runtimeKeys: await resolveRuntimeKeys(profile, []),
      workDir: join(dir, 'session'),
    });
    try {
      const measure = sessionMeasure(session, [8000]);
      const t0 = Date.now();
      const t = await measure(200_000, 0.5); // 200 k × 8000 B = 13 Gbit/s: no veth injector offers that here
      const tookS = (Date.now() - t0) / 1000;
      expect(t.valid).toBe(false);
      expect(t.invalidReason).toMatch(/injector achieved|duration stretching/);
      expect(t.elapsedS).toBeLessThan(3); // the session's send cap (2 × 0.5 s + 1 s), not 200 000 probes' worth
      expect(tookS).toBeLessThan(30);
      // and a rate it can offer is valid, with the probes counted at the delivered point. Small probes: the
      // burst above left the destination kernel's fragment-reassembly memory full of incomplete 8000 B
      // datagrams (ipfrag_high_thresh), and it drops every new fragment until they expire (ipfrag_time, 30 s)
      const ok = await sessionMeasure(session, [100])(50, 1);
      expect(ok.valid, ok.invalidReason).toBe(true);
      expect(ok.sent).toBe(50);
      expect(ok.delivered).toBe(50);
    } finally {
      await session.close();
    }
  }, 120_000);
});
