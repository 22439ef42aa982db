/**
 * UDP header (RFC 768) and its checksum over the IPv4 pseudo-header.
 *
 *   0 srcPort | 2 dstPort | 4 length (header + payload) | 6 checksum
 *
 * The codec writes `checksum` as given (0 = none, allowed for IPv4 and for the VXLAN outer header,
 * RFC 7348 §5). The real checksum covers the payload, so it is computed in place once the datagram is
 * assembled: `fillUdpChecksum(buf, ipOffset, udpOffset)`; `udpChecksumOk` verifies (0 counts as valid).
 */
import { checkUint, hex, needBytes, readU16, targetBuffer, writeU16 } from './bytes.ts';
import { checksumOfSum, onesComplementSum, pseudoHeaderSum } from './checksum.ts';
import type { Codec } from './codec.ts';
import { DecodeError } from './errors.ts';
import { IP_PROTO_UDP } from './ipv4.ts';
import { type LayerSpec, NEXT_END } from './layer.ts';

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
  const c = checksumOfSum(
    onesComplementSum(buf, udpOffset, length, pseudo) + (~readU16(buf, udpOffset + 6) & 0xffff),
  );
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

/**
 * UDP in the dissector: the destination port is looked up first, then the source port (so replies from
 * 4500 are ESP too); a payload on an unbound port is offered to the `udpHeuristic` layers (the probe) in
 * order. The UDP length bounds the payload; a first fragment stops after the header (stop = 'fragment').
 */
export const udpLayer: LayerSpec = {
  name: 'udp',
  fields: {
    srcPort: { offset: 0, bytes: 2 },
    dstPort: { offset: 2, bytes: 2 },
    length: { offset: 4, bytes: 2, derived: 'length' },
    checksum: { offset: 6, bytes: 2, derived: 'checksum' },
  },
  bindings: [{ table: 'ipProtocol', value: IP_PROTO_UDP }],
  dissect(d) {
    const f = d.frame;
    const off = d.take(UDP_HEADER_BYTES, 'udp');
    const length = readU16(f, off + 4);
    if (length < UDP_HEADER_BYTES)
      throw new DecodeError('udp', off + 4, `length ${length} is below the 8-byte header`);
    d.push(d.ids.udp, off, UDP_HEADER_BYTES);
    d.udpOffset = off;
    if (d.fragment) {
      // First fragment: the rest of the datagram is in later fragments.
      d.push(d.ids.payload, d.cursor, d.end - d.cursor);
      d.stop = 'fragment';
      return NEXT_END;
    }
    if (off + length > d.end)
      throw new DecodeError(
        'udp',
        off + 4,
        `length ${length} exceeds the ${d.end - off} bytes of the IP payload`,
      );
    d.end = off + length;
    d.appOffset = d.cursor;
    d.appLength = d.end - d.cursor;
    const bound = d.bindings.udpPort[readU16(f, off + 2)] || d.bindings.udpPort[readU16(f, off)];
    return bound || d.bindings.heuristic(f, d.cursor, d.end) || d.ids.payload;
  },
  describe(d, i) {
    const f = d.frame;
    const o = d.offset[i];
    const c = readU16(f, o + 6);
    let ck = 'no cksum';
    if (c !== 0)
      ck = d.fragment
        ? `cksum ${hex(c, 4)} (fragment)`
        : udpChecksumOk(f, d.offset[i - 1], o)
          ? 'cksum ok'
          : `bad cksum ${hex(c, 4)}`;
    return `UDP ${readU16(f, o)} > ${readU16(f, o + 2)}, length ${readU16(f, o + 4)}, ${ck}`;
  },
};
