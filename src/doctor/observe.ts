/**
 * One probe round: capture at both ends' underlay interface (both directions) and VXLAN interface (in),
 * send the planned probes from each end with the project's raw injector through that end's transport,
 * stop the captures and say, per capture point, which probe arrived and how it looked there.
 *
 * The sender's underlay capture shows the packet as sent (egress), the receiver's underlay capture the
 * packet as received (after every NAT on the way), the receiver's VXLAN capture the decapsulated frame.
 */

import { type Capture, startCaptures } from '../capture/index.ts';
import { ipv4ToString, macToString, toMac } from '../codec/address.ts';
import { readU16, readU32 } from '../codec/bytes.ts';
import { ETHERNET_HEADER_BYTES, ETHERTYPE_IPV4, ethernet } from '../codec/ethernet.ts';
import { ipv4 } from '../codec/ipv4.ts';
import { readProbe } from '../codec/probe.ts';
import { type Bindings, Dissection, dissect, summarize } from '../codec/stack.ts';
import { ChainprobeError } from '../errors.ts';
import { RawInjector } from '../inject/raw.ts';
import { TcpreplayInjector } from '../inject/tcpreplay.ts';
import { type FrameSource, framesFromList, type Injector, type InjectStats } from '../inject/types.ts';
import type { PcapPacket } from '../pcap/packet.ts';
import { type EndConfig, resolveNextHopMac } from './config.ts';
import type { Host } from './host.ts';
import {
  buildProbePacket,
  type Direction,
  flowIdOf,
  type PlannedProbe,
  probeBindings,
  type SenderView,
} from './probes.ts';

export type Side = 'a' | 'b';
export type PointName = `${Side}.underlay` | `${Side}.overlay`;
export const POINTS: readonly PointName[] = ['a.underlay', 'b.underlay', 'a.overlay', 'b.overlay'];

/** A probe as one capture point saw it. */
export interface Sighting {
  seq: number;
  timestampNs: bigint;
  /** outer header (underlay points only) */
  outer?: {
    src: string;
    dst: string;
    srcPort: number;
    dstPort: number;
    dontFragment: boolean;
    totalLength: number;
  };
  vni?: number;
  innerDstMac: string;
  innerBytes: number;
  /** the frame decoded, one line per layer (kept for the first sighting of each kind per point) */
  decoded?: string;
}

export interface RoundResult {
  planned: PlannedProbe[];
  seen: Record<PointName, Map<number, Sighting>>;
  injected: Partial<Record<Side, InjectStats>>;
  /** kernel drops per point: a probe missing there may be capture loss, not network loss */
  captureDrops: Record<PointName, number>;
}

export interface EndRuntime {
  side: Side;
  host: Host;
  config: EndConfig;
  view: SenderView;
}

const fromSide = (d: Direction): Side => (d === 'a->b' ? 'a' : 'b');

function sighting(
  pkt: PcapPacket,
  d: Dissection,
  underlay: boolean,
  keepDecoded: boolean,
  bindings: Bindings,
): Sighting {
  const f = d.frame;
  const probe = readProbe(f, d.probeOffset);
  const s: Sighting = {
    seq: probe.seq,
    timestampNs: pkt.timestampNs,
    innerDstMac: '',
    innerBytes: readU16(f, d.ipv4Offset + 2),
  };
  if (underlay && d.vxlanOffset >= 0 && d.outerIpv4Offset >= 0) {
    const { value: ip } = ipv4.decode(f, d.outerIpv4Offset);
    const udp = d.outerIpv4Offset + (f[d.outerIpv4Offset] & 0x0f) * 4;
    s.outer = {
      src: ipv4ToString(ip.src),
      dst: ipv4ToString(ip.dst),
      srcPort: readU16(f, udp),
      dstPort: readU16(f, udp + 2),
      dontFragment: ip.dontFragment,
      totalLength: ip.totalLength,
    };
    s.vni = readU32(f, d.vxlanOffset + 4) >>> 8;
    s.innerDstMac = macToString(readMac(f, d.vxlanOffset + 8));
  } else {
    s.innerDstMac = macToString(readMac(f, 0));
  }
  if (keepDecoded) s.decoded = summarize(f.slice(0, Math.min(f.length, 200)), pkt.linktype, bindings);
  return s;
}

function readMac(buf: Uint8Array, off: number): number {
  return buf[off] * 2 ** 40 + buf[off + 1] * 2 ** 32 + readU32(buf, off + 2);
}

/**
 * How probes leave an end. On this machine (local, netns) the raw injector sends the IPv4 packets and the
 * kernel routes them; elsewhere (ssh, docker) tcpreplay sends them as frames to the next hop's MAC.
 * Doctor sends only to what the tunnel configuration names: its remote and the peer's overlay address.
 */
async function injectorFor(
  end: EndRuntime,
  packets: Uint8Array[],
): Promise<{ injector: Injector; frames: FrameSource }> {
  const labPrefixes = [`${end.view.outerDst}/32`, `${end.view.innerDst}/32`];
  const kind = end.host.spec.kind;
  if (kind === 'local' || kind === 'netns')
    return {
      injector: new RawInjector({
        labPrefixes,
        transport: kind === 'local' ? undefined : end.host.transport,
        allowHostNamespace: true,
      }),
      frames: framesFromList('ipv4', packets),
    };
  const u = end.config.underlay;
  u.nextHopMac ??= await resolveNextHopMac(
    end.host.transport,
    u.device,
    u.gateway ?? end.view.outerDst,
    end.view.outerDst,
  );
  if (!u.mac || !u.nextHopMac)
    throw new ChainprobeError(
      'E_NO_INTERFACE',
      `no neighbour entry for the next hop (${u.gateway ?? end.view.outerDst}) on ${u.device} at ${end.host.transport.description}: frames cannot be addressed`,
    );
  const header = { dst: toMac(u.nextHopMac), src: toMac(u.mac), etherType: ETHERTYPE_IPV4 };
  const frames = packets.map((p) => {
    const f = new Uint8Array(ETHERNET_HEADER_BYTES + p.length);
    ethernet.encode(header, f, 0);
    f.set(p, ETHERNET_HEADER_BYTES);
    return f;
  });
  return {
    injector: new TcpreplayInjector({
      interface: u.device,
      labPrefixes,
      transport: end.host.transport,
      allowHostNamespace: true,
    }),
    frames: framesFromList('ethernet', frames),
  };
}

/** Run one round. Captures are always stopped (or aborted) before this returns or throws. */
export async function probeRound(
  ends: Record<Side, EndRuntime>,
  planned: PlannedProbe[],
  runId: number,
  o: { ratePps?: number } = {},
): Promise<RoundResult> {
  const ports = [ends.a.config.vxlan.dstPort, ends.b.config.vxlan.dstPort];
  const bindings = probeBindings(ports);
  const seen = Object.fromEntries(POINTS.map((p) => [p, new Map<number, Sighting>()])) as RoundResult['seen'];
  const keptKinds = new Set<string>();
  const flowToDir = new Map<number, Direction>();
  for (const d of ['a->b', 'b->a'] as const)
    for (const k of ['vxlan', 'control'] as const) flowToDir.set(flowIdOf(d, k), d);
  const bySeq = new Map(planned.map((p) => [p.seq, p]));

  const onPacket = (point: PointName) => {
    const d = new Dissection();
    const underlay = point.endsWith('underlay');
    return (pkt: PcapPacket) => {
      try {
        dissect(pkt.data, pkt.linktype, d, bindings);
      } catch {
        return; // not ours, or truncated: only probes matter here
      }
      if (d.probeStatus !== 'ok') return;
      const pr = readProbe(d.frame, d.probeOffset);
      if (pr.runId !== runId || !bySeq.has(pr.seq) || !flowToDir.has(pr.flowId)) return;
      const p = bySeq.get(pr.seq) as PlannedProbe;
      const key = `${point}|${p.direction}|${p.kind}`;
      const keep = !keptKinds.has(key);
      keptKinds.add(key);
      seen[point].set(pr.seq, sighting(pkt, d, underlay, keep, bindings));
    };
  };

  const captures: Capture[] = await startCaptures(
    POINTS.map((point) => {
      const end = ends[point[0] as Side];
      const underlay = point.endsWith('underlay');
      return {
        name: point,
        transport: end.host.transport,
        interface: underlay ? end.config.underlay.device : end.config.vxlan.device,
        direction: underlay ? ('inout' as const) : ('in' as const),
        filter: 'udp',
        bufferKiB: 4096,
        onPacket: onPacket(point),
      };
    }),
  );
  const injected: RoundResult['injected'] = {};
  const captureDrops = {} as Record<PointName, number>;
  try {
    await Promise.all(
      (['a', 'b'] as const).map(async (side) => {
        const mine = planned.filter((p) => fromSide(p.direction) === side);
        if (mine.length === 0) return;
        const end = ends[side];
        const packets = mine.map((p) => buildProbePacket(end.view, p, runId));
        const { injector, frames } = await injectorFor(end, packets);
        injected[side] = await injector.inject(frames, { count: packets.length, ratePps: o.ratePps ?? 2000 });
      }),
    );
  } catch (e) {
    await Promise.allSettled(captures.map((c) => c.abort()));
    throw e instanceof ChainprobeError ? e : new ChainprobeError('E_INJECT_FAILED', String(e));
  }
  const stats = await Promise.allSettled(captures.map((c) => c.stop({ settleMs: 1200, quietMs: 200 })));
  stats.forEach((s, i) => {
    if (s.status === 'rejected') throw s.reason;
    captureDrops[POINTS[i]] = s.value.droppedByKernel;
  });
  return { planned, seen, injected, captureDrops };
}
