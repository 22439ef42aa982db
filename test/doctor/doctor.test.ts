/**
 * chainprobe doctor against the two-cloud lab (test/doctor/cloud-lab.ts): each fault a user could have
 * is built for real (nftables, kernel VXLAN configuration, link MTUs) and doctor must name it — and say
 * healthy on the healthy lab. The probes themselves are checked by tshark, and the kernel's own VXLAN
 * decapsulating them in the lab is the other independent oracle.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { run as doctorCli } from '../../src/cli/commands/doctor.ts';
import { formatError } from '../../src/cli/errors.ts';
import type { EndConfig } from '../../src/doctor/config.ts';
import { type FindingKind, parseHost, runDoctor } from '../../src/doctor/index.ts';
import { buildProbePacket, CONTROL_PORT, senderView } from '../../src/doctor/probes.ts';
import { writeTempPcap } from '../helpers/classic-pcap.ts';
import { tsharkFields } from '../helpers/oracle-tools.ts';
import { type Sshd, startSshd, stopSshd } from '../transport/lab.ts';
import {
  addManagementLink,
  type CloudFault,
  cloudLabDown,
  cloudLabUp,
  FAULTS,
  LAB,
  MGMT,
  NS,
} from './cloud-lab.ts';

const isRoot = process.getuid?.() === 0;

describe('doctor: input', () => {
  test.each(['netns:', 'vm:foo', 'ssh:nohost', 'ssh:u@h:notaport', 'docker'])(
    'host "%s" is bad input (exit 2)',
    async (h) => {
      expect(() => parseHost(h)).toThrow(/expected netns:NAME/);
      const code = await doctorCli(['--a', h, '--b', 'netns:x']).then(
        () => 0,
        (e) => formatError(e).exitCode,
      );
      expect(code).toBe(2);
    },
  );
  test('missing --b and unknown options are usage errors (exit 2)', async () => {
    for (const args of [
      ['--a', 'netns:x'],
      ['--a', 'netns:x', '--b', 'netns:y', '--bogus'],
    ]) {
      const code = await doctorCli(args).then(
        () => 0,
        (e) => formatError(e).exitCode,
      );
      expect(code).toBe(2);
    }
  });
});

const end = (side: 'aws' | 'gcp'): EndConfig => ({
  reader: 'linux',
  matchesBySource: false,
  vxlan: {
    device: 'vx100',
    vni: 100,
    local: LAB[side].private,
    remote: LAB[side === 'aws' ? 'gcp' : 'aws'].public,
    dstPort: 4789,
    mtu: 1450,
    mac: LAB[side].mac,
    bridgeMacs: [],
    innerAddresses: [LAB[side].inner],
    neighbours: {},
  },
  ownAddresses: [LAB[side].private],
  underlay: { device: 'eth0', mtu: 1500 },
  routes: [],
});

test('a doctor probe is the VXLAN packet the configuration would send (tshark)', async () => {
  const view = senderView(end('aws'), end('gcp'), 'a');
  const pkts = [
    buildProbePacket(
      view,
      { seq: 7, direction: 'a->b', kind: 'vxlan', innerBytes: 1450, dontFragment: true },
      42,
    ),
    buildProbePacket(
      view,
      { seq: 8, direction: 'a->b', kind: 'control', innerBytes: 100, dontFragment: true },
      42,
    ),
  ];
  const file = writeTempPcap(pkts, 101);
  const rows = await tsharkFields(
    file,
    [
      'ip.src',
      'ip.dst',
      'ip.flags.df',
      'udp.dstport',
      'vxlan.vni',
      'eth.dst',
      'ip.len',
      'ip.checksum.status',
    ],
    ['-d', `udp.port==${CONTROL_PORT},vxlan`],
  );
  expect(rows[0]).toEqual([
    '10.0.1.10,192.168.100.1',
    '203.0.113.20,192.168.100.2',
    '1,0',
    '4789,9',
    '100',
    LAB.gcp.mac,
    '1500,1450',
    '1,1', // checksum status 1: good
  ]);
  expect(rows[1][3]).toBe(`${CONTROL_PORT},9`);
});

const EXPECTED: Record<CloudFault, FindingKind> = {
  healthy: 'healthy',
  'nat-rewrite': 'nat-rewrite',
  'udp-blocked': 'udp-blocked',
  'vni-mismatch': 'vni-mismatch',
  'remote-mismatch': 'remote-mismatch',
  'mtu-blackhole': 'mtu-blackhole',
  'l2-drop': 'l2-drop',
};

describe.skipIf(!isRoot)('doctor on the two-cloud lab', () => {
  afterAll(cloudLabDown);

  test.each(Object.keys(EXPECTED) as CloudFault[])('%s', { timeout: 120_000 }, async (fault) => {
    const lab = await cloudLabUp(fault);
    try {
      const r = await runDoctor({ a: `netns:${NS.aws}`, b: `netns:${NS.gcp}`, probesPerKind: 2 });
      const errors = r.findings.filter((f) => f.severity === 'error');
      const named = errors.map((f) => f.kind);
      if (fault === 'healthy') {
        expect(r.verdict, JSON.stringify(r.findings.map((f) => f.summary))).toBe('healthy');
        expect(r.findings.map((f) => f.kind)).toContain('healthy');
        // The 1:1 NAT is always there, and harmless for kernel VXLAN: information, with evidence.
        const nat = r.findings.find((f) => f.kind === 'nat-rewrite');
        expect(nat?.severity).toBe('info');
        expect(nat?.evidence.sent?.outer?.src).toBe(LAB.aws.private);
        expect(nat?.evidence.received?.outer?.src).toBe(LAB.aws.public);
        expect(nat?.evidence.received?.outer?.dst).toBe(LAB.gcp.private);
        return;
      }
      expect(r.verdict, FAULTS[fault]).toBe('broken');
      expect(named, JSON.stringify(errors.map((f) => f.summary))).toContain(EXPECTED[fault]);
      const f = errors.find((x) => x.kind === EXPECTED[fault]);
      expect(f?.fix).toBeTruthy();
      expect(f?.evidence.sent?.decoded).toMatch(/VXLAN flags 0x08 \[I\], vni \d+/);
      if (fault === 'mtu-blackhole') {
        // The internet link toward gcp has MTU 1400: 1400 - 50 bytes of VXLAN.
        const ab = errors.find((x) => x.kind === 'mtu-blackhole' && x.direction === 'a->b');
        expect(ab?.maxInnerBytes).toBe(LAB.blackholeMtu - 50);
      }
      if (fault === 'vni-mismatch') expect(f?.evidence.received?.vni).toBe(100);
      if (fault === 'udp-blocked') expect(f?.summary).toMatch(/UDP 33434 did/);
      if (fault === 'l2-drop') expect(f?.evidence.decapsulated?.innerDstMac).toBe(LAB.gcp.mac);
      // Only the fault's kind (and remote-mismatch seen from both sides) is an error: no false accusations.
      expect(new Set(named)).toEqual(new Set([EXPECTED[fault]]));
    } finally {
      await lab.down();
    }
  });
});

describe.skipIf(!isRoot)('doctor through SSH (sshd in the aws namespace, tcpreplay there)', () => {
  let sshd: Sshd | undefined;
  afterAll(async () => {
    await stopSshd(sshd);
    await cloudLabDown();
  });

  test('ssh:root@… as end A: the MTU black hole is found the same way', { timeout: 120_000 }, async () => {
    await cloudLabUp('mtu-blackhole');
    await addManagementLink('aws');
    sshd = await startSshd(NS.aws, MGMT.nsIp);
    const r = await runDoctor({
      a: `ssh:root@${MGMT.nsIp}`,
      b: `netns:${NS.gcp}`,
      ssh: { knownHostsPath: sshd.knownHostsPath, privateKeyPath: sshd.privateKeyPath },
      probesPerKind: 2,
    });
    const ab = r.findings.find((f) => f.kind === 'mtu-blackhole' && f.direction === 'a->b');
    expect(ab?.maxInnerBytes, JSON.stringify(r.findings.map((f) => f.summary))).toBe(LAB.blackholeMtu - 50);
    expect((r.hosts.a as { where: string }).where).toMatch(/^ssh root@10\.254\.42\.2/);
  });
});
