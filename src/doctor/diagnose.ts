/**
 * From what was configured and what the captures saw, name what is wrong — pure, no I/O, so each rule is
 * tested on its own. Per direction X→Y, the probe's path is followed point by point:
 *   left X's underlay? → reached Y's underlay? → decapsulated on Y's VXLAN interface? → inner MAC accepted?
 * and the first point it did not reach names the fault; sizes that cross next to sizes that vanish name
 * an MTU black hole; outer addresses that differ between the two underlay captures are NAT.
 */
import type { EndConfig } from './config.ts';
import type { Finding } from './findings.ts';
import type { EndRuntime, RoundResult, Side, Sighting } from './observe.ts';
import { CONTROL_PORT, type Direction, type PlannedProbe, VXLAN_OVERHEAD_BYTES } from './probes.ts';

export interface DirectionEvidence {
  direction: Direction;
  /** the first round: small and full-size VXLAN probes plus control probes */
  basic: RoundResult;
  /** the largest inner size that crossed, when a search ran */
  maxInnerBytes?: number;
  fullInnerBytes: number;
}

const other = (s: Side): Side => (s === 'a' ? 'b' : 'a');
const ends = (d: Direction): [Side, Side] => (d === 'a->b' ? ['a', 'b'] : ['b', 'a']);

export function sightingsOf(
  r: RoundResult,
  point: keyof RoundResult['seen'],
  pick: (p: PlannedProbe) => boolean,
) {
  const out: Sighting[] = [];
  for (const p of r.planned) {
    if (!pick(p)) continue;
    const s = r.seen[point].get(p.seq);
    if (s) out.push(s);
  }
  return out;
}

const withDecoded = (xs: Sighting[]) => xs.find((x) => x.decoded) ?? xs[0];

/** Public address of each side as the other side sees it (the outer source after NAT). */
export function observedPublic(rounds: RoundResult[]): Partial<Record<Side, string>> {
  const out: Partial<Record<Side, string>> = {};
  for (const r of rounds)
    for (const p of r.planned) {
      const [x, y] = ends(p.direction);
      const s = r.seen[`${y}.underlay`].get(p.seq);
      if (s?.outer && !out[x]) out[x] = s.outer.src;
    }
  return out;
}

function isOwn(c: EndConfig, addr: string | undefined): boolean {
  return addr !== undefined && c.ownAddresses.includes(addr);
}

export function diagnoseDirection(
  ev: DirectionEvidence,
  rt: Record<Side, EndRuntime>,
  publicOf: Partial<Record<Side, string>>,
): Finding[] {
  const { direction: d, basic: r } = ev;
  const [x, y] = ends(d);
  const X = rt[x].config;
  const Y = rt[y].config;
  const small = (p: PlannedProbe) =>
    p.direction === d && p.kind === 'vxlan' && p.innerBytes < ev.fullInnerBytes;
  const full = (p: PlannedProbe) =>
    p.direction === d && p.kind === 'vxlan' && p.innerBytes === ev.fullInnerBytes;
  const control = (p: PlannedProbe) => p.direction === d && p.kind === 'control';
  const count = (pick: (p: PlannedProbe) => boolean) => r.planned.filter(pick).length;

  const sent = sightingsOf(r, `${x}.underlay`, small);
  const arrived = sightingsOf(r, `${y}.underlay`, small);
  const decap = sightingsOf(r, `${y}.overlay`, small);
  const controlArrived = sightingsOf(r, `${y}.underlay`, control);
  const fullArrived = sightingsOf(r, `${y}.underlay`, full);
  const facts = {
    probes: count(small),
    leftSender: sent.length,
    reachedReceiverUnderlay: arrived.length,
    decapsulated: decap.length,
    controlProbes: count(control),
    controlReachedReceiver: controlArrived.length,
    senderVni: X.vxlan.vni,
    receiverVni: Y.vxlan.vni,
    senderRemote: X.vxlan.remote,
    senderLocal: X.vxlan.local,
    receiverLocal: Y.vxlan.local,
    receiverRemote: Y.vxlan.remote,
    receiverAddresses: Y.ownAddresses,
    receiverPublicSeen: publicOf[y],
    captureDrops: r.captureDrops,
  };
  const evidence = {
    sent: withDecoded(sent),
    received: withDecoded(arrived),
    decapsulated: withDecoded(decap),
    facts,
  };
  const findings: Finding[] = [];
  const who = (s: Side) => `${s.toUpperCase()} (${rt[s].host.name})`;

  if (sent.length === 0) {
    const drops = r.captureDrops[`${x}.underlay`];
    return [
      {
        kind: 'not-evaluated',
        severity: 'error',
        direction: d,
        summary: `no probe was seen leaving ${who(x)} on ${X.underlay.device} (injected ${r.injected[x]?.sent ?? 0}, refused ${r.injected[x]?.failed ?? 0}, capture drops ${drops})`,
        evidence,
        fix: `check that ${X.underlay.device} is the interface toward ${X.vxlan.remote} and that probes may be sent there`,
      },
    ];
  }

  // 1. Nothing reaches Y's underlay: the address is wrong, or the path drops VXLAN.
  if (arrived.length === 0) {
    const remote = X.vxlan.remote;
    const yPublic = publicOf[y];
    if (isOwn(Y, remote) || (yPublic !== undefined && yPublic !== remote)) {
      const why = isOwn(Y, remote)
        ? `${remote} is ${who(y)}'s private address, which is not routed between the clouds`
        : `${who(y)} is reached at ${yPublic} (its probes arrive from there), not at ${remote}`;
      findings.push({
        kind: 'remote-mismatch',
        severity: 'error',
        direction: d,
        summary: `${who(x)} sends its VXLAN packets to ${remote}, which is not ${who(y)}: ${why}`,
        evidence,
        fix: yPublic
          ? `set ${who(x)}'s remote to ${yPublic}: ip link set ${X.vxlan.device} type vxlan remote ${yPublic} (or recreate it)`
          : `set ${who(x)}'s remote to ${who(y)}'s public address`,
      });
    } else {
      const path = controlArrived.length > 0;
      findings.push({
        kind: 'udp-blocked',
        severity: 'error',
        direction: d,
        summary: path
          ? `VXLAN probes to ${remote}:${X.vxlan.dstPort} left ${who(x)} and never reached ${who(y)}, while the same packets to UDP ${CONTROL_PORT} did: UDP ${X.vxlan.dstPort} is dropped on the path`
          : `VXLAN probes to ${remote}:${X.vxlan.dstPort} left ${who(x)} and never reached ${who(y)}; UDP ${CONTROL_PORT} did not arrive either (the path drops UDP to ${remote}, or ${remote} is not ${who(y)}'s public address)`,
        evidence: { ...evidence, received: withDecoded(controlArrived) },
        fix: `allow UDP ${X.vxlan.dstPort} from ${publicOf[x] ?? X.vxlan.local ?? 'the peer'} to ${remote} in every firewall on the way (cloud security group / firewall rule, host nftables)`,
      });
    }
    return findings;
  }

  // 2. NAT on the way: outer addresses differ between what left X and what reached Y.
  const s0 = sent.find((s) => arrived.some((a) => a.seq === s.seq)) ?? sent[0];
  const a0 = arrived.find((a) => a.seq === s0.seq) ?? arrived[0];
  if (s0.outer && a0.outer && (s0.outer.src !== a0.outer.src || s0.outer.dst !== a0.outer.dst)) {
    const bySource = Y.matchesBySource && Y.vxlan.remote !== a0.outer.src;
    const foreignLocal = Y.vxlan.local !== undefined && !isOwn(Y, Y.vxlan.local);
    const rewritten = `source ${s0.outer.src} → ${a0.outer.src}, destination ${s0.outer.dst} → ${a0.outer.dst}`;
    findings.push({
      kind: 'nat-rewrite',
      severity: bySource || foreignLocal ? 'error' : 'info',
      direction: d,
      summary: bySource
        ? `NAT rewrites the outer header (${rewritten}) and ${who(y)} (${Y.reader}) accepts a tunnel packet only from its remote ${Y.vxlan.remote}`
        : foreignLocal
          ? `NAT rewrites the outer header (${rewritten}); ${who(y)}'s VXLAN local address ${Y.vxlan.local} is not one of its addresses (${Y.ownAddresses.join(', ')}), so it cannot send from it and packets arrive addressed to ${a0.outer.dst}`
          : `NAT rewrites the outer header (${rewritten}); harmless here: ${who(y)} (${Y.reader}) matches tunnels by VNI`,
      evidence,
      fix: bySource
        ? `set ${who(y)}'s tunnel remote to ${a0.outer.src} (the address packets really come from)`
        : foreignLocal
          ? `set ${who(y)}'s local to its own address ${a0.outer.dst}; keep the public address only in the peer's remote`
          : 'nothing to do',
    });
  }
  // Y's own remote must be where X's packets come from.
  if (Y.vxlan.remote !== undefined && a0.outer && Y.vxlan.remote !== a0.outer.src && !Y.matchesBySource)
    findings.push({
      kind: 'remote-mismatch',
      severity: 'error',
      direction: d,
      summary: `${who(y)}'s remote is ${Y.vxlan.remote}, but ${who(x)}'s packets arrive from ${a0.outer.src}: ${who(y)} sends to an address that is not ${who(x)}`,
      evidence,
      fix: `set ${who(y)}'s remote to ${a0.outer.src}`,
    });

  // 3. Reached Y, not decapsulated.
  if (decap.length === 0) {
    const vni = a0.vni ?? X.vxlan.vni;
    if (vni !== Y.vxlan.vni)
      findings.push({
        kind: 'vni-mismatch',
        severity: 'error',
        direction: d,
        summary: `probes reach ${who(y)}'s underlay with VNI ${vni}, but its VXLAN interface ${Y.vxlan.device} has VNI ${Y.vxlan.vni}: no interface accepts them`,
        evidence,
        fix: `use one VNI on both ends (e.g. ${X.vxlan.vni}): recreate ${who(y)}'s ${Y.vxlan.device} with id ${X.vxlan.vni}, or ${who(x)}'s with id ${Y.vxlan.vni}`,
      });
    else if (!findings.some((f) => f.severity === 'error'))
      findings.push({
        kind: 'not-decapsulated',
        severity: 'error',
        direction: d,
        summary: `probes reach ${who(y)}'s underlay (UDP ${a0.outer?.dstPort}, VNI ${vni}) but ${Y.vxlan.device} never receives them (its UDP port is ${Y.vxlan.dstPort})`,
        evidence,
        fix: `check ${who(y)}'s VXLAN port (dstport ${Y.vxlan.dstPort}) and host firewall for UDP ${a0.outer?.dstPort}`,
      });
    return findings;
  }

  // 4. Decapsulated, but the inner destination MAC is nobody's on Y.
  const accepted = new Set(
    [Y.vxlan.mac, ...Y.vxlan.bridgeMacs, 'ff:ff:ff:ff:ff:ff'].map((m) => m.toLowerCase()),
  );
  const d0 = withDecoded(decap);
  if (!accepted.has(d0.innerDstMac.toLowerCase()))
    findings.push({
      kind: 'l2-drop',
      severity: 'error',
      direction: d,
      summary: `probes are decapsulated on ${who(y)}'s ${Y.vxlan.device} with inner destination MAC ${d0.innerDstMac}, which is neither the interface's (${Y.vxlan.mac}) nor a bridge/BVI's (${Y.vxlan.bridgeMacs.join(', ') || 'none'}): dropped at L2`,
      evidence,
      fix: `make ${who(x)}'s inner frames go to ${Y.vxlan.bridgeMacs[0] ?? Y.vxlan.mac}: e.g. ip neigh replace ${rt[x].view.innerDst} lladdr ${Y.vxlan.bridgeMacs[0] ?? Y.vxlan.mac} dev ${X.vxlan.device}`,
    });

  // 5. Small ones cross, full-size ones do not: an MTU black hole.
  if (fullArrived.length === 0) {
    const max = ev.maxInnerBytes;
    findings.push({
      kind: 'mtu-blackhole',
      severity: 'error',
      direction: d,
      summary: `inner packets of ${Math.max(...sent.map((s) => s.innerBytes))} bytes cross, ${ev.fullInnerBytes}-byte ones (outer ${ev.fullInnerBytes + VXLAN_OVERHEAD_BYTES}, DF) vanish without an ICMP error; the largest that crosses is ${max ?? '?'} bytes inner (${max !== undefined ? max + VXLAN_OVERHEAD_BYTES : '?'} outer)`,
      evidence: { ...evidence, facts: { ...facts, fullInnerBytes: ev.fullInnerBytes, fullSizeArrived: 0 } },
      fix:
        max !== undefined
          ? `set the VXLAN interfaces' MTU to ${max} on both ends (ip link set ${X.vxlan.device} mtu ${max}; VXLAN adds ${VXLAN_OVERHEAD_BYTES} bytes), or clamp TCP MSS; and let ICMP "fragmentation needed" through`
          : 'lower the VXLAN MTU and let ICMP "fragmentation needed" through',
      ...(max !== undefined ? { maxInnerBytes: max } : {}),
    });
  }
  return findings;
}

/** Findings that need no probe: configuration that cannot work whatever the network does. */
export function diagnoseConfig(rt: Record<Side, EndRuntime>): Finding[] {
  const out: Finding[] = [];
  for (const s of ['a', 'b'] as const) {
    const c = rt[s].config;
    if (c.vxlan.remote !== undefined && isOwn(c, c.vxlan.remote))
      out.push({
        kind: 'remote-mismatch',
        severity: 'error',
        summary: `${s.toUpperCase()}'s remote ${c.vxlan.remote} is its own address`,
        evidence: { facts: { remote: c.vxlan.remote, ownAddresses: c.ownAddresses } },
        fix: `set ${s.toUpperCase()}'s remote to ${other(s).toUpperCase()}'s public address`,
      });
  }
  return out;
}

/** Keep one finding per (kind, severity, summary): both directions often tell the same story. */
export function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${f.kind}|${f.summary}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
