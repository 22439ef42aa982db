/**
 * The reference chain's kernel counters, per hop namespace: every interface (`ip -s -j link`), every nftables
 * rule counter (the NAT rules and the fault rules: a drop fault counts what it dropped), the IPsec SAs'
 * packet counters (swanctl) and the UDP sink's datagram count.
 */
import { performance } from 'node:perf_hooks';
import type { CounterSnapshot } from '../counters.ts';
import { listSas } from './charon.ts';
import { command } from './command.ts';
import { readSink } from './sink.ts';
import type { Topology } from './topology.ts';

interface IpLink {
  ifname: string;
  stats64?: {
    rx: Record<string, number>;
    tx: Record<string, number>;
  };
}

/** `ip -s -j link show` → if/IF/rx_packets, if/IF/tx_dropped, … */
export function parseLinkCounters(json: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of JSON.parse(json || '[]') as IpLink[]) {
    if (!l.stats64 || l.ifname === 'lo') continue;
    for (const dir of ['rx', 'tx'] as const)
      for (const [k, v] of Object.entries(l.stats64[dir])) out[`if/${l.ifname}/${dir}_${k}`] = v;
  }
  return out;
}

interface NftRule {
  family: string;
  table: string;
  chain: string;
  comment?: string;
  expr?: Record<string, unknown>[];
}

/** `nft -j list ruleset` → nft/FAMILY/TABLE/CHAIN/(COMMENT|N)/packets for every rule with a counter. */
export function parseNftCounters(json: string): Record<string, number> {
  const out: Record<string, number> = {};
  const items = (JSON.parse(json || '{"nftables":[]}') as { nftables: { rule?: NftRule }[] }).nftables;
  const perChain = new Map<string, number>();
  for (const { rule } of items) {
    if (!rule) continue;
    const chain = `nft/${rule.family}/${rule.table}/${rule.chain}`;
    const n = perChain.get(chain) ?? 0;
    perChain.set(chain, n + 1);
    const counter = rule.expr?.find((e) => 'counter' in e)?.counter as
      | { packets: number; bytes: number }
      | undefined;
    if (!counter) continue;
    const id = rule.comment ? rule.comment.replace(/[\s/]+/g, '-') : String(n);
    out[`${chain}/${id}/packets`] = counter.packets;
    out[`${chain}/${id}/bytes`] = counter.bytes;
  }
  return out;
}

export async function readCounters(t: Topology, sinkPid: number | undefined): Promise<CounterSnapshot> {
  const t0 = performance.now();
  const takenAt = new Date().toISOString();
  const places: Record<string, string> = {
    injector: t.ns.gen,
    vxlan: t.hops.vxlan.ns,
    security: t.hops.security.ns,
    destination: t.hops.destination.ns,
  };
  const unavailable: CounterSnapshot['unavailable'] = [];
  const hops: CounterSnapshot['hops'] = {};
  const read = async (hop: string, what: string, f: () => Promise<Record<string, number>>) => {
    try {
      Object.assign((hops[hop] ??= {}), await f());
    } catch (e) {
      unavailable.push({ hop, reason: `${what}: ${(e as Error).message}` });
    }
  };
  await Promise.all([
    ...Object.entries(places).flatMap(([hop, ns]) => [
      read(hop, 'interfaces', async () =>
        parseLinkCounters(
          (await command('ip', ['-s', '-j', '-n', ns, 'link', 'show'], { timeoutMs: 5000 })).stdout,
        ),
      ),
      read(hop, 'nftables', async () =>
        parseNftCounters(
          (await command('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset'], { timeoutMs: 5000 }))
            .stdout,
        ),
      ),
    ]),
    ...(['security', 'destination'] as const).map((hop) =>
      read(hop, 'IPsec SAs', async () => {
        const out: Record<string, number> = {};
        for (const ike of await listSas(hop))
          for (const c of ike.children) {
            out[`sa/${c.child}/packets_in`] = c.packetsIn;
            out[`sa/${c.child}/packets_out`] = c.packetsOut;
          }
        return out;
      }),
    ),
    read('destination', 'UDP sink', async () => {
      if (!sinkPid) throw new Error('no sink recorded');
      const s = await readSink(sinkPid);
      return { 'sink/datagrams': s.packets, 'sink/bytes': s.bytes };
    }),
  ]);
  return { driver: 'refchain', takenAt, hops, unavailable, tookMs: Math.round(performance.now() - t0) };
}
