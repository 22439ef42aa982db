/**
 * `discover` on output recorded from the real VPP v24.10 lab (test/fixtures/vpp/v24.10, made by
 * test/vpp/record-fixtures.ts): the profile it writes must describe the lab as it was configured
 * (test/vpp/lab.ts), and validate.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiscoverError, discoverChain } from '../../src/drivers/vpp/discover.ts';

const FIXTURES = 'test/fixtures/vpp/v24.10';
const INSTANCE: Record<string, string> = { vxlan: 'vx', security: 'sec', destination: 'dst' };
const fileName = (cli: string) => cli.replace(/^show /, '').replace(/[^a-z0-9]+/gi, '-');

function recordedReader(scenario: string, phase = 'before') {
  const read = async (hop: string, cli: string) =>
    readFileSync(join(FIXTURES, scenario, phase, INSTANCE[hop], `${fileName(cli)}.txt`), 'utf8');
  return read;
}

const hops = ['vxlan', 'security', 'destination'].map((name) => ({
  name,
  transport: { kind: 'netns' as const, namespace: `vp-${INSTANCE[name]}` },
  vpp: { cli: `/run/chainprobe-vpplab/${INSTANCE[name]}/cli.sock`, vppctl: '/opt/vpp-24.10/bin/vppctl' },
}));
const injector = {
  transport: { kind: 'netns' as const, namespace: 'vp-gen' },
  interface: 'gen0',
  mac: '02:00:00:14:64:01',
};

describe('discover on recorded VPP v24.10 output', () => {
  it('maps the healthy lab: VXLAN, NAT, ESP, MTU, hops and capture points', async () => {
    const { profile, unmapped, notes } = await discoverChain({
      hops,
      injector,
      read: recordedReader('healthy'),
    });
    expect(profile.driver).toBe('vpp');
    expect(profile.traffic.outer).toMatchObject({
      srcIp: '172.20.100.1',
      dstIp: '172.20.100.10',
      dstMac: '02:00:00:14:64:0a',
      vni: 100,
      dstPort: 4789,
    });
    expect(profile.traffic.inner).toMatchObject({
      dstMac: '02:00:00:0a:0a:01',
      dstIp: '10.10.10.10',
      dstPort: 2055,
    });
    const t = Object.fromEntries(profile.stages.map((s) => [s.name, s.transform]));
    expect(t.decap).toEqual({ kind: 'vxlan-decap', vni: 100 });
    expect(t.nat).toEqual({
      kind: 'dnat44',
      match: { dstIp: '10.10.10.10', dstPort: 2055 },
      rewrite: { dstIp: '172.20.102.10', dstPort: 2055 },
    });
    expect(t.esp).toMatchObject({
      kind: 'esp-encrypt',
      sa: {
        spi: 1000,
        algorithm: 'aes-gcm-128',
        key: { from: 'runtime' },
        salt: '00000000',
        tunnel: { srcIp: '172.20.103.1', dstIp: '172.20.103.2' },
      },
    });
    expect(t.wire).toEqual({ kind: 'fragment', mtuBytes: 1400 });
    expect(profile.hops.map((h) => [h.name, h.vpp?.ingress, h.vpp?.egress])).toEqual([
      ['vxlan', 'host-vx0', 'host-vx1'],
      ['security', 'host-sec0', 'host-sec1'],
      ['destination', 'host-dst0', 'host-dst1'],
    ]);
    // entry on the af_packet's Linux side (tcpdump), exit inside VPP (pcap trace: af_packet TX bypasses the kernel's taps)
    expect(profile.captures.map((c) => `${c.name}:${c.backend}:${c.interface}:${c.stage}`)).toEqual([
      'vxlan-in:tcpdump:vx0:ingress',
      'vxlan-out:vpp-pcap:host-vx1:decap',
      'security-in:tcpdump:sec0:decap',
      'security-out:vpp-pcap:host-sec1:wire',
      'destination-in:tcpdump:dst0:wire',
      'destination-out:vpp-pcap:host-dst1:delivered',
    ]);
    expect(profile.labPrefixes).toEqual(
      expect.arrayContaining(['172.20.100.0/24', '10.10.10.0/24', '172.20.102.10/32']),
    );
    expect(unmapped).toEqual([]);
    expect(notes.join('\n')).toMatch(/inner source 10\.10\.10\.\d+/);
  });

  it('puts the SA key in the profile only with --with-keys', async () => {
    const { profile } = await discoverChain({
      hops,
      injector,
      withKeys: true,
      read: recordedReader('healthy'),
    });
    const esp = profile.stages.find((s) => s.name === 'esp')?.transform;
    // the lab's test key (test/vpp/lab.ts LAB_SA.out), as VPP printed it in `show ipsec sa 0`
    expect(esp && 'sa' in esp && esp.sa.key).toBe('fedcba9876543210abcdef0123456789');
  });

  it('an IPv6 address on a VPP interface is not read as an IPv4 lab prefix', async () => {
    const recorded = recordedReader('healthy');
    // the recorded vxlan hop, with an IPv6 address on its uplink as `show interface addr` prints one
    const read = async (hop: string, cli: string) => {
      const text = await recorded(hop, cli);
      return hop === 'vxlan' && cli === 'show interface addr'
        ? text.replace('  L3 172.20.101.1/24\r\n', '  L3 172.20.101.1/24\r\n  L3 2001:db8::1/64\r\n')
        : text;
    };
    expect(await read('vxlan', 'show interface addr')).toContain('2001:db8::1/64');
    const { profile } = await discoverChain({ hops, injector, read });
    expect(profile.labPrefixes).toContain('172.20.101.0/24');
    for (const p of profile.labPrefixes) expect(p).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
  });

  it('says what it cannot map instead of guessing: no VXLAN hop', async () => {
    const read = recordedReader('healthy');
    await expect(discoverChain({ hops: hops.slice(1), injector, read })).rejects.toThrow(DiscoverError);
  });
});
