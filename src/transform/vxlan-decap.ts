/**
 * VXLAN termination (RFC 7348) and the routed-hop TTL step, on raw bytes.
 *
 * `vxlanDecap` takes the outer IPv4 packet (or the Ethernet frame carrying it) and returns *views* of the inner
 * Ethernet frame and of the inner IPv4 packet — no copies. The reference chain's vxlan100 is a port of bridge
 * br100 whose BVI routes the inner packet on, so the inner packet leaves with TTL − 1: `ttlDecrement`.
 */

import { readU16, readU32, writeU16 } from '../codec/bytes.ts';
import { updateChecksum16 } from '../codec/checksum.ts';
import { ETHERTYPE_IPV4, ETHERTYPE_QINQ, ETHERTYPE_VLAN } from '../codec/ethernet.ts';
import { IP_PROTO_UDP, ipv4PacketHeaderBytes, isIpv4Fragment, totalLength } from '../codec/ipv4.ts';
import { VXLAN_FLAG_VNI_VALID, VXLAN_UDP_PORT } from '../codec/vxlan.ts';
import { ChainprobeError } from '../errors.ts';

export type VxlanErrorReason =
  | 'not-vxlan'
  | 'wrong-vni'
  | 'bad-flags'
  | 'truncated'
  | 'fragmented'
  | 'ttl-expired';

export class VxlanError extends ChainprobeError {
  constructor(
    readonly reason: VxlanErrorReason,
    message: string,
  ) {
    super('E_VXLAN', message, false, { reason });
    this.name = 'VxlanError';
  }
}

export interface VxlanDecapOptions {
  /** expected VNI; a different one → VxlanError 'wrong-vni' */
  vni: number;
  /** outer UDP destination port (default 4789) */
  udpPort?: number;
  /** what `packet` starts with (default: detected — 0x45..0x4f first byte = IPv4, else Ethernet) */
  input?: 'ipv4' | 'ethernet';
}

export interface VxlanDecapResult {
  vni: number;
  /** view of the inner Ethernet frame (VXLAN payload) */
  innerFrame: Uint8Array;
  /** view of the inner IPv4 packet (bounded by its total length), or undefined if the inner frame is not IPv4 */
  innerIp?: Uint8Array;
  /** offset of the VXLAN header inside the input (for diagnostics) */
  vxlanOffset: number;
}

const ETH_VLAN = [ETHERTYPE_VLAN, ETHERTYPE_QINQ];

/** Offset of the IPv4 header inside an Ethernet frame (skipping 802.1Q/802.1ad tags), or -1 if not IPv4. */
export function ethernetIpv4Offset(frame: Uint8Array): number {
  let off = 12;
  if (frame.length < 14) return -1;
  let type = readU16(frame, off);
  while (ETH_VLAN.includes(type)) {
    off += 4;
    if (frame.length < off + 2) return -1;
    type = readU16(frame, off);
  }
  return type === ETHERTYPE_IPV4 ? off + 2 : -1;
}

export function vxlanDecap(packet: Uint8Array, opts: VxlanDecapOptions): VxlanDecapResult {
  const port = opts.udpPort ?? VXLAN_UDP_PORT;
  const kind = opts.input ?? ((packet[0] & 0xf0) === 0x40 && (packet[0] & 0x0f) >= 5 ? 'ipv4' : 'ethernet');
  let ipOff = 0;
  if (kind === 'ethernet') {
    ipOff = ethernetIpv4Offset(packet);
    if (ipOff < 0) throw new VxlanError('not-vxlan', 'outer Ethernet frame does not carry IPv4');
  }
  const ip = packet.subarray(ipOff);
  let ihl: number;
  try {
    ihl = ipv4PacketHeaderBytes(ip, 0, ip.length, 'vxlan-outer-ipv4');
  } catch (e) {
    throw new VxlanError('truncated', (e as Error).message);
  }
  if (ip[9] !== IP_PROTO_UDP) throw new VxlanError('not-vxlan', `outer IP protocol ${ip[9]}, expected UDP`);
  if (isIpv4Fragment(ip, 0))
    throw new VxlanError('fragmented', 'outer packet is a fragment: reassemble before decapsulating');
  const total = totalLength(ip);
  if (total < ihl + 16)
    throw new VxlanError('truncated', `outer packet of ${total} bytes cannot hold UDP + VXLAN headers`);
  const dport = readU16(ip, ihl + 2);
  if (dport !== port)
    throw new VxlanError('not-vxlan', `outer UDP destination port ${dport}, expected ${port}`);
  const vx = ihl + 8;
  const flags = ip[vx];
  if ((flags & VXLAN_FLAG_VNI_VALID) === 0)
    throw new VxlanError(
      'bad-flags',
      `VXLAN flags 0x${flags.toString(16).padStart(2, '0')}: I bit (0x08) not set, VNI invalid`,
    );
  const vni = readU32(ip, vx + 4) >>> 8;
  if (vni !== opts.vni) throw new VxlanError('wrong-vni', `VXLAN VNI ${vni}, expected ${opts.vni}`);
  const innerFrame = ip.subarray(vx + 8, total);
  let innerIp: Uint8Array | undefined;
  const innerIpOff = ethernetIpv4Offset(innerFrame);
  if (innerIpOff >= 0 && innerFrame.length >= innerIpOff + 20) {
    const candidate = innerFrame.subarray(innerIpOff);
    try {
      ipv4PacketHeaderBytes(candidate, 0, candidate.length, 'vxlan-inner-ipv4');
    } catch (e) {
      throw new VxlanError('truncated', (e as Error).message);
    }
    innerIp = candidate.subarray(0, totalLength(candidate));
  }
  return { vni, innerFrame, innerIp, vxlanOffset: ipOff + vx };
}

/**
 * A routed hop: TTL − 1 with the header checksum patched incrementally (RFC 1624), in place. Returns the new TTL.
 * TTL ≤ 1 → VxlanError 'ttl-expired' (the router drops the packet and sends ICMP time exceeded).
 */
export function ttlDecrementInPlace(ip: Uint8Array): number {
  ipv4PacketHeaderBytes(ip);
  const ttl = ip[8];
  if (ttl <= 1) throw new VxlanError('ttl-expired', `TTL ${ttl}: a router would drop this packet`);
  const oldWord = (ip[8] << 8) | ip[9];
  ip[8] = ttl - 1;
  writeU16(ip, 10, updateChecksum16(readU16(ip, 10), oldWord, (ip[8] << 8) | ip[9]));
  return ttl - 1;
}

/** As ttlDecrementInPlace, on a copy. */
export function ttlDecrement(ip: Uint8Array): Uint8Array {
  const copy = ip.slice();
  ttlDecrementInPlace(copy);
  return copy;
}
