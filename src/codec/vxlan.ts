/**
 * VXLAN header (RFC 7348 §5), 8 bytes after UDP (IANA port 4789).
 *
 *   0 flags (0x08 = I, "VNI valid") | 1 reserved (3) | 4 VNI (3) | 7 reserved (1)
 *
 * No defaults on purpose (FEATURES.md §3.8: tools disagree — scapy/PTF emitted GPE flags 0x0C): the
 * caller always states `flags` and `vni`, and whoever builds the UDP header states dport 4789.
 * Decode accepts any flags (a hop that sets wrong flags must be reported, not hidden by a decode error).
 */
import { checkUint, hex, needBytes, readU24, targetBuffer, writeU24 } from './bytes.ts';
import type { Codec } from './codec.ts';
import type { LayerSpec } from './layer.ts';

export const VXLAN_HEADER_BYTES = 8;
export const VXLAN_UDP_PORT = 4789;
/** The I flag: the VNI field is valid. RFC 7348 requires it; all other flag bits are reserved (0). */
export const VXLAN_FLAG_VNI_VALID = 0x08;

export interface VxlanHeader {
  flags: number;
  /** 24-bit VXLAN network identifier */
  vni: number;
  /** reserved fields, 0 on the wire; kept so decode → encode is byte-exact */
  reserved1?: number;
  reserved2?: number;
}

const LAYER = 'vxlan';

export const vxlan: Codec<VxlanHeader> = {
  name: LAYER,
  encodingLength: () => VXLAN_HEADER_BYTES,
  encode(v, buf, offset = 0) {
    const b = targetBuffer(buf, offset, VXLAN_HEADER_BYTES, LAYER);
    checkUint(LAYER, 'flags', v.flags, 0xff);
    checkUint(LAYER, 'vni', v.vni, 0xffffff);
    checkUint(LAYER, 'reserved1', v.reserved1 ?? 0, 0xffffff);
    checkUint(LAYER, 'reserved2', v.reserved2 ?? 0, 0xff);
    b[offset] = v.flags;
    writeU24(b, offset + 1, v.reserved1 ?? 0);
    writeU24(b, offset + 4, v.vni);
    b[offset + 7] = v.reserved2 ?? 0;
    return VXLAN_HEADER_BYTES;
  },
  decode(buf, offset = 0) {
    needBytes(buf, offset, VXLAN_HEADER_BYTES, LAYER);
    return {
      value: {
        flags: buf[offset],
        vni: readU24(buf, offset + 4),
        reserved1: readU24(buf, offset + 1),
        reserved2: buf[offset + 7],
      },
      bytesRead: VXLAN_HEADER_BYTES,
    };
  },
};

/** VXLAN carries an Ethernet frame that ends where the outer UDP datagram ends. */
export const vxlanLayer: LayerSpec = {
  name: 'vxlan',
  fields: { flags: { offset: 0, bytes: 1 }, vni: { offset: 4, bytes: 3 } },
  bindings: [{ table: 'udpPort', value: VXLAN_UDP_PORT }],
  dissect(d) {
    const off = d.take(VXLAN_HEADER_BYTES, 'vxlan');
    d.push(d.ids.vxlan, off, VXLAN_HEADER_BYTES);
    if (d.vxlanOffset < 0) d.vxlanOffset = off;
    return d.ids.ethernet;
  },
  describe(d, i) {
    const f = d.frame;
    const o = d.offset[i];
    return `VXLAN flags ${hex(f[o], 2)}${f[o] & 0x08 ? ' [I]' : ' [no I flag]'}, vni ${readU24(f, o + 4)}`;
  },
};
