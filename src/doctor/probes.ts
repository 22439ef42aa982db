/**
 * Doctor's probes: VXLAN packets exactly as one end's configuration makes it send them (outer source =
 * its local address, destination = its remote, its VNI and UDP port, inner frame to the peer's overlay
 * address and the MAC this end has for it), each carrying a probe header (run id, flow, seq) so that every
 * capture point can say which probe it saw. Control probes are the same packet to UDP 33434: a port no
 * firewall rule for VXLAN names, so "4789 blocked, path open" can be told from "wrong address".
 */
import { randomInt } from 'node:crypto';
import { type Bindings, defaultBindings, Layer } from '../codec/stack.ts';
import { createVxlanTemplate } from '../codec/template.ts';
import type { EndConfig } from './config.ts';

export type Direction = 'a->b' | 'b->a';
export type ProbeKind = 'vxlan' | 'control';

export const CONTROL_PORT = 33434;
/** outer IPv4 + UDP + VXLAN + inner Ethernet: what VXLAN adds to an inner IPv4 packet */
export const VXLAN_OVERHEAD_BYTES = 50;
/** inner IPv4 + UDP headers around the probe payload */
const INNER_HEADERS_BYTES = 28;
/** smallest inner packet that carries a probe header (20 + 8 + 32) */
export const MIN_INNER_BYTES = 60;
const INNER_PORTS = { src: 40000, dst: 9 } as const;
const OUTER_SRC_PORT = 50000;

export interface PlannedProbe {
  seq: number;
  direction: Direction;
  kind: ProbeKind;
  /** inner IPv4 packet bytes; the outer packet is this + 50 */
  innerBytes: number;
  dontFragment: boolean;
}

/** Flow ids in the probe header: direction × kind. */
export function flowIdOf(direction: Direction, kind: ProbeKind): number {
  return (direction === 'a->b' ? 1 : 2) * 16 + (kind === 'vxlan' ? 0 : 1);
}

export function newRunId(): number {
  return randomInt(1, 0x7fffffff);
}

/** The addresses a sender uses, derived from its own configuration and the peer's. */
export interface SenderView {
  outerSrc: string;
  outerDst: string;
  dstPort: number;
  vni: number;
  innerSrcMac: string;
  innerDstMac: string;
  innerSrc: string;
  innerDst: string;
}

/** Fallback overlay addresses (documentation range) when an end has no address on its overlay. */
const FALLBACK_INNER = { a: '192.0.2.1', b: '192.0.2.2' };

export function senderView(from: EndConfig, to: EndConfig, side: 'a' | 'b'): SenderView {
  const v = from.vxlan;
  // The kernel sends from `local` only if it is an address of this host; otherwise from the route's source.
  const outerSrc =
    v.local && from.ownAddresses.includes(v.local) ? v.local : (from.underlay.source ?? v.local ?? '');
  const innerDst = to.vxlan.innerAddresses[0] ?? FALLBACK_INNER[side === 'a' ? 'b' : 'a'];
  return {
    outerSrc,
    outerDst: v.remote ?? '',
    dstPort: v.dstPort,
    vni: v.vni,
    innerSrcMac: v.mac,
    innerDstMac: v.neighbours[innerDst] ?? to.vxlan.mac,
    innerSrc: v.innerAddresses[0] ?? FALLBACK_INNER[side],
    innerDst,
  };
}

/** The IPv4 packet (no Ethernet: the raw injector sends it and the kernel routes it) for one probe. */
export function buildProbePacket(view: SenderView, p: PlannedProbe, runId: number): Uint8Array {
  const t = createVxlanTemplate({
    payloadBytes: p.innerBytes - INNER_HEADERS_BYTES,
    runId,
    flowId: flowIdOf(p.direction, p.kind),
    ipIdBase: p.seq,
    outer: {
      srcMac: '02:00:00:00:00:01', // stripped: the raw injector sends from the IPv4 header on
      dstMac: '02:00:00:00:00:02',
      srcIp: view.outerSrc,
      dstIp: view.outerDst,
      srcPortBase: OUTER_SRC_PORT,
      srcPortCount: 1,
      dstPort: p.kind === 'vxlan' ? view.dstPort : CONTROL_PORT,
      vni: view.vni,
      vxlanFlags: 0x08,
      udpChecksum: false,
      ttl: 64,
      dontFragment: p.dontFragment,
    },
    inner: {
      srcMac: view.innerSrcMac,
      dstMac: view.innerDstMac,
      srcIp: view.innerSrc,
      dstIp: view.innerDst,
      srcPort: INNER_PORTS.src,
      dstPort: INNER_PORTS.dst,
      ttl: 64,
    },
  });
  return t.patch(p.seq, BigInt(Date.now()) * 1_000_000n).slice(14);
}

/** Dissector bindings for captures: the tunnel's ports and the control port decode as VXLAN. */
export function probeBindings(ports: number[]): Bindings {
  const b = defaultBindings();
  for (const port of [...ports, CONTROL_PORT]) b.bindUdpPort(port, Layer.vxlan);
  return b;
}
