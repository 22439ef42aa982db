/**
 * The first bytes of a packet of a pool flow, as an sFlow agent samples them off the wire: Ethernet, IPv4
 * (right lengths and checksum), then the UDP or TCP header, cut at `headerBytes`. Built with the codecs.
 */
import { writeU16, writeU32 } from '../codec/bytes.ts';
import { ETHERTYPE_IPV4, ethernet } from '../codec/ethernet.ts';
import { ipv4 } from '../codec/ipv4.ts';
import { udp } from '../codec/udp.ts';
import type { PoolFlow } from './flow-pool.ts';

export function sampledPacket(f: PoolFlow, headerBytes: number): { header: Uint8Array; frameLength: number } {
  const ipTotal = Math.max(40, Math.min(1500, Math.round(f.octets / Math.max(1, f.packets))));
  const frame = new Uint8Array(14 + ipTotal);
  ethernet.encode({ dst: 0x02000000_0001, src: 0x02000000_0002, etherType: ETHERTYPE_IPV4 }, frame, 0);
  ipv4.encode(
    {
      dscp: f.tos >>> 2,
      ecn: 0,
      totalLength: ipTotal,
      id: f.srcPort,
      dontFragment: true,
      moreFragments: false,
      fragmentOffsetBytes: 0,
      ttl: 63,
      protocol: f.protocol,
      src: f.src,
      dst: f.dst,
    },
    frame,
    14,
  );
  if (f.protocol === 17)
    udp.encode({ srcPort: f.srcPort, dstPort: f.dstPort, length: ipTotal - 20, checksum: 0 }, frame, 34);
  else if (f.protocol === 6 && ipTotal >= 40) {
    writeU16(frame, 34, f.srcPort);
    writeU16(frame, 36, f.dstPort);
    writeU32(frame, 38, 0x10000000 + f.packets);
    frame[46] = 0x50; // data offset 5
    frame[47] = 0x18; // PSH ACK
    writeU16(frame, 48, 65535);
  } else if (f.protocol === 1) frame[34] = 8; // echo request
  const n = Math.min(headerBytes, frame.length);
  // frame length on the wire includes the 4-byte FCS the agent stripped
  return { header: frame.slice(0, n), frameLength: frame.length + 4 };
}
