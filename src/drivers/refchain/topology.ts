/**
 * The reference chain's wiring, derived from a profile. Everything a replayed pcap depends on (namespaces,
 * the injector-facing MACs and addresses, VNI, NAT, SPI, MTUs) comes from the profile; the internal links
 * (vx1–sec0, sec1–dst0) are fixed here, with pinned MACs so the chain is identical on every `up`.
 */

import type { EspSaSpec, Profile, TransformSpec } from '../../chain/profile.ts';
import { ChainprobeError } from '../../errors.ts';

export interface Topology {
  ns: { gen: string; vx: string; sec: string; dst: string };
  /** rc-gen: the injector link, plus `probe0`, a kernel VXLAN device used only by up's end-to-end probe. */
  gen: {
    link: string;
    mac: string;
    ip: string;
    mtu: number;
    probeDev: string;
    probeMac: string;
    probeIp: string;
    probePort: number;
  };
  vx: {
    in: string;
    inMac: string;
    inIp: string;
    vxlanDev: string;
    vni: number;
    udpPort: number;
    bridge: string;
    bviMac: string;
    bviIp: string;
    out: string;
    outMac: string;
    outIp: string;
  };
  sec: {
    in: string;
    inMac: string;
    inIp: string;
    tsIp: string;
    out: string;
    outMac: string;
    outIp: string;
    tun: string;
  };
  /** collectorIp: the flow collectors' address (refchain/collectors.ts), beside the probe sink's */
  dst: {
    in: string;
    inMac: string;
    inIp: string;
    tun: string;
    sinkIp: string;
    sinkPort: number;
    collectorIp: string;
  };
  /** Inner prefixes protected by the tunnel (left: the VXLAN side, right: the destination side). */
  innerNet: string;
  remoteNet: string;
  nat: { matchIp: string; matchPort: number; toIp: string; toPort: number };
  esp: {
    spiOut: number;
    spiIn: number;
    natt: { srcPort: number; dstPort: number } | undefined;
    tunMtu: number;
  };
  wireMtu: number;
  /** hop name → namespace, ingress link, egress link toward the next hop */
  hops: Record<HopName, { ns: string; ingress: string; egress?: string }>;
}

export const HOP_NAMES = ['vxlan', 'security', 'destination'] as const;
export type HopName = (typeof HOP_NAMES)[number];

function fail(message: string): never {
  throw new ChainprobeError('E_CONFIG', `profile is not a reference-chain profile: ${message}`, true);
}

function transform<K extends TransformSpec['kind']>(
  p: Profile,
  kind: K,
): Extract<TransformSpec, { kind: K }> {
  const t = p.stages.map((s) => s.transform).find((x) => x?.kind === kind);
  if (!t) fail(`it has no "${kind}" stage`);
  return t as Extract<TransformSpec, { kind: K }>;
}

function netnsOf(p: Profile, hop: HopName): string {
  const h = p.hops.find((x) => x.name === hop);
  if (!h) fail(`it has no hop "${hop}" (hops: ${p.hops.map((x) => x.name).join(', ')})`);
  if (h.transport.kind !== 'netns') fail(`hop "${hop}" must use a netns transport`);
  return h.transport.namespace;
}

function captureIf(p: Profile, hop: HopName, fallback: string): string {
  return (
    p.captures.find((c) => c.hop === hop && c.direction === 'in' && c.interface !== 'ipsec0')?.interface ??
    fallback
  );
}

export function topologyOf(p: Profile): Topology {
  const { outer, inner } = p.traffic;
  if (p.injector.transport.kind !== 'netns') fail('the injector must use a netns transport');
  const nat = transform(p, 'dnat44');
  const sa: EspSaSpec = transform(p, 'esp-encrypt').sa;
  const ns = {
    gen: p.injector.transport.namespace,
    vx: netnsOf(p, 'vxlan'),
    sec: netnsOf(p, 'security'),
    dst: netnsOf(p, 'destination'),
  };
  const vxIn = captureIf(p, 'vxlan', 'vx0');
  const secIn = captureIf(p, 'security', 'sec0');
  const dstIn = captureIf(p, 'destination', 'dst0');
  const innerNet = `${inner.srcIp.split('.').slice(0, 3).join('.')}.0/24`;
  return {
    ns,
    gen: {
      link: p.injector.interface,
      mac: outer.srcMac,
      ip: outer.srcIp,
      mtu: p.injector.mtuBytes ?? 9000,
      probeDev: 'probe0',
      probeMac: inner.srcMac,
      probeIp: inner.srcIp,
      probePort: inner.srcPort,
    },
    vx: {
      in: vxIn,
      inMac: outer.dstMac,
      inIp: outer.dstIp,
      vxlanDev: `vxlan${outer.vni}`,
      vni: outer.vni,
      udpPort: outer.dstPort,
      bridge: `br${outer.vni}`,
      bviMac: inner.dstMac,
      bviIp: '10.10.10.1',
      out: 'vx1',
      outMac: '02:00:00:14:65:01',
      outIp: '172.20.101.1',
    },
    // 10.10.10.254: libipsec installs its route only if the gateway owns an address inside local_ts (G5).
    sec: {
      in: secIn,
      inMac: '02:00:00:14:65:02',
      inIp: '172.20.101.2',
      tsIp: '10.10.10.254',
      out: 'sec1',
      outMac: '02:00:00:14:67:01',
      outIp: sa.tunnel.srcIp,
      tun: 'ipsec0',
    },
    dst: {
      in: dstIn,
      inMac: '02:00:00:14:67:02',
      inIp: sa.tunnel.dstIp,
      tun: 'ipsec0',
      sinkIp: nat.rewrite.dstIp,
      sinkPort: nat.rewrite.dstPort,
      // the next address after the sink's, inside the tunnel's remote prefix
      collectorIp: nat.rewrite.dstIp.replace(/\d+$/, (d) => String(Number(d) + 1)),
    },
    innerNet,
    remoteNet: `${nat.rewrite.dstIp.split('.').slice(0, 3).join('.')}.0/24`,
    nat: {
      matchIp: nat.match.dstIp,
      matchPort: nat.match.dstPort,
      toIp: nat.rewrite.dstIp,
      toPort: nat.rewrite.dstPort,
    },
    esp: {
      spiOut: sa.spi,
      spiIn: sa.spi + 1,
      natt:
        sa.encapsulation.kind === 'udp'
          ? { srcPort: sa.encapsulation.srcPort, dstPort: sa.encapsulation.dstPort }
          : undefined,
      tunMtu: sa.innerMtuBytes ?? 1400,
    },
    wireMtu: transform(p, 'fragment').mtuBytes,
    hops: {
      vxlan: { ns: ns.vx, ingress: vxIn, egress: 'vx1' },
      security: { ns: ns.sec, ingress: secIn, egress: 'sec1' },
      destination: { ns: ns.dst, ingress: dstIn },
    },
  };
}

export const namespacesOf = (t: Topology) => [t.ns.gen, t.ns.vx, t.ns.sec, t.ns.dst];

/** `ip -batch` lines per namespace, in order. Links are created directly inside their namespaces. */
export function linkPlan(t: Topology): { ns: string; lines: string[] }[] {
  const { gen, vx, sec, dst } = t;
  return [
    {
      ns: t.ns.gen,
      lines: [
        `link add ${gen.link} mtu ${gen.mtu} address ${gen.mac} type veth peer name ${vx.in} netns ${t.ns.vx} mtu ${gen.mtu} address ${vx.inMac}`,
        `link set lo up`,
        `link set ${gen.link} up`,
        `addr add ${gen.ip}/24 dev ${gen.link}`,
        `neigh replace ${vx.inIp} lladdr ${vx.inMac} dev ${gen.link} nud permanent`,
        // The probe path: a plain kernel VXLAN sender, independent of chainprobe's traffic engine.
        `link add ${gen.probeDev} address ${gen.probeMac} mtu ${gen.mtu - 50} type vxlan id ${vx.vni} dstport ${vx.udpPort} local ${gen.ip} remote ${vx.inIp} dev ${gen.link} srcport 50000 51000 nolearning`,
        `link set ${gen.probeDev} up`,
        `addr add ${gen.probeIp}/32 dev ${gen.probeDev}`,
        `route add ${t.nat.matchIp}/32 dev ${gen.probeDev} src ${gen.probeIp}`,
        `neigh replace ${t.nat.matchIp} lladdr ${vx.bviMac} dev ${gen.probeDev} nud permanent`,
      ],
    },
    {
      ns: t.ns.vx,
      lines: [
        `link add ${vx.out} mtu 9000 address ${vx.outMac} type veth peer name ${sec.in} netns ${t.ns.sec} mtu 9000 address ${sec.inMac}`,
        `link set lo up`,
        `link set ${vx.in} up`,
        `addr add ${vx.inIp}/24 dev ${vx.in}`,
        `link add ${vx.vxlanDev} mtu ${gen.mtu - 50} address 02:00:00:0a:0a:64 type vxlan id ${vx.vni} dstport ${vx.udpPort} local ${vx.inIp} dev ${vx.in} nolearning`,
        `link add ${vx.bridge} mtu ${gen.mtu - 50} address ${vx.bviMac} type bridge`,
        `link set ${vx.vxlanDev} master ${vx.bridge}`,
        `link set ${vx.vxlanDev} up`,
        `link set ${vx.bridge} up`,
        // A /32 on the BVI so that the whole inner /24 can be routed on to the security hop.
        `addr add ${vx.bviIp}/32 dev ${vx.bridge}`,
        `link set ${vx.out} up`,
        `addr add ${vx.outIp}/24 dev ${vx.out}`,
        ...vxRoutes(t),
      ],
    },
    {
      ns: t.ns.sec,
      lines: [
        `link add ${sec.out} mtu ${t.wireMtu} address ${sec.outMac} type veth peer name ${dst.in} netns ${t.ns.dst} mtu ${t.wireMtu} address ${dst.inMac}`,
        `link set lo up`,
        `link set ${sec.in} up`,
        `addr add ${sec.inIp}/24 dev ${sec.in}`,
        `addr add ${sec.tsIp}/32 dev ${sec.in}`,
        `link set ${sec.out} up`,
        `addr add ${sec.outIp}/24 dev ${sec.out}`,
        ...secRoutes(t),
      ],
    },
    {
      ns: t.ns.dst,
      lines: [
        `link set lo up`,
        `link set ${dst.in} up`,
        `addr add ${dst.inIp}/24 dev ${dst.in}`,
        `addr add ${dst.sinkIp}/32 dev ${dst.in}`,
        `addr add ${dst.collectorIp}/32 dev ${dst.in}`,
        ...dstRoutes(t),
      ],
    },
  ];
}

// Routes and static neighbours, re-applied by `fault --clear` after a link was set down (which flushes them).
export const vxRoutes = (t: Topology) => [
  `neigh replace ${t.sec.inIp} lladdr ${t.sec.inMac} dev ${t.vx.out} nud permanent`,
  `route replace ${t.innerNet} via ${t.sec.inIp} dev ${t.vx.out}`,
];
export const secRoutes = (t: Topology) => [
  `neigh replace ${t.vx.outIp} lladdr ${t.vx.outMac} dev ${t.sec.in} nud permanent`,
  `neigh replace ${t.dst.inIp} lladdr ${t.dst.inMac} dev ${t.sec.out} nud permanent`,
];
export const dstRoutes = (t: Topology) => [
  `neigh replace ${t.sec.outIp} lladdr ${t.sec.outMac} dev ${t.dst.in} nud permanent`,
];

/** Per-namespace sysctls, set before any link exists so that `default.*` applies to every new link. */
export function sysctlPlan(t: Topology): { ns: string; settings: string[] }[] {
  const common = [
    'net.ipv6.conf.all.disable_ipv6=1', // no link-local events: they make charon chatter (MOBIKE)
    'net.ipv6.conf.default.disable_ipv6=1',
    'net.ipv4.conf.all.rp_filter=0', // inner source 10.10.10.5 arrives on a link that does not route back to it
    'net.ipv4.conf.default.rp_filter=0',
  ];
  return [
    { ns: t.ns.gen, settings: [...common, 'net.ipv4.ip_no_pmtu_disc=1'] },
    { ns: t.ns.vx, settings: [...common, 'net.ipv4.ip_forward=1'] },
    // no DF on ESP-in-UDP, so large ESP packets are fragmented on the 1400 link (G3)
    { ns: t.ns.sec, settings: [...common, 'net.ipv4.ip_forward=1', 'net.ipv4.ip_no_pmtu_disc=1'] },
    { ns: t.ns.dst, settings: common },
  ];
}

/**
 * nftables DNAT in the security hop. No SNAT: the source 10.10.10.5 is preserved. The probe flow goes to
 * the sink; every other source (flow exporters) to the collector of its port (NetFlow/IPFIX 2055, sFlow 6343).
 */
export function natRuleset(t: Topology, collectorPorts: readonly number[] = []): string {
  const exporters = collectorPorts.map(
    (port) =>
      `\n    iifname "${t.sec.in}" ip daddr ${t.nat.matchIp} ip saddr != ${t.gen.probeIp} udp dport ${port} counter dnat to ${t.dst.collectorIp}:${port} comment "flow exporters"`,
  );
  return `table ip refchain {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;${exporters.join('')}
    iifname "${t.sec.in}" ip daddr ${t.nat.matchIp} udp dport ${t.nat.matchPort} counter dnat to ${t.nat.toIp}:${t.nat.toPort}
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "${t.sec.in}" ip daddr ${t.nat.toIp} counter comment "post-NAT packets"
    iifname "${t.sec.in}" ip daddr ${t.dst.collectorIp} counter comment "post-NAT flow export"
  }
}
`;
}
