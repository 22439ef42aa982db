/**
 * Ethernet II header with an optional single 802.1Q (or 802.1ad) tag.
 *
 *   0  dst MAC (6)   6  src MAC (6)   [12 TPID 0x8100|0x88a8 (2)  14 PCP:3 DEI:1 VID:12 (2)]   +0 ethertype (2)
 *
 * 14 bytes untagged, 18 tagged. Stacked tags (QinQ) are walked by the dissector (stack.ts) one tag at a time;
 * this codec decodes the first one and leaves `etherType` = the next TPID.
 */
import { type MacAddress, macToString } from './address.ts';
import { checkUint, hex, needBytes, readU16, readU48, targetBuffer, writeU16, writeU48 } from './bytes.ts';
import type { Codec } from './codec.ts';
import type { LayerSpec } from './layer.ts';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERNET_HEADER_BYTES = 14;
export const VLAN_TAG_BYTES = 4;

export interface VlanTag {
  /** TPID: 0x8100 (802.1Q) or 0x88a8 (802.1ad) */
  tpid: number;
  pcp: number;
  dei: boolean;
  vid: number;
}

export interface EthernetHeader {
  dst: MacAddress;
  src: MacAddress;
  vlan?: VlanTag;
  /** ethertype of what follows (after the tag, if any) */
  etherType: number;
}

const LAYER = 'ethernet';

const encodingLength = (v: EthernetHeader): number =>
  v.vlan ? ETHERNET_HEADER_BYTES + VLAN_TAG_BYTES : ETHERNET_HEADER_BYTES;

export const ethernet: Codec<EthernetHeader> = {
  name: LAYER,
  encodingLength,
  encode(v, buf, offset = 0) {
    const n = encodingLength(v);
    const b = targetBuffer(buf, offset, n, LAYER);
    checkUint(LAYER, 'etherType', v.etherType, 0xffff);
    checkUint(LAYER, 'dst', v.dst, 0xffffffffffff);
    checkUint(LAYER, 'src', v.src, 0xffffffffffff);
    writeU48(b, offset, v.dst);
    writeU48(b, offset + 6, v.src);
    let o = offset + 12;
    if (v.vlan) {
      checkUint(LAYER, 'vlan.tpid', v.vlan.tpid, 0xffff);
      checkUint(LAYER, 'vlan.pcp', v.vlan.pcp, 7);
      checkUint(LAYER, 'vlan.vid', v.vlan.vid, 0xfff);
      writeU16(b, o, v.vlan.tpid);
      writeU16(b, o + 2, (v.vlan.pcp << 13) | (v.vlan.dei ? 0x1000 : 0) | v.vlan.vid);
      o += 4;
    }
    writeU16(b, o, v.etherType);
    return n;
  },
  decode(buf, offset = 0) {
    needBytes(buf, offset, ETHERNET_HEADER_BYTES, LAYER);
    const dst = readU48(buf, offset);
    const src = readU48(buf, offset + 6);
    const type = readU16(buf, offset + 12);
    if (type !== ETHERTYPE_VLAN && type !== ETHERTYPE_QINQ) {
      return { value: { dst, src, etherType: type }, bytesRead: ETHERNET_HEADER_BYTES };
    }
    needBytes(buf, offset, ETHERNET_HEADER_BYTES + VLAN_TAG_BYTES, LAYER, '802.1Q tag');
    const tci = readU16(buf, offset + 14);
    return {
      value: {
        dst,
        src,
        vlan: { tpid: type, pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0xfff },
        etherType: readU16(buf, offset + 16),
      },
      bytesRead: ETHERNET_HEADER_BYTES + VLAN_TAG_BYTES,
    };
  },
};

/** Ethernet II: the ethertype at byte 12 picks the next layer. */
export const ethernetLayer: LayerSpec = {
  name: 'ethernet',
  fields: { dst: { offset: 0, bytes: 6 }, src: { offset: 6, bytes: 6 }, etherType: { offset: 12, bytes: 2 } },
  bindings: [{ table: 'linktype', value: 1 }],
  dissect(d) {
    const off = d.take(ETHERNET_HEADER_BYTES, 'ethernet');
    d.push(d.ids.ethernet, off, ETHERNET_HEADER_BYTES);
    return d.bindings.etherType[readU16(d.frame, off + 12)];
  },
  describe(d, i) {
    const f = d.frame;
    const o = d.offset[i];
    return `Ethernet ${macToString(readU48(f, o + 6))} > ${macToString(readU48(f, o))}, ethertype ${hex(readU16(f, o + 12), 4)}`;
  },
};

/** One 802.1Q / 802.1ad tag: TCI, then the inner ethertype. */
export const vlanLayer: LayerSpec = {
  name: 'vlan',
  fields: { tci: { offset: 0, bytes: 2 }, etherType: { offset: 2, bytes: 2 } },
  bindings: [
    { table: 'etherType', value: ETHERTYPE_VLAN },
    { table: 'etherType', value: ETHERTYPE_QINQ },
  ],
  dissect(d) {
    const off = d.take(VLAN_TAG_BYTES, 'vlan');
    d.push(d.ids.vlan, off, VLAN_TAG_BYTES);
    return d.bindings.etherType[readU16(d.frame, off + 2)];
  },
  describe(d, i) {
    const tci = readU16(d.frame, d.offset[i]);
    return `802.1Q vlan ${tci & 0xfff}, p ${tci >>> 13}${tci & 0x1000 ? ', DEI' : ''}, ethertype ${hex(readU16(d.frame, d.offset[i] + 2), 4)}`;
  },
};
