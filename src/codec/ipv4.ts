/**
 * IPv4 header (RFC 791). Options are carried as opaque bytes (never interpreted, so odd options are
 * skipped safely by IHL).
 *
 *   0 ver:4 ihl:4 | 1 dscp:6 ecn:2 | 2 totalLength | 4 id | 6 flags:3 (rsv, DF, MF) fragOffset:13 (8-byte units)
 *   8 ttl | 9 protocol | 10 checksum | 12 src | 16 dst | 20 options (ihl*4 - 20)
 *
 * `fragmentOffsetBytes` is in bytes (a multiple of 8) so fragmentation code never mixes units.
 * `checksum` undefined on encode means "compute it" (header only; the header sum does not depend on the
 * payload). `decode` does not reject bad checksums — captures can carry offloaded ones — use
 * `ipv4ChecksumOk` for that.
 */
import type { Ipv4Address } from './address.ts';
import { checkUint, needBytes, readU16, readU32, targetBuffer, writeU16, writeU32 } from './bytes.ts';
import { internetChecksum, onesComplementSum } from './checksum.ts';
import type { Codec } from './codec.ts';
import { DecodeError, EncodeError } from './errors.ts';

export const IPV4_HEADER_BYTES = 20;
export const IP_PROTO_UDP = 17;
export const IP_PROTO_ESP = 50;

export interface Ipv4Header {
  dscp: number;
  ecn: number;
  /** header + payload bytes */
  totalLength: number;
  id: number;
  /** the reserved "evil" bit (RFC 3514); kept so decode → encode is byte-exact */
  reservedFlag?: boolean;
  dontFragment: boolean;
  moreFragments: boolean;
  fragmentOffsetBytes: number;
  ttl: number;
  protocol: number;
  /** undefined on encode: computed */
  checksum?: number;
  src: Ipv4Address;
  dst: Ipv4Address;
  /** raw option bytes, a multiple of 4, at most 40 */
  options?: Uint8Array;
}

const LAYER = 'ipv4';

const encodingLength = (v: Ipv4Header): number => IPV4_HEADER_BYTES + (v.options?.length ?? 0);

export const ipv4: Codec<Ipv4Header> = {
  name: LAYER,
  encodingLength,
  encode(v, buf, offset = 0) {
    const n = encodingLength(v);
    const b = targetBuffer(buf, offset, n, LAYER);
    if (n > 60 || (n & 3) !== 0)
      throw new EncodeError(LAYER, 'options', `length ${n - 20} is not a multiple of 4 up to 40`);
    checkUint(LAYER, 'dscp', v.dscp, 63);
    checkUint(LAYER, 'ecn', v.ecn, 3);
    checkUint(LAYER, 'totalLength', v.totalLength, 0xffff);
    if (v.totalLength < n)
      throw new EncodeError(LAYER, 'totalLength', `${v.totalLength} is shorter than the ${n}-byte header`);
    checkUint(LAYER, 'id', v.id, 0xffff);
    checkUint(LAYER, 'fragmentOffsetBytes', v.fragmentOffsetBytes, 0xfff8);
    if (v.fragmentOffsetBytes & 7)
      throw new EncodeError(LAYER, 'fragmentOffsetBytes', `${v.fragmentOffsetBytes} is not a multiple of 8`);
    checkUint(LAYER, 'ttl', v.ttl, 255);
    checkUint(LAYER, 'protocol', v.protocol, 255);
    checkUint(LAYER, 'src', v.src, 0xffffffff);
    checkUint(LAYER, 'dst', v.dst, 0xffffffff);
    b[offset] = 0x40 | (n >>> 2);
    b[offset + 1] = (v.dscp << 2) | v.ecn;
    writeU16(b, offset + 2, v.totalLength);
    writeU16(b, offset + 4, v.id);
    const flags =
      (v.reservedFlag ? 0x8000 : 0) | (v.dontFragment ? 0x4000 : 0) | (v.moreFragments ? 0x2000 : 0);
    writeU16(b, offset + 6, flags | (v.fragmentOffsetBytes >>> 3));
    b[offset + 8] = v.ttl;
    b[offset + 9] = v.protocol;
    writeU16(b, offset + 10, 0);
    writeU32(b, offset + 12, v.src);
    writeU32(b, offset + 16, v.dst);
    if (v.options) b.set(v.options, offset + 20);
    if (v.checksum === undefined) writeU16(b, offset + 10, internetChecksum(b, offset, n));
    else {
      checkUint(LAYER, 'checksum', v.checksum, 0xffff);
      writeU16(b, offset + 10, v.checksum);
    }
    return n;
  },
  decode(buf, offset = 0) {
    const headerBytes = ipv4HeaderBytes(buf, offset);
    const totalLength = readU16(buf, offset + 2);
    const frag = readU16(buf, offset + 6);
    const value: Ipv4Header = {
      dscp: buf[offset + 1] >>> 2,
      ecn: buf[offset + 1] & 3,
      totalLength,
      id: readU16(buf, offset + 4),
      reservedFlag: (frag & 0x8000) !== 0,
      dontFragment: (frag & 0x4000) !== 0,
      moreFragments: (frag & 0x2000) !== 0,
      fragmentOffsetBytes: (frag & 0x1fff) << 3,
      ttl: buf[offset + 8],
      protocol: buf[offset + 9],
      checksum: readU16(buf, offset + 10),
      src: readU32(buf, offset + 12),
      dst: readU32(buf, offset + 16),
    };
    if (headerBytes > IPV4_HEADER_BYTES) value.options = buf.slice(offset + 20, offset + headerBytes);
    return { value, bytesRead: headerBytes };
  },
};

/**
 * Validates version, IHL and total length against the header and returns the header length in bytes.
 * Shared by `ipv4.decode` and the dissector so both reject the same inputs.
 */
export function ipv4HeaderBytes(buf: Uint8Array, offset: number): number {
  needBytes(buf, offset, IPV4_HEADER_BYTES, LAYER);
  const vihl = buf[offset];
  if (vihl >>> 4 !== 4) throw new DecodeError(LAYER, offset, `version ${vihl >>> 4}, expected 4`);
  const headerBytes = (vihl & 15) << 2;
  if (headerBytes < IPV4_HEADER_BYTES) throw new DecodeError(LAYER, offset, `IHL ${vihl & 15} is below 5`);
  needBytes(buf, offset, headerBytes, LAYER, 'options');
  const totalLength = readU16(buf, offset + 2);
  if (totalLength < headerBytes) {
    throw new DecodeError(
      LAYER,
      offset + 2,
      `total length ${totalLength} is shorter than the ${headerBytes}-byte header`,
    );
  }
  return headerBytes;
}

/** Writes the header checksum of the IPv4 header at `offset` in place. */
export function fillIpv4Checksum(buf: Uint8Array, offset: number): void {
  const n = (buf[offset] & 15) << 2;
  writeU16(buf, offset + 10, 0);
  writeU16(buf, offset + 10, internetChecksum(buf, offset, n));
}

/** True when the header checksum of the IPv4 header at `offset` verifies. */
export function ipv4ChecksumOk(buf: Uint8Array, offset: number): boolean {
  return onesComplementSum(buf, offset, (buf[offset] & 15) << 2) === 0xffff;
}

/** True for any fragment (MF set or a non-zero offset): the payload is not a whole datagram. */
export function isIpv4Fragment(buf: Uint8Array, offset: number): boolean {
  return (readU16(buf, offset + 6) & 0x3fff) !== 0;
}
