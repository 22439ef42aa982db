/**
 * The traffic engine against the reference chain: each injector sends N probes at rate R, every capture
 * point sees them, no capture drops, and the per-hop counts reconcile with what the chain itself
 * counted — the UDP sink at the destination (an independent process) received exactly the datagrams
 * chainprobe says were delivered, with the same sizes and source.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chainDown, chainUp, defaultProfile, readSinkCounters } from '../../src/drivers/refchain/index.ts';
import { type InjectorKind, runChain } from '../../src/run/run.ts';
import { resolveRuntimeKeys } from '../../src/run/runtime-keys.ts';

const profile = defaultProfile();
const dir = mkdtempSync(join(tmpdir(), 'cp-inj-chain-'));

beforeAll(async () => {
  await chainUp({ profile });
}, 60_000);
afterAll(async () => {
  await chainDown({ profile });
  rmSync(dir, { recursive: true, force: true });
});

describe.each<InjectorKind>(['l2', 'raw', 'tcpreplay'])(
  'the %s injector against the reference chain',
  (injector) => {
    test('400 probes (100 B and 8000 B) at 1 000 pps: every point sees them, the sink agrees', async () => {
      const before = await readSinkCounters();
      const { results, inject, captureStats } = await runChain({
        profile,
        count: 400,
        pps: 1000,
        payloadBytes: [100, 8000],
        injector,
        runtimeKeys: await resolveRuntimeKeys(profile, []),
        captureDir: join(dir, injector),
      });
      expect(inject.sent).toBe(400);
      expect(inject.failed).toBe(0);
      // capture loss would be flagged, never counted as chain loss: here there must be none
      for (const c of captureStats) expect(c.stats?.droppedByKernel, c.name).toBe(0);
      expect(results.hops.map((h) => h.seen)).toEqual([400, 400, 400, 400, 400]);
      expect(results.delivered).toBe(400);
      // the achieved rate comes from kernel timestamps at the first capture point
      expect(results.run.achieved?.source).toMatch(/kernel timestamps/);
      expect(results.run.achieved?.pps).toBeGreaterThan(800);
      expect(results.run.achieved?.pps).toBeLessThan(1200);
      // reconcile with the chain's own sink (a separate process counting datagrams at 172.20.102.10:2055)
      const after = await readSinkCounters();
      expect(after.packets - before.packets).toBe(results.delivered);
      expect((after.sizes['8000'] ?? 0) - (before.sizes['8000'] ?? 0)).toBe(200);
      expect((after.sources['10.10.10.5'] ?? 0) - (before.sources['10.10.10.5'] ?? 0)).toBe(400);
    });
  },
);
