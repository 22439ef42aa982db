/**
 * Which VPP counters account for the probes lost at one hop: from the hop's counter delta (after − before)
 * and the number of probes lost there, the drop-like counters that moved, ranked, as sentences:
 *   VPP node ip4-input, error "ip4 MTU exceeded and DF set" +100 (explains all 100 lost)
 * or "no VPP counter explains the N probes lost here". Two witnesses beside the counters: `tracedDrops` (which
 * nodes a packet trace shows dropping packets) and `natTranslation` (what NAT44 rewrote in the probes' flow).
 */
import type { CounterSeverity } from './counters.ts';
import type { VppNatFlowFields, VppNatSession } from './parse/nat44.ts';
import type { VppTracedPacket } from './parse/trace.ts';

export interface LossAttribution {
  counter: string;
  delta: number;
  /** all: the delta equals the loss (in probes, or in fragments of them); part: it does not */
  explains: 'all' | 'part';
  /** the unit the delta matched: probes, or fragments (lost × fragments per probe) */
  unit: 'probes' | 'fragments';
  text: string;
}

export interface LossExplanation {
  lost: number;
  /** best first: counters that explain all, then the closest */
  attributions: LossAttribution[];
  summary: string;
}

export interface LossAtHop {
  /** counter name → after − before (only counters that moved) */
  delta: Record<string, number>;
  severity: Record<string, CounterSeverity>;
  /** probes lost at this hop */
  lost: number;
  /** when the lost probes were fragmented before this hop: fragments per probe (a fragment-level counter moves by lost × this) */
  fragmentsPerProbe?: number;
}

/**
 * VPP declares many forwarding-path counters without a severity and then prints them as "error"
 * (v24.10: vxlan4-input "good packets decapsulated", l2-input "L2 input packets", l2-learn "L2 learn
 * misses"…): they count packets that went on, so they never explain a loss.
 */
const FORWARDING_PATH = [/^good packets\b/, /^L2 \S+ (packets|misses)$/];

function isDropLike(name: string, severity: CounterSeverity | undefined): boolean {
  if (severity !== 'error' && severity !== 'warn') return false;
  if (!name.startsWith('err/')) return true;
  const reason = name.slice(name.indexOf('/', 4) + 1);
  return !FORWARDING_PATH.some((re) => re.test(reason));
}

/** "VPP node X, error "R"", "VPP interface I, counter C", "VPP SA spi S, error "E"". */
export function describeVppCounter(name: string): string {
  const err = name.match(/^err\/([^/]+)\/(.*)$/);
  // b->error is set to the node's "no error" when a packet enters it; a later node that drops the packet
  // without recording a reason leaves that, so error-drop counts it there
  if (err?.[2] === 'no error')
    return `VPP node ${err[1]}, error "no error" (dropped after ${err[1]} by a node that recorded no reason)`;
  if (err) return `VPP node ${err[1]}, error "${err[2]}"`;
  const sa = name.match(/^sa\/(\d+)\/err\/(.*)$/);
  if (sa) return `VPP SA spi ${sa[1]}, error "${sa[2]}"`;
  const itf = name.match(/^if\/(.+)\/([^/]+)$/);
  if (itf) return `VPP interface ${itf[1]}, counter ${itf[2]}`;
  return `VPP counter ${name}`;
}

export function explainLoss({ delta, severity, lost, fragmentsPerProbe }: LossAtHop): LossExplanation {
  if (lost <= 0) return { lost, attributions: [], summary: 'no probes lost here: nothing to explain' };
  const fragments = fragmentsPerProbe && fragmentsPerProbe > 1 ? lost * fragmentsPerProbe : undefined;
  const attributions = Object.entries(delta)
    .filter(([name, d]) => d > 0 && isDropLike(name, severity[name]))
    .map(([counter, d]): LossAttribution & { distance: number } => {
      const unit = d === fragments ? 'fragments' : 'probes';
      const explains = d === lost || d === fragments ? 'all' : 'part';
      const how =
        explains === 'all'
          ? `explains all ${lost} lost${unit === 'fragments' ? `, ${fragmentsPerProbe} fragments each` : ''}`
          : d < lost
            ? `at most ${d} of the ${lost} lost`
            : `more than the ${lost} lost: other packets too`;
      return {
        counter,
        delta: d,
        explains,
        unit,
        text: `${describeVppCounter(counter)} +${d} (${how})`,
        distance:
          explains === 'all'
            ? 0
            : Math.min(Math.abs(d - lost), fragments ? Math.abs(d - fragments) : Infinity),
      };
    })
    .sort((a, b) => a.distance - b.distance || a.counter.localeCompare(b.counter))
    .map(({ distance: _, ...a }) => a);
  const best = attributions[0];
  return {
    lost,
    attributions,
    summary:
      best?.explains === 'all'
        ? best.text
        : best
          ? `no VPP counter explains all ${lost} probes lost here (closest: ${best.text})`
          : `no VPP counter explains the ${lost} probes lost here`,
  };
}

export interface TracedDrop {
  /** what VPP's `drop` node recorded: "<node>: <reason>" of the counter it incremented */
  reason: string;
  /** the last nodes before the packet left the forwarding path (to ip4-drop, ip4-icmp-error or error-drop) */
  lastNodes: string[];
  packets: number;
  text: string;
}

/** nodes where a packet leaves the forwarding path; after ip4-icmp-error the trace goes on with the ICMP reply */
const OFF_PATH = new Set(['error-drop', 'ip4-drop', 'ip6-drop', 'ip4-icmp-error', 'ip6-icmp-error']);

/**
 * The traced packets VPP dropped, grouped by drop reason and the nodes that led there: where counters say
 * "ethernet-input: no error", the trace shows which node really dropped (ip4-lookup → ip4-drop after NAT).
 * A trace holds every packet of the input node, not only probes: the caller filters probes first if it can.
 */
export function tracedDrops(packets: VppTracedPacket[], depth = 3): TracedDrop[] {
  const groups = new Map<string, TracedDrop>();
  for (const p of packets) {
    const dropAt = p.steps.findIndex((s) => s.node === 'error-drop');
    if (dropAt < 0) continue;
    const reason = p.steps.slice(dropAt).find((s) => s.node === 'drop')?.lines[0] ?? 'unknown';
    const offPath = p.steps.findIndex((s) => OFF_PATH.has(s.node));
    const lastNodes = p.steps
      .slice(0, offPath + 1)
      .map((s) => s.node)
      .slice(-depth);
    const key = `${reason}\u0000${lastNodes.join(' ')}`;
    const group = groups.get(key) ?? { reason, lastNodes, packets: 0, text: '' };
    group.packets += 1;
    groups.set(key, group);
  }
  return [...groups.values()]
    .sort((a, b) => b.packets - a.packets)
    .map((g) => ({
      ...g,
      text: `VPP trace: ${g.packets} of ${packets.length} traced packets dropped at ${g.lastNodes.join(' → ')} ("${g.reason}")`,
    }));
}

export interface NatTranslation {
  /** i2o: the probe entered on a NAT inside interface (node nat44-ed-in2out); o2i: on an outside one */
  direction: 'i2o' | 'o2i';
  node: 'nat44-ed-in2out' | 'nat44-ed-out2in';
  kind: VppNatSession['kind'];
  rewrite: VppNatFlowFields;
  rewritesSource: boolean;
  rewritesDestination: boolean;
  packets: number;
  text: string;
}

const endpoint = (addr?: string, port?: number) => `${addr}${port === undefined ? '' : `:${port}`}`;
const matches = (m: VppNatFlowFields, f: VppNatFlowFields) =>
  (Object.keys(f) as (keyof VppNatFlowFields)[]).every((k) => f[k] === undefined || m[k] === f[k]);

/**
 * What VPP's NAT does to a flow (the probes' addresses and ports as they reach the hop), from its sessions:
 * which node translated it and what it rewrote. null when no session matches the flow.
 */
export function natTranslation(sessions: VppNatSession[], flow: VppNatFlowFields): NatTranslation | null {
  for (const session of sessions) {
    for (const direction of ['i2o', 'o2i'] as const) {
      const { match, rewrite } = session[direction];
      if (!matches(match, flow)) continue;
      const node = direction === 'i2o' ? 'nat44-ed-in2out' : 'nat44-ed-out2in';
      const changes = [
        rewrite.saddr || rewrite.sport !== undefined
          ? `source ${endpoint(match.saddr, match.sport)} → ${endpoint(rewrite.saddr ?? match.saddr, rewrite.sport ?? match.sport)}`
          : '',
        rewrite.daddr || rewrite.dport !== undefined
          ? `destination ${endpoint(match.daddr, match.dport)} → ${endpoint(rewrite.daddr ?? match.daddr, rewrite.dport ?? match.dport)}`
          : '',
      ].filter(Boolean);
      const rewritesSource =
        (rewrite.saddr !== undefined && rewrite.saddr !== match.saddr) ||
        (rewrite.sport !== undefined && rewrite.sport !== match.sport);
      const rewritesDestination =
        (rewrite.daddr !== undefined && rewrite.daddr !== match.daddr) ||
        (rewrite.dport !== undefined && rewrite.dport !== match.dport);
      return {
        direction,
        node,
        kind: session.kind,
        rewrite,
        rewritesSource,
        rewritesDestination,
        packets: session.totalPackets,
        text: `VPP node ${node} (${session.kind} NAT44 session, ${session.totalPackets} packets): ${changes.join(', ') || 'nothing rewritten'}`,
      };
    }
  }
  return null;
}
