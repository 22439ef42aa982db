/**
 * Real impairments in the chain's data plane, so that suites can prove chainprobe notices a fault and
 * names the hop. One fault of each kind per hop; setting a kind again replaces it (idempotent).
 *
 *   drop PCT         nftables netdev ingress on the hop's ingress link: `numgen random mod 100 < PCT drop`
 *   rate RATE        tbf on the hop's egress toward the next hop (vxlan: vx1, security: sec1 = the ESP wire);
 *                    the destination has no next hop, so there an nft `limit rate over` polices its ingress
 *                    (the kernel has no act_police)
 *   down             the hop's ingress link set down (`--clear` sets it up and restores neighbours/routes)
 *   rewrite-source   nft `ip saddr set IP` where the hop hands the inner packet on (security: into ipsec0).
 *                    Stateless on purpose: a conntrack `snat` rule would only catch flows created after the
 *                    fault, and the probe flows are long-lived conntrack entries.
 */
import { type Fault, rateBytesPerSecond, validateFault } from '../fault.ts';
import { command, ipBatch } from './command.ts';
import { readJson, runPath, writePrivate } from './rundir.ts';
import { dstRoutes, type HopName, secRoutes, type Topology, vxRoutes } from './topology.ts';

export type ActiveFaults = Partial<Record<HopName, Fault[]>>;

const faultsPath = () => runPath('faults.json');
export const readFaults = (): ActiveFaults => readJson<ActiveFaults>(faultsPath()) ?? {};

const table = (hop: HopName, kind: Fault['kind']) => `refchain_fault_${hop}_${kind.replace('-', '_')}`;

/** Creating then deleting the table first makes every ruleset load idempotent and atomic. */
async function nftReplace(
  ns: string,
  family: 'netdev' | 'ip',
  name: string,
  body: string | undefined,
): Promise<void> {
  const text = `table ${family} ${name} {}\ndelete table ${family} ${name}\n${body ? `table ${family} ${name} {\n${body}\n}\n` : ''}`;
  await command('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: text });
}

function rewriteHook(t: Topology, hop: HopName): string {
  // where the hop hands the inner packet on (destination: as it comes out of libipsec, reassembled)
  if (hop === 'vxlan')
    return `type filter hook postrouting priority 300; policy accept;\n    oifname "${t.vx.out}"`;
  if (hop === 'security')
    return `type filter hook postrouting priority 300; policy accept;\n    oifname "${t.sec.tun}"`;
  return `type filter hook prerouting priority -150; policy accept;\n    iifname "${t.dst.tun}"`;
}

async function apply(t: Topology, hop: HopName, f: Fault): Promise<void> {
  const h = t.hops[hop];
  switch (f.kind) {
    case 'drop':
      return nftReplace(
        h.ns,
        'netdev',
        table(hop, 'drop'),
        `  chain ingress {\n    type filter hook ingress device "${h.ingress}" priority -500; policy accept;\n    numgen random mod 100 < ${f.percent} counter drop\n  }`,
      );
    case 'rate': {
      const bps = rateBytesPerSecond(f.rate);
      if (h.egress) {
        // burst: at least two jumbo frames, else tbf cannot pass a 9000-byte frame at all
        const burst = Math.max(20_000, Math.round(bps / 50));
        await command('ip', [
          'netns',
          'exec',
          h.ns,
          'tc',
          'qdisc',
          'replace',
          'dev',
          h.egress,
          'root',
          'tbf',
          'rate',
          `${bps * 8}bit`,
          'burst',
          String(burst),
          'latency',
          '50ms',
        ]);
        return;
      }
      const burst = Math.max(20_000, Math.round(bps / 50));
      return nftReplace(
        h.ns,
        'netdev',
        table(hop, 'rate'),
        `  chain ingress {\n    type filter hook ingress device "${h.ingress}" priority -400; policy accept;\n    limit rate over ${bps} bytes/second burst ${burst} bytes counter drop\n  }`,
      );
    }
    case 'down':
      await command('ip', ['-n', h.ns, 'link', 'set', h.ingress, 'down']);
      return;
    case 'rewrite-source':
      return nftReplace(
        h.ns,
        'ip',
        table(hop, 'rewrite-source'),
        `  chain rewrite {\n    ${rewriteHook(t, hop)} ip saddr != ${f.ip} ip saddr set ${f.ip} counter\n  }`,
      );
  }
}

async function remove(t: Topology, hop: HopName, kind: Fault['kind']): Promise<void> {
  const h = t.hops[hop];
  switch (kind) {
    case 'drop':
      return nftReplace(h.ns, 'netdev', table(hop, 'drop'), undefined);
    case 'rate':
      if (h.egress)
        await command('ip', ['netns', 'exec', h.ns, 'tc', 'qdisc', 'del', 'dev', h.egress, 'root'], {
          check: false,
        });
      return nftReplace(h.ns, 'netdev', table(hop, 'rate'), undefined);
    case 'down': {
      await command('ip', ['-n', h.ns, 'link', 'set', h.ingress, 'up']);
      // link down flushes the hop's neighbours (and routes via the link): put the static ones back everywhere
      await ipBatch(t.ns.gen, [
        `neigh replace ${t.vx.inIp} lladdr ${t.vx.inMac} dev ${t.gen.link} nud permanent`,
      ]);
      await ipBatch(t.ns.vx, vxRoutes(t));
      await ipBatch(t.ns.sec, secRoutes(t));
      await ipBatch(t.ns.dst, dstRoutes(t));
      return;
    }
    case 'rewrite-source':
      return nftReplace(h.ns, 'ip', table(hop, 'rewrite-source'), undefined);
  }
}

export async function setFault(t: Topology, hop: HopName, fault: Fault): Promise<ActiveFaults> {
  validateFault(fault);
  await apply(t, hop, fault);
  const all = readFaults();
  all[hop] = [...(all[hop] ?? []).filter((f) => f.kind !== fault.kind), fault];
  writePrivate(faultsPath(), JSON.stringify(all, null, 2));
  return all;
}

/** Removes every fault of one hop (or of all hops). Removing what is not set is not an error. */
export async function clearFaults(t: Topology, hop?: HopName): Promise<ActiveFaults> {
  const all = readFaults();
  const hops = hop ? [hop] : (Object.keys(t.hops) as HopName[]);
  for (const h of hops) {
    const kinds = new Set<Fault['kind']>([
      'drop',
      'rate',
      'rewrite-source',
      ...(all[h] ?? []).map((f) => f.kind),
    ]);
    for (const k of kinds) if (k !== 'down' || all[h]?.some((f) => f.kind === 'down')) await remove(t, h, k);
    delete all[h];
  }
  writePrivate(faultsPath(), JSON.stringify(all, null, 2));
  return all;
}
