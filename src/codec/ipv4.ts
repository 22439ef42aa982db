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
 *
 * This is the project's one IPv4 module: the codec, the field table (`IPV4_FIELDS`, offsets the dissector,
 * BPF filters and transforms read), the validators (`ipv4HeaderBytes` for a header alone,
 * `ipv4PacketHeaderBytes` when the whole datagram must be present) and the in-place accessors the transforms
 * use on raw packet bytes (no objects on the hot path: read a field, patch it, fix the checksum).
 */
import { type Ipv4Address, ipv4ToString, parseIpv4 } from './address.ts';
import { checkUint, hex, needBytes, readU16, readU32, targetBuffer, writeU16, writeU32 } from './bytes.ts';
import { internetChecksum, onesComplementSum } from './checksum.ts';
import type { Codec } from './codec.ts';
import { DecodeError, EncodeError } from './errors.ts';
import { ETHERTYPE_IPV4 } from './ethernet.ts';
import { type LayerSpec, NEXT_END, NEXT_OPAQUE } from './layer.ts';

export const IPV4_HEADER_BYTES = 20;
export const IP_PROTO_IPV4 = 4;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;
export const IP_PROTO_ESP = 50;
export const IP_FLAG_DF = 0x4000;
export const IP_FLAG_MF = 0x2000;
export const IP_OFFSET_MASK = 0x1fff;
export const IP_MAX_DATAGRAM_BYTES = 65535;

/**
 * Byte offsets of the fixed header fields (RFC 791). `derived` fields are filled from the rest of the
 * packet (`totalLength` from header + payload, `checksum` over the header), never set by hand.
 */
export const IPV4_FIELDS = {
  versionIhl: { offset: 0, bytes: 1 },
  tos: { offset: 1, bytes: 1 },
  totalLength: { offset: 2, bytes: 2, derived: 'length' },
  id: { offset: 4, bytes: 2 },
  flagsFragment: { offset: 6, bytes: 2 },
  ttl: { offset: 8, bytes: 1 },
  protocol: { offset: 9, bytes: 1 },
  checksum: { offset: 10, bytes: 2, derived: 'checksum' },
  src: { offset: 12, bytes: 4 },
  dst: { offset: 16, bytes: 4 },
} as const;

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
 * The header alone (what `ipv4.decode` needs); `ipv4PacketHeaderBytes` also wants the whole datagram.
 * `layer` names the error's layer (e.g. 'nat44' when a transform was handed the packet).
 */
export function ipv4HeaderBytes(buf: Uint8Array, offset = 0, layer = LAYER): number {
  needBytes(buf, offset, IPV4_HEADER_BYTES, layer);
  const vihl = buf[offset];
  if (vihl >>> 4 !== 4) throw new DecodeError(layer, offset, `version ${vihl >>> 4}, expected 4`);
  const headerBytes = (vihl & 15) << 2;
  if (headerBytes < IPV4_HEADER_BYTES) throw new DecodeError(layer, offset, `IHL ${vihl & 15} is below 5`);
  needBytes(buf, offset, headerBytes, layer, 'options');
  const totalLength = readU16(buf, offset + 2);
  if (totalLength < headerBytes) {
    throw new DecodeError(
      layer,
      offset + 2,
      `total length ${totalLength} is shorter than the ${headerBytes}-byte header`,
    );
  }
  return headerBytes;
}

/**
 * `ipv4HeaderBytes` plus: the datagram's total length fits in `[offset, end)`. The dissector and the
 * transforms use this (bytes beyond the total length — Ethernet padding — are tolerated).
 */
export function ipv4PacketHeaderBytes(buf: Uint8Array, offset = 0, end = buf.length, layer = LAYER): number {
  const headerBytes = ipv4HeaderBytes(buf, offset, layer);
  const totalLength = readU16(buf, offset + 2);
  if (offset + totalLength > end)
    throw new DecodeError(
      layer,
      offset + 2,
      `total length ${totalLength} exceeds the ${end - offset} bytes present`,
    );
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

// In-place accessors on a packet that starts at byte 0 of `ip` (the transforms' view of a packet).
export const totalLength = (ip: Uint8Array): number => readU16(ip, 2);
export const ipId = (ip: Uint8Array): number => readU16(ip, 4);
export const flagsFragment = (ip: Uint8Array): number => readU16(ip, 6);
/** Fragment offset in bytes (the header field is in 8-byte units). */
export const fragmentOffsetBytes = (ip: Uint8Array): number => (flagsFragment(ip) & IP_OFFSET_MASK) * 8;
export const moreFragments = (ip: Uint8Array): boolean => (ip[6] & 0x20) !== 0;
export const dontFragment = (ip: Uint8Array): boolean => (ip[6] & 0x40) !== 0;

/** Accepts a dotted quad or a uint32. */
export function ipv4Number(a: string | number): number {
  if (typeof a === 'number') {
    if (!Number.isInteger(a) || a < 0 || a > 0xffffffff) throw new RangeError(`not an IPv4 address: ${a}`);
    return a >>> 0;
  }
  return parseIpv4(a);
}

/**
 * IPv4 in the dissector: the total length bounds everything after it (Ethernet padding is ignored); a
 * non-first fragment is opaque after the header (stop = 'fragment'); a first fragment shows its next header.
 */
export const ipv4Layer: LayerSpec = {
  name: 'ipv4',
  fields: IPV4_FIELDS,
  bindings: [
    { table: 'linktype', value: 101 }, // LINKTYPE_RAW
    { table: 'linktype', value: 228 }, // LINKTYPE_IPV4
    { table: 'etherType', value: ETHERTYPE_IPV4 },
  ],
  dissect(d) {
    const f = d.frame;
    const off = d.cursor;
    // LINKTYPE_RAW also carries IPv6: not ours, but not malformed either.
    if (d.count === 0 && off < d.end && f[off] >>> 4 === 6) {
      d.stop = 'unbound';
      return NEXT_OPAQUE;
    }
    const hdr = ipv4PacketHeaderBytes(f, off, d.end);
    d.end = off + readU16(f, off + 2);
    d.push(d.ids.ipv4, off, hdr);
    if (d.outerIpv4Offset < 0) d.outerIpv4Offset = off;
    d.ipv4Offset = off;
    const frag = readU16(f, off + 6);
    d.fragment = (frag & 0x3fff) !== 0;
    d.cursor = off + hdr;
    if ((frag & IP_OFFSET_MASK) !== 0) {
      d.push(d.ids.payload, d.cursor, d.end - d.cursor);
      d.stop = 'fragment';
      return NEXT_END;
    }
    return d.bindings.ipProtocol[f[off + 9]];
  },
  describe(d, i) {
    const f = d.frame;
    const o = d.offset[i];
    const frag = readU16(f, o + 6);
    const proto = f[o + 9];
    const flags = [
      frag & IP_FLAG_DF ? 'DF' : '',
      frag & IP_FLAG_MF ? 'MF' : '',
      frag & IP_OFFSET_MASK ? `frag offset ${(frag & IP_OFFSET_MASK) << 3}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    const name = proto === IP_PROTO_UDP ? 'UDP' : proto === IP_PROTO_ESP ? 'ESP' : `proto ${proto}`;
    const ck = ipv4ChecksumOk(f, o) ? 'cksum ok' : `bad cksum ${hex(readU16(f, o + 10), 4)}`;
    return `IPv4 ${ipv4ToString(readU32(f, o + 12))} > ${ipv4ToString(readU32(f, o + 16))}: ${name}, id ${readU16(f, o + 4)}, ttl ${f[o + 8]}, length ${readU16(f, o + 2)}${flags ? `, ${flags}` : ''}, ${ck}`;
  },
};
