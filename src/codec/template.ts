/**
 * Frame templates: build a probe-carrying frame once, then per packet patch only what changes — probe
 * seq/txTime/CRC and seq stamps, IPv4 ids, outer UDP source port, and every checksum — in place, with
 * no allocation and O(1) checksum work (plus one 4-byte stamp per 64 payload bytes, see probe.ts).
 *
 *   const t = createVxlanTemplate(spec);        // VXLAN: outer Eth/IPv4/UDP/VXLAN + inner Eth/IPv4/UDP + probe
 *   const frame = t.patch(seq, txTimeNs);        // the same Uint8Array every call: send/copy it before the next patch
 *   const pkt = createIpv4UdpTemplate(spec);     // bare inner IPv4/UDP (+ optional Ethernet): stages after decap
 *
 * Per-packet rules of `patch(seq, txTimeNs)` (use `patchFields` to choose them yourself):
 *   outer UDP source port = srcPortBase + seq % srcPortCount  (RFC 7348 entropy; avoid 49152, which tcpdump
 *                                                            shows as BCM-LI-SHIM — REFCHAIN G7)
 *   outer and inner IPv4 id = (ipIdBase + seq) & 0xffff       (distinct per packet: reassembly needs it, G7)
 *
 * Checksums: each is the complement of (a sum fixed at build time with the varying fields zeroed) + (the
 * varying words). The inner UDP checksum's varying words are the probe's seq, txTime, CRC and the seq
 * stamps (stampCount × seq); the optional outer UDP checksum also covers the inner IPv4 id and both inner
 * checksums. `encodeVxlanFrame` / `encodeIpv4UdpPacket` build the same bytes from scratch with the codecs
 * (the tests compare the two).
 *
 * Addresses in specs are text ('10.10.10.5', '02:00:00:0a:0a:01') or numbers. Nothing about VXLAN is
 * defaulted: vni, vxlanFlags and dstPort (4789) are required (FEATURES.md §3.8).
 */
import { type Ipv4Address, type MacAddress, toIpv4, toMac } from './address.ts';
import { readU16, writeU16, writeU32 } from './bytes.ts';
import { onesComplementSum, pseudoHeaderSum } from './checksum.ts';
import { EncodeError } from './errors.ts';
import { ETHERNET_HEADER_BYTES, ETHERTYPE_IPV4, ethernet } from './ethernet.ts';
import { IP_PROTO_UDP, IPV4_HEADER_BYTES, ipv4 } from './ipv4.ts';
import {
  crc32,
  PROBE_HEADER_BYTES,
  PROBE_MAX_PAYLOAD_BYTES,
  PROBE_OFFSET,
  probe,
  probeStampCount,
  stampProbeSeq,
} from './probe.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_IPV4 } from './stack.ts';
import { fillUdpChecksum, UDP_HEADER_BYTES, udp } from './udp.ts';
import { VXLAN_HEADER_BYTES, vxlan } from './vxlan.ts';

type Ip = string | Ipv4Address;
type Mac = string | MacAddress;

export interface VxlanOuterSpec {
  srcMac: Mac;
  dstMac: Mac;
  srcIp: Ip;
  dstIp: Ip;
  /** outer UDP source ports cycle through [srcPortBase, srcPortBase + srcPortCount) */
  srcPortBase: number;
  srcPortCount: number;
  /** 4789 for IANA VXLAN — always stated */
  dstPort: number;
  vni: number;
  /** 0x08 for RFC 7348 — always stated */
  vxlanFlags: number;
  /** false: checksum 0, as RFC 7348 allows and VPP/Linux send */
  udpChecksum: boolean;
  ttl: number;
  dontFragment?: boolean;
}

export interface InnerSpec {
  srcMac: Mac;
  dstMac: Mac;
  srcIp: Ip;
  dstIp: Ip;
  srcPort: number;
  dstPort: number;
  ttl: number;
  /** default false: the chain may fragment the inner packet */
  dontFragment?: boolean;
}

export interface ProbeSpec {
  /** UDP payload bytes (probe header + padding), 32..65507 */
  payloadBytes: number;
  runId: number;
  flowId: number;
  /** added to seq for the IPv4 ids (default 0) */
  ipIdBase?: number;
}

export interface VxlanFrameSpec extends ProbeSpec {
  outer: VxlanOuterSpec;
  inner: InnerSpec;
}

export interface Ipv4UdpPacketSpec extends ProbeSpec {
  /** present: an Ethernet frame (linktype 1); absent: a raw IPv4 packet (linktype 228) */
  ethernet?: { srcMac: Mac; dstMac: Mac };
  srcIp: Ip;
  dstIp: Ip;
  srcPort: number;
  dstPort: number;
  ttl: number;
  dontFragment?: boolean;
  /** default true */
  udpChecksum?: boolean;
}

/** What differs between two packets of one template. */
export interface PacketFields {
  seq: number;
  txTimeNs: bigint;
  /** ignored without VXLAN */
  outerSrcPort: number;
  /** ignored without VXLAN */
  outerIpId: number;
  innerIpId: number;
}

/** Byte offsets of each header in a template's frame; -1 when absent. */
export interface FrameLayout {
  outerIpv4: number;
  outerUdp: number;
  vxlan: number;
  innerIpv4: number;
  innerUdp: number;
  probe: number;
  frameBytes: number;
  linktype: number;
}

// ---- from-scratch encoders (the reference the templates are tested against)

export function vxlanLayout(payloadBytes: number): FrameLayout {
  const outerIpv4 = ETHERNET_HEADER_BYTES;
  const outerUdp = outerIpv4 + IPV4_HEADER_BYTES;
  const vx = outerUdp + UDP_HEADER_BYTES;
  const innerIpv4 = vx + VXLAN_HEADER_BYTES + ETHERNET_HEADER_BYTES;
  const innerUdp = innerIpv4 + IPV4_HEADER_BYTES;
  const p = innerUdp + UDP_HEADER_BYTES;
  return {
    outerIpv4,
    outerUdp,
    vxlan: vx,
    innerIpv4,
    innerUdp,
    probe: p,
    frameBytes: p + payloadBytes,
    linktype: LINKTYPE_ETHERNET,
  };
}

export function ipv4UdpLayout(payloadBytes: number, withEthernet: boolean): FrameLayout {
  const innerIpv4 = withEthernet ? ETHERNET_HEADER_BYTES : 0;
  const innerUdp = innerIpv4 + IPV4_HEADER_BYTES;
  const p = innerUdp + UDP_HEADER_BYTES;
  return {
    outerIpv4: -1,
    outerUdp: -1,
    vxlan: -1,
    innerIpv4,
    innerUdp,
    probe: p,
    frameBytes: p + payloadBytes,
    linktype: withEthernet ? LINKTYPE_ETHERNET : LINKTYPE_IPV4,
  };
}

function checkPayload(spec: ProbeSpec): void {
  if (
    !Number.isInteger(spec.payloadBytes) ||
    spec.payloadBytes < PROBE_HEADER_BYTES ||
    spec.payloadBytes > PROBE_MAX_PAYLOAD_BYTES
  ) {
    throw new EncodeError(
      'template',
      'payloadBytes',
      `${spec.payloadBytes} is not in ${PROBE_HEADER_BYTES}..${PROBE_MAX_PAYLOAD_BYTES}`,
    );
  }
}

/** Writes IPv4 + UDP + probe at layout.innerIpv4 with every checksum computed from scratch. */
function encodeInner(
  buf: Uint8Array,
  at: number,
  ip: { srcIp: Ip; dstIp: Ip; srcPort: number; dstPort: number; ttl: number; dontFragment?: boolean },
  spec: ProbeSpec,
  f: PacketFields,
  udpChecksum: boolean,
): void {
  const udpAt = at + IPV4_HEADER_BYTES;
  ipv4.encode(
    {
      dscp: 0,
      ecn: 0,
      totalLength: IPV4_HEADER_BYTES + UDP_HEADER_BYTES + spec.payloadBytes,
      id: f.innerIpId,
      dontFragment: ip.dontFragment ?? false,
      moreFragments: false,
      fragmentOffsetBytes: 0,
      ttl: ip.ttl,
      protocol: IP_PROTO_UDP,
      src: toIpv4(ip.srcIp),
      dst: toIpv4(ip.dstIp),
    },
    buf,
    at,
  );
  udp.encode(
    { srcPort: ip.srcPort, dstPort: ip.dstPort, length: UDP_HEADER_BYTES + spec.payloadBytes, checksum: 0 },
    buf,
    udpAt,
  );
  probe.encode(
    {
      runId: spec.runId,
      flowId: spec.flowId,
      seq: f.seq,
      txTimeNs: f.txTimeNs,
      payloadBytes: spec.payloadBytes,
    },
    buf,
    udpAt + 8,
  );
  if (udpChecksum) fillUdpChecksum(buf, at, udpAt);
}

/** A whole VXLAN frame for `fields`, built layer by layer with the codecs (allocates; the slow reference path). */
export function encodeVxlanFrame(spec: VxlanFrameSpec, f: PacketFields): Uint8Array {
  checkPayload(spec);
  const L = vxlanLayout(spec.payloadBytes);
  const buf = new Uint8Array(L.frameBytes);
  const o = spec.outer;
  ethernet.encode({ dst: toMac(o.dstMac), src: toMac(o.srcMac), etherType: ETHERTYPE_IPV4 }, buf, 0);
  ipv4.encode(
    {
      dscp: 0,
      ecn: 0,
      totalLength: L.frameBytes - L.outerIpv4,
      id: f.outerIpId,
      dontFragment: o.dontFragment ?? false,
      moreFragments: false,
      fragmentOffsetBytes: 0,
      ttl: o.ttl,
      protocol: IP_PROTO_UDP,
      src: toIpv4(o.srcIp),
      dst: toIpv4(o.dstIp),
    },
    buf,
    L.outerIpv4,
  );
  udp.encode(
    { srcPort: f.outerSrcPort, dstPort: o.dstPort, length: L.frameBytes - L.outerUdp, checksum: 0 },
    buf,
    L.outerUdp,
  );
  vxlan.encode({ flags: o.vxlanFlags, vni: o.vni }, buf, L.vxlan);
  const i = spec.inner;
  ethernet.encode(
    { dst: toMac(i.dstMac), src: toMac(i.srcMac), etherType: ETHERTYPE_IPV4 },
    buf,
    L.vxlan + VXLAN_HEADER_BYTES,
  );
  encodeInner(buf, L.innerIpv4, i, spec, f, true);
  if (o.udpChecksum) fillUdpChecksum(buf, L.outerIpv4, L.outerUdp);
  return buf;
}

/** A bare IPv4/UDP probe packet (with an Ethernet header if spec.ethernet), built with the codecs. */
export function encodeIpv4UdpPacket(spec: Ipv4UdpPacketSpec, f: PacketFields): Uint8Array {
  checkPayload(spec);
  const L = ipv4UdpLayout(spec.payloadBytes, spec.ethernet !== undefined);
  const buf = new Uint8Array(L.frameBytes);
  if (spec.ethernet)
    ethernet.encode(
      { dst: toMac(spec.ethernet.dstMac), src: toMac(spec.ethernet.srcMac), etherType: ETHERTYPE_IPV4 },
      buf,
      0,
    );
  encodeInner(buf, L.innerIpv4, spec, spec, f, spec.udpChecksum ?? true);
  return buf;
}

// ---- the template

const fold = (s: number): number => {
  s = (s & 0xffff) + (s >>> 16);
  return (s & 0xffff) + (s >>> 16);
};
/** Sum of `n` bytes at `o` with the given sub-ranges counted as zero. */
function sumWithHoles(buf: Uint8Array, o: number, n: number, holes: [number, number][], initial = 0): number {
  const copy = buf.slice(o, o + n);
  for (const [at, len] of holes) if (at >= o && at < o + n) copy.fill(0, at - o, at - o + len);
  return onesComplementSum(copy, 0, n, initial);
}

export class ProbeTemplate {
  /** the frame, patched in place by every patch() call */
  readonly frame: Uint8Array;
  readonly layout: FrameLayout;
  private readonly view: DataView;
  private readonly stampCount: number;
  private readonly srcPortBase: number;
  private readonly srcPortCount: number;
  private readonly ipIdBase: number;
  private readonly innerUdpChecksum: boolean;
  private readonly outerUdpChecksum: boolean;
  // Sums fixed at build time, with the per-packet fields zeroed.
  private readonly innerIpFixed: number;
  private readonly innerUdpFixed: number;
  private readonly outerIpFixed: number;
  private readonly outerUdpFixed: number;

  constructor(
    frame: Uint8Array,
    layout: FrameLayout,
    spec: ProbeSpec,
    opts: { srcPortBase: number; srcPortCount: number; innerUdpChecksum: boolean; outerUdpChecksum: boolean },
  ) {
    this.frame = frame;
    this.layout = layout;
    this.view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    this.stampCount = probeStampCount(spec.payloadBytes);
    this.srcPortBase = opts.srcPortBase;
    this.srcPortCount = opts.srcPortCount;
    this.ipIdBase = spec.ipIdBase ?? 0;
    this.innerUdpChecksum = opts.innerUdpChecksum;
    this.outerUdpChecksum = opts.outerUdpChecksum;
    if (this.srcPortCount < 1 || this.srcPortBase + this.srcPortCount > 65536) {
      throw new EncodeError(
        'template',
        'srcPortCount',
        `ports ${this.srcPortBase}..${this.srcPortBase + this.srcPortCount - 1} exceed 65535`,
      );
    }

    const L = layout;
    const p = L.probe;
    // Probe fields that change per packet, plus every seq stamp.
    const probeHoles: [number, number][] = [[p + PROBE_OFFSET.seq, 16]];
    for (let s = p + 32; s + 4 <= p + spec.payloadBytes; s += 64) probeHoles.push([s, 4]);
    const innerIpHoles: [number, number][] = [
      [L.innerIpv4 + 4, 2],
      [L.innerIpv4 + 10, 2],
    ];
    const udpLen = readU16(frame, L.innerUdp + 4);
    this.innerIpFixed = sumWithHoles(frame, L.innerIpv4, IPV4_HEADER_BYTES, innerIpHoles);
    this.innerUdpFixed = sumWithHoles(
      frame,
      L.innerUdp,
      udpLen,
      [[L.innerUdp + 6, 2], ...probeHoles],
      pseudoHeaderSum(frame, L.innerIpv4 + 12, L.innerIpv4 + 16, IP_PROTO_UDP, udpLen),
    );
    if (L.outerIpv4 >= 0) {
      this.outerIpFixed = sumWithHoles(frame, L.outerIpv4, IPV4_HEADER_BYTES, [
        [L.outerIpv4 + 4, 2],
        [L.outerIpv4 + 10, 2],
      ]);
      const outerLen = readU16(frame, L.outerUdp + 4);
      this.outerUdpFixed = sumWithHoles(
        frame,
        L.outerUdp,
        outerLen,
        [[L.outerUdp, 2], [L.outerUdp + 6, 2], ...innerIpHoles, [L.innerUdp + 6, 2], ...probeHoles],
        pseudoHeaderSum(frame, L.outerIpv4 + 12, L.outerIpv4 + 16, IP_PROTO_UDP, outerLen),
      );
    } else {
      this.outerIpFixed = this.outerUdpFixed = 0;
    }
  }

  /** Patches the frame for packet `seq` (ports and ids by the rules at the top of this file) and returns it. */
  patch(seq: number, txTimeNs: bigint): Uint8Array {
    const id = (this.ipIdBase + seq) & 0xffff;
    return this.patchFields(seq, txTimeNs, this.srcPortBase + (seq % this.srcPortCount), id, id);
  }

  /** The fields `patch(seq, …)` uses, for the from-scratch encoders and for tests. */
  fieldsFor(seq: number, txTimeNs: bigint): PacketFields {
    const id = (this.ipIdBase + seq) & 0xffff;
    return {
      seq,
      txTimeNs,
      outerSrcPort: this.srcPortBase + (seq % this.srcPortCount),
      outerIpId: id,
      innerIpId: id,
    };
  }

  patchFields(
    seq: number,
    txTimeNs: bigint,
    outerSrcPort: number,
    outerIpId: number,
    innerIpId: number,
  ): Uint8Array {
    const b = this.frame;
    const L = this.layout;
    const p = L.probe;
    seq >>>= 0;
    // Probe: seq, time, CRC, stamps.
    writeU32(b, p + PROBE_OFFSET.seq, seq);
    this.view.setBigUint64(p + PROBE_OFFSET.txTimeNs, txTimeNs);
    writeU32(b, p + PROBE_OFFSET.headerCrc, crc32(b, p, 28));
    stampProbeSeq(b, p, L.frameBytes - p, seq);
    // Varying probe words: seq, txTime, CRC (8 words at 16..31) + stampCount × seq.
    let probeSum = this.stampCount * ((seq >>> 16) + (seq & 0xffff));
    for (let i = p + PROBE_OFFSET.seq; i < p + PROBE_HEADER_BYTES; i += 2) probeSum += (b[i] << 8) | b[i + 1];
    probeSum = fold(probeSum);
    // Inner UDP and IPv4.
    let innerUdpCk = 0;
    if (this.innerUdpChecksum) {
      innerUdpCk = ~fold(this.innerUdpFixed + probeSum) & 0xffff;
      if (innerUdpCk === 0) innerUdpCk = 0xffff;
      writeU16(b, L.innerUdp + 6, innerUdpCk);
    }
    writeU16(b, L.innerIpv4 + 4, innerIpId);
    const innerIpCk = ~fold(this.innerIpFixed + innerIpId) & 0xffff;
    writeU16(b, L.innerIpv4 + 10, innerIpCk);
    if (L.outerIpv4 < 0) return b;
    // Outer IPv4 and UDP.
    writeU16(b, L.outerIpv4 + 4, outerIpId);
    writeU16(b, L.outerIpv4 + 10, ~fold(this.outerIpFixed + outerIpId) & 0xffff);
    writeU16(b, L.outerUdp, outerSrcPort);
    if (this.outerUdpChecksum) {
      let c =
        ~fold(this.outerUdpFixed + outerSrcPort + innerIpId + innerIpCk + innerUdpCk + probeSum) & 0xffff;
      if (c === 0) c = 0xffff;
      writeU16(b, L.outerUdp + 6, c);
    }
    return b;
  }
}

export function createVxlanTemplate(spec: VxlanFrameSpec): ProbeTemplate {
  const o = spec.outer;
  const frame = encodeVxlanFrame(spec, {
    seq: 0,
    txTimeNs: 0n,
    outerSrcPort: o.srcPortBase,
    outerIpId: 0,
    innerIpId: 0,
  });
  return new ProbeTemplate(frame, vxlanLayout(spec.payloadBytes), spec, {
    srcPortBase: o.srcPortBase,
    srcPortCount: o.srcPortCount,
    innerUdpChecksum: true,
    outerUdpChecksum: o.udpChecksum,
  });
}

export function createIpv4UdpTemplate(spec: Ipv4UdpPacketSpec): ProbeTemplate {
  const frame = encodeIpv4UdpPacket(spec, {
    seq: 0,
    txTimeNs: 0n,
    outerSrcPort: 0,
    outerIpId: 0,
    innerIpId: 0,
  });
  return new ProbeTemplate(frame, ipv4UdpLayout(spec.payloadBytes, spec.ethernet !== undefined), spec, {
    srcPortBase: 0,
    srcPortCount: 1,
    innerUdpChecksum: spec.udpChecksum ?? true,
    outerUdpChecksum: false,
  });
}
