/**
 * Linux "cooked" capture headers, what `tcpdump -i any` writes.
 *
 * SLL  (LINKTYPE_LINUX_SLL = 113), 16 bytes:
 *   0 packetType (2) | 2 ARPHRD type (2) | 4 address length (2) | 6 address (8, zero-padded) | 14 protocol (2)
 * SLL2 (LINKTYPE_LINUX_SLL2 = 276), 20 bytes:
 *   0 protocol (2) | 2 reserved (2) | 4 interface index (4) | 8 ARPHRD type (2) | 10 packetType (1)
 *   | 11 address length (1) | 12 address (8, zero-padded)
 *
 * `protocol` is an ethertype for the usual ARPHRD_ETHER/ARPHRD_NONE (IPv4 = 0x0800).
 * packetType: 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us.
 */
import { checkUint, hex, needBytes, readU16, readU32, targetBuffer, writeU16, writeU32 } from './bytes.ts';
import type { Codec } from './codec.ts';
import { DecodeError, EncodeError } from './errors.ts';
import type { LayerSpec } from './layer.ts';

export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;
export const SLL_HEADER_BYTES = 16;
export const SLL2_HEADER_BYTES = 20;

export interface SllHeader {
  packetType: number;
  arphrdType: number;
  /** link-layer address, 0..8 bytes (its length is the address-length field) */
  address: Uint8Array;
  protocol: number;
}

export interface Sll2Header extends SllHeader {
  interfaceIndex: number;
  reserved?: number;
}

function checkAddress(layer: string, a: Uint8Array): void {
  if (a.length > 8) throw new EncodeError(layer, 'address', `${a.length} bytes, at most 8`);
}

function readAddress(
  layer: string,
  buf: Uint8Array,
  at: number,
  length: number,
  lengthOffset: number,
): Uint8Array {
  // The field holds 8 bytes; longer addresses (e.g. InfiniBand's 20) are truncated by the kernel.
  if (length > 8 && length !== 20)
    throw new DecodeError(layer, lengthOffset, `address length ${length} is impossible`);
  return buf.slice(at, at + Math.min(length, 8));
}

export const sll: Codec<SllHeader> = {
  name: 'sll',
  encodingLength: () => SLL_HEADER_BYTES,
  encode(v, buf, offset = 0) {
    const b = targetBuffer(buf, offset, SLL_HEADER_BYTES, 'sll');
    checkUint('sll', 'packetType', v.packetType, 0xffff);
    checkUint('sll', 'arphrdType', v.arphrdType, 0xffff);
    checkUint('sll', 'protocol', v.protocol, 0xffff);
    checkAddress('sll', v.address);
    writeU16(b, offset, v.packetType);
    writeU16(b, offset + 2, v.arphrdType);
    writeU16(b, offset + 4, v.address.length);
    b.fill(0, offset + 6, offset + 14);
    b.set(v.address, offset + 6);
    writeU16(b, offset + 14, v.protocol);
    return SLL_HEADER_BYTES;
  },
  decode(buf, offset = 0) {
    needBytes(buf, offset, SLL_HEADER_BYTES, 'sll');
    const address = readAddress('sll', buf, offset + 6, readU16(buf, offset + 4), offset + 4);
    return {
      value: {
        packetType: readU16(buf, offset),
        arphrdType: readU16(buf, offset + 2),
        address,
        protocol: readU16(buf, offset + 14),
      },
      bytesRead: SLL_HEADER_BYTES,
    };
  },
};

export const sll2: Codec<Sll2Header> = {
  name: 'sll2',
  encodingLength: () => SLL2_HEADER_BYTES,
  encode(v, buf, offset = 0) {
    const b = targetBuffer(buf, offset, SLL2_HEADER_BYTES, 'sll2');
    checkUint('sll2', 'protocol', v.protocol, 0xffff);
    checkUint('sll2', 'reserved', v.reserved ?? 0, 0xffff);
    checkUint('sll2', 'interfaceIndex', v.interfaceIndex, 0xffffffff);
    checkUint('sll2', 'arphrdType', v.arphrdType, 0xffff);
    checkUint('sll2', 'packetType', v.packetType, 0xff);
    checkAddress('sll2', v.address);
    writeU16(b, offset, v.protocol);
    writeU16(b, offset + 2, v.reserved ?? 0);
    writeU32(b, offset + 4, v.interfaceIndex);
    writeU16(b, offset + 8, v.arphrdType);
    b[offset + 10] = v.packetType;
    b[offset + 11] = v.address.length;
    b.fill(0, offset + 12, offset + 20);
    b.set(v.address, offset + 12);
    return SLL2_HEADER_BYTES;
  },
  decode(buf, offset = 0) {
    needBytes(buf, offset, SLL2_HEADER_BYTES, 'sll2');
    const address = readAddress('sll2', buf, offset + 12, buf[offset + 11], offset + 11);
    return {
      value: {
        protocol: readU16(buf, offset),
        reserved: readU16(buf, offset + 2),
        interfaceIndex: readU32(buf, offset + 4),
        arphrdType: readU16(buf, offset + 8),
        packetType: buf[offset + 10],
        address,
      },
      bytesRead: SLL2_HEADER_BYTES,
    };
  },
};

const SLL_PACKET_TYPES = ['In', 'B', 'M', 'P', 'Out'];

export const sllLayer: LayerSpec = {
  name: 'sll',
  fields: {
    packetType: { offset: 0, bytes: 2 },
    arphrd: { offset: 2, bytes: 2 },
    protocol: { offset: 14, bytes: 2 },
  },
  bindings: [{ table: 'linktype', value: LINKTYPE_LINUX_SLL }],
  dissect(d) {
    const off = d.take(SLL_HEADER_BYTES, 'sll');
    d.push(d.ids.sll, off, SLL_HEADER_BYTES);
    return d.bindings.etherType[readU16(d.frame, off + 14)];
  },
  describe(d, i) {
    const f = d.frame;
    const o = d.offset[i];
    return `SLL ${SLL_PACKET_TYPES[readU16(f, o)] ?? readU16(f, o)}, ARPHRD ${readU16(f, o + 2)}, ethertype ${hex(readU16(f, o + 14), 4)}`;
  },
};

export const sll2Layer: LayerSpec = {
  name: 'sll2',
  fields: {
    protocol: { offset: 0, bytes: 2 },
    ifindex: { offset: 4, bytes: 4 },
    packetType: { offset: 10, bytes: 1 },
  },
  bindings: [{ table: 'linktype', value: LINKTYPE_LINUX_SLL2 }],
  dissect(d) {
    const off = d.take(SLL2_HEADER_BYTES, 'sll2');
    d.push(d.ids.sll2, off, SLL2_HEADER_BYTES);
    return d.bindings.etherType[readU16(d.frame, off)];
  },
  describe(d, i) {
    const f = d.frame;
    const o = d.offset[i];
    return `SLL2 ${SLL_PACKET_TYPES[f[o + 10]] ?? f[o + 10]}, ifindex ${readU32(f, o + 4)}, ethertype ${hex(readU16(f, o), 4)}`;
  },
};
