/**
 * The reference chain through its ChainDriver, live (root; run under the lab lock): up/status/fault/down,
 * counters before/after a run, `fault --down` measured as loss at the hop, and the lock protecting a run
 * from `chain up` in another process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chainLockHolder, defaultProfile, driverFor } from '../../src/drivers/index.ts';
import { isAlive } from '../../src/drivers/refchain/daemon.ts';
import type { ChainStatus } from '../../src/drivers/refchain/index.ts';
import { runChain } from '../../src/run/run.ts';
import { resolveRuntimeKeys } from '../../src/run/runtime-keys.ts';

const isRoot = process.getuid?.() === 0;
const profile = defaultProfile();
const driver = driverFor(profile);
const dir = mkdtempSync(join(tmpdir(), 'cpt-driver-live-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function probeRun(name: string, count: number, pps = 1000) {
  return runChain({
    profile,
    driver,
    count,
    pps,
    payloadBytes: [100],
    runtimeKeys: await resolveRuntimeKeys(profile, [], driver),
    captureDir: join(dir, name),
  });
}

describe.skipIf(!isRoot && !process.env.CI)('the reference chain through its driver', () => {
  beforeAll(async () => {
    await driver.up?.();
  }, 90_000);

  afterAll(async () => {
    await driver.down?.();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  test('status: every hop reachable, healthy, no faults, nobody holds the chain', async () => {
    const s = await driver.status!();
    expect(s).toMatchObject({ driver: 'refchain', up: true, healthy: true, problems: [] });
    expect(s.lockedBy).toBeUndefined();
    expect(s.hops.map((h) => [h.name, h.place, h.reachable, h.faults])).toEqual([
      ['injector', 'netns rc-gen', true, []],
      ['vxlan', 'netns rc-vx', true, []],
      ['security', 'netns rc-sec', true, []],
      ['destination', 'netns rc-dst', true, []],
    ]);
    expect(s.notes.some((n) => /SA security: .*INSTALLED ESP-in-UDP/.test(n))).toBe(true);
  });

  test('counters before/after a run show the probes at every hop', async () => {
    const out = await probeRun('counters', 200);
    expect(out.results.delivered).toBe(200);
    const d = out.counters?.hops ?? {};
    expect(d.injector['if/gen0/tx_packets']).toBeGreaterThanOrEqual(200);
    expect(d.vxlan['if/vx0/rx_packets']).toBeGreaterThanOrEqual(200);
    expect(d.security['nft/ip/refchain/forward/post-NAT-packets/packets']).toBe(200); // one per probe
    expect(d.security['sa/net/packets_out']).toBe(200); // 100 B probes: one ESP packet each
    expect(d.destination['sa/net/packets_in']).toBe(200);
    expect(d.destination['sink/datagrams']).toBe(200);
    expect(out.counters?.unavailable).toEqual([]);
    const snap = await driver.counters!();
    console.log(
      `counter snapshot of 4 namespaces: ${snap.tookMs} ms, ${Object.values(snap.hops).reduce((n, h) => n + Object.keys(h).length, 0)} counters`,
    );
  });

  test('fault --down on the destination: the run starts, the wire point is captured on the peer, the loss shows there', async () => {
    await driver.setFault!('destination', { kind: 'down' });
    try {
      expect(await driver.activeFaults()).toEqual([{ hop: 'destination', fault: { kind: 'down' } }]);
      const out = await probeRun('down', 200);
      const wire = out.captureStats.find((c) => c.name === 'wire');
      expect(wire?.place).toBe('sec1 at netns rc-sec');
      expect(wire?.relocated).toContain('dst0 in rc-dst is down');
      const seen = Object.fromEntries(out.results.hops.map((h) => [h.name, h.seen]));
      expect(seen).toEqual({ ingress: 200, decap: 200, nat: 200, wire: 0, delivered: 0 });
      expect(out.results.hops.find((h) => h.name === 'wire')?.lostHere).toBe(200);
      expect(out.results.verdict).toBe('fail');
      // the kernel says why: the ESP frames died on the security hop's egress, whose peer is down
      expect(out.counters?.hops.security['if/sec1/tx_dropped']).toBeGreaterThanOrEqual(200);
      expect(out.counters?.hops.destination?.['sink/datagrams']).toBeUndefined(); // nothing arrived
    } finally {
      await driver.clearFaults!();
    }
    expect(await driver.activeFaults()).toEqual([]);
    expect((await probeRun('after-down', 100)).results.delivered).toBe(100);
  }, 90_000);

  test('chain up from another process during a run is refused, naming the run; the run is not disturbed', async () => {
    const count = 12_000;
    const running = probeRun('locked', count);
    while (chainLockHolder('refchain')?.purpose !== 'run') await sleep(50);
    const up = await execa('node', ['bin/chainprobe.js', 'chain', 'up'], { reject: false, timeout: 60_000 });
    const out = await running;
    expect(up.exitCode).toBe(1);
    expect(up.stderr).toContain(`E_CHAIN_BUSY: the refchain chain is in use by pid ${process.pid}`);
    expect(up.stderr).toContain('for run, since');
    expect(out.results.delivered).toBe(count);
    expect(chainLockHolder('refchain')).toBeUndefined();
  }, 120_000);

  test('down through the driver returns when every daemon has exited', async () => {
    const daemons = ((await driver.status!()).detail as ChainStatus).daemons;
    expect(daemons).toHaveLength(5); // 2 charon, the sink, nfcapd, sfcapd
    const r = await driver.down!();
    expect(r.removed).toEqual(
      expect.arrayContaining(['namespace rc-sec', ...daemons.map((d) => `pid ${d.pid}`)]),
    );
    for (const d of daemons) expect(isAlive(d.pid), d.what).toBe(false);
    expect((await driver.status!()).up).toBe(false);
  }, 30_000);
});
