/**
 * chainprobe against a real FD.io VPP chain: three VPP instances configured as the users' chain
 * (test/vpp/lab.ts). Needs a VPP installation: CHAINPROBE_VPP=/opt/vpp-24.10 (VPP is not packaged for
 * Debian and the project does not build it); skipped otherwise — CI runs the recorded-output tests
 * (test/vpp/*.test.ts over test/fixtures/vpp) instead.
 *
 *   discover → run 2 000 probes (100 B and 8 000 B) → pass, every hop's counters reconciled
 *   NAT the wrong way round → fail: source rewrite named at the security hop with the NAT node
 *   uplink MTU lowered under DF-set probes → fail naming the hop and VPP's MTU error counter
 *   an interface down → loss at that hop, with its drop counter
 *   flow export (NetFlow v9 + IPFIX exporters) → followed by their own identity, sources kept
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProfile, type Profile } from '../../src/chain/profile.ts';
import { driverFor } from '../../src/drivers/registry.ts';
import { parseShowInterface } from '../../src/drivers/vpp/parse/interface.ts';
import { runChain } from '../../src/run/run.ts';
import { resolveRuntimeKeys } from '../../src/run/runtime-keys.ts';
import { discoverLab, labDown, type VppLab, vppAvailable, vppLabUp } from './lab.ts';

if (!vppAvailable())
  console.log('test/vpp/live.test.ts skipped: CHAINPROBE_VPP does not name a VPP installation');

const dir = mkdtempSync(join(tmpdir(), 'cp-vpp-live-'));

async function discover(lab: VppLab): Promise<Profile> {
  const out = join(dir, 'profile.json');
  await discoverLab(lab, out);
  const p = loadProfile(out);
  // a loaded 2-core machine running three VPPs: latency is reported, not what these tests judge
  p.acceptance.maxLatencyP99Ms = 1000;
  return p;
}

async function run(profile: Profile, name: string, packetTrace?: number) {
  const driver = driverFor(profile);
  return runChain({
    profile,
    driver,
    count: 2000,
    pps: 500,
    payloadBytes: [100, 8000],
    runtimeKeys: await resolveRuntimeKeys(profile, [], driver),
    captureDir: join(dir, name),
    keepCaptures: 'never',
    ...(packetTrace ? { packetTrace } : {}),
  });
}

const delta = (r: Awaited<ReturnType<typeof run>>, hop: string, name: string) =>
  r.results.counters?.[hop]?.counters.find((c) => c.name === name)?.delta ?? 0;

describe.skipIf(!vppAvailable())('a real VPP v24.10 chain', () => {
  let lab: VppLab;
  beforeEach(async () => {
    lab = await vppLabUp();
  }, 60_000);
  afterEach(async () => {
    await labDown();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('discover → run: 2 000 probes pass, and every hop counted them', async () => {
    const profile = await discover(lab);
    expect(profile.driver).toBe('vpp');
    const r = await run(profile, 'healthy');
    expect(r.results.verdict, r.results.checks.map((c) => `${c.name}: ${c.detail}`).join('\n')).toBe('pass');
    for (const h of r.results.hops) expect(h.seen).toBe(2000);
    // the hops' own counters agree with the probes the captures saw
    expect(delta(r, 'vxlan', 'err/vxlan4-input/good packets decapsulated')).toBe(2000);
    expect(delta(r, 'security', 'sa/1000/packets')).toBe(2000);
    expect(delta(r, 'security', 'err/ip4-frag/number of sent fragments')).toBe(1000 * 6);
    expect(delta(r, 'destination', 'err/ip4-local-full-reassembly/successful reassemblies')).toBe(1000);
    // VPP's pcap-trace points carry VPP's clock; its offset was read and applied, with a bound
    expect(r.results.latency.clock).toMatch(/backend clock\) [+−-]?[\d.]+ [µnm]?s ± [\d.]+ [µnm]?s/);
  }, 180_000);

  it('NAT the wrong way round: source rewrite named at the security hop with the NAT node', async () => {
    const profile = await discover(lab);
    await lab.fault('natReversed');
    const r = await run(profile, 'nat', 20);
    expect(r.results.verdict).toBe('fail');
    const source = r.results.checks.find((c) => c.name === 'source IP preserved');
    expect(source?.status).toBe('fail');
    expect(source?.detail).toMatch(/security: source 10\.10\.10\.5 → 172\.20\.102\.50 by nat44-ed-in2out/);
  }, 180_000);

  it('uplink MTU lowered under DF-set probes: the hop and VPP’s MTU counter are named', async () => {
    const profile = await discover(lab);
    profile.traffic.inner.dontFragment = true;
    const driver = driverFor(profile);
    // clearing the fault restores the MTU the driver read before it (not a default): start from 8500
    const uplinkMtu = async () =>
      parseShowInterface(await lab.vppctl('vx', 'show interface host-vx1')).find((i) => i.name === 'host-vx1')
        ?.mtu.l3;
    await lab.vppctl('vx', 'set interface mtu packet 8500 host-vx1');
    await driver.setFault?.('vxlan', { kind: 'mtu', mtuBytes: 1000 });
    expect(await uplinkMtu()).toBe(1000);
    try {
      const r = await run(profile, 'mtu');
      expect(r.results.verdict).toBe('fail');
      const vx = r.results.lossExplanations?.find((e) => e.hops.includes('vxlan'));
      expect(vx?.lost).toBe(1000); // the 8 000-byte half
      expect(vx?.summary).toBe(
        'at hop vxlan: VPP node ip4-input, error "ip4 MTU exceeded and DF set" +1000 (explains all 1000 lost)',
      );
      // the results' counter table carries the same rise
      expect(delta(r, 'vxlan', 'err/ip4-input/ip4 MTU exceeded and DF set')).toBe(1000);
      expect(r.results.run.faults).toEqual([{ hop: 'vxlan', kind: 'mtu', detail: 'egress MTU 1000' }]);
    } finally {
      await driver.clearFaults?.();
    }
    expect(await uplinkMtu()).toBe(8500);
  }, 180_000);

  it('flow export through VPP: NetFlow v9 and IPFIX exporters followed by their own identity, sources kept', async () => {
    const profile = await discover(lab);
    const driver = driverFor(profile);
    const { results, inject } = await runChain({
      profile,
      driver,
      count: 2000,
      pps: 500,
      payloadBytes: [100],
      // the lab's NAT44 static mapping is the users' 10.10.10.10:2055 (sFlow's 6343 has none here)
      traffic: { mix: 'netflow-v9:1,ipfix:1', exporters: 5 },
      runtimeKeys: await resolveRuntimeKeys(profile, [], driver),
      captureDir: join(dir, 'flow'),
      keepCaptures: 'never',
    });
    const detail = results.checks.map((c) => `${c.name}: ${c.detail}`).join('\n');
    expect(inject.sent).toBe(2000);
    expect(results.sent, detail).toBe(2000);
    for (const h of results.hops) expect(h.seen, `${h.name}\n${detail}`).toBe(2000);
    expect(results.checks.find((c) => c.name === 'source IP preserved')?.status).toBe('pass');
    expect(results.checks.find((c) => c.name === 'NAT rewrite')?.status).toBe('pass');
    // VPP counted them too: decapsulated, through the SA
    expect(
      results.counters?.vxlan?.counters.find((c) => c.name === 'err/vxlan4-input/good packets decapsulated')
        ?.delta,
    ).toBe(2000);
    expect(results.counters?.security?.counters.find((c) => c.name === 'sa/1000/packets')?.delta).toBe(2000);
    // no collector in the lab: said, not passed
    expect(results.checks.find((c) => c.name === 'collector agrees with delivery')?.status).toBe(
      'not-evaluated',
    );
  }, 180_000);

  it('an interface down: loss at that hop, with its drop counter', async () => {
    // a misnamed interface is refused (VPP exits 0 and says so), never taken for a fault that is set
    await expect(lab.vppctl('sec', 'set interface state host-nosuch1 down')).rejects.toThrow(
      /rejected .*set interface state: unknown interface/,
    );
    const profile = await discover(lab);
    await lab.fault('interfaceDown'); // the security hop's uplink host-sec1
    const r = await run(profile, 'down');
    expect(r.results.faultyHop).toBe('security');
    const sec = r.results.lossExplanations?.find((e) => e.hops.includes('security') && e.lost > 0);
    // the rx interface's drops, and the reason-less drop VPP files under ethernet-input's "no error"
    expect(sec?.counters.filter((c) => c.explains === 'all').map((c) => c.counter)).toEqual(
      expect.arrayContaining(['if/host-sec0/drops']),
    );
    expect(sec?.summary).toMatch(/^at hop security: .* \+2000 \(explains all 2000 lost\)$/);
  }, 180_000);
});

// keep the recorded fixtures honest: the lab these tests use is the one they were recorded from
it('the lab configuration is the recorded one', () => {
  const readme = readFileSync('test/fixtures/vpp/v24.10/healthy/README.md', 'utf8');
  expect(readme).toMatch(/Recorded from real VPP v24\.10/);
});
