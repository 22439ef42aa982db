/**
 * The two-cloud lab of issue 12, as the users built it: an "aws" and a "gcp" VM, each behind its cloud's
 * 1:1 NAT in an "internet" namespace, joined by kernel VXLAN (VNI 100, UDP 4789) over their public
 * addresses. Each side's `remote` is the other's public address, its `local` its own private one.
 *
 *   dr-aws                         dr-inet (the internet + both clouds' 1:1 NAT)             dr-gcp
 *  ┌───────────────────────┐      ┌──────────────────────────────────────────────┐      ┌───────────────────────┐
 *  │eth0 10.0.1.10/24      ├──────┤aws0 10.0.1.1      nft 1:1 NAT                 ├──────┤eth0 10.128.0.10/24    │
 *  │ vx100 VNI 100         │      │ 198.51.100.10 ⇄ 10.0.1.10   (aws public)     │ gcp0 │ vx100 VNI 100         │
 *  │  local 10.0.1.10      │      │ 203.0.113.20  ⇄ 10.128.0.10 (gcp public)     │      │  local 10.128.0.10    │
 *  │  remote 203.0.113.20  │      │ private → private forwarding dropped         │      │  remote 198.51.100.10 │
 *  │  192.168.100.1/24     │      │                  10.128.0.1 gcp0             │      │  192.168.100.2/24     │
 *  └───────────────────────┘      └──────────────────────────────────────────────┘      └───────────────────────┘
 *
 * Faults (each a real change in the data plane or in an endpoint's configuration, as a user would get it
 * wrong) are applied by `fault()` and described in FAULTS. Everything created is recorded first and
 * removed by `down()` (also at the start of `up()`, for what a killed run left).
 */
import { command, ipBatch } from '../../src/drivers/refchain/command.ts';
import { deleteNamespace } from '../transport/lab.ts';

export const NS = { aws: 'dr-aws', gcp: 'dr-gcp', inet: 'dr-inet' } as const;

export const LAB = {
  aws: {
    private: '10.0.1.10',
    gateway: '10.0.1.1',
    public: '198.51.100.10',
    inner: '192.168.100.1',
    mac: '02:00:00:aa:00:01',
  },
  gcp: {
    private: '10.128.0.10',
    gateway: '10.128.0.1',
    public: '203.0.113.20',
    inner: '192.168.100.2',
    mac: '02:00:00:bb:00:01',
  },
  vni: 100,
  port: 4789,
  vxlanDev: 'vx100',
  underlayDev: 'eth0',
  /** the internet's links toward the clouds */
  inetDev: { aws: 'aws0', gcp: 'gcp0' },
  /** MTU of the internet link toward gcp under the mtu-blackhole fault */
  blackholeMtu: 1400,
} as const;

export type CloudFault =
  | 'healthy'
  | 'nat-rewrite'
  | 'udp-blocked'
  | 'vni-mismatch'
  | 'remote-mismatch'
  | 'mtu-blackhole'
  | 'l2-drop';

export const FAULTS: Record<CloudFault, string> = {
  healthy: 'nothing wrong',
  'nat-rewrite': "gcp's VXLAN `local` is its public address, which NAT rewrites away (not an address of gcp)",
  'udp-blocked': 'the internet drops UDP 4789 (other UDP ports pass, as nmap would show)',
  'vni-mismatch': "gcp's VXLAN interface has VNI 101",
  'remote-mismatch': "aws's `remote` is gcp's private address (not routed between clouds)",
  'mtu-blackhole': `the internet link toward gcp has MTU ${LAB.blackholeMtu} and the internet drops ICMP`,
  'l2-drop': "gcp's VXLAN interface has another MAC than aws's static neighbour entry for it",
};

async function ns(name: string, ...argv: string[]): Promise<void> {
  await command('ip', ['netns', 'exec', name, ...argv]);
}

function vxlanLines(side: 'aws' | 'gcp', o: { vni?: number; local?: string; remote?: string; mac?: string }) {
  const me = LAB[side];
  const peer = LAB[side === 'aws' ? 'gcp' : 'aws'];
  return [
    `link add ${LAB.vxlanDev} address ${o.mac ?? me.mac} type vxlan id ${o.vni ?? LAB.vni} dstport ${LAB.port} ` +
      `local ${o.local ?? me.private} remote ${o.remote ?? peer.public} dev ${LAB.underlayDev} nolearning`,
    `addr add ${me.inner}/24 dev ${LAB.vxlanDev}`,
    `link set ${LAB.vxlanDev} up`,
    `neigh replace ${peer.inner} lladdr ${peer.mac} dev ${LAB.vxlanDev} nud permanent`,
  ];
}

/** nftables in the internet namespace: the two 1:1 NATs, no private-to-private forwarding, + a fault. */
function inetRuleset(fault: CloudFault): string {
  const a = LAB.aws;
  const g = LAB.gcp;
  return `
table ip cloudnat {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr ${a.public} dnat to ${a.private}
    ip daddr ${g.public} dnat to ${g.private}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${a.private} snat to ${a.public}
    ip saddr ${g.private} snat to ${g.public}
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct original ip daddr 10.0.0.0/8 drop
    ${fault === 'udp-blocked' ? `udp dport ${LAB.port} drop` : ''}
  }
  chain output {
    type filter hook output priority filter; policy accept;
    ${fault === 'mtu-blackhole' ? 'ip protocol icmp drop' : ''}
  }
}
`;
}

export interface CloudLab {
  fault: CloudFault;
  down(): Promise<void>;
}

/** Remove every namespace of the lab (kills what runs in them). Safe to run twice. */
export async function cloudLabDown(): Promise<void> {
  for (const n of Object.values(NS)) await deleteNamespace(n);
}

/** Build the lab with one fault (or none). Tears down leftovers first; on failure removes what it built. */
export async function cloudLabUp(fault: CloudFault = 'healthy'): Promise<CloudLab> {
  await cloudLabDown();
  try {
    for (const n of Object.values(NS)) {
      await command('ip', ['netns', 'add', n]);
      await ns(n, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1');
      await ns(n, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0');
    }
    await ns(NS.inet, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    for (const side of ['aws', 'gcp'] as const) {
      const me = LAB[side];
      const inetDev = LAB.inetDev[side];
      await command('ip', [
        'link',
        'add',
        LAB.underlayDev,
        'netns',
        NS[side],
        'type',
        'veth',
        'peer',
        'name',
        inetDev,
        'netns',
        NS.inet,
      ]);
      await ipBatch(NS[side], [
        'link set lo up',
        `addr add ${me.private}/24 dev ${LAB.underlayDev}`,
        `link set ${LAB.underlayDev} up`,
        `route add default via ${me.gateway}`,
      ]);
      const inetMtu = fault === 'mtu-blackhole' && side === 'gcp' ? LAB.blackholeMtu : 1500;
      await ipBatch(NS.inet, [
        'link set lo up',
        `addr add ${me.gateway}/24 dev ${inetDev}`,
        `link set ${inetDev} mtu ${inetMtu} up`,
      ]);
    }
    await command('ip', ['netns', 'exec', NS.inet, 'nft', '-f', '-'], { input: inetRuleset(fault) });
    await ipBatch(NS.aws, vxlanLines('aws', fault === 'remote-mismatch' ? { remote: LAB.gcp.private } : {}));
    await ipBatch(
      NS.gcp,
      vxlanLines(
        'gcp',
        fault === 'vni-mismatch'
          ? { vni: 101 }
          : fault === 'nat-rewrite'
            ? { local: LAB.gcp.public }
            : fault === 'l2-drop'
              ? { mac: '02:00:00:bb:00:99' }
              : {},
      ),
    );
  } catch (e) {
    await cloudLabDown();
    throw e;
  }
  return { fault, down: cloudLabDown };
}

/** A management link from this host into `side`'s namespace (for an sshd there); goes with the namespace. */
export const MGMT = {
  hostIf: 'dr-mgmt-h',
  nsIf: 'mgmt0',
  hostIp: '10.254.42.1',
  nsIp: '10.254.42.2',
} as const;

export async function addManagementLink(side: 'aws' | 'gcp'): Promise<void> {
  await command('ip', ['link', 'del', MGMT.hostIf], { check: false });
  await command('ip', [
    'link',
    'add',
    MGMT.hostIf,
    'type',
    'veth',
    'peer',
    'name',
    MGMT.nsIf,
    'netns',
    NS[side],
  ]);
  await command('ip', ['addr', 'add', `${MGMT.hostIp}/24`, 'dev', MGMT.hostIf]);
  await command('ip', ['link', 'set', MGMT.hostIf, 'up']);
  await ipBatch(NS[side], [`addr add ${MGMT.nsIp}/24 dev ${MGMT.nsIf}`, `link set ${MGMT.nsIf} up`]);
}
