/**
 * UDP header (RFC 768) and its checksum over the IPv4 pseudo-header.
 *
 *   0 srcPort | 2 dstPort | 4 length (header + payload) | 6 checksum
 *
 * The codec writes `checksum` as given (0 = none, allowed for IPv4 and for the VXLAN outer header,
 * RFC 7348 §5). The real checksum covers the payload, so it is computed in place once the datagram is
 * assembled: `fillUdpChecksum(buf, ipOffset, udpOffset)`; `udpChecksumOk` verifies (0 counts as valid).
 */
import { checkUint, needBytes, readU16, targetBuffer, writeU16 } from './bytes.ts';
import { onesComplementSum, pseudoHeaderSum } from './checksum.ts';
import type { Codec } from './codec.ts';
import { DecodeError } from './errors.ts';
import { IP_PROTO_UDP } from './ipv4.ts';

export const UDP_HEADER_BYTES = 8;
/** Largest UDP payload in one IPv4 datagram: 65535 - 20 - 8. */
export const UDP_MAX_PAYLOAD_BYTES = 65507;

export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  /** header + payload bytes */
  length: number;
  /** 0 = no checksum */
  checksum: number;
}

const LAYER = 'udp';

export const udp: Codec<UdpHeader> = {
  name: LAYER,
  encodingLength: () => UDP_HEADER_BYTES,
  encode(v, buf, offset = 0) {
    const b = targetBuffer(buf, offset, UDP_HEADER_BYTES, LAYER);
    checkUint(LAYER, 'srcPort', v.srcPort, 0xffff);
    checkUint(LAYER, 'dstPort', v.dstPort, 0xffff);
    checkUint(LAYER, 'length', v.length, 0xffff);
    checkUint(LAYER, 'checksum', v.checksum, 0xffff);
    writeU16(b, offset, v.srcPort);
    writeU16(b, offset + 2, v.dstPort);
    writeU16(b, offset + 4, v.length);
    writeU16(b, offset + 6, v.checksum);
    return UDP_HEADER_BYTES;
  },
  decode(buf, offset = 0) {
    needBytes(buf, offset, UDP_HEADER_BYTES, LAYER);
    const length = readU16(buf, offset + 4);
    if (length < UDP_HEADER_BYTES)
      throw new DecodeError(LAYER, offset + 4, `length ${length} is below the 8-byte header`);
    return {
      value: {
        srcPort: readU16(buf, offset),
        dstPort: readU16(buf, offset + 2),
        length,
        checksum: readU16(buf, offset + 6),
      },
      bytesRead: UDP_HEADER_BYTES,
    };
  },
};

/** The checksum the UDP datagram at `udpOffset` (inside the IPv4 header at `ipOffset`) should carry; never 0. */
export function computeUdpChecksum(buf: Uint8Array, ipOffset: number, udpOffset: number): number {
  const length = readU16(buf, udpOffset + 4);
  const pseudo = pseudoHeaderSum(buf, ipOffset + 12, ipOffset + 16, IP_PROTO_UDP, length);
  // Sum the datagram with its checksum field counted as zero, without mutating the buffer.
  const sum = onesComplementSum(buf, udpOffset, length, pseudo) + (~readU16(buf, udpOffset + 6) & 0xffff);
  const folded = (sum & 0xffff) + (sum >>> 16);
  const c = ~((folded & 0xffff) + (folded >>> 16)) & 0xffff;
  // RFC 768: a computed 0 is sent as 0xffff, because 0 means "no checksum".
  return c === 0 ? 0xffff : c;
}

/** Computes and writes the UDP checksum in place (the UDP length field must already be right). */
export function fillUdpChecksum(buf: Uint8Array, ipOffset: number, udpOffset: number): void {
  writeU16(buf, udpOffset + 6, computeUdpChecksum(buf, ipOffset, udpOffset));
}

/** True when the checksum verifies or is 0 (absent). */
export function udpChecksumOk(buf: Uint8Array, ipOffset: number, udpOffset: number): boolean {
  const c = readU16(buf, udpOffset + 6);
  if (c === 0) return true;
  const length = readU16(buf, udpOffset + 4);
  const pseudo = pseudoHeaderSum(buf, ipOffset + 12, ipOffset + 16, IP_PROTO_UDP, length);
  return onesComplementSum(buf, udpOffset, length, pseudo) === 0xffff;
}
