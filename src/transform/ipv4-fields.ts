/**
 * The few fixed IPv4 header fields the transforms read and patch in place (RFC 791), as byte offsets —
 * deliberately not a codec (the full IPv4 codec lives in src/codec/). Transforms work on raw packet bytes so
 * the hot path never builds objects: read a field with a DataView, patch it, fix the checksum.
 */

import { parseIpv4 as parseIpv4Text } from '../codec/address.ts';
import { writeU16 } from '../codec/bytes.ts';
import { internetChecksum } from '../codec/checksum.ts';
import { DecodeError } from '../codec/errors.ts';

export const IPV4 = {
  versionIhl: 0,
  tos: 1,
  totalLength: 2,
  id: 4,
  flagsFragment: 6,
  ttl: 8,
  protocol: 9,
  checksum: 10,
  src: 12,
  dst: 16,
  minHeaderBytes: 20,
} as const;

export const IP_FLAG_DF = 0x4000;
export const IP_FLAG_MF = 0x2000;
export const IP_OFFSET_MASK = 0x1fff;
export const IP_MAX_DATAGRAM_BYTES = 65535;

export const PROTO_ICMP = 1;
export const PROTO_IPV4 = 4;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ESP = 50;

export function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Validates version, IHL and total length against the buffer and returns the header length in bytes.
 * Bytes beyond the total length (Ethernet padding) are tolerated; callers use `totalLength` to bound.
 */
export function ipv4HeaderBytes(ip: Uint8Array, layer = 'ipv4'): number {
  if (ip.length < IPV4.minHeaderBytes)
    throw new DecodeError(layer, 0, `truncated: ${ip.length} bytes, an IPv4 header needs 20`);
  const version = ip[0] >> 4;
  if (version !== 4) throw new DecodeError(layer, 0, `version ${version}, expected 4`);
  const ihl = (ip[0] & 0x0f) * 4;
  if (ihl < IPV4.minHeaderBytes) throw new DecodeError(layer, 0, `IHL ${ihl} bytes < 20`);
  const total = (ip[2] << 8) | ip[3];
  if (total < ihl) throw new DecodeError(layer, 2, `total length ${total} < header length ${ihl}`);
  if (total > ip.length)
    throw new DecodeError(layer, 2, `total length ${total} > ${ip.length} bytes available`);
  return ihl;
}

export const totalLength = (ip: Uint8Array): number => (ip[2] << 8) | ip[3];
export const ipId = (ip: Uint8Array): number => (ip[4] << 8) | ip[5];
export const flagsFragment = (ip: Uint8Array): number => (ip[6] << 8) | ip[7];
/** Fragment offset in bytes (the header field is in 8-byte units). */
export const fragmentOffsetBytes = (ip: Uint8Array): number => (flagsFragment(ip) & IP_OFFSET_MASK) * 8;
export const moreFragments = (ip: Uint8Array): boolean => (ip[6] & 0x20) !== 0;
export const dontFragment = (ip: Uint8Array): boolean => (ip[6] & 0x40) !== 0;
export const isFragment = (ip: Uint8Array): boolean =>
  (flagsFragment(ip) & (IP_FLAG_MF | IP_OFFSET_MASK)) !== 0;
// Big-endian field access is the codec layer's (one implementation for the project).
export { readU16, readU32, writeU16, writeU32 } from '../codec/bytes.ts';

/** Recomputes the header checksum of the IPv4 header at the start of `ip` (header length from IHL). */
export function fixIpv4Checksum(ip: Uint8Array, headerBytes = (ip[0] & 0x0f) * 4): void {
  ip[10] = 0;
  ip[11] = 0;
  writeU16(ip, 10, internetChecksum(ip, 0, headerBytes));
}

// Text ↔ number conversion lives in the codec layer (one implementation for the whole project).
export { ipv4ToString as formatIpv4, parseIpv4 } from '../codec/address.ts';

/** Accepts a dotted quad or a uint32. */
export function ipv4Number(a: string | number): number {
  if (typeof a === 'number') {
    if (!Number.isInteger(a) || a < 0 || a > 0xffffffff) throw new RangeError(`not an IPv4 address: ${a}`);
    return a >>> 0;
  }
  return parseIpv4Text(a);
}

/**
 * RFC 1624 eqn. 3 incremental update: the new checksum after a 16-bit word changed from `oldWord` to `newWord`.
 * HC' = ~(~HC + ~m + m')
 */
export function checksumAdjust16(checksum: number, oldWord: number, newWord: number): number {
  let sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + newWord;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** As checksumAdjust16 for a 32-bit field (an address): two 16-bit words. */
export function checksumAdjust32(checksum: number, oldValue: number, newValue: number): number {
  const c = checksumAdjust16(checksum, oldValue >>> 16, newValue >>> 16);
  return checksumAdjust16(c, oldValue & 0xffff, newValue & 0xffff);
}
