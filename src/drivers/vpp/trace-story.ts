/**
 * What VPP's packet trace (`trace add af-packet-input N`, then `show trace`) says happened to a packet,
 * in one line: the node that rewrote its source, or the node where it was dropped and why — the "last
 * node it visited" an operator looks for when a probe went missing or came out mangled.
 *
 * Pure over parsed traces (parse/trace.ts). A traced packet is tied to a capture by its kernel receive
 * timestamp: af-packet-input records the tpacket header's sec/nsec, the same skb timestamp tcpdump on
 * that Linux interface wrote — so a trace is matched to the probe seen at the hop's entry point exactly.
 */
import type { VppTracedPacket } from './parse/trace.ts';

export interface TraceStory {
  /** the kernel's receive timestamp of the packet (ns since epoch), when af-packet-input recorded it */
  kernelRxNs: bigint | null;
  /** the nodes in the order visited */
  nodes: string[];
  lastNode: string;
  /** "dropped at ip4-input: ip4 MTU exceeded and DF set", "source 10.10.10.5 → 172.20.102.50 by nat44-ed-in2out-slowpath" */
  findings: string[];
}

/** the first UDP line after decapsulation: the traffic's own source (VXLAN's outer UDP comes before l2) */
const INNER_UDP = /^UDP: (\d+\.\d+\.\d+\.\d+) -> (\d+\.\d+\.\d+\.\d+)/;
/** steps after the packet left L2 (decapsulated), or all of them when it never was in L2 */
const s_ = (p: VppTracedPacket) => {
  const l2 = p.steps.findIndex((st) => st.node.startsWith('l2-'));
  const ip = l2 < 0 ? 0 : p.steps.findIndex((st, i) => i > l2 && st.node.startsWith('ip4-'));
  return ip < 0 ? [] : p.steps.slice(ip);
};

export function traceStory(p: VppTracedPacket): TraceStory {
  const nodes = p.steps.map((s) => s.node);
  const findings: string[] = [];
  let kernelRxNs: bigint | null = null;
  const rx = p.steps.find((s) => s.node === 'af-packet-input');
  const sec = rx?.lines.map((l) => /sec 0x([0-9a-f]+) nsec 0x([0-9a-f]+)/.exec(l)).find(Boolean);
  if (sec) kernelRxNs = BigInt(`0x${sec[1]}`) * 1_000_000_000n + BigInt(`0x${sec[2]}`);

  // NAT nodes print each flow they apply as "match: saddr A … rewrite: saddr B": the forward flow is the
  // one matching the packet's current source (the other line is the reverse flow's)
  let source: string | undefined;
  for (const st of s_(p)) {
    const ip = st.lines.map((l) => INNER_UDP.exec(l)).find(Boolean);
    if (ip && source === undefined) source = ip[1];
    for (const l of st.lines) {
      const m = /match: saddr (\S+) .*rewrite: saddr (\S+)/.exec(l);
      if (m && m[1] === source && m[2] !== source) {
        findings.push(`source ${source} → ${m[2]} by ${st.node}`);
        source = m[2];
      }
    }
  }
  // VPP's `drop` node records "<node>: <reason>" of the error that dropped the buffer
  const drop = p.steps.find((st) => st.node === 'drop');
  const why = drop?.lines.map((l) => /^(\S+): (.+)$/.exec(l)).find(Boolean);
  if (why) findings.push(`dropped at ${why[1]}: ${why[2]}`);
  return { kernelRxNs, nodes, lastNode: nodes.at(-1) ?? '', findings };
}

/** The distinct findings over many traced packets, most frequent first ("×37 dropped after ip4-input: …"). */
export function summarizeStories(
  stories: TraceStory[],
): { finding: string; packets: number; path: string }[] {
  const by = new Map<string, { packets: number; path: string }>();
  for (const s of stories)
    for (const f of s.findings) {
      const e = by.get(f);
      if (e) e.packets++;
      else by.set(f, { packets: 1, path: s.nodes.join(' → ') });
    }
  return [...by].map(([finding, e]) => ({ finding, ...e })).sort((a, b) => b.packets - a.packets);
}
