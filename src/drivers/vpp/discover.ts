/**
 * `chainprobe discover`: from "the VPP chain is up" to a validated profile, by reading what each VPP hop
 * says about itself — never by guessing. What it cannot map it lists in `unmapped`.
 *
 *   show vxlan tunnel + interface addr + hardware-interfaces + bridge-domain → outer addresses, MACs, VNI,
 *                                                                             inner dst MAC (the BVI's)
 *   show nat44 static mappings + interfaces                                   → the dnat44 stage
 *   show ipsec protect + ipsec sa + ipip tunnel                               → esp-encrypt (SPI, algorithm, salt,
 *                                                                               tunnel endpoints); keys only on request
 *   show ip fib (+ the MTU of the path a tunnel is stacked on)               → fragment MTU, each hop's egress
 *   af_packet host interfaces                                                → tcpdump at each hop's entry;
 *                                                                             VPP pcap trace at each hop's exit
 *
 * Pure over a `read(hop, command)` function, so it runs on recorded output in tests and through vppctl live.
 */

import type { Profile, TransportSpec, VppHopSpec } from '../../chain/profile.ts';
import { parseProfile } from '../../chain/profile.ts';
import { ipv4ToString, parseIpv4 } from '../../codec/address.ts';
import {
  parseShowHardwareInterfaces,
  parseShowInterface,
  parseShowInterfaceAddr,
} from './parse/interface.ts';
import { parseShowIpFib, type VppFibEntry, type VppFibPath } from './parse/ip.ts';
import { parseShowIpipTunnel } from './parse/ipip.ts';
import { parseShowIpsecProtect, parseShowIpsecSa } from './parse/ipsec.ts';
import { parseShowBridgeDomainDetail, parseShowVxlanTunnel } from './parse/l2.ts';
import { parseShowNat44Interfaces, parseShowNat44StaticMappings } from './parse/nat44.ts';

export interface DiscoverHop {
  name: string;
  transport: TransportSpec;
  vpp: Pick<VppHopSpec, 'cli' | 'vppctl'>;
}

export interface DiscoverInput {
  hops: DiscoverHop[];
  injector: { transport: TransportSpec; interface: string; mac: string };
  /** put the SA keys into the profile (the caller writes it 0600); otherwise they come at run time */
  withKeys?: boolean;
  /** runs one CLI command on a hop and returns VPP's text */
  read(hop: string, command: string): Promise<string>;
}

export interface DiscoverResult {
  profile: Profile;
  /** one line per thing seen but not mapped, or assumed */
  unmapped: string[];
  notes: string[];
}

interface HopView {
  hop: DiscoverHop;
  addrs: ReturnType<typeof parseShowInterfaceAddr>;
  hw: ReturnType<typeof parseShowHardwareInterfaces>;
  ifs: ReturnType<typeof parseShowInterface>;
  fib: VppFibEntry[];
  vxlan: ReturnType<typeof parseShowVxlanTunnel>;
  natMappings: ReturnType<typeof parseShowNat44StaticMappings>;
  natInterfaces: ReturnType<typeof parseShowNat44Interfaces>;
  protect: ReturnType<typeof parseShowIpsecProtect>;
  ipip: { name: string; src: string; dst: string }[];
}

/** The network of an IPv4 address at a prefix length, as a number. */
const networkOf = (ip: string, bits: number) =>
  (parseIpv4(ip) & (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0)) >>> 0;
const inPrefix = (ip: string, prefix: string) => {
  const [net, len] = prefix.split('/');
  return networkOf(ip, Number(len)) === networkOf(net as string, Number(len));
};

/** Longest-prefix match in a parsed FIB; the path a packet to `ip` leaves by (a tunnel's stacked path). */
function route(
  fib: VppFibEntry[],
  ip: string,
): { entry: VppFibEntry; path: VppFibPath; out: VppFibPath } | undefined {
  const hits = fib.filter((e) => e.vrf === 0 && inPrefix(ip, e.prefix));
  hits.sort((a, b) => Number(b.prefix.split('/')[1]) - Number(a.prefix.split('/')[1]));
  const entry = hits[0];
  const path = entry?.paths[0];
  if (!entry || !path) return undefined;
  return { entry, path, out: path.stackedOn ?? path };
}

async function view(input: DiscoverInput, hop: DiscoverHop): Promise<HopView> {
  const r = (c: string) => input.read(hop.name, c);
  const ifs = parseShowInterface(await r('show interface'));
  const protect = parseShowIpsecProtect(await r('show ipsec protect'));
  return {
    hop,
    addrs: parseShowInterfaceAddr(await r('show interface addr')),
    hw: parseShowHardwareInterfaces(await r('show hardware-interfaces')),
    ifs,
    fib: parseShowIpFib(await r('show ip fib')),
    vxlan: parseShowVxlanTunnel(await r('show vxlan tunnel')),
    natMappings: parseShowNat44StaticMappings(await r('show nat44 static mappings')),
    natInterfaces: parseShowNat44Interfaces(await r('show nat44 interfaces')),
    protect,
    ipip: parseShowIpipTunnel(await r('show ipip tunnel')).map((t) => ({ name: `ipip${t.instance}`, ...t })),
  };
}

const ownerOf = (v: HopView, ip: string) => v.addrs.find((a) => a.l3.some((p) => p.split('/')[0] === ip));

export async function discoverChain(input: DiscoverInput): Promise<DiscoverResult> {
  const unmapped: string[] = [];
  const notes: string[] = [];
  const views: HopView[] = [];
  for (const hop of input.hops) views.push(await view(input, hop));

  // 1. the VXLAN hop: the tunnel whose remote is the injector side
  const vxView = views.find((v) => v.vxlan.length > 0);
  if (!vxView) throw new DiscoverError('no hop has a VXLAN tunnel (show vxlan tunnel is empty everywhere)');
  if (vxView.vxlan.length > 1)
    unmapped.push(
      `${vxView.hop.name}: ${vxView.vxlan.length} VXLAN tunnels; mapped the first (VNI ${vxView.vxlan[0]?.vni})`,
    );
  const tunnel = vxView.vxlan[0]!;
  const vxIngress = ownerOf(vxView, tunnel.src);
  const vxIngressMac = vxView.hw.find((h) => h.name === vxIngress?.name)?.mac;
  if (!vxIngress || !vxIngressMac)
    throw new DiscoverError(`${vxView.hop.name}: no interface owns the tunnel source ${tunnel.src}`);
  const tunnelIf = vxView.addrs.find((a) => a.bridge && a.name.startsWith('vxlan_tunnel'));
  const bd = tunnelIf?.bridge?.bdId;
  let bviName: string | undefined;
  if (bd !== undefined) {
    const domain = parseShowBridgeDomainDetail(
      await input.read(vxView.hop.name, `show bridge-domain ${bd} detail`),
    );
    bviName = domain?.bvi;
  }
  const bvi = vxView.addrs.find((a) => a.name === bviName);
  const bviMac = vxView.hw.find((h) => h.name === bviName)?.mac;
  const bviPrefix = bvi?.l3[0];
  if (!bvi || !bviMac || !bviPrefix)
    throw new DiscoverError(
      `${vxView.hop.name}: the VXLAN tunnel's bridge domain ${bd ?? '?'} has no BVI with an address: nothing routes the decapsulated traffic`,
    );

  // 2. NAT: the static mapping whose external side the traffic is sent to
  const natView = views.find((v) => v.natMappings.length > 0);
  if (!natView) throw new DiscoverError('no hop has a NAT44 static mapping');
  const udpMappings = natView.natMappings.filter(
    (m) => m.protocol === 'UDP' && m.external.port !== undefined,
  );
  for (const m of natView.natMappings.filter((x) => !udpMappings.includes(x)))
    unmapped.push(
      `${natView.hop.name}: NAT44 static mapping ${m.protocol ?? 'address-only'} ${m.local.address} ↔ ${m.external.address}: only UDP port mappings are traffic targets`,
    );
  const mapping = udpMappings[0];
  if (!mapping) throw new DiscoverError(`${natView.hop.name}: no UDP static mapping`);
  if (udpMappings.length > 1)
    unmapped.push(
      `${natView.hop.name}: ${udpMappings.length} UDP static mappings; traffic goes to the first (${mapping.external.address}:${mapping.external.port})`,
    );
  const natOut = natView.natInterfaces.find((i) => i.outside)?.name;
  if (mapping.flags.length)
    unmapped.push(`${natView.hop.name}: static mapping flags ${mapping.flags.join(' ')} not modelled`);

  // 3. ESP: the protected tunnel toward the NAT's local (collector) side
  const secView = views.find((v) => v.protect.some((p) => p.outputSa !== undefined));
  if (!secView) throw new DiscoverError('no hop protects a tunnel with IPsec (show ipsec protect is empty)');
  const prot = secView.protect[0]!;
  const ipip = secView.ipip.find((t) => t.name === prot.interface);
  if (!ipip)
    throw new DiscoverError(`${secView.hop.name}: ${prot.interface} is protected but is not an ipip tunnel`);
  const sa = parseShowIpsecSa(await input.read(secView.hop.name, `show ipsec sa ${prot.outputSa.index}`));
  if (!sa)
    throw new DiscoverError(
      `${secView.hop.name}: output SA index ${prot.outputSa.index} is gone (show ipsec sa)`,
    );
  if (sa.cryptoAlg !== 'aes-gcm-128')
    throw new DiscoverError(
      `${secView.hop.name}: SA ${sa.id} uses ${sa.cryptoAlg}; chainprobe models aes-gcm-128`,
    );
  if (sa.flags.includes('udp-encap'))
    unmapped.push(`${secView.hop.name}: SA ${sa.id} is UDP-encapsulated: ports not read, assumed 4500`);
  const uplink = route(secView.fib, ipip.dst);
  if (!uplink?.out.mtu)
    throw new DiscoverError(`${secView.hop.name}: no route to the tunnel's far end ${ipip.dst}`);

  const dstView = views.find((v) => v !== secView && v.ipip.some((t) => t.src === ipip.dst));
  if (!dstView)
    unmapped.push(
      `no hop terminates the tunnel at ${ipip.dst}: the delivered stage is modelled, not captured`,
    );

  // 4. each hop's ingress and egress (faults and captures act on them)
  const egressOf = (v: HopView, toward: string) => route(v.fib, toward)?.out.interface;
  const ingress: Record<string, string | undefined> = {
    [vxView.hop.name]: vxIngress.name,
    [natView.hop.name]: natOut,
    ...(dstView ? { [dstView.hop.name]: ownerOf(dstView, ipip.dst)?.name } : {}),
  };
  const egress: Record<string, string | undefined> = {
    [vxView.hop.name]: egressOf(vxView, mapping.external.address),
    [secView.hop.name]: uplink.out.interface,
    ...(dstView ? { [dstView.hop.name]: egressOf(dstView, mapping.local.address) } : {}),
  };

  // 5. the inner source: an exporter inside the BVI's subnet (VPP cannot tell us who sends; say so)
  const [bviIp, bviLen] = bviPrefix.split('/');
  const exporter = ipv4ToString(parseIpv4(bviIp as string) + (Number(bviLen) >= 31 ? 1 : 4));
  notes.push(
    `inner source ${exporter}: an address in the BVI's subnet ${bviPrefix}; set traffic.inner.srcIp to a real exporter's`,
  );

  const stageOf: Record<string, [string, string]> = {
    [vxView.hop.name]: ['ingress', 'decap'],
    [secView.hop.name]: ['decap', 'wire'],
    ...(dstView ? { [dstView.hop.name]: ['wire', 'delivered'] } : {}),
  };
  const captures: Profile['captures'] = [];
  for (const v of views) {
    const stages = stageOf[v.hop.name];
    if (!stages) {
      unmapped.push(`${v.hop.name}: plays no role recognised in the chain (no VXLAN, NAT, or tunnel end)`);
      continue;
    }
    const entry = ingress[v.hop.name];
    const exit = egress[v.hop.name];
    const entryHw = v.hw.find((h) => h.name === entry);
    if (entry && entryHw?.afPacket)
      // an af_packet interface: the Linux side sees what VPP receives
      captures.push({
        name: `${v.hop.name}-in`,
        hop: v.hop.name,
        interface: entryHw.afPacket.hostInterface,
        stage: stages[0],
        direction: 'in',
        snaplenBytes: 262144,
        backend: 'tcpdump',
      });
    else if (entry)
      captures.push({
        name: `${v.hop.name}-in`,
        hop: v.hop.name,
        interface: entry,
        stage: stages[0],
        direction: 'in',
        snaplenBytes: 9000,
        backend: 'vpp-pcap',
      });
    else unmapped.push(`${v.hop.name}: its ingress interface was not found`);
    // what VPP transmits on af_packet bypasses the kernel's taps (qdisc bypass): only VPP's own trace sees it
    if (exit)
      captures.push({
        name: `${v.hop.name}-out`,
        hop: v.hop.name,
        interface: exit,
        stage: stages[1],
        direction: 'out',
        snaplenBytes: 9000,
        backend: 'vpp-pcap',
      });
    else unmapped.push(`${v.hop.name}: its egress interface was not found`);
  }

  const labPrefixes = new Set<string>();
  for (const v of views)
    for (const a of v.addrs)
      for (const p of a.l3) {
        const [ip, len] = p.split('/');
        if (ip?.includes(':')) continue; // IPv6: probes and lab prefixes are IPv4
        labPrefixes.add(`${ipv4ToString(networkOf(ip as string, Number(len)))}/${len}`);
      }
  labPrefixes.add(`${mapping.external.address}/32`);
  labPrefixes.add(`${mapping.local.address}/32`);

  const secret = sa.secret.reveal();
  const profile = parseProfile(
    {
      schemaVersion: 1,
      name: 'discovered',
      description: `discovered by chainprobe discover from ${views.map((v) => v.hop.name).join(', ')}`,
      driver: 'vpp',
      labPrefixes: [...labPrefixes],
      traffic: {
        outer: {
          srcMac: input.injector.mac,
          dstMac: vxIngressMac,
          srcIp: tunnel.dst,
          dstIp: tunnel.src,
          srcPortBase: 50000,
          srcPortCount: 1000,
          dstPort: tunnel.dstPort,
          vni: tunnel.vni,
          vxlanFlags: 8,
          udpChecksum: false,
          ttl: 64,
        },
        inner: {
          srcMac: '02:00:00:0a:0a:05',
          dstMac: bviMac,
          srcIp: exporter,
          dstIp: mapping.external.address,
          srcPort: 40000,
          dstPort: mapping.external.port,
          ttl: 64,
        },
      },
      stages: [
        { name: 'ingress', description: `VXLAN to ${tunnel.src}:${tunnel.dstPort}` },
        { name: 'decap', transform: { kind: 'vxlan-decap', vni: tunnel.vni } },
        {
          name: 'nat',
          transform: {
            kind: 'dnat44',
            match: { dstIp: mapping.external.address, dstPort: mapping.external.port },
            rewrite: { dstIp: mapping.local.address, dstPort: mapping.local.port ?? mapping.external.port },
          },
        },
        {
          name: 'esp',
          transform: {
            kind: 'esp-encrypt',
            sa: {
              spi: sa.spi,
              algorithm: 'aes-gcm-128',
              key: input.withKeys && secret.crypto ? secret.crypto.slice(0, 32) : { from: 'runtime' },
              salt: sa.salt.toString(16).padStart(8, '0'),
              tunnel: { srcIp: ipip.src, dstIp: ipip.dst },
              encapsulation: { kind: 'none' },
              ttl: 64,
            },
          },
        },
        { name: 'wire', transform: { kind: 'fragment', mtuBytes: uplink.out.mtu } },
        { name: 'delivered', transform: { kind: 'esp-decrypt' } },
      ],
      hops: views.map((v) => ({
        name: v.hop.name,
        transport: v.hop.transport,
        vpp: {
          ...v.hop.vpp,
          ...(ingress[v.hop.name] ? { ingress: ingress[v.hop.name] } : {}),
          ...(egress[v.hop.name] ? { egress: egress[v.hop.name] } : {}),
        },
      })),
      injector: { transport: input.injector.transport, interface: input.injector.interface, mtuBytes: 9000 },
      captures,
      acceptance: { minDeliveryRatio: 0.9, maxLatencyP99Ms: 50 },
    },
    'discover',
  );
  return { profile, unmapped, notes };
}

export class DiscoverError extends Error {
  override readonly name = 'DiscoverError';
}
