/**
 * `chainprobe doctor` on a VPP end: its VXLAN tunnels as doctor's VxlanEndpoint, read with vppctl through
 * the place's transport (a VPP container's default CLI socket). VPP accepts a VXLAN packet only when its
 * outer source equals the tunnel's `dst` — so a 1:1 NAT that rewrites the source breaks it (matchesBySource).
 */
import type { VxlanConfigReader, VxlanEndpoint } from '../../doctor/config.ts';
import type { Transport } from '../../transport/transport.ts';
import {
  parseShowHardwareInterfaces,
  parseShowInterface,
  parseShowInterfaceAddr,
} from './parse/interface.ts';
import { parseShowBridgeDomainDetail, parseShowVxlanTunnel } from './parse/l2.ts';
import { Vppctl } from './vppctl.ts';

export const vppVxlanReader: VxlanConfigReader = {
  name: 'vpp',
  matchesBySource: true,
  async read(t: Transport): Promise<VxlanEndpoint[]> {
    const vpp = new Vppctl('doctor', t, undefined);
    let tunnels: ReturnType<typeof parseShowVxlanTunnel>;
    try {
      tunnels = parseShowVxlanTunnel(await vpp.exec('show vxlan tunnel'));
    } catch {
      return []; // no VPP (or no vxlan plugin) at this place
    }
    const [ifs, addrs, hw] = await Promise.all([
      vpp.exec('show interface').then(parseShowInterface),
      vpp.exec('show interface addr').then(parseShowInterfaceAddr),
      vpp.exec('show hardware-interfaces').then(parseShowHardwareInterfaces),
    ]);
    const out: VxlanEndpoint[] = [];
    for (const tn of tunnels) {
      const device = ifs.find((i) => i.index === tn.swIfIndex)?.name ?? `vxlan_tunnel${tn.instance}`;
      const bd = addrs.find((a) => a.name === device)?.bridge?.bdId;
      const domain =
        bd === undefined
          ? null
          : parseShowBridgeDomainDetail(await vpp.exec(`show bridge-domain ${bd} detail`));
      const bvi = domain?.bvi;
      out.push({
        device,
        vni: tn.vni,
        local: tn.src,
        remote: tn.dst,
        dstPort: tn.dstPort,
        mtu: ifs.find((i) => i.name === device)?.mtu.l3 ?? 9000,
        mac: hw.find((h) => h.name === device)?.mac ?? '',
        bridgeMacs: bvi ? [hw.find((h) => h.name === bvi)?.mac ?? ''].filter(Boolean) : [],
        innerAddresses: (addrs.find((a) => a.name === bvi)?.l3 ?? []).map((p) => p.split('/')[0] as string),
        neighbours: {},
      });
    }
    return out;
  },
};
