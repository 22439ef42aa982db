/**
 * The reference chain with pmacct's collectors (`chain up --collectors pmacct`): the family is recorded in
 * the chain's state, nfacctd and sfacctd run in the destination namespace, and a short flow-export run's
 * collector section carries their view — sFlow sequence checked too, which sfcapd cannot. Under the lab lock
 * (flock /tmp/chainprobe-lab.lock); the chain is down afterwards whatever happens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { acquireChainLock, defaultProfile, driverFor, requireVerb } from '../../src/drivers/index.ts';
import { readState } from '../../src/drivers/refchain/rundir.ts';
import { runChain } from '../../src/run/run.ts';
import { resolveRuntimeKeys } from '../../src/run/runtime-keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'pm-chainrun-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the reference chain with pmacct collectors', () => {
  test('netflow-v9:50,ipfix:30,sflow:20 × 3 exporters at 1 000 pps for 3 s: nfacctd and sfacctd agree', async () => {
    const profile = defaultProfile();
    const driver = driverFor(profile);
    const lock = await acquireChainLock(driver.lockName, 'pmacct chain test', { wait: true });
    try {
      await requireVerb(driver, 'up')({ collectors: 'pmacct' });
      const state = readState()!;
      expect(state.collectors).toBe('pmacct');
      expect(state.daemons.map((d) => d.what)).toEqual(
        expect.arrayContaining(['collector-nfacctd', 'collector-sfacctd']),
      );
      const { results, inject } = await runChain({
        profile,
        durationS: 3,
        pps: 1_000,
        payloadBytes: [100],
        traffic: { mix: 'netflow-v9:50,ipfix:30,sflow:20', exporters: 3 },
        driver,
        runtimeKeys: await resolveRuntimeKeys(profile, [], driver),
        captureDir: join(dir, 'run'),
        keepCaptures: 'never',
      });
      const c = results.collector!;
      console.log(
        `pmacct on the chain: sent ${inject.sent}, delivered ${results.delivered}; ${c.views.map((v) => `${v.collector} ${v.flows} flows / ${v.exporters.length} exporters / seq failures ${v.sequenceFailures} / socket drops ${v.socketDrops}`).join('; ')}`,
      );
      expect(c.ran).toBe(true);
      expect(c.views.map((v) => v.collector)).toEqual(['nfacctd', 'sfacctd']);
      const check = results.checks.find((k) => k.name === 'collector agrees with delivery')!;
      expect(check.status, check.detail).toBe('pass');
      expect(c.exportersMissing).toEqual([]);
      const [nfacctd, sfacctd] = c.views;
      // 3 v9 + 3 IPFIX exporters on 2055, 3 sFlow agents on 6343, each under its own address
      expect(nfacctd.exporters).toHaveLength(6);
      expect(sfacctd.exporters).toHaveLength(3);
      expect(nfacctd.flows).toBeGreaterThan(0);
      expect(sfacctd.flows).toBeGreaterThan(0);
      // both check sequence numbers (sfcapd would say "not checked"): everything delivered, no gap. (This is
      // how pmacct found the injector's look at frame 0 costing the first exporters their template datagram:
      // 19 IPFIX gaps, 190 flows undecodable per kind; the mix now returns the same frame for the same index.)
      expect(nfacctd.sequenceFailures).not.toBeNull();
      if (results.delivered === results.sent) {
        expect(nfacctd.sequenceFailures).toBe(0);
        expect(sfacctd.sequenceFailures).toBe(0);
      }
    } finally {
      try {
        await requireVerb(driver, 'down')();
      } finally {
        lock.release();
      }
    }
    expect(readState()).toBeUndefined();
  }, 180_000);
});
