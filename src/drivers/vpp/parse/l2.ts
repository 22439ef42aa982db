/** The vxlan hop's L2 side: `show vxlan tunnel` and `show bridge-domain N detail`. */
import { tunnelLines, unrecognised, vppLines } from './text.ts';

export interface VppVxlanTunnel {
  instance: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  vni: number;
  fibIndex: number;
  swIfIndex: number;
}

/** `[0] instance 0 src A dst B src_port 4789 dst_port 4789 vni 100 fib-idx 0 sw-if-idx 3 encap-dpo-idx 4` */
export function parseShowVxlanTunnel(text: string): VppVxlanTunnel[] {
  return tunnelLines('show vxlan tunnel', text, (field) => ({
    instance: Number(field('instance')),
    src: field('src'),
    dst: field('dst'),
    srcPort: Number(field('src_port')),
    dstPort: Number(field('dst_port')),
    vni: Number(field('vni')),
    fibIndex: Number(field('fib-idx')),
    swIfIndex: Number(field('sw-if-idx')),
  }));
}

export interface VppBridgeDomain {
  bdId: number;
  index: number;
  /** the BVI interface, when the bridge domain has one */
  bvi?: string;
  learning: boolean;
  flooding: boolean;
  members: { name: string; swIfIndex: number; shg: number; bvi: boolean }[];
}

/** `show bridge-domain N detail`; null when VPP says "No such bridge domain N". */
export function parseShowBridgeDomainDetail(text: string): VppBridgeDomain | null {
  const command = 'show bridge-domain N detail';
  if (/No such bridge domain/.test(text)) return null;
  const lines = vppLines(text);
  const headAt = lines.findIndex((l) => /^\s*BD-ID\s+Index/.test(l));
  if (headAt < 0) throw unrecognised(command, 'no "BD-ID Index" header', text);
  // both tables have one word per column (no value contains a space), so header words name the values
  const titles = (lines[headAt] as string).trim().split(/\s+/);
  const values = (lines[headAt + 1] ?? '').trim().split(/\s+/);
  const bd = (title: string) => values[titles.indexOf(title)];
  const bvi = bd('BVI-Intf');
  const domain: VppBridgeDomain = {
    bdId: Number(bd('BD-ID')),
    index: Number(bd('Index')),
    ...(bvi && bvi !== 'N/A' ? { bvi } : {}),
    learning: bd('Learning') === 'on',
    flooding: bd('Flooding') === 'on',
    members: [],
  };
  if (!Number.isInteger(domain.bdId)) throw unrecognised(command, 'no bridge-domain row', text);
  const membersAt = lines.findIndex((l) => /^\s*Interface\s+If-idx/.test(l));
  for (const line of membersAt < 0 ? [] : lines.slice(membersAt + 1)) {
    const [name, swIfIndex, , shg, isBvi] = line.trim().split(/\s+/);
    if (!name || swIfIndex === undefined) continue;
    domain.members.push({ name, swIfIndex: Number(swIfIndex), shg: Number(shg), bvi: isBvi === '*' });
  }
  return domain;
}
